//! The customer schema: the field list and an editor for one field (new or existing).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::policy::Permission;
use tutela_store::{Classification, FieldDef, FieldKind};

use super::error::{ConsoleResult, render};
use super::fields::{classification_key, kind_key, ordered};
use super::forms::{Errors, Nothing, checked};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use crate::AppState;

const FORM_FIELDS: [&str; 7] = ["id", "label_en", "label_zh", "kind", "classification", "required", "position"];

pub struct FieldLine {
    pub id: String,
    pub label_en: String,
    pub label_zh: String,
    pub kind: String,
    pub classification: String,
    pub sealed: bool,
    pub required: bool,
    pub position: i32,
}

pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// What the editor shows: an existing field, a new one, or what was just posted.
#[derive(Debug, Default, Deserialize)]
pub struct FieldForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    label_zh: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    classification: String,
    required: Option<String>,
    #[serde(default)]
    position: String,
    /// Set when editing an existing field, whose id cannot change.
    existing: Option<String>,
}

#[derive(Template)]
#[template(path = "schema.html")]
struct SchemaPage {
    chrome: Chrome,
    lines: Vec<FieldLine>,
    editing: bool,
    form: FieldForm,
    kinds: Vec<Choice>,
    classifications: Vec<Choice>,
    errors: Errors,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SchemaQuery {
    edit: Option<String>,
    notice: Option<String>,
}

async fn render_page(
    state: &AppState,
    console: &Console,
    form: FieldForm,
    errors: Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> ConsoleResult<Response> {
    let fields = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let chrome = console.chrome(Some(Nav::Schema));
    let lines = fields
        .iter()
        .map(|f| FieldLine {
            id: f.id.clone(),
            label_en: f.label_en.clone(),
            label_zh: f.label_zh.clone(),
            kind: chrome.t(kind_key(f.kind)),
            classification: chrome.t(classification_key(f.classification)),
            sealed: f.classification.is_sealed(),
            required: f.required,
            position: f.position,
        })
        .collect();
    let kinds = FieldKind::ALL
        .iter()
        .map(|k| Choice { value: k.as_str(), label: chrome.t(kind_key(*k)), selected: form.kind == k.as_str() })
        .collect();
    let classifications = Classification::ALL
        .iter()
        .map(|c| Choice {
            value: c.as_str(),
            label: chrome.t(classification_key(*c)),
            selected: form.classification == c.as_str(),
        })
        .collect();
    let notice = match notice {
        Some("saved") => Some(chrome.t("schema-notice-saved")),
        Some("deleted") => Some(chrome.t("schema-notice-deleted")),
        _ => None,
    };
    let page =
        SchemaPage { editing: form.existing.is_some(), chrome, lines, form, kinds, classifications, errors, notice };
    Ok(render(status, &page))
}

fn form_of(f: &FieldDef) -> FieldForm {
    FieldForm {
        id: f.id.clone(),
        label_en: f.label_en.clone(),
        label_zh: f.label_zh.clone(),
        kind: f.kind.as_str().to_owned(),
        classification: f.classification.as_str().to_owned(),
        required: f.required.then(|| "on".to_owned()),
        position: f.position.to_string(),
        existing: Some(f.id.clone()),
    }
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<SchemaQuery>,
) -> ConsoleResult<Response> {
    console.require(Permission::SchemaManage)?;
    let fields = state.tutela.fields().await.map_err(|e| console.core_error(e))?;
    let form = match q.edit.as_deref().and_then(|id| fields.iter().find(|f| f.id == id)) {
        Some(f) => form_of(f),
        None => FieldForm {
            kind: "text".into(),
            classification: "internal".into(),
            position: next_position(&fields),
            ..FieldForm::default()
        },
    };
    render_page(&state, &console, form, Errors::for_fields(FORM_FIELDS), q.notice.as_deref(), StatusCode::OK).await
}

fn next_position(fields: &[FieldDef]) -> String {
    (fields.iter().map(|f| f.position).max().unwrap_or(0) + 10).to_string()
}

fn parse(form: &FieldForm, errors: &mut Errors, console: &Console) -> Option<FieldDef> {
    let chrome = console.chrome(None);
    let kind = form.kind.parse::<FieldKind>().map_err(|e| errors.add(Some("kind"), e.0)).ok();
    let classification =
        form.classification.parse::<Classification>().map_err(|e| errors.add(Some("classification"), e.0)).ok();
    let position = form
        .position
        .trim()
        .parse::<i32>()
        .map_err(|_| errors.add(Some("position"), chrome.t("schema-position-invalid")))
        .ok();
    Some(FieldDef {
        id: form.existing.clone().unwrap_or_else(|| form.id.trim().to_owned()),
        label_en: form.label_en.clone(),
        label_zh: form.label_zh.clone(),
        kind: kind?,
        classification: classification?,
        required: checked(form.required.as_ref()),
        position: position?,
    })
}

pub async fn save(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<FieldForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::SchemaManage)?;
    let mut errors = Errors::for_fields(FORM_FIELDS);
    if let Some(def) = parse(&form, &mut errors, &console) {
        match state.tutela.put_field(&console.principal, def).await {
            Ok(_) => return Ok(Redirect::to("/schema?notice=saved").into_response()),
            Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
        }
    }
    render_page(&state, &console, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    console.require(Permission::SchemaManage)?;
    state.tutela.delete_field(&console.principal, &id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/schema?notice=deleted").into_response())
}
