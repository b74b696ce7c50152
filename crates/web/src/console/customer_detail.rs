//! One customer: every field, sealed ones masked with a "reveal" button where the user's
//! roles allow it; edit and erase where they allow those.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::fields::{classification_key, label, ordered};
use super::forms::{Errors, checked};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use super::shares::{ShareForm, SharingSection, section};
use super::stamp::Stamp;
use crate::AppState;

pub struct FieldRow {
    pub id: String,
    pub label: String,
    pub value: String,
    pub masked: bool,
    pub classification: String,
    pub sealed: bool,
    pub can_reveal: bool,
}

#[derive(Template)]
#[template(path = "customers/detail.html")]
struct DetailPage {
    chrome: Chrome,
    id: Uuid,
    version: i64,
    created: Stamp,
    updated: Stamp,
    rows: Vec<FieldRow>,
    can_edit: bool,
    can_erase: bool,
    notice: Option<String>,
    erase_errors: Errors,
    reason: String,
    sharing: SharingSection,
}

/// What a re-rendered page shows of a refused form: erasure (its errors and reason) or a share.
#[derive(Default)]
pub struct DetailExtra {
    pub erase: Option<(Errors, String)>,
    pub share: Option<(ShareForm, Errors)>,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    notice: Option<String>,
}

fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "created" => Some("customer-notice-created"),
        "saved" => Some("customer-notice-saved"),
        "shared" => Some("share-notice-shared"),
        "unshared" => Some("share-notice-ended"),
        _ => None,
    }
}

pub async fn detail(
    state: &AppState,
    console: &Console,
    id: Uuid,
    notice: Option<&str>,
    extra: DetailExtra,
) -> ConsoleResult {
    console.require(Permission::CustomerRead)?;
    let view = state.tutela.customer(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    let fields = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let chrome = console.chrome(Some(Nav::Customers)).with_watermark(state.tutela.clock().now());
    let sharing = section(state, console, &chrome, id, extra.share).await?;
    let (erase_errors, reason) = extra.erase.unwrap_or_else(|| (erase_fields(), String::new()));
    let rows = fields
        .iter()
        .filter_map(|def| {
            let caps = console.principal.reach.field(def);
            caps.visible.then_some((def, caps))
        })
        .map(|(def, caps)| {
            let value = view.fields.iter().find(|f| f.id == def.id);
            let masked = value.is_some_and(|v| v.masked);
            FieldRow {
                id: def.id.clone(),
                label: label(def, console.lang),
                value: value.map(|v| v.value.clone()).unwrap_or_default(),
                masked,
                classification: chrome.t(classification_key(def.classification)),
                sealed: def.classification.is_sealed(),
                can_reveal: masked && caps.reveal,
            }
        })
        .collect();
    let status = if erase_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = DetailPage {
        notice: notice_key(notice).map(|k| chrome.t(k)),
        chrome,
        id,
        version: view.version,
        created: Stamp::of(view.created_at),
        updated: Stamp::of(view.updated_at),
        rows,
        can_edit: console.can(Permission::CustomerWrite),
        can_erase: console.can(Permission::CustomerErase),
        erase_errors,
        reason,
        sharing,
    };
    Ok(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> ConsoleResult {
    let id = console.path_id(&id)?;
    detail(&state, &console, id, q.notice.as_deref(), DetailExtra::default()).await
}

fn erase_fields() -> Errors {
    Errors::for_fields(["reason", "confirm"])
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    reason: String,
    confirm: Option<String>,
}

/// Crypto-shredding is final: the reason is required and a box must be ticked.
pub async fn erase(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<EraseForm>,
) -> ConsoleResult {
    let id = console.path_id(&id)?;
    console.require(Permission::CustomerErase)?;
    let mut errors = erase_fields();
    if !checked(form.confirm.as_ref()) {
        errors.add(Some("confirm"), console.chrome(None).t("erase-confirm-required"));
        let extra = DetailExtra { erase: Some((errors, form.reason)), ..DetailExtra::default() };
        return detail(&state, &console, id, None, extra).await;
    }
    match state.tutela.erase_customer(&console.principal, id, &form.reason).await {
        Ok(()) => Ok(Redirect::to("/customers?notice=erased").into_response()),
        Err(e) => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            let extra = DetailExtra { erase: Some((errors, form.reason)), ..DetailExtra::default() };
            detail(&state, &console, id, None, extra).await
        }
    }
}
