//! Sign-in protection and the password policy through `/api/v1`, on both stores: one 401 for
//! wrong, unknown and locked, with no `Retry-After`; the administrator's unlock; weak
//! passwords refused as problems naming the field `password`.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Principal, builtin_roles};
use tutela_core::testing::{Backend, Harness, operator};
use tutela_web::{AppState, router};

const PASSWORD: &str = "a long enough password";

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn call(app: &Router, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

/// A harness with `sales@example.com` and an administrator's API token.
async fn fixture(backend: Backend) -> (Harness, Router, String, uuid::Uuid) {
    let h = Harness::new(backend).await;
    let new = |email: &str, role: &str| NewUser {
        email: email.into(),
        display_name: email.into(),
        password: SecretString::from(PASSWORD),
        roles: vec![role.into()],
    };
    let sales = h.tutela.create_user(&operator(), new("sales@example.com", "sales")).await.unwrap().id;
    let admin = h.tutela.create_user(&operator(), new("admin@example.com", "administrator")).await.unwrap();
    let (_, _, permissions) = builtin_roles().into_iter().find(|(name, _, _)| *name == "administrator").unwrap();
    let owner = Principal::direct(
        Some(admin.id),
        admin.email,
        permissions.iter().copied().collect(),
        Credential::Session,
        None,
    );
    let scopes: Vec<String> = permissions.iter().map(|p| p.as_str().to_owned()).collect();
    let token =
        h.tutela.create_api_token(&owner, "test", &scopes, None).await.unwrap().token.expose_secret().to_owned();
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    (h, app, token, sales)
}

async fn login(app: &Router, email: &str, password: &str) -> Answer {
    call(app, Method::POST, "/api/v1/auth/login", None, Some(json!({"email": email, "password": password}))).await
}

async fn wrong_unknown_and_locked_get_one_answer(backend: Backend) {
    let (h, app, _, _) = fixture(backend).await;
    let mut refusals = vec![login(&app, "sales@example.com", "wrong password here").await];
    refusals.push(login(&app, "nobody@example.com", PASSWORD).await);
    for _ in 0..4 {
        login(&app, "sales@example.com", "wrong password here").await;
        login(&app, "nobody@example.com", "wrong password here").await;
    }
    refusals.push(login(&app, "sales@example.com", PASSWORD).await);
    refusals.push(login(&app, "nobody@example.com", PASSWORD).await);
    for refusal in &refusals {
        assert_eq!(refusal.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refusal.body, refusals[0].body, "the same problem document");
        assert_eq!(refusal.headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(!refusal.headers.contains_key(header::RETRY_AFTER), "no hint of a lock or its end");
    }
    assert_eq!(refusals[0].body["type"], "urn:tutela:problem:unauthenticated");
    h.close().await;
}

async fn an_administrator_clears_a_lockout_through_the_api(backend: Backend) {
    let (h, app, admin, sales) = fixture(backend).await;
    for _ in 0..5 {
        login(&app, "sales@example.com", "wrong password here").await;
    }
    assert_eq!(login(&app, "sales@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED, "locked");
    let users = call(&app, Method::GET, "/api/v1/users", Some(&admin), None).await.body;
    let listed = users.as_array().unwrap().iter().find(|u| u["email"] == "sales@example.com").unwrap().clone();
    assert!(listed["locked_until"].is_string(), "{listed}");

    let path = format!("/api/v1/users/{sales}/lockout");
    assert_eq!(call(&app, Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(login(&app, "sales@example.com", PASSWORD).await.status, StatusCode::OK, "unlocked");
    let users = call(&app, Method::GET, "/api/v1/users", Some(&admin), None).await.body;
    assert!(users.as_array().unwrap().iter().all(|u| u["locked_until"].is_null()));
    let unknown = format!("/api/v1/users/{}/lockout", uuid::Uuid::now_v7());
    assert_eq!(call(&app, Method::DELETE, &unknown, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    h.close().await;
}

async fn weak_passwords_are_refused_naming_the_field(backend: Backend) {
    let (h, app, admin, _) = fixture(backend).await;
    let new_user = |password: &str| json!({"email": "new@example.com", "display_name": "New", "password": password, "roles": ["support"]});
    for (password, why) in
        [("short", "at least 12"), ("Baseball1234", "common or breached"), ("tutela.tutela", "product name")]
    {
        let a = call(&app, Method::POST, "/api/v1/users", Some(&admin), Some(new_user(password))).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert_eq!(a.body["type"], "urn:tutela:problem:invalid-input");
        assert_eq!(a.body["field"], "password");
        assert!(a.body["detail"].as_str().unwrap().contains(why), "{password}: {}", a.body);
    }
    let users = call(&app, Method::GET, "/api/v1/users", Some(&admin), None).await.body;
    assert_eq!(users.as_array().unwrap().len(), 2, "nothing created");
    let a = call(&app, Method::POST, "/api/v1/users", Some(&admin), Some(new_user("海内存知己，天涯若比邻。"))).await;
    assert_eq!(a.status, StatusCode::CREATED, "any Unicode: {}", a.body);
    h.close().await;
}

tutela_core::on_both_stores! {
    wrong_unknown_and_locked_get_one_answer_ => wrong_unknown_and_locked_get_one_answer;
    an_administrator_clears_a_lockout_through_the_api_ => an_administrator_clears_a_lockout_through_the_api;
    weak_passwords_are_refused_naming_the_field_ => weak_passwords_are_refused_naming_the_field;
}
