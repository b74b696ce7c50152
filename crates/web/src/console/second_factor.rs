//! Sign-in step two: the authenticator code, or a recovery code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tutela_core::CoreError;

use super::error::{ConsoleError, ConsoleResult, ok, render};
use super::forms::Errors;
use super::layout::Chrome;
use super::session::{Pending, PendingForm};
use crate::AppState;
use crate::auth::session_cookie;

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    errors: Errors,
}

fn chrome(pending: &Pending) -> Chrome {
    Chrome { csrf: pending.csrf.clone(), ..Chrome::bare(pending.lang, &pending.path) }
}

pub async fn page(pending: Pending) -> Response {
    if !pending.session.totp_enabled {
        return Redirect::to("/login/enrol").into_response();
    }
    ok(&SecondFactorPage { chrome: chrome(&pending), errors: Errors::for_fields(["code"]) })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

pub async fn submit(
    State(state): State<AppState>,
    jar: CookieJar,
    PendingForm { pending, form }: PendingForm<CodeForm>,
) -> ConsoleResult {
    match state.tutela.second_factor(&pending.token, &form.code).await {
        Ok(session) => {
            let jar = jar.add(session_cookie(&state, session.expose_secret().to_owned()));
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(CoreError::Invalid { .. }) => {
            let chrome = chrome(&pending);
            let mut errors = Errors::for_fields(["code"]);
            errors.add(Some("code"), chrome.t("second-factor-wrong"));
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &SecondFactorPage { chrome, errors }))
        }
        Err(CoreError::Unauthenticated(_)) => Ok(Redirect::to("/login?notice=expired").into_response()),
        Err(e) => Err(ConsoleError::from_core(e, pending.lang)),
    }
}
