//! First sign-in: enrol an authenticator (QR code or the secret typed in), confirm it with a
//! first code, and see the recovery codes once.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use secrecy::ExposeSecret;
use tutela_core::CoreError;

use super::error::{ConsoleError, ConsoleResult, ok, render};
use super::layout::Chrome;
use super::second_factor::CodeForm;
use super::session::{Pending, PendingForm};
use crate::AppState;
use crate::auth::{csrf_token, session_cookie};

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    qr_data_uri: String,
    /// Base32, in groups of four for typing.
    secret_grouped: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "enrol_done.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "enrol_done_panel.html")]
struct RecoveryCodesPanel {
    chrome: Chrome,
    codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "error_fragment.html")]
struct CodeError {
    title: String,
    detail: Option<String>,
}

fn chrome(pending: &Pending) -> Chrome {
    Chrome { csrf: pending.csrf.clone(), ..Chrome::bare(pending.lang, &pending.path) }
}

fn group(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Starts (or restarts) enrolment: each visit makes a new secret, so a code from an
/// abandoned attempt never works.
async fn begin(state: &AppState, pending: &Pending, error: Option<String>, status: StatusCode) -> ConsoleResult {
    match state.tutela.begin_totp_enrolment(&pending.token).await {
        Ok(e) => {
            let qr = base64::engine::general_purpose::STANDARD.encode(e.qr_svg.as_bytes());
            let page = EnrolPage {
                chrome: chrome(pending),
                qr_data_uri: format!("data:image/svg+xml;base64,{qr}"),
                secret_grouped: group(e.secret_base32.expose_secret()),
                error,
            };
            Ok(render(status, &page))
        }
        Err(CoreError::Conflict(_)) => Ok(Redirect::to("/login/second-factor").into_response()),
        Err(CoreError::Unauthenticated(_)) => Ok(Redirect::to("/login?notice=expired").into_response()),
        Err(e) => Err(ConsoleError::from_core(e, pending.lang)),
    }
}

pub async fn page(State(state): State<AppState>, pending: Pending) -> ConsoleResult {
    if pending.session.totp_enabled {
        return Ok(Redirect::to("/login/second-factor").into_response());
    }
    begin(&state, &pending, None, StatusCode::OK).await
}

pub async fn confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    PendingForm { pending, form }: PendingForm<CodeForm>,
) -> ConsoleResult {
    match state.tutela.confirm_totp_enrolment(&pending.token, &form.code).await {
        Ok((session, codes)) => {
            let token = session.expose_secret().to_owned();
            let jar = jar.add(session_cookie(&state, token.clone()));
            let codes: Vec<String> = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
            // The new session has its own CSRF token.
            let chrome = Chrome { csrf: csrf_token(&token), ..Chrome::bare(pending.lang, "/") };
            let response = if pending.htmx {
                ok(&RecoveryCodesPanel { chrome, codes })
            } else {
                ok(&RecoveryCodesPage { chrome, codes })
            };
            Ok((jar, response).into_response())
        }
        Err(CoreError::Invalid { message, .. }) => {
            let chrome = chrome(&pending);
            if pending.htmx {
                // Only the message changes: the QR code the user scanned stays on the page.
                let body = CodeError { title: chrome.t("enrol-code-wrong"), detail: Some(message) };
                let mut response = render(StatusCode::UNPROCESSABLE_ENTITY, &body);
                response.headers_mut().insert("hx-retarget", HeaderValue::from_static("#code-error"));
                response.headers_mut().insert("hx-reswap", HeaderValue::from_static("innerHTML"));
                Ok(response)
            } else {
                begin(&state, &pending, Some(chrome.t("enrol-code-wrong-new-secret")), StatusCode::UNPROCESSABLE_ENTITY)
                    .await
            }
        }
        Err(CoreError::Conflict(_)) => Ok(Redirect::to("/login/second-factor").into_response()),
        Err(CoreError::Unauthenticated(_)) => Ok(Redirect::to("/login?notice=expired").into_response()),
        Err(e) => Err(ConsoleError::from_core(e, pending.lang).for_htmx(pending.htmx)),
    }
}
