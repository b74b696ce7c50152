//! The first administrator. The one-time token travels in the URL fragment printed at first
//! start (`/setup#setup_…`), which browsers never send to servers or put in logs; a script
//! file copies it into the form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::identity::NewUser;

use super::assets;
use super::error::{ConsoleError, ConsoleResult, ok, render};
use super::forms::Errors;
use super::layout::Chrome;
use super::password_rules::{self, NewPasswordField};
use super::session::{Prefs, PublicForm};
use crate::AppState;

const FIELDS: [&str; 4] = ["token", "email", "display_name", "password"];

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    script: String,
    /// Kept when the form comes back with an error, since the address bar no longer has it.
    token: String,
    email: String,
    display_name: String,
    password: NewPasswordField,
    errors: Errors,
}

fn setup_page(
    state: &AppState,
    prefs: &Prefs,
    token: String,
    email: String,
    display_name: String,
    errors: Errors,
) -> SetupPage {
    let chrome = Chrome::bare(prefs.lang, "/setup");
    SetupPage {
        password: NewPasswordField::new(&state.tutela, &chrome),
        chrome,
        script: assets::url("setup.js"),
        token,
        email,
        display_name,
        errors,
    }
}

pub async fn page(State(state): State<AppState>, prefs: Prefs) -> Response {
    ok(&setup_page(&state, &prefs, String::new(), String::new(), String::new(), Errors::for_fields(FIELDS)))
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(State(state): State<AppState>, PublicForm { prefs, form }: PublicForm<SetupForm>) -> ConsoleResult {
    let admin = NewUser {
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        password: SecretString::from(form.password),
        roles: Vec::new(),
    };
    let mut errors = Errors::for_fields(FIELDS);
    let token = form.token.trim().to_owned();
    let chrome = Chrome::bare(prefs.lang, "");
    if let Some(why) =
        password_rules::refusal(&state.tutela, &chrome, &admin.password, &admin.email, &admin.display_name)
    {
        errors.add(Some("password"), why);
        let page = setup_page(&state, &prefs, token, form.email, form.display_name, errors);
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let status = match state.tutela.complete_setup(&token, admin).await {
        Ok(_) => return Ok(Redirect::to("/login?notice=setup-done").into_response()),
        Err(CoreError::Unauthenticated(_)) => {
            errors.add(Some("token"), chrome.t("setup-token-invalid"));
            StatusCode::UNAUTHORIZED
        }
        Err(CoreError::Conflict(m)) => {
            errors.add(None, m);
            StatusCode::CONFLICT
        }
        Err(e) => {
            errors.absorb(e).map_err(|e| ConsoleError::from_core(e, prefs.lang))?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok(render(status, &setup_page(&state, &prefs, token, form.email, form.display_name, errors)))
}
