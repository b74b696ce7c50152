//! Passkeys through `/api/v1`, on both stores, with a software authenticator: registered with
//! the console session (CSRF-checked; never with an API token), listed, used after the
//! password and alone, and deleted; another user's passkey is a 404, a replayed ceremony a
//! 422 naming `ceremony`, bad input a 422 naming its field.

use crate::support;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use support::{PASSWORD, SESSION_COOKIE, create_user, sign_in};
use tower::ServiceExt as _;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Principal};
use tutela_core::testing::authenticator::SoftAuthenticator;
use tutela_core::testing::{Backend, Harness};
use tutela_web::{AppState, router};
use uuid::Uuid;

const ORIGIN: &str = "https://localhost:8443";

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    /// The session cookie this answer sets.
    fn session(&self) -> String {
        let mut set = self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok());
        let cookie = set.find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}="))).expect("a session cookie");
        cookie.split(';').next().unwrap().to_owned()
    }
}

#[derive(Default)]
struct With<'a> {
    session: Option<&'a str>,
    csrf: Option<&'a str>,
    bearer: Option<&'a str>,
    body: Option<Value>,
}

async fn call(app: &Router, method: Method, path: &str, w: With<'_>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(s) = w.session {
        request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={s}"));
    }
    if let Some(c) = w.csrf {
        request = request.header("x-csrf-token", c);
    }
    if let Some(t) = w.bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if w.body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = w.body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

#[track_caller]
fn assert_problem(a: &Answer, status: StatusCode, field: Option<&str>) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/problem+json");
    if let Some(field) = field {
        assert_eq!(a.body["field"], field, "{}", a.body);
    }
}

fn csrf(session: &str) -> String {
    // The token the console puts in its pages: derived from the session, as the server does.
    use base64::Engine as _;
    let digest = tutela_crypto::token::hash_token(&format!("csrf:{session}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Registers a passkey for the user of `session` on `device`; returns its id.
async fn register(app: &Router, session: &str, device: &mut SoftAuthenticator, name: &str) -> Answer {
    let token = csrf(session);
    let auth = || With { session: Some(session), csrf: Some(&token), ..With::default() };
    let started = call(app, Method::POST, "/api/v1/passkeys/registration", auth()).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let credential = device.register(&started.body["options"]);
    let body = json!({ "ceremony": started.body["ceremony"], "name": name, "credential": credential });
    call(app, Method::POST, "/api/v1/passkeys", With { body: Some(body), ..auth() }).await
}

async fn password(app: &Router, email: &str) -> String {
    let body = json!({ "email": email, "password": PASSWORD });
    let a = call(app, Method::POST, "/api/v1/auth/login", With { body: Some(body), ..With::default() }).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.session()
}

/// Ann's passkey after her password, then alone; each answer replayed is refused.
async fn sign_in_both_ways(app: &Router, ann: &str, device: &mut SoftAuthenticator) {
    // The second factor after the password.
    let pending = password(app, "ann@example.com").await;
    let started =
        call(app, Method::POST, "/api/v1/auth/passkey/challenge", With { session: Some(&pending), ..With::default() })
            .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let credential = device.assert(&started.body["options"]);
    let body = json!({ "ceremony": started.body["ceremony"], "credential": credential });
    let done = call(
        app,
        Method::POST,
        "/api/v1/auth/passkey",
        With { session: Some(&pending), body: Some(body.clone()), ..With::default() },
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let signed_in = done.session();
    assert_ne!(signed_in, pending, "a new session id");
    assert_eq!(done.body["csrf_token"], csrf(&signed_in));
    let me = call(app, Method::GET, "/api/v1/auth/me", With { session: Some(&signed_in), ..With::default() }).await;
    assert_eq!(me.body["email"], "ann@example.com");
    // Replayed on a new pending session: the ceremony is gone.
    let pending = password(app, "ann@example.com").await;
    let replay = call(
        app,
        Method::POST,
        "/api/v1/auth/passkey",
        With { session: Some(&pending), body: Some(body), ..With::default() },
    )
    .await;
    assert_problem(&replay, StatusCode::UNPROCESSABLE_ENTITY, Some("ceremony"));

    // Passwordless.
    let started = call(app, Method::POST, "/api/v1/auth/passwordless/challenge", With::default()).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert!(started.body["options"]["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty));
    assert!(started.body["options"].get("mediation").is_none(), "a modal prompt, not autofill");
    let credential = device.assert(&started.body["options"]);
    let body = json!({ "ceremony": started.body["ceremony"], "credential": credential });
    let done =
        call(app, Method::POST, "/api/v1/auth/passwordless", With { body: Some(body.clone()), ..With::default() })
            .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let me =
        call(app, Method::GET, "/api/v1/auth/me", With { session: Some(&done.session()), ..With::default() }).await;
    assert_eq!(me.body["email"], "ann@example.com");
    let replay =
        call(app, Method::POST, "/api/v1/auth/passwordless", With { body: Some(body), ..With::default() }).await;
    assert_problem(&replay, StatusCode::UNPROCESSABLE_ENTITY, Some("ceremony"));
    let listed = call(app, Method::GET, "/api/v1/passkeys", With { session: Some(ann), ..With::default() }).await;
    assert!(listed.body[0]["last_used_at"].is_string(), "{}", listed.body);
}

async fn register_use_and_delete(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    create_user(&h, "ann@example.com", &["sales"]).await;
    create_user(&h, "bob@example.com", &["sales"]).await;
    let ann = sign_in(&h, "ann@example.com").await;
    let bob = sign_in(&h, "bob@example.com").await;
    let mut device = SoftAuthenticator::new(ORIGIN);

    // Registration: the CSRF header is required with the cookie.
    let refused =
        call(&app, Method::POST, "/api/v1/passkeys/registration", With { session: Some(&ann), ..With::default() })
            .await;
    assert_problem(&refused, StatusCode::FORBIDDEN, None);
    let added = register(&app, &ann, &mut device, "Work laptop").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let id: Uuid = added.body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(added.body["name"], "Work laptop");
    assert!(added.body["last_used_at"].is_null());

    let listed = call(&app, Method::GET, "/api/v1/passkeys", With { session: Some(&ann), ..With::default() }).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
    assert!(listed.body[0].get("passkey").is_none() && listed.body[0].get("credential_id").is_none());
    let bobs = call(&app, Method::GET, "/api/v1/passkeys", With { session: Some(&bob), ..With::default() }).await;
    assert_eq!(bobs.body, json!([]), "Bob sees none of Ann's");

    // With an API token: list, yes; register, no.
    let user = h.tutela.store().user_by_email("ann@example.com").await.unwrap().unwrap();
    let owner = Principal::direct(
        Some(user.id),
        user.email.clone(),
        [tutela_core::policy::Permission::CustomerRead].into_iter().collect(),
        Credential::Session,
        None,
    );
    let token = h.tutela.create_api_token(&owner, "script", &["customer.read".into()], None).await.unwrap();
    let bearer = token.token.expose_secret();
    let by_token = call(&app, Method::GET, "/api/v1/passkeys", With { bearer: Some(bearer), ..With::default() }).await;
    assert_eq!(by_token.body.as_array().map(Vec::len), Some(1));
    let minted =
        call(&app, Method::POST, "/api/v1/passkeys/registration", With { bearer: Some(bearer), ..With::default() })
            .await;
    assert_problem(&minted, StatusCode::FORBIDDEN, None);

    sign_in_both_ways(&app, &ann, &mut device).await;

    // An unknown passkey: the generic 401.
    let mut stranger = SoftAuthenticator::new(ORIGIN);
    stranger.register(
        &call(
            &app,
            Method::POST,
            "/api/v1/passkeys/registration",
            With { session: Some(&bob), csrf: Some(&csrf(&bob)), ..With::default() },
        )
        .await
        .body["options"],
    );
    let started = call(&app, Method::POST, "/api/v1/auth/passwordless/challenge", With::default()).await;
    let body = json!({ "ceremony": started.body["ceremony"], "credential": stranger.assert(&started.body["options"]) });
    let unknown =
        call(&app, Method::POST, "/api/v1/auth/passwordless", With { body: Some(body), ..With::default() }).await;
    assert_problem(&unknown, StatusCode::UNAUTHORIZED, None);
    assert!(unknown.headers.get(header::SET_COOKIE).is_none());

    // Deleting: Bob cannot delete Ann's (404, as if it did not exist); Ann can, once.
    let path = format!("/api/v1/passkeys/{id}");
    let bob_csrf = csrf(&bob);
    let as_bob = || With { session: Some(&bob), csrf: Some(&bob_csrf), ..With::default() };
    assert_problem(&call(&app, Method::DELETE, &path, as_bob()).await, StatusCode::NOT_FOUND, None);
    let ann_csrf = csrf(&ann);
    let as_ann = || With { session: Some(&ann), csrf: Some(&ann_csrf), ..With::default() };
    assert_eq!(call(&app, Method::DELETE, &path, as_ann()).await.status, StatusCode::NO_CONTENT);
    assert_problem(&call(&app, Method::DELETE, &path, as_ann()).await, StatusCode::NOT_FOUND, None);
    assert_problem(
        &call(&app, Method::DELETE, "/api/v1/passkeys/not-an-id", as_ann()).await,
        StatusCode::NOT_FOUND,
        None,
    );
    h.close().await;
}

async fn bad_input_names_the_field(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    create_user(&h, "ann@example.com", &["sales"]).await;
    let ann = sign_in(&h, "ann@example.com").await;
    let token = csrf(&ann);
    let mut device = SoftAuthenticator::new(ORIGIN);
    let unnamed = register(&app, &ann, &mut device, "   ").await;
    assert_problem(&unnamed, StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    let malformed = json!({ "ceremony": "x", "name": "key", "credential": { "id": 5 } });
    let a = call(
        &app,
        Method::POST,
        "/api/v1/passkeys",
        With { session: Some(&ann), csrf: Some(&token), body: Some(malformed), ..With::default() },
    )
    .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("body"));
    // A registration answered from another origin (a phishing page relaying the ceremony).
    let mut phished = SoftAuthenticator::new("https://tutela.example.net");
    let a = register(&app, &ann, &mut phished, "phished").await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("credential"));
    // A pending session without passkeys is told to use a code.
    let new = NewUser {
        email: "bob@example.com".into(),
        display_name: "Bob".into(),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: vec!["sales".into()],
    };
    h.tutela.create_user(&support::bootstrap(), new).await.unwrap();
    sign_in(&h, "bob@example.com").await;
    let pending = password(&app, "bob@example.com").await;
    let a =
        call(&app, Method::POST, "/api/v1/auth/passkey/challenge", With { session: Some(&pending), ..With::default() })
            .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("passkey"));
    // The routes are in the OpenAPI document.
    let doc = call(&app, Method::GET, "/api/v1/openapi.json", With::default()).await.body;
    for path in [
        "/api/v1/passkeys",
        "/api/v1/passkeys/{id}",
        "/api/v1/passkeys/registration",
        "/api/v1/auth/passkey",
        "/api/v1/auth/passwordless",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    h.close().await;
}

tutela_core::on_both_stores! {
    register_use_and_delete_ => register_use_and_delete;
    bad_input_names_the_field_ => bad_input_names_the_field;
}
