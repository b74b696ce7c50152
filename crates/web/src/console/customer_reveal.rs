//! Revealing one sealed field: a dialog asks why (the purpose goes into the audit log), then
//! the plaintext replaces the masked value in place. A refusal shows in the dialog.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tutela_core::CoreError;
use uuid::Uuid;

use super::error::{ConsoleResult, ok, render};
use super::fields::label;
use super::forms::Errors;
use super::layout::Chrome;
use super::session::{Console, ConsoleForm};
use crate::AppState;

#[derive(Template)]
#[template(path = "customers/reveal_dialog.html")]
struct RevealDialog {
    chrome: Chrome,
    id: Uuid,
    field: String,
    field_label: String,
    purpose: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "customers/revealed.html")]
struct Revealed {
    chrome: Chrome,
    value: Option<String>,
}

async fn field_label(state: &AppState, console: &Console, field: &str) -> ConsoleResult<String> {
    let fields = state.tutela.fields().await.map_err(|e| console.core_error(e))?;
    Ok(fields.iter().find(|f| f.id == field).map_or_else(|| field.to_owned(), |f| label(f, console.lang)))
}

/// The dialog, loaded by htmx into the page's dialog slot.
pub async fn dialog(
    State(state): State<AppState>,
    console: Console,
    Path((id, field)): Path<(String, String)>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    let field_label = field_label(&state, &console, &field).await?;
    Ok(ok(&RevealDialog {
        chrome: console.chrome(None),
        id,
        field,
        field_label,
        purpose: String::new(),
        errors: Errors::for_fields(["purpose"]),
    }))
}

#[derive(Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    purpose: String,
}

pub async fn reveal(
    State(state): State<AppState>,
    Path((id, field)): Path<(String, String)>,
    ConsoleForm { console, form }: ConsoleForm<RevealForm>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    let fields = [field.clone()];
    let result = state.tutela.reveal(&console.principal, id, &fields, &form.purpose).await;
    let mut errors = Errors::for_fields(["purpose"]);
    let status = match result {
        Ok(mut values) => {
            let value = values.remove(&field);
            return Ok(ok(&Revealed { chrome: console.chrome(None), value }));
        }
        Err(CoreError::Forbidden(m)) => {
            errors.add(None, format!("{} {m}", console.chrome(None).t("reveal-denied")));
            StatusCode::FORBIDDEN
        }
        Err(e) => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let dialog = RevealDialog {
        chrome: console.chrome(None),
        id,
        field_label: field_label(&state, &console, &field).await?,
        field,
        purpose: form.purpose,
        errors,
    };
    let mut response = render(status, &dialog);
    // The form targets the value cell; a refusal belongs in the dialog instead.
    response.headers_mut().insert("hx-retarget", HeaderValue::from_static("#dialog-slot"));
    response.headers_mut().insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    Ok(response)
}
