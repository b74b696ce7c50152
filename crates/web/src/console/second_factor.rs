//! Sign-in step two: a passkey (through `assets/passkeys.js` and `/api/v1/auth/passkey`), the
//! authenticator code, or a recovery code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tutela_core::CoreError;

use super::assets;
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
    /// Offer the user's passkey.
    passkey: bool,
    script: String,
}

impl SecondFactorPage {
    async fn new(state: &AppState, pending: &Pending, errors: Errors) -> Result<Self, ConsoleError> {
        let passkey = state
            .tutela
            .pending_has_passkey(&pending.token)
            .await
            .map_err(|e| ConsoleError::from_core(e, pending.lang))?;
        Ok(Self { chrome: chrome(pending), errors, passkey, script: assets::url("passkeys.js") })
    }
}

fn chrome(pending: &Pending) -> Chrome {
    Chrome { csrf: pending.csrf.clone(), ..Chrome::bare(pending.lang, &pending.path) }
}

pub async fn page(State(state): State<AppState>, pending: Pending) -> ConsoleResult {
    if !pending.session.totp_enabled {
        return Ok(Redirect::to("/login/enrol").into_response());
    }
    Ok(ok(&SecondFactorPage::new(&state, &pending, Errors::for_fields(["code"])).await?))
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
            let mut errors = Errors::for_fields(["code"]);
            errors.add(Some("code"), chrome(&pending).t("second-factor-wrong"));
            let page = SecondFactorPage::new(&state, &pending, errors).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(CoreError::Unauthenticated(_)) => Ok(Redirect::to("/login?notice=expired").into_response()),
        Err(e) => Err(ConsoleError::from_core(e, pending.lang)),
    }
}
