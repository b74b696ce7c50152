//! "Confirm it is you": the page a reveal or an export leads to when the user's roles want a
//! fresher proof of identity. A passkey (through `assets/passkeys.js` and
//! `/api/v1/auth/reauth/passkey`) or an authenticator code; then back to where the user was.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::identity::Factor;

use super::assets;
use super::error::{ConsoleResult, ok, render};
use super::forms::Errors;
use super::layout::Chrome;
use super::session::{Console, ConsoleForm, local_path};
use crate::AppState;

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    chrome: Chrome,
    next: String,
    errors: Errors,
    /// Offer the user's passkey.
    passkey: bool,
    /// Offer a code: the user has an authenticator app.
    code: bool,
    script: String,
}

impl ReauthPage {
    async fn new(state: &AppState, console: &Console, next: String, errors: Errors) -> Result<Self, CoreError> {
        let passkey =
            state.tutela.passkeys_available() && !state.tutela.my_passkeys(&console.principal).await?.is_empty();
        Ok(Self {
            chrome: console.chrome(None),
            next,
            errors,
            passkey,
            // A session signed in with a passkey confirms with one (the domain refuses a code).
            code: console.session.totp_enabled && console.principal.factor != Some(Factor::Passkey),
            script: assets::url("passkeys.js"),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReauthQuery {
    #[serde(default)]
    next: String,
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<ReauthQuery>) -> ConsoleResult {
    let page = ReauthPage::new(&state, &console, local_path(&q.next), Errors::for_fields(["code"]))
        .await
        .map_err(|e| console.core_error(e))?;
    Ok(ok(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct ReauthForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<ReauthForm>,
) -> ConsoleResult<Response> {
    let next = local_path(&form.next);
    let mut errors = Errors::for_fields(["code"]);
    match state.tutela.reauthenticate_with_code(console.session_token(), &form.code).await {
        Ok(()) => return Ok(Redirect::to(&next).into_response()),
        // The form is offered only to sessions that may use a code, so a refused code is a
        // wrong or used one (or one of too many wrong ones).
        Err(CoreError::Invalid { field, .. }) if field == "code" => {
            errors.add(Some("code"), console.chrome(None).t("reauth-wrong"));
        }
        Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
    }
    let page = ReauthPage::new(&state, &console, next, errors).await.map_err(|e| console.core_error(e))?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page).into_response())
}
