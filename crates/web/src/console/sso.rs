//! Single sign-on in the console: the button's target, which sends the browser to the
//! identity provider with the ticket cookie, and the redirect URI the provider sends it back
//! to. What the provider vouches for is judged in the domain; a failure comes back to the
//! sign-in page with the reason.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use tutela_core::identity::{SsoCallback, SsoError, SsoOutcome};

use super::error::{ConsoleError, ok};
use super::i18n::{I18n, Lang};
use super::layout::Chrome;
use super::login;
use super::session::Prefs;
use crate::AppState;
use crate::auth::{ClientAddr, session_cookie, sso_cookie, sso_removal_cookie, sso_ticket};

#[derive(askama::Template)]
#[template(path = "sso_continue.html")]
struct Continue {
    chrome: Chrome,
    next: &'static str,
}

fn source(client: Option<Extension<ClientAddr>>) -> Option<String> {
    client.map(|Extension(c)| c.0.ip().to_string())
}

/// The sign-in page saying why single sign-on did not sign anyone in.
fn failure(state: &AppState, lang: Lang, e: SsoError) -> Response {
    let t = |key| I18n::new(lang).t(key);
    match e {
        SsoError::NotConfigured => ConsoleError::not_found(lang).into_response(),
        SsoError::Unavailable(m) => {
            login::failed(state, lang, StatusCode::FAILED_DEPENDENCY, format!("{} ({m})", t("login-sso-unavailable")))
        }
        SsoError::Refused(m) => {
            login::failed(state, lang, StatusCode::UNAUTHORIZED, format!("{} ({m})", t("login-sso-refused")))
        }
        SsoError::Core(tutela_core::CoreError::Conflict(m)) => {
            login::failed(state, lang, StatusCode::CONFLICT, format!("{} ({m})", t("login-sso-conflict")))
        }
        SsoError::Core(e) => ConsoleError::from_core(e, lang).into_response(),
    }
}

/// Off to the identity provider.
pub async fn start(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    prefs: Prefs,
    jar: CookieJar,
) -> Response {
    match state.tutela.begin_sso(source(client)).await {
        Ok(started) => {
            let jar = jar.add(sso_cookie(&state, started.ticket.expose_secret().to_owned()));
            (jar, Redirect::to(&started.url)).into_response()
        }
        Err(e) => failure(&state, prefs.lang, e),
    }
}

#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The redirect URI: the provider's answer, checked and turned into a session (signed in,
/// or pending the local second factor).
pub async fn callback(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    prefs: Prefs,
    headers: HeaderMap,
    jar: CookieJar,
    Query(answer): Query<Answer>,
) -> Response {
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(200).collect());
    let callback = SsoCallback {
        ticket: sso_ticket(&state, &headers),
        state: answer.state,
        code: answer.code,
        error: answer.error,
        error_description: answer.error_description,
        issuer: answer.iss,
    };
    let jar = jar.add(sso_removal_cookie(&state));
    let (token, next) = match state.tutela.finish_sso(callback, source(client), user_agent).await {
        Ok(SsoOutcome::SignedIn(token)) => (token, "/"),
        Ok(SsoOutcome::SecondFactor(start)) => {
            (start.pending_token, if start.must_enrol { "/login/enrol" } else { "/login/second-factor" })
        }
        Err(e) => return (jar, failure(&state, prefs.lang, e)).into_response(),
    };
    let jar = jar.add(session_cookie(&state, token.expose_secret().to_owned()));
    (jar, ok(&Continue { chrome: Chrome::bare(prefs.lang, "/login"), next })).into_response()
}
