//! Helpers for console router tests: users signed in through the domain, requests with the
//! session cookie, and reading what a page says.

pub mod json_api;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use secrecy::{ExposeSecret, SecretString};
use tower::ServiceExt as _;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::Harness;
use tutela_crypto::totp;

pub const PASSWORD: &str = "a long enough password";
pub const SESSION_COOKIE: &str = "__Host-tutela";

pub fn bootstrap() -> Principal {
    Principal::direct(None, "test", [Permission::UserManage].into_iter().collect(), Credential::LocalCli, None)
}

pub async fn create_user(h: &Harness, email: &str, roles: &[&str]) {
    let new = NewUser {
        email: email.to_owned(),
        display_name: format!("User {email}"),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    h.tutela.create_user(&bootstrap(), new).await.unwrap();
}

/// Signs a user in through password and TOTP enrolment; returns the session cookie value.
pub async fn sign_in(h: &Harness, email: &str) -> String {
    let start = h.tutela.login(email, SecretString::from(PASSWORD.to_owned()), None, None).await.unwrap();
    let pending = start.pending_token.expose_secret().to_owned();
    let enrolment = h.tutela.begin_totp_enrolment(&pending).await.unwrap();
    let key = data_encoding::BASE32_NOPAD.decode(enrolment.secret_base32.expose_secret().as_bytes()).unwrap();
    let now = u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap();
    let code = totp::current_code(&key, now).unwrap();
    let (session, _) = h.tutela.confirm_totp_enrolment(&pending, &code).await.unwrap();
    session.expose_secret().to_owned()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The `_csrf` value of the first form on the page.
    pub fn csrf(&self) -> String {
        let start = self.body.find("name=\"_csrf\" value=\"").expect("a form with _csrf") + 20;
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

#[derive(Default, Clone)]
pub struct Call<'a> {
    pub session: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub form: Option<String>,
    /// A JSON body (with its content type), as the console's scripts send to `/api/v1`.
    pub json: Option<String>,
    pub headers: Vec<(&'a str, String)>,
}

pub async fn call(app: &Router, method: Method, path: &str, c: Call<'_>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    let mut cookies = Vec::new();
    if let Some(s) = c.session {
        cookies.push(format!("{SESSION_COOKIE}={s}"));
    }
    if let Some(extra) = c.cookie {
        cookies.push(extra.to_owned());
    }
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies.join("; "));
    }
    if let Some(l) = c.lang {
        request = request.header(header::ACCEPT_LANGUAGE, l);
    }
    for (name, value) in &c.headers {
        request = request.header(*name, value);
    }
    let body = match (c.form, c.json) {
        (Some(form), _) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form)
        }
        (None, Some(json)) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json)
        }
        (None, None) => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub async fn get(app: &Router, path: &str, session: Option<&str>, lang: &str) -> Answer {
    call(app, Method::GET, path, Call { session, lang: Some(lang), ..Call::default() }).await
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    serde_html_form::to_string(pairs).unwrap()
}

/// A new user holding `roles`, with an API token scoped to `permissions`.
pub async fn user_with_token(
    h: &Harness,
    email: &str,
    roles: &[&str],
    permissions: &[Permission],
) -> (uuid::Uuid, String) {
    create_user(h, email, roles).await;
    let user = h.tutela.store().user_by_email(email).await.unwrap().unwrap();
    let owner =
        Principal::direct(Some(user.id), email, permissions.iter().copied().collect(), Credential::Session, None);
    let scopes: Vec<String> = permissions.iter().map(|p| p.as_str().to_owned()).collect();
    let token = h.tutela.create_api_token(&owner, "test", &scopes, None).await.unwrap();
    (user.id, token.token.expose_secret().to_owned())
}

/// Configuration with e-mail on, to a loopback port nobody listens on: notices get e-mail
/// deliveries, which stay pending.
pub fn unreachable_smtp() -> tutela_core::Config {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp = tutela_core::notify::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: tutela_core::notify::SmtpSecurity::None,
        username: None,
        password: None,
        from: "Tutela <tutela@example.com>".into(),
        timeout: std::time::Duration::from_secs(2),
        ca_file: None,
    };
    let notify = tutela_core::notify::NotifyConfig { smtp: Some(smtp), ..Default::default() };
    tutela_core::Config { notify, ..tutela_core::Config::default() }
}
