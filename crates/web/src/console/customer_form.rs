//! Creating and editing a customer. Sealed fields are never filled in (the form does not get
//! their plaintext): typing a value replaces it, ticking "clear" removes it. Edits carry the
//! version they started from; a newer stored version means someone changed it meanwhile.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tutela_core::CoreError;
use tutela_core::policy::Permission;
use tutela_core::vault::CustomerView;
use tutela_store::FieldDef;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::fields::{InputKind, label, ordered};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use crate::AppState;

pub struct Input {
    pub id: String,
    pub label: String,
    pub kind: InputKind,
    pub required: bool,
    pub sealed: bool,
    /// The plaintext to show (never for sealed fields).
    pub value: String,
    /// The plaintext the edit started from, sent back to tell what changed.
    pub original: String,
    /// The masked stored value, as a hint for sealed fields.
    pub masked: String,
    pub clear: bool,
}

#[derive(Template)]
#[template(path = "customers/form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new customer.
    id: Option<Uuid>,
    version: i64,
    inputs: Vec<Input>,
    errors: Errors,
    conflict: bool,
}

type Pairs = Vec<(String, String)>;

fn posted<'a>(form: &'a Pairs, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn inputs(fields: &[FieldDef], console: &Console, view: Option<&CustomerView>, form: Option<&Pairs>) -> Vec<Input> {
    fields
        .iter()
        .map(|def| {
            let stored = view.and_then(|v| v.fields.iter().find(|f| f.id == def.id));
            let sealed = def.classification.is_sealed();
            let posted_value = form.and_then(|f| posted(f, &format!("f_{}", def.id)));
            let stored_plain = stored.filter(|_| !sealed).map(|s| s.value.clone()).unwrap_or_default();
            let original = match form {
                Some(f) => posted(f, &format!("orig_{}", def.id)).unwrap_or_default().to_owned(),
                None => stored_plain.clone(),
            };
            let value = posted_value.map_or(stored_plain, ToOwned::to_owned);
            Input {
                id: def.id.clone(),
                label: label(def, console.lang),
                kind: InputKind::of(def.kind),
                required: def.required,
                sealed,
                value,
                original,
                masked: stored.filter(|s| s.masked).map(|s| s.value.clone()).unwrap_or_default(),
                clear: form.and_then(|f| posted(f, &format!("clear_{}", def.id))).is_some(),
            }
        })
        .collect()
}

fn field_ids(fields: &[FieldDef]) -> Vec<String> {
    fields.iter().map(|f| f.id.clone()).collect()
}

async fn schema(state: &AppState, console: &Console) -> ConsoleResult<Vec<FieldDef>> {
    Ok(ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?))
}

fn form_page(
    console: &Console,
    id: Option<Uuid>,
    version: i64,
    inputs: Vec<Input>,
    errors: Errors,
    conflict: bool,
) -> FormPage {
    // Edit forms show customer data, so they carry the watermark too.
    let chrome = console.chrome(Some(Nav::Customers)).with_watermark(time::OffsetDateTime::now_utc());
    FormPage { chrome, id, version, inputs, errors, conflict }
}

pub async fn new_page(State(state): State<AppState>, console: Console) -> ConsoleResult<Response> {
    console.require(Permission::CustomerWrite)?;
    let fields = schema(&state, &console).await?;
    let page = form_page(
        &console,
        None,
        0,
        inputs(&fields, &console, None, None),
        Errors::for_fields(field_ids(&fields)),
        false,
    );
    Ok(render(StatusCode::OK, &page))
}

pub async fn create(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<Pairs>,
) -> ConsoleResult<Response> {
    console.require(Permission::CustomerWrite)?;
    let fields = schema(&state, &console).await?;
    let values: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|def| {
            posted(&form, &format!("f_{}", def.id))
                .filter(|v| !v.trim().is_empty())
                .map(|v| (def.id.clone(), v.to_owned()))
        })
        .collect();
    match state.tutela.create_customer(&console.principal, values).await {
        Ok(view) => Ok(Redirect::to(&format!("/customers/{}?notice=created", view.id)).into_response()),
        Err(e) => {
            let mut errors = Errors::for_fields(field_ids(&fields));
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            let page = form_page(&console, None, 0, inputs(&fields, &console, None, Some(&form)), errors, false);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    console.require(Permission::CustomerWrite)?;
    let fields = schema(&state, &console).await?;
    let view = state.tutela.customer(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    let page = form_page(
        &console,
        Some(id),
        view.version,
        inputs(&fields, &console, Some(&view), None),
        Errors::for_fields(field_ids(&fields)),
        false,
    );
    Ok(render(StatusCode::OK, &page))
}

/// Only what changed: a plaintext value that differs from the one the form showed, a sealed
/// value typed in, or a sealed value cleared.
fn changes(fields: &[FieldDef], form: &Pairs) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for def in fields {
        let value = posted(form, &format!("f_{}", def.id)).unwrap_or_default();
        if def.classification.is_sealed() {
            if posted(form, &format!("clear_{}", def.id)).is_some() {
                out.insert(def.id.clone(), None);
            } else if !value.trim().is_empty() {
                out.insert(def.id.clone(), Some(value.to_owned()));
            }
        } else if posted(form, &format!("f_{}", def.id)).is_some() {
            let original = posted(form, &format!("orig_{}", def.id)).unwrap_or_default();
            if value.trim() != original.trim() {
                out.insert(def.id.clone(), (!value.trim().is_empty()).then(|| value.to_owned()));
            }
        }
    }
    out
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<Pairs>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    console.require(Permission::CustomerWrite)?;
    let fields = schema(&state, &console).await?;
    let version = posted(&form, "version").and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let changes = changes(&fields, &form);
    if changes.is_empty() {
        return Ok(Redirect::to(&format!("/customers/{id}")).into_response());
    }
    let mut errors = Errors::for_fields(field_ids(&fields));
    let (status, conflict) = match state.tutela.update_customer(&console.principal, id, version, changes).await {
        Ok(_) => return Ok(Redirect::to(&format!("/customers/{id}?notice=saved")).into_response()),
        Err(CoreError::Conflict(_)) => (StatusCode::CONFLICT, true),
        Err(e) => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            (StatusCode::UNPROCESSABLE_ENTITY, false)
        }
    };
    let page = form_page(&console, Some(id), version, inputs(&fields, &console, None, Some(&form)), errors, conflict);
    Ok(render(status, &page))
}
