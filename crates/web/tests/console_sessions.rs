//! The console's "My sessions and tokens" page and the administrator's "end sessions" button,
//! at router level on both stores: both languages, CSRF on every button, unknown ids.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use support::{Answer, Call, call, create_user, form, get, sign_in};
use tutela_core::testing::{Backend, Harness, SignInAs};
use tutela_web::{AppState, router};
use uuid::Uuid;

fn app(h: &Harness) -> Router {
    router(AppState { tutela: h.tutela.clone(), secure_cookies: true })
}

async fn post(app: &Router, path: &str, session: &str, body: &[(&str, &str)]) -> Answer {
    let c = Call { session: Some(session), lang: Some("en"), form: Some(form(body)), ..Call::default() };
    call(app, Method::POST, path, c).await
}

async fn session_id(h: &Harness, token: &str) -> Uuid {
    h.tutela.signed_in_session(token, None).await.unwrap().1
}

async fn my_sessions_and_tokens(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    let app = app(&h);
    let mut sales = SignInAs::new("sales@example.com", support::PASSWORD);
    let here = sales.sign_in(&h, Some("192.0.2.8"), Some("Firefox/140")).await;
    let other = sales.sign_in(&h, Some("198.51.100.9"), Some("Safari/18")).await;
    let (here_id, other_id) = (session_id(&h, &here).await, session_id(&h, &other).await);
    let owner = h.tutela.session_principal(&here, None).await.unwrap();
    let token = h.tutela.create_api_token(&owner, "nightly report", &["customer.read".into()], None).await.unwrap();

    let page = get(&app, "/account", Some(&here), "en").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in
        ["My sessions and tokens", "this session", "Firefox/140", "Safari/18", "198.51.100.9", "nightly report"]
    {
        assert!(page.body.contains(shown), "{shown} on the page");
    }
    assert!(page.body.contains(&format!("action=\"/account/sessions/{other_id}/end\"")));
    assert!(!page.body.contains(&format!("/account/sessions/{here_id}/end")), "this one ends by signing out");
    assert!(page.body.contains(&format!("action=\"/account/tokens/{}/revoke\"", token.id)));
    assert!(!page.body.contains(&here) && !page.body.contains(&other), "no session token on the page");
    assert!(get(&app, "/", Some(&here), "en").await.status.is_redirection());
    let zh = get(&app, "/account", Some(&here), "zh-CN").await;
    assert!(zh.body.contains("我的会话与令牌") && zh.body.contains("当前会话") && zh.body.contains("结束其他所有会话"));

    // Every button needs the CSRF token; unknown and malformed ids are "not found".
    let end_other = format!("/account/sessions/{other_id}/end");
    assert_eq!(post(&app, &end_other, &here, &[]).await.status, StatusCode::FORBIDDEN);
    assert!(h.tutela.session(&other).await.is_ok(), "nothing ended without the CSRF token");
    let csrf = page.csrf();
    let with_csrf = [("_csrf", csrf.as_str())];
    assert_eq!(post(&app, &end_other, &here, &with_csrf).await.location(), "/account?notice=ended");
    assert!(h.tutela.session(&other).await.is_err(), "ended");
    assert_eq!(post(&app, &end_other, &here, &with_csrf).await.status, StatusCode::NOT_FOUND, "already ended");
    let bad = post(&app, "/account/sessions/not-an-id/end", &here, &with_csrf).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    assert!(get(&app, "/account?notice=ended", Some(&here), "en").await.body.contains("The session was ended."));

    let third = sales.sign_in(&h, None, None).await;
    let a = post(&app, "/account/sessions/end-others", &here, &with_csrf).await;
    assert_eq!(a.location(), "/account?notice=ended-others");
    assert!(h.tutela.session(&third).await.is_err() && h.tutela.session(&here).await.is_ok());

    let revoke = format!("/account/tokens/{}/revoke", token.id);
    assert_eq!(post(&app, &revoke, &here, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&app, &revoke, &here, &with_csrf).await.location(), "/account?notice=revoked");
    assert!(h.tutela.token_principal(token.token.expose_secret(), None).await.is_err(), "revoked");
    let page = get(&app, "/account?notice=revoked", Some(&here), "en").await;
    assert!(page.body.contains("The token was revoked.") && !page.body.contains(&revoke), "no second revoke");
    h.close().await;
}

async fn an_administrator_signs_a_user_out_everywhere(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "admin@example.com", &["administrator"]).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    let app = app(&h);
    let admin = sign_in(&h, "admin@example.com").await;
    let mut sales = SignInAs::new("sales@example.com", support::PASSWORD);
    let sessions = [sales.sign_in(&h, None, None).await, sales.sign_in(&h, None, None).await];
    let sales_id = h.tutela.store().user_by_email("sales@example.com").await.unwrap().unwrap().id;
    let admin_id = h.tutela.store().user_by_email("admin@example.com").await.unwrap().unwrap().id;

    let page = get(&app, "/users", Some(&admin), "en").await;
    let action = format!("/users/{sales_id}/sessions/end");
    assert!(page.body.contains(&format!("action=\"{action}\"")) && page.body.contains("End sessions"));
    assert!(get(&app, "/users", Some(&admin), "zh-CN").await.body.contains("结束会话"));
    // Sales may not press it, even for themselves through the administrator's form.
    let sales_csrf = get(&app, "/account", Some(&sessions[0]), "en").await.csrf();
    let refused = post(&app, &format!("/users/{admin_id}/sessions/end"), &sessions[0], &[("_csrf", &sales_csrf)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(h.tutela.session(&admin).await.is_ok());

    let csrf = page.csrf();
    assert_eq!(post(&app, &action, &admin, &[]).await.status, StatusCode::FORBIDDEN, "CSRF");
    assert_eq!(post(&app, &action, &admin, &[("_csrf", &csrf)]).await.location(), "/users?notice=sessions-ended");
    for s in &sessions {
        assert!(h.tutela.session(s).await.is_err(), "signed out everywhere");
    }
    let notice = get(&app, "/users?notice=sessions-ended", Some(&admin), "en").await;
    assert!(notice.body.contains("The user was signed out everywhere."));
    let unknown = post(&app, &format!("/users/{}/sessions/end", Uuid::new_v4()), &admin, &[("_csrf", &csrf)]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    h.close().await;
}

tutela_core::on_both_stores! {
    my_sessions_and_tokens_ => my_sessions_and_tokens;
    an_administrator_signs_a_user_out_everywhere_ => an_administrator_signs_a_user_out_everywhere;
}
