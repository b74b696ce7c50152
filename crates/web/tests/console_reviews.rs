//! The access-review and jobs pages at router level, on both stores and in both languages: a
//! campaign started from the form (a bad one refused by field, nothing started), listed, its
//! reviewer certifying one item and revoking another (the role really taken away), self-review
//! refused without a justification, the pages refused to those without rights, the kept
//! report downloaded as JSON and CSV, and the jobs page for auditors only.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use support::{Answer, Call, bootstrap, call, create_user, form, get, sign_in};
use time::Duration;
use tutela_core::access::reviews::{CampaignState, CampaignView};
use tutela_core::access::{DepartmentInput, MembershipInput};
use tutela_core::policy::Principal;
use tutela_core::testing::{Backend, Harness};
use tutela_web::{AppState, router};
use uuid::Uuid;

async fn post(app: &Router, path: &str, session: &str, lang: &str, body: &[(&str, &str)]) -> Answer {
    let c = Call { session: Some(session), lang: Some(lang), form: Some(form(body)), ..Call::default() };
    call(app, Method::POST, path, c).await
}

struct Fixture {
    h: Harness,
    app: Router,
    admin: String,
    boss: String,
    alice: String,
    auditor: String,
    department: Uuid,
    deadline: String,
}

async fn fixture(backend: Backend) -> Fixture {
    let h = Harness::new(backend).await;
    for (email, roles) in [
        ("admin@example.com", &["administrator"][..]),
        ("boss@example.com", &["support"]),
        ("alice@example.com", &["sales", "support"]),
        ("auditor@example.com", &["auditor"]),
    ] {
        create_user(&h, email, roles).await;
    }
    let department = h
        .tutela
        .put_department(&bootstrap(), None, DepartmentInput { name: "销售部".into(), parent_id: None })
        .await
        .unwrap()
        .id;
    let alice = h.tutela.store().user_by_email("alice@example.com").await.unwrap().unwrap().id;
    let membership = MembershipInput { department_id: Some(department), team_id: None };
    h.tutela.set_membership(&bootstrap(), alice, membership).await.unwrap();
    let due = h.tutela.clock().now() + Duration::days(14);
    let deadline = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        due.year(),
        u8::from(due.month()),
        due.day(),
        due.hour(),
        due.minute()
    );
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    Fixture {
        admin: sign_in(&h, "admin@example.com").await,
        boss: sign_in(&h, "boss@example.com").await,
        alice: sign_in(&h, "alice@example.com").await,
        auditor: sign_in(&h, "auditor@example.com").await,
        h,
        app,
        department,
        deadline,
    }
}

impl Fixture {
    async fn principal(&self, session: &str) -> Principal {
        self.h.tutela.session_principal(session, None).await.unwrap()
    }

    async fn user_id(&self, email: &str) -> Uuid {
        self.h.tutela.store().user_by_email(email).await.unwrap().unwrap().id
    }

    async fn campaigns(&self) -> usize {
        self.h.tutela.review_campaigns(&self.principal(&self.admin).await).await.unwrap().len()
    }
}

/// Names the department's manager on the organisation page, then starts a campaign routed to
/// managers from the form, after bad forms refused by field.
async fn start_from_the_form(f: &Fixture) -> CampaignView {
    let zh = get(&f.app, "/access/reviews", Some(&f.admin), "zh-CN").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("发起复核活动") && zh.body.contains("还没有复核活动。"), "{}", zh.body);
    let page = get(&f.app, "/access/reviews", Some(&f.admin), "en").await;
    assert!(page.body.contains("Start a campaign") && page.body.contains("boss@example.com"), "{}", page.body);
    let csrf = page.csrf();
    let boss_id = f.user_id("boss@example.com").await.to_string();
    let department = f.department.to_string();
    let fields = |routing: &'static str, reviewer: &str, deadline: &str| -> Vec<(String, String)> {
        [
            ("_csrf", csrf.as_str()),
            ("name", "Q1 销售部"),
            ("department_id", department.as_str()),
            ("routing", routing),
            ("reviewer_id", reviewer),
            ("deadline", deadline),
            ("policy", "revoke"),
            ("recur_days", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let send = |pairs: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        form(&pairs)
    };

    // The department's manager, named on the organisation page, will review its members.
    let org = get(&f.app, &format!("/org?edit={department}"), Some(&f.admin), "zh-CN").await;
    assert!(org.body.contains("id=\"manager-form\"") && org.body.contains("保存负责人"), "{}", org.body);
    let set_manager = format!("/org/departments/{department}/manager");
    for manager in ["someone", &Uuid::now_v7().to_string()] {
        let bad = post(&f.app, &set_manager, &f.admin, "en", &[("_csrf", &csrf), ("manager_id", manager)]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("id=\"manager-error\""), "{}", bad.body);
    }
    let named = post(&f.app, &set_manager, &f.admin, "en", &[("_csrf", &csrf), ("manager_id", &boss_id)]).await;
    assert_eq!(named.location(), "/org?notice=manager-saved");
    let settings = f.h.tutela.access_settings(&f.principal(&f.admin).await).await.unwrap();
    assert_eq!(settings.org.department(f.department).unwrap().manager_id.map(|m| m.to_string()), Some(boss_id.clone()));

    // Refused by field, in the user's language where the console reads the field itself.
    for (body, lang, field_error) in [
        (send(fields("reviewer", "", &f.deadline)), "en", "id=\"reviewer-error\""),
        (send(fields("manager", &boss_id, "tomorrow")), "en", "Enter a date and time."),
        (send(fields("manager", &boss_id, "tomorrow")), "zh-CN", "请输入日期和时间。"),
        (send(fields("manager", &boss_id, "2001-01-01T00:00")), "en", "id=\"deadline-error\""),
        (send(fields("manager", "not-an-id", &f.deadline)), "en", "id=\"reviewer-error\""),
    ] {
        let c = Call { session: Some(&f.admin), lang: Some(lang), form: Some(body), ..Call::default() };
        let a = call(&f.app, Method::POST, "/access/reviews", c).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert!(a.body.contains(field_error), "{field_error}: {}", a.body);
        assert!(a.body.contains("value=\"Q1 销售部\""), "the input is kept");
    }
    assert_eq!(f.campaigns().await, 0, "nothing was started");
    let c = Call {
        session: Some(&f.alice),
        lang: Some("en"),
        form: Some(send(fields("reviewer", &boss_id, &f.deadline))),
        ..Call::default()
    };
    assert_eq!(call(&f.app, Method::POST, "/access/reviews", c).await.status, StatusCode::FORBIDDEN);

    let c = Call {
        session: Some(&f.admin),
        lang: Some("en"),
        form: Some(send(fields("manager", "", &f.deadline))),
        ..Call::default()
    };
    let started = call(&f.app, Method::POST, "/access/reviews", c).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let admin = f.principal(&f.admin).await;
    let campaign = f.h.tutela.review_campaigns(&admin).await.unwrap()[0].clone();
    assert_eq!((campaign.counts.items, campaign.department.as_deref()), (2, Some("销售部")));
    assert_eq!(started.location(), format!("/access/reviews/{}?notice=started", campaign.id));
    campaign
}

async fn a_campaign_from_the_form_to_its_report(backend: Backend) {
    let f = fixture(backend).await;
    let campaign = start_from_the_form(&f).await;
    let admin = f.principal(&f.admin).await;
    let detail = format!("/access/reviews/{}", campaign.id);
    let listed = get(&f.app, "/access/reviews", Some(&f.admin), "en").await;
    assert!(listed.body.contains(&format!("campaign-{}", campaign.id)) && listed.body.contains("销售部"));
    let shown = get(&f.app, &detail, Some(&f.admin), "zh-CN").await;
    assert!(shown.body.contains("进行中") && shown.body.contains("alice@example.com"), "{}", shown.body);
    let early = get(&f.app, &format!("{detail}/report?format=csv"), Some(&f.admin), "en").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "no report while open: {}", early.body);

    // Those who neither run nor audit reviews are refused the campaign pages.
    for path in ["/access/reviews".to_owned(), detail.clone(), format!("{detail}/report")] {
        assert_eq!(get(&f.app, &path, Some(&f.alice), "en").await.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(get(&f.app, &path, Some(&f.boss), "zh-CN").await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let nav = get(&f.app, "/customers", Some(&f.alice), "en").await;
    assert!(!nav.body.contains("/access/reviews"), "no entry for alice: {}", nav.body);

    // The reviewer: the navigation offers the reviews, the items wait under My reviews.
    let boss = f.principal(&f.boss).await;
    let mine = f.h.tutela.my_reviews(&boss).await.unwrap();
    let item = |label: &str| mine.iter().find(|m| m.item.label == label).unwrap().item.id;
    let (sales, support) = (item("sales"), item("support"));
    let page = get(&f.app, "/access/reviews/mine", Some(&f.boss), "zh-CN").await;
    assert!(page.body.contains("href=\"/access/reviews/mine\"") && page.body.contains("我的复核"), "{}", page.body);
    assert!(page.body.contains(&format!("certify-{sales}")) && page.body.contains(&format!("revoke-{support}")));
    let csrf = page.csrf();
    let decide = |item: Uuid| format!("/access/reviews/{}/items/{item}/decision", campaign.id);
    let certified =
        post(&f.app, &decide(sales), &f.boss, "en", &[("_csrf", &csrf), ("decision", "certify"), ("note", "日常工作")])
            .await;
    assert_eq!(certified.location(), "/access/reviews/mine?notice=certified");
    let again = post(&f.app, &decide(sales), &f.boss, "en", &[("_csrf", &csrf), ("decision", "revoke")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once: {}", again.body);
    let alice_csrf = get(&f.app, "/access/reviews/mine", Some(&f.alice), "en").await.csrf();
    let theirs =
        post(&f.app, &decide(support), &f.alice, "en", &[("_csrf", &alice_csrf), ("decision", "certify")]).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "not the reviewer");
    let revoked = post(&f.app, &decide(support), &f.boss, "en", &[("_csrf", &csrf), ("decision", "revoke")]).await;
    assert_eq!(revoked.location(), "/access/reviews/mine?notice=revoked");
    let alice = f.user_id("alice@example.com").await;
    let roles: Vec<String> = f.h.tutela.store().user_roles(alice).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(roles, ["sales"], "the revoked role is gone");
    let ended = get(&f.app, "/customers", Some(&f.alice), "en").await;
    assert_eq!((ended.status, ended.location()), (StatusCode::SEE_OTHER, "/login"), "and her sessions with it");
    let done = get(&f.app, "/access/reviews/mine?notice=revoked", Some(&f.boss), "en").await;
    assert!(done.body.contains("The access was revoked.") && done.body.contains("Nothing to review."));
    assert!(!done.body.contains("href=\"/access/reviews/mine\""), "nothing waits: no entry");

    // Closing writes the report; both downloads are files with the decisions.
    let csrf = get(&f.app, &detail, Some(&f.admin), "en").await.csrf();
    let closed = post(&f.app, &format!("{detail}/close"), &f.admin, "en", &[("_csrf", &csrf)]).await;
    assert_eq!(closed.location(), format!("{detail}?notice=closed"));
    let again = post(&f.app, &format!("{detail}/close"), &f.admin, "en", &[("_csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let state = f.h.tutela.review_campaign(&admin, campaign.id).await.unwrap().campaign.state;
    assert_eq!(state, CampaignState::Closed);
    let json = get(&f.app, &format!("{detail}/report?format=json"), Some(&f.auditor), "en").await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        json.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"access-review-{}.json\"", campaign.id).as_str()
    );
    let report: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(report["items"].as_array().unwrap().len(), 2, "{report}");
    let csv = get(&f.app, &format!("{detail}/report?format=csv"), Some(&f.admin), "en").await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().ends_with(".csv\""));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("campaign,user,kind,subject,reviewer,decision"), "{}", csv.body);
    assert!(lines.iter().any(|l| l.contains(",support,boss@example.com,revoke,") && l.ends_with(",revoked")));
    assert!(lines.iter().any(|l| l.contains(",sales,boss@example.com,certify,") && l.contains("日常工作")));
    let odd = get(&f.app, &format!("{detail}/report?format=xml"), Some(&f.admin), "en").await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(odd.body.contains("format"), "{}", odd.body);

    assert_eq!(get(&f.app, "/access/reviews/nope", Some(&f.admin), "en").await.status, StatusCode::NOT_FOUND);
    f.h.close().await;
}

async fn self_review_needs_a_justification(backend: Backend) {
    let f = fixture(backend).await;
    let admin_id = f.user_id("admin@example.com").await.to_string();
    let csrf = get(&f.app, "/access/reviews", Some(&f.admin), "en").await.csrf();
    let started = post(
        &f.app,
        "/access/reviews",
        &f.admin,
        "en",
        &[
            ("_csrf", &csrf),
            ("name", "全员"),
            ("department_id", ""),
            ("routing", "reviewer"),
            ("reviewer_id", &admin_id),
            ("deadline", &f.deadline),
            ("policy", "flag"),
            ("recur_days", "91"),
        ],
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let admin = f.principal(&f.admin).await;
    let own =
        f.h.tutela.my_reviews(&admin).await.unwrap().into_iter().find(|m| m.item.label == "administrator").unwrap();
    let path = format!("/access/reviews/{}/items/{}/decision", own.item.campaign_id, own.item.id);
    for (lang, message) in
        [("en", "You are deciding on your own access: say why."), ("zh-CN", "您正在决定本人的权限，请说明理由。")]
    {
        let refused =
            post(&f.app, &path, &f.admin, lang, &[("_csrf", &csrf), ("decision", "certify"), ("note", "仍需管理")])
                .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let error = format!("<p class=\"field-error\" id=\"justification-error-{}\">{message}</p>", own.item.id);
        assert!(refused.body.contains(&error), "{}", refused.body);
        assert!(refused.body.contains("value=\"仍需管理\""), "the note is kept");
    }
    let still = f.h.tutela.my_reviews(&admin).await.unwrap();
    assert!(still.iter().any(|m| m.item.id == own.item.id), "nothing was decided");
    let kept = post(
        &f.app,
        &path,
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("decision", "certify"), ("justification", "sole administrator")],
    )
    .await;
    assert_eq!(kept.location(), "/access/reviews/mine?notice=certified");
    let detail = f.h.tutela.review_campaign(&admin, own.item.campaign_id).await.unwrap();
    let decided = detail.items.iter().find(|i| i.id == own.item.id).unwrap();
    assert_eq!(decided.justification.as_deref(), Some("sole administrator"));
    f.h.close().await;
}

async fn the_jobs_page_is_for_auditors(backend: Backend) {
    let f = fixture(backend).await;
    let en = get(&f.app, "/jobs", Some(&f.auditor), "en").await;
    assert_eq!(en.status, StatusCode::OK);
    assert!(en.body.contains("access.review.deadlines") && en.body.contains("every 5 minutes"), "{}", en.body);
    assert!(en.body.contains("every hour") && en.body.contains("Not run yet."), "{}", en.body);
    assert!(en.body.contains("href=\"/jobs\""), "in the auditor's navigation");
    let zh = get(&f.app, "/jobs", Some(&f.auditor), "zh-CN").await;
    assert!(zh.body.contains("后台任务") && zh.body.contains("每 5 分钟"), "{}", zh.body);
    let refused = get(&f.app, "/jobs", Some(&f.alice), "en").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!get(&f.app, "/customers", Some(&f.alice), "en").await.body.contains("href=\"/jobs\""));
    f.h.close().await;
}

tutela_core::on_both_stores! {
    a_campaign_from_the_form_to_its_report_ => a_campaign_from_the_form_to_its_report;
    self_review_needs_a_justification_ => self_review_needs_a_justification;
    the_jobs_page_is_for_auditors_ => the_jobs_page_is_for_auditors;
}
