//! Sessions and tokens through `/api/v1`, on both stores: a user lists and ends their own
//! with the session cookie (CSRF-checked), an administrator anyone's with a bearer token;
//! unknown and malformed ids are 404 problems; disabling a user revokes their tokens.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{Answer, Call, call, create_user, get, user_with_token};
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, SignInAs};
use tutela_store::UserStatus;
use tutela_web::{AppState, router};
use uuid::Uuid;

fn app(h: &Harness) -> Router {
    router(AppState { tutela: h.tutela.clone(), secure_cookies: true })
}

fn json_of(a: &Answer) -> Value {
    serde_json::from_str(&a.body).unwrap_or(Value::Null)
}

fn assert_problem(a: &Answer, status: StatusCode, kind: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(json_of(a)["type"], format!("urn:tutela:problem:{kind}"), "{}", a.body);
}

/// A request with the session cookie and, when given, the CSRF header.
async fn with_cookie(app: &Router, method: Method, path: &str, session: &str, csrf: Option<&str>) -> Answer {
    let headers = csrf.map(|c| vec![("x-csrf-token", c.to_owned())]).unwrap_or_default();
    call(app, method, path, Call { session: Some(session), headers, ..Call::default() }).await
}

async fn with_bearer(app: &Router, method: Method, path: &str, token: &str) -> Answer {
    let headers = vec![("authorization", format!("Bearer {token}"))];
    call(app, method, path, Call { headers, ..Call::default() }).await
}

async fn session_id(h: &Harness, token: &str) -> Uuid {
    h.tutela.signed_in_session(token, None).await.unwrap().1
}

async fn a_user_lists_and_ends_their_sessions(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = app(&h);
    create_user(&h, "sales@example.com", &["sales"]).await;
    let mut sales = SignInAs::new("sales@example.com", support::PASSWORD);
    let here = sales.sign_in(&h, Some("192.0.2.4"), Some("Firefox/140")).await;
    let phone = sales.sign_in(&h, None, None).await;
    let tablet = sales.sign_in(&h, None, None).await;
    let (here_id, phone_id) = (session_id(&h, &here).await, session_id(&h, &phone).await);

    let a = with_cookie(&app, Method::GET, "/api/v1/sessions", &here, None).await;
    assert_eq!(a.status, StatusCode::OK);
    let listed = json_of(&a);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!((current[0]["id"].clone(), current[0]["user_agent"].clone()), (json!(here_id), json!("Firefox/140")));
    assert_eq!(current[0]["source"], "192.0.2.4");
    for token in [&here, &phone, &tablet] {
        let hash = tutela_crypto::token::hash_token(token);
        assert!(!a.body.contains(token.as_str()), "no session token in the list");
        assert!(!a.body.contains(&hex::encode(hash)), "no token hash (hex) in the list");
        assert!(!a.body.contains(&data_encoding::BASE64URL_NOPAD.encode(&hash)), "no token hash (base64)");
        assert!(!a.body.contains(&data_encoding::BASE64.encode(&hash)), "no token hash (base64)");
    }

    let csrf = get(&app, "/account", Some(&here), "en").await.csrf();
    let one = format!("/api/v1/sessions/{phone_id}");
    assert_problem(&with_cookie(&app, Method::DELETE, &one, &here, None).await, StatusCode::FORBIDDEN, "forbidden");
    assert!(h.tutela.session(&phone).await.is_ok(), "not ended without the CSRF token");
    assert_eq!(with_cookie(&app, Method::DELETE, &one, &here, Some(&csrf)).await.status, StatusCode::NO_CONTENT);
    assert!(h.tutela.session(&phone).await.is_err(), "ended");
    let again = with_cookie(&app, Method::DELETE, &one, &here, Some(&csrf)).await;
    assert_problem(&again, StatusCode::NOT_FOUND, "not-found");
    let malformed = with_cookie(&app, Method::DELETE, "/api/v1/sessions/not-a-uuid", &here, Some(&csrf)).await;
    assert_problem(&malformed, StatusCode::NOT_FOUND, "not-found");

    let a = with_cookie(&app, Method::DELETE, "/api/v1/sessions", &here, Some(&csrf)).await;
    assert_eq!((a.status, json_of(&a)), (StatusCode::OK, json!({ "ended": 1 })));
    assert!(h.tutela.session(&tablet).await.is_err(), "the others ended");
    let left = json_of(&with_cookie(&app, Method::GET, "/api/v1/sessions", &here, None).await);
    assert_eq!(left.as_array().unwrap().len(), 1, "this session is kept: {left}");
    h.close().await;
}

async fn an_administrator_ends_anyones_sessions(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = app(&h);
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], &[Permission::UserManage]).await;
    let (sales_id, sales_token) =
        user_with_token(&h, "sales@example.com", &["sales"], &[Permission::CustomerRead]).await;
    let mut sales = SignInAs::new("sales@example.com", support::PASSWORD);
    let first = sales.sign_in(&h, None, None).await;
    let second = sales.sign_in(&h, None, None).await;

    let theirs = format!("/api/v1/users/{sales_id}/sessions");
    let a = with_bearer(&app, Method::GET, &theirs, &admin).await;
    assert_eq!(a.status, StatusCode::OK);
    let listed = json_of(&a);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().all(|s| s["current"] == false && s["user_id"] == json!(sales_id)));
    assert_problem(&with_bearer(&app, Method::GET, &theirs, &sales_token).await, StatusCode::FORBIDDEN, "forbidden");
    let first_id = session_id(&h, &first).await;
    let one = format!("/api/v1/sessions/{first_id}");
    assert_eq!(with_bearer(&app, Method::DELETE, &one, &admin).await.status, StatusCode::NO_CONTENT);
    assert!(h.tutela.session(&first).await.is_err());
    let a = with_bearer(&app, Method::DELETE, &theirs, &admin).await;
    assert_eq!((a.status, json_of(&a)), (StatusCode::OK, json!({ "ended": 1 })));
    assert!(h.tutela.session(&second).await.is_err());

    let nobody = Uuid::new_v4();
    for method in [Method::GET, Method::DELETE] {
        let path = format!("/api/v1/users/{nobody}/sessions");
        assert_problem(&with_bearer(&app, method, &path, &admin).await, StatusCode::NOT_FOUND, "not-found");
    }
    let path = format!("/api/v1/users/{nobody}/tokens");
    assert_problem(&with_bearer(&app, Method::GET, &path, &admin).await, StatusCode::NOT_FOUND, "not-found");

    // Disabling revokes the user's tokens: listed as revoked, refused at once.
    let tokens = format!("/api/v1/users/{sales_id}/tokens");
    assert!(json_of(&with_bearer(&app, Method::GET, &tokens, &admin).await)[0]["revoked_at"].is_null());
    h.tutela.set_user_status(&support::bootstrap(), sales_id, UserStatus::Disabled).await.unwrap();
    assert!(json_of(&with_bearer(&app, Method::GET, &tokens, &admin).await)[0]["revoked_at"].is_string());
    let refused = with_bearer(&app, Method::GET, "/api/v1/sessions", &sales_token).await;
    assert_problem(&refused, StatusCode::UNAUTHORIZED, "unauthenticated");
    h.close().await;
}

tutela_core::on_both_stores! {
    a_user_lists_and_ends_their_sessions_ => a_user_lists_and_ends_their_sessions;
    an_administrator_ends_anyones_sessions_ => an_administrator_ends_anyones_sessions;
}
