//! Sign-in with e-mail and password (step one) or a passkey alone, sign-out, and the home
//! redirect. The passkey runs in `assets/passkeys.js` against `/api/v1/auth/passwordless`.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tutela_core::CoreError;

use super::assets;
use super::error::{ConsoleError, ConsoleResult, ok, render};
use super::forms::Errors;
use super::i18n::Lang;
use super::layout::{Chrome, Nav};
use super::session::{Console, Prefs, PublicForm, any_session, csrf_matches};
use crate::AppState;
use crate::auth::{ClientAddr, removal_cookie, session_cookie};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    notice: Option<String>,
    errors: Errors,
    /// Offer passwordless sign-in (passkeys are on).
    passkeys: bool,
    /// Offer single sign-on (an identity provider is configured).
    sso: bool,
    script: String,
}

impl LoginPage {
    fn new(state: &AppState, chrome: Chrome, email: String, notice: Option<String>, errors: Errors) -> Self {
        let passkeys = state.tutela.passkeys_available();
        let sso = state.tutela.sso_enabled();
        Self { chrome, email, notice, errors, passkeys, sso, script: assets::url("passkeys.js") }
    }
}

/// The sign-in page with an error, for a way in that failed elsewhere (single sign-on).
pub(super) fn failed(state: &AppState, lang: Lang, status: StatusCode, message: String) -> Response {
    let chrome = Chrome::bare(lang, "/login");
    let mut errors = Errors::default();
    errors.add(None, message);
    render(status, &LoginPage::new(state, chrome, String::new(), None, errors))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// Known notices only: a query parameter never puts arbitrary text on the page.
fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "signed-out" => Some("login-notice-signed-out"),
        "setup-done" => Some("login-notice-setup-done"),
        "expired" => Some("login-notice-expired"),
        _ => None,
    }
}

pub async fn page(
    State(state): State<AppState>,
    prefs: Prefs,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    // Already signed in: nothing to do here.
    if let Some(token) = any_session(&headers, &state)
        && state.tutela.session(&token).await.is_ok_and(|s| s.mfa_done)
    {
        return Redirect::to("/").into_response();
    }
    let chrome = Chrome::bare(prefs.lang, &prefs.path);
    let notice = notice_key(q.notice.as_deref()).map(|k| chrome.t(k));
    ok(&LoginPage::new(&state, chrome, String::new(), notice, Errors::default()))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    jar: CookieJar,
    PublicForm { prefs, form }: PublicForm<LoginForm>,
) -> ConsoleResult {
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(200).collect());
    let source = client.map(|Extension(c)| c.0.ip().to_string());
    let password = SecretString::from(form.password);
    match state.tutela.login(&form.email, password, source, user_agent).await {
        Ok(start) => {
            let jar = jar.add(session_cookie(&state, start.pending_token.expose_secret().to_owned()));
            let next = if start.must_enrol { "/login/enrol" } else { "/login/second-factor" };
            Ok((jar, Redirect::to(next)).into_response())
        }
        Err(CoreError::Unauthenticated(_)) => {
            let chrome = Chrome::bare(prefs.lang, "/login");
            let mut errors = Errors::default();
            errors.add(None, chrome.t("login-failed"));
            Ok(render(StatusCode::UNAUTHORIZED, &LoginPage::new(&state, chrome, form.email, None, errors)))
        }
        Err(e) => Err(ConsoleError::from_core(e, prefs.lang)),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

/// Ends the session (pending or signed in). The CSRF token keeps other sites from signing
/// the user out.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    PublicForm { prefs, form }: PublicForm<LogoutForm>,
) -> ConsoleResult {
    let Some(token) = any_session(&headers, &state) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_matches(form.csrf.as_deref(), &token) {
        return Err(ConsoleError::forbidden(prefs.lang, "missing or wrong CSRF token; reload the page"));
    }
    state.tutela.logout(&token).await.map_err(|e| ConsoleError::from_core(e, prefs.lang))?;
    Ok((jar.add(removal_cookie(&state)), Redirect::to("/login?notice=signed-out")).into_response())
}

#[derive(Template)]
#[template(path = "home.html")]
struct NothingToSee {
    chrome: Chrome,
}

/// The first page the user may open, or a page saying there is none.
pub async fn home(console: Console) -> Response {
    match Nav::allowed(&console.principal).first() {
        Some(nav) => Redirect::to(nav.href()).into_response(),
        None => ok(&NothingToSee { chrome: console.chrome(None) }),
    }
}
