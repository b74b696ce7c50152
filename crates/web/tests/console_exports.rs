//! The Exports page at router level, on both stores: both languages, a request that waits
//! for an approver, the approval by someone else, the watermarked download, and the policy
//! form refusing bad numbers by field.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use support::{Answer, Call, call, create_user, form, get, sign_in};
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, custom_role, principal, steward, values};
use tutela_web::{AppState, router};

const NATIONAL_ID: &str = "11010519491231002X";

async fn post(app: &Router, path: &str, session: &str, body: &[(&str, &str)]) -> Answer {
    let c = Call { session: Some(session), lang: Some("en"), form: Some(form(body)), ..Call::default() };
    call(app, Method::POST, path, c).await
}

struct Fixture {
    h: Harness,
    app: Router,
    admin: String,
    steward: String,
    officer: String,
}

async fn fixture(backend: Backend) -> Fixture {
    let h = Harness::new(backend).await;
    let approver = custom_role("export-approver", &[Permission::AccessApprove]);
    h.tutela.put_role(&principal("roles@example.com", &[Permission::RoleManage]), approver).await.unwrap();
    for (email, roles) in [
        ("admin@example.com", &["administrator"][..]),
        ("steward@example.com", &["data-steward"]),
        ("officer@example.com", &["export-approver"]),
    ] {
        create_user(&h, email, roles).await;
    }
    for name in ["甲公司", "乙公司"] {
        h.tutela.create_customer(&steward(), values(&[("name", name), ("national_id", NATIONAL_ID)])).await.unwrap();
    }
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    Fixture {
        admin: sign_in(&h, "admin@example.com").await,
        steward: sign_in(&h, "steward@example.com").await,
        officer: sign_in(&h, "officer@example.com").await,
        h,
        app,
    }
}

async fn an_export_with_restricted_fields_is_approved_then_downloaded(backend: Backend) {
    let f = fixture(backend).await;
    let zh = get(&f.app, "/exports", Some(&f.steward), "zh-CN").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("申请导出") && zh.body.contains("明文导出受限字段"), "{}", zh.body);
    let page = get(&f.app, "/exports", Some(&f.steward), "en").await;
    assert!(page.body.contains("more than 1000 rows"), "the policy in force is shown: {}", page.body);
    let csrf = page.csrf();

    let bad = post(&f.app, "/exports", &f.steward, &[("_csrf", &csrf), ("format", "xml")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Choose CSV or JSON lines."), "{}", bad.body);
    let no_csrf = post(&f.app, "/exports", &f.steward, &[("format", "csv")]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);

    let asked =
        post(&f.app, "/exports", &f.steward, &[("_csrf", &csrf), ("format", "csv"), ("purpose", "年度审计")]).await;
    assert_eq!((asked.status, asked.location()), (StatusCode::SEE_OTHER, "/exports?notice=pending"));
    let me = f.h.tutela.session_principal(&f.steward, None).await.unwrap();
    let id = f.h.tutela.export_requests(&me).await.unwrap()[0].id;
    let mine = get(&f.app, "/exports?notice=pending", Some(&f.steward), "en").await;
    assert!(mine.body.contains("The request waits for an approver."), "{}", mine.body);
    assert!(!mine.body.contains(&format!("download-{id}")) && !mine.body.contains(&format!("approve-{id}")));
    let download = format!("/exports/{id}/download");
    let early = get(&f.app, &download, Some(&f.steward), "en").await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("waiting for an approver"), "{}", early.body);

    // The steward cannot approve; the officer can.
    let decision = format!("/exports/{id}/decision");
    let own = post(&f.app, &decision, &f.steward, &[("_csrf", &csrf), ("approve", "yes")]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let officer_page = get(&f.app, "/exports", Some(&f.officer), "en").await;
    assert!(officer_page.body.contains(&format!("approve-{id}")), "{}", officer_page.body);
    let officer_csrf = officer_page.csrf();
    let approved =
        post(&f.app, &decision, &f.officer, &[("_csrf", &officer_csrf), ("approve", "yes"), ("note", "仅限本次审计")])
            .await;
    assert_eq!((approved.status, approved.location()), (StatusCode::SEE_OTHER, "/exports?notice=approved"));
    let again = post(&f.app, &decision, &f.officer, &[("_csrf", &officer_csrf), ("approve", "no")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once");

    let listed = get(&f.app, "/exports", Some(&f.steward), "en").await;
    assert!(listed.body.contains(&format!("download-{id}")) && listed.body.contains("仅限本次审计"));
    let file = get(&f.app, &download, Some(&f.steward), "en").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let mut lines = file.body.lines();
    assert!(lines.next().unwrap().ends_with(",_watermark"));
    for line in lines {
        assert!(line.contains(NATIONAL_ID) && line.contains("steward@example.com"), "{line}");
    }
    let theirs = get(&f.app, &download, Some(&f.officer), "en").await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "an approver without customer.export downloads nothing");
    f.h.close().await;
}

async fn the_policy_form_and_an_export_within_the_limits(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/exports", Some(&f.admin), "en").await.csrf();
    for (max_rows, valid_hours, field_error) in
        [("many", "24", "Enter a whole number of rows, or leave it empty."), ("10", "0", "valid_hours")]
    {
        let a = post(
            &f.app,
            "/exports/policy",
            &f.admin,
            &[("_csrf", &csrf), ("max_rows", max_rows), ("valid_hours", valid_hours)],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains(field_error) || a.body.contains("1 hour to 7 days"), "{}", a.body);
        assert!(a.body.contains(&format!("value=\"{max_rows}\"")), "the input is kept");
    }
    let saved =
        post(&f.app, "/exports/policy", &f.admin, &[("_csrf", &csrf), ("max_rows", ""), ("valid_hours", "8")]).await;
    assert_eq!(saved.location(), "/exports?notice=policy-saved");
    let forbidden =
        post(&f.app, "/exports/policy", &f.steward, &[("_csrf", &csrf), ("max_rows", ""), ("valid_hours", "8")]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    // No row limit, restricted fields unchecked: a request with a purpose is approved at once.
    let csrf = get(&f.app, "/exports", Some(&f.steward), "en").await.csrf();
    let asked =
        post(&f.app, "/exports", &f.steward, &[("_csrf", &csrf), ("format", "jsonl"), ("purpose", "migration")]).await;
    assert_eq!(asked.location(), "/exports?notice=approved-at-once");
    let me = f.h.tutela.session_principal(&f.steward, None).await.unwrap();
    let id = f.h.tutela.export_requests(&me).await.unwrap()[0].id;
    let file = get(&f.app, &format!("/exports/{id}/download"), Some(&f.steward), "en").await;
    assert!(file.body.contains(NATIONAL_ID) && file.body.contains("\"_watermark\""), "{}", file.body);
    let withdrawn = post(&f.app, &format!("/exports/{id}/cancel"), &f.steward, &[("_csrf", &csrf)]).await;
    assert_eq!(withdrawn.location(), "/exports?notice=cancelled");
    assert_eq!(
        get(&f.app, &format!("/exports/{id}/download"), Some(&f.steward), "en").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(get(&f.app, "/exports/nope/download", Some(&f.steward), "en").await.status, StatusCode::NOT_FOUND);
    f.h.close().await;
}

tutela_core::on_both_stores! {
    an_export_with_restricted_fields_is_approved_then_downloaded_ =>
        an_export_with_restricted_fields_is_approved_then_downloaded;
    the_policy_form_and_an_export_within_the_limits_ => the_policy_form_and_an_export_within_the_limits;
}
