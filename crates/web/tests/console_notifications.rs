//! The console's inbox at router level, on both stores and in both languages: the header's
//! unread badge, the list in the user's notice language with older pages by cursor, marking
//! read (CSRF-checked, the user's own notices only), the notice-language form (a bad language
//! refused next to its field; the console's language switch leaves it alone), and the
//! delivery status shown to administrators and auditors only.

use crate::support;

use axum::http::{Method, StatusCode};
use support::{Answer, Call, call, create_user, form, get, sign_in, unreachable_smtp};
use tutela_core::notify::Language;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, custom_role, principal, steward, values};
use tutela_web::{AppState, router};
use uuid::Uuid;

const WHY: &str = "Customer escalated ticket #4711; owner is on leave and the complaint is due today.";
/// One more than the console's page of notices.
const ALERTS: usize = 21;

/// The `href` of the link with this id.
fn link(page: &Answer, id: &str) -> Option<String> {
    let end = page.body.find(&format!("\" id=\"{id}\""))?;
    let start = page.body[..end].rfind("href=\"")? + 6;
    Some(page.body[start..end].to_owned())
}

/// The ids of the notices listed, newest first.
fn listed(page: &Answer) -> Vec<Uuid> {
    page.body.split("<tr id=\"notice-").skip(1).map(|s| s[..36].parse().unwrap()).collect()
}

/// The header's unread count, if a badge is shown.
fn badge(page: &Answer) -> Option<usize> {
    let start = page.body.find("id=\"unread-count\"")?;
    let tail = &page.body[start..];
    let number = &tail[tail.find('>')? + 1..tail.find("</span>")?];
    Some(number.parse().unwrap())
}

/// A form post in the Chinese console.
async fn post(app: &axum::Router, session: &str, path: &str, pairs: &[(&str, &str)]) -> Answer {
    let c = Call { session: Some(session), lang: Some("zh-CN"), form: Some(form(pairs)), ..Call::default() };
    call(app, Method::POST, path, c).await
}

struct Scene {
    h: Harness,
    app: axum::Router,
    admin: String,
    auditor: String,
    plain: String,
}

/// An administrator and an auditor, each alerted to 21 break-glass requests of Alice's; a
/// support user with no notices.
async fn scene(backend: Backend) -> Scene {
    let h = Harness::with_config(backend, unreachable_smtp()).await;
    let roles = principal("roles@example.com", &[Permission::RoleManage]);
    h.tutela.put_role(&roles, custom_role("own-reader", &[Permission::CustomerRead])).await.unwrap();
    for (email, role) in [
        ("admin@example.com", "administrator"),
        ("auditor@example.com", "auditor"),
        ("alice@example.com", "own-reader"),
        ("plain@example.com", "support"),
    ] {
        create_user(&h, email, &[role]).await;
    }
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let (admin, auditor, alice, plain) = (
        sign_in(&h, "admin@example.com").await,
        sign_in(&h, "auditor@example.com").await,
        sign_in(&h, "alice@example.com").await,
        sign_in(&h, "plain@example.com").await,
    );
    let requester = h.tutela.session_principal(&alice, None).await.unwrap();
    let record = h.tutela.create_customer(&steward(), values(&[("name", "赵六")])).await.unwrap().id;
    for _ in 0..ALERTS {
        h.tutela.request_break_glass(&requester, record, WHY, 30).await.unwrap();
    }
    Scene { h, app, admin, auditor, plain }
}

/// The newest page and the older one; returns their notices and the page's CSRF token.
async fn listed_and_paged(s: &Scene) -> (Vec<Uuid>, Vec<Uuid>, String) {
    // Chinese console, Chinese notices (every account's default notice language).
    let zh = get(&s.app, "/notifications", Some(&s.admin), "zh-CN").await;
    assert_eq!(zh.status, StatusCode::OK, "{}", zh.body);
    assert!(zh.body.contains("<h1>通知</h1>") && zh.body.contains("21 条未读通知"), "{}", zh.body);
    assert!(zh.body.contains("已授予 alice@example.com 紧急访问"), "{}", zh.body);
    assert!(!zh.body.contains(WHY) && !zh.body.contains("赵六"), "the alert names the record only");
    assert_eq!(badge(&zh), Some(ALERTS));
    assert!(zh.body.contains("title=\"21 条未读通知\""), "the badge says what it counts");
    let first = listed(&zh);
    assert_eq!(first.len(), 20, "a page of 20");
    assert_eq!(zh.body.matches("class=\"unread\"").count(), 20);
    assert_eq!(zh.body.matches("href=\"/break-glass\">打开</a>").count(), 20, "each links to its page");
    assert!(zh.body.contains("投递状态") && zh.body.contains("待发送"), "administrators see deliveries");
    assert_eq!(zh.body.matches("<td>admin@example.com</td>").count(), ALERTS, "{}", zh.body);
    assert!(link(&zh, "newest").is_none());
    let csrf = zh.csrf();

    // The older page by cursor, and back.
    let older_href = link(&zh, "older").expect("a full page links to older notices");
    let older = get(&s.app, &older_href, Some(&s.admin), "zh-CN").await;
    assert_eq!(older.status, StatusCode::OK);
    let rest = listed(&older);
    assert_eq!(rest.len(), ALERTS - 20);
    assert!(!first.contains(&rest[0]) && rest[0] < first[19], "older, no overlap");
    assert_eq!(link(&older, "newest").as_deref(), Some("/notifications"));
    assert!(link(&older, "older").is_none());

    // The badge on every page of the console.
    let audit = get(&s.app, "/audit", Some(&s.admin), "en").await;
    assert_eq!(badge(&audit), Some(ALERTS));
    assert!(audit.body.contains("title=\"21 unread notices\"") && audit.body.contains(">Notifications"));
    (first, rest, csrf)
}

async fn marked_read(s: &Scene, first: &[Uuid], rest: &[Uuid], csrf: &str) {
    // Marking read: back to the same page, one fewer unread; CSRF-checked; own notices only.
    let target = first[3];
    let done = post(&s.app, &s.admin, &format!("/notifications/{target}/read"), &[("_csrf", csrf)]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/notifications?notice=read"));
    let cursor = first[19].to_string();
    let on_older = [("_csrf", csrf), ("before", cursor.as_str())];
    let done = post(&s.app, &s.admin, &format!("/notifications/{}/read", rest[0]), &on_older).await;
    assert_eq!(done.location(), format!("/notifications?before={cursor}&notice=read"));
    let after = get(&s.app, "/notifications?notice=read", Some(&s.admin), "zh-CN").await;
    assert_eq!(badge(&after), Some(ALERTS - 2));
    assert!(after.body.contains("通知已标为已读") && !after.body.contains(&format!("id=\"read-{target}\"")));
    assert!(after.body.contains("已读于"), "the read time is shown");
    let first_read = format!("/notifications/{}/read", first[0]);
    let forged = post(&s.app, &s.admin, &first_read, &[("_csrf", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let plain_csrf = get(&s.app, "/notifications", Some(&s.plain), "zh-CN").await.csrf();
    let theirs = post(&s.app, &s.plain, &first_read, &[("_csrf", &plain_csrf)]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "someone else's notice");
    let bad_id = post(&s.app, &s.admin, "/notifications/nope/read", &[("_csrf", csrf)]).await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
    let refused = post(&s.app, &s.admin, &first_read, &[("_csrf", csrf), ("before", "nope")]).await;
    assert!(refused.status == StatusCode::UNPROCESSABLE_ENTITY && refused.body.contains("before"), "{}", refused.body);
}

async fn the_notice_language(s: &Scene, csrf: &str) {
    // The notice language: a bad one refused next to its field, in the console's language.
    for (lang, message) in
        [("zh-CN", "通知语言：请选择中文或 English。"), ("en", "Notice language: choose 中文 or English.")]
    {
        let pairs = [("_csrf", csrf), ("language", "fr")];
        let c = Call { session: Some(&s.admin), lang: Some(lang), form: Some(form(&pairs)), ..Call::default() };
        let bad = call(&s.app, Method::POST, "/notifications/language", c).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains(&format!("<p class=\"field-error\" id=\"language-error\">{message}</p>")),
            "{}",
            bad.body
        );
    }
    let saved = post(&s.app, &s.admin, "/notifications/language", &[("_csrf", csrf), ("language", "en")]).await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/notifications?notice=language"));
    let admin_id = s.h.tutela.store().user_by_email("admin@example.com").await.unwrap().unwrap().id;
    assert_eq!(s.h.tutela.notice_language(admin_id).await.unwrap(), Language::En);
    // The console stays Chinese; the notices are now English.
    let mixed = get(&s.app, "/notifications?notice=language", Some(&s.admin), "zh-CN").await;
    assert!(mixed.body.contains("通知语言已保存") && mixed.body.contains("<option value=\"en\" selected>"));
    assert!(mixed.body.contains("Break-glass access granted to alice@example.com"), "{}", mixed.body);
    // …and switching the console's language does not change the notice language.
    let c = Call { session: Some(&s.admin), lang: Some("en"), ..Call::default() };
    let switched = call(&s.app, Method::GET, "/lang/zh-CN?next=/notifications", c).await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(s.h.tutela.notice_language(admin_id).await.unwrap(), Language::En);
}

async fn delivery_status_and_an_empty_inbox(s: &Scene) {
    // Delivery status: the filter, a bad filter and a bad cursor named; auditors see it too.
    let sent = get(&s.app, "/notifications?status=sent", Some(&s.admin), "en").await;
    assert!(sent.body.contains("Delivery status") && sent.body.contains("No deliveries."), "{}", sent.body);
    for (query, field) in [("status=lost", "status"), ("before=nope", "before")] {
        let bad = get(&s.app, &format!("/notifications?{query}"), Some(&s.admin), "en").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(bad.body.contains(&format!("{field}: ")), "{}", bad.body);
    }
    let audited = get(&s.app, "/notifications", Some(&s.auditor), "en").await;
    assert!(audited.body.contains("id=\"delivery-status\"") && audited.body.contains("Pending"), "{}", audited.body);
    assert!(badge(&audited) == Some(ALERTS) && audited.body.contains("Mark read"));

    // A user without notices: no badge, an empty inbox, no delivery status.
    for (lang, empty) in [("en", "No notices."), ("zh-CN", "没有通知。")] {
        let page = get(&s.app, "/notifications", Some(&s.plain), lang).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(empty) && page.body.contains("id=\"inbox-link\""), "{}", page.body);
        assert!(badge(&page).is_none() && !page.body.contains("delivery-status"), "{}", page.body);
    }
    assert_eq!(get(&s.app, "/notifications", None, "en").await.location(), "/login");
}

async fn the_inbox_in_the_console(backend: Backend) {
    let s = scene(backend).await;
    let (first, rest, csrf) = listed_and_paged(&s).await;
    marked_read(&s, &first, &rest, &csrf).await;
    the_notice_language(&s, &csrf).await;
    delivery_status_and_an_empty_inbox(&s).await;
    s.h.close().await;
}

tutela_core::on_both_stores! {
    inbox_ => the_inbox_in_the_console;
}
