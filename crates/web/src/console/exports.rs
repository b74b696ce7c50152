//! The "Exports" page: export requests (the user's own, or everyone's for approvers, role
//! administrators and auditors) with download, approve, deny and cancel buttons, a form to
//! ask for an export, and the approval policy form for role administrators. Under the
//! policy's limits a request is approved at once and downloadable straight away. The domain
//! decides who may do what and audits every step.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::{ExportApprovalPolicy, ExportRequestState};
use tutela_core::policy::Permission;
use tutela_core::vault::ExportFormat;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::{Errors, Nothing, RequestForms, checked};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;
use crate::export_stream::export_response;

pub const REQUEST_FIELDS: [&str; 2] = ["format", "purpose"];
pub const POLICY_FIELDS: [&str; 2] = ["max_rows", "valid_hours"];

pub struct Line {
    pub id: Uuid,
    pub state: String,
    pub state_class: &'static str,
    pub user: String,
    pub format: &'static str,
    pub rows: i64,
    pub reasons: String,
    pub purpose: String,
    pub revealed: String,
    pub requested: Stamp,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    pub until: Option<Stamp>,
    pub can_download: bool,
    pub can_decide: bool,
    pub can_cancel: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub purpose: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    pub max_rows: String,
    pub restricted: Option<String>,
    #[serde(default)]
    pub valid_hours: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    /// `yes` approves, anything else denies.
    #[serde(default)]
    pub approve: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    chrome: Chrome,
    notice: Option<String>,
    general: Errors,
    lines: Vec<Line>,
    rules: String,
    can_request: bool,
    form: RequestForm,
    errors: Errors,
    can_set_policy: bool,
    policy_max_rows: String,
    policy_restricted: bool,
    policy_valid_hours: String,
    policy_errors: Errors,
}

type Forms = RequestForms<RequestForm, PolicyForm>;

fn forms(status: StatusCode) -> Forms {
    Forms::new(status, &REQUEST_FIELDS, &POLICY_FIELDS)
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

fn state_label(state: ExportRequestState) -> (&'static str, &'static str) {
    match state {
        ExportRequestState::Pending => ("exports-state-pending", "warn"),
        ExportRequestState::Approved => ("exports-state-approved", "ok"),
        ExportRequestState::Expired => ("exports-state-expired", ""),
        ExportRequestState::Denied => ("exports-state-denied", "danger"),
        ExportRequestState::Cancelled => ("exports-state-cancelled", ""),
    }
}

/// The policy in a sentence, for the request form.
fn rules(chrome: &Chrome, policy: ExportApprovalPolicy) -> String {
    let mut parts = Vec::new();
    if let Some(max) = policy.max_rows {
        parts.push(chrome.t1("exports-rule-rows", "max", max));
    }
    if policy.restricted {
        parts.push(chrome.t("exports-rule-restricted"));
    }
    if parts.is_empty() {
        chrome.t("exports-rule-none")
    } else {
        format!("{} {}", chrome.t("exports-rule-approval"), parts.join("; "))
    }
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    if !Nav::Exports.shown_to(&console.principal) {
        console.require(Permission::CustomerExport)?;
    }
    render_page(&state, &console, q.notice.as_deref(), forms(StatusCode::OK)).await
}

async fn render_page(state: &AppState, console: &Console, notice: Option<&str>, forms: Forms) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::Exports));
    let policy = state.tutela.export_approval_policy(p).await.map_err(|e| console.core_error(e))?;
    let views = state.tutela.export_requests(p).await.map_err(|e| console.core_error(e))?;
    let approver = p.has(Permission::AccessApprove);
    let mut lines = Vec::with_capacity(views.len());
    for v in views {
        let own = p.user_id == Some(v.user_id);
        let live = matches!(v.state, ExportRequestState::Pending | ExportRequestState::Approved);
        let (key, class) = state_label(v.state);
        let reasons: Vec<String> = v.reasons.iter().map(|r| chrome.t(&format!("exports-reason-{r}"))).collect();
        lines.push(Line {
            id: v.id,
            state: chrome.t(key),
            state_class: class,
            user: v.user_email,
            format: v.format,
            rows: v.rows,
            reasons: if reasons.is_empty() { chrome.t("exports-reason-none") } else { reasons.join(", ") },
            purpose: v.purpose.unwrap_or_default(),
            revealed: v.revealed.join(", "),
            requested: Stamp::of(v.requested_at),
            decided_by: v.decided_by,
            note: v.note,
            until: v.expires_at.map(Stamp::of),
            can_download: own && v.state == ExportRequestState::Approved,
            can_decide: approver && !own && v.state == ExportRequestState::Pending,
            can_cancel: live && (own || approver),
        });
    }
    let notice = notice.and_then(|n| {
        let key = match n {
            "approved-at-once" => "exports-notice-approved-at-once",
            "pending" => "exports-notice-pending",
            "approved" => "exports-notice-approved",
            "denied" => "exports-notice-denied",
            "cancelled" => "exports-notice-cancelled",
            "policy-saved" => "exports-notice-policy-saved",
            _ => return None,
        };
        Some(chrome.t(key))
    });
    let (policy_max_rows, policy_restricted, policy_valid_hours) = match forms.policy {
        Some(f) => (f.max_rows, checked(f.restricted.as_ref()), f.valid_hours),
        None => (
            policy.max_rows.map(|m| m.to_string()).unwrap_or_default(),
            policy.restricted,
            policy.valid_hours.to_string(),
        ),
    };
    let page = ExportsPage {
        notice,
        general: forms.general,
        lines,
        rules: rules(&chrome, policy),
        can_request: p.has(Permission::CustomerExport) && p.user_id.is_some(),
        form: forms.request.unwrap_or_default(),
        errors: forms.errors,
        can_set_policy: p.has(Permission::RoleManage),
        policy_max_rows,
        policy_restricted,
        policy_valid_hours,
        policy_errors: forms.policy_errors,
        chrome,
    };
    Ok(render(forms.status, &page))
}

pub async fn request(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<RequestForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::CustomerExport)?;
    let mut forms = forms(StatusCode::UNPROCESSABLE_ENTITY);
    let purpose = Some(form.purpose.as_str());
    match form.format.parse::<ExportFormat>() {
        Ok(format) => match state.tutela.request_export(&console.principal, format, purpose).await {
            Ok(view) => {
                let notice = if view.state == ExportRequestState::Pending { "pending" } else { "approved-at-once" };
                return Ok(Redirect::to(&format!("/exports?notice={notice}")).into_response());
            }
            Err(e) => forms.errors.absorb(e).map_err(|e| console.core_error(e))?,
        },
        Err(_) => forms.errors.add(Some("format"), console.chrome(None).t("exports-error-format")),
    }
    forms.request = Some(form);
    render_page(&state, &console, None, forms).await
}

/// A refusal the page explains on top (deciding one's own request, a request no longer
/// pending, a note too long) instead of an error page.
async fn refused_on_page(state: &AppState, console: &Console, e: CoreError) -> ConsoleResult<Response> {
    let (status, message) = match e {
        CoreError::Forbidden(_) => (StatusCode::FORBIDDEN, console.chrome(None).t("exports-error-own")),
        CoreError::Conflict(m) => (StatusCode::CONFLICT, m),
        CoreError::Invalid { field, message } => (StatusCode::UNPROCESSABLE_ENTITY, format!("{field}: {message}")),
        other => return Err(console.core_error(other)),
    };
    let mut forms = forms(status);
    forms.general.add(None, message);
    render_page(state, console, None, forms).await
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<DecisionForm>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    console.require(Permission::AccessApprove)?;
    let approve = form.approve == "yes";
    match state.tutela.decide_export(&console.principal, id, approve, Some(&form.note)).await {
        Ok(_) => {
            let notice = if approve { "approved" } else { "denied" };
            Ok(Redirect::to(&format!("/exports?notice={notice}")).into_response())
        }
        Err(e) => refused_on_page(&state, &console, e).await,
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    match state.tutela.cancel_export(&console.principal, id).await {
        Ok(()) => Ok(Redirect::to("/exports?notice=cancelled").into_response()),
        Err(CoreError::Conflict(m)) => refused_on_page(&state, &console, CoreError::Conflict(m)).await,
        Err(e) => Err(console.core_error(e)),
    }
}

/// The approved file, streamed; refusals (expired, not approved) are explained on the page.
pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    console: Console,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    match state.tutela.begin_approved_export(&console.principal, id).await {
        Ok(export) => Ok(export_response(export)),
        Err(CoreError::Conflict(m)) => refused_on_page(&state, &console, CoreError::Conflict(m)).await,
        Err(e) => Err(console.core_error(e)),
    }
}

pub async fn set_policy(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<PolicyForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let chrome = console.chrome(None);
    let mut forms = forms(StatusCode::UNPROCESSABLE_ENTITY);
    let max_rows = match form.max_rows.trim() {
        "" => Ok(None),
        n => n.parse::<u64>().map(Some),
    };
    let valid_hours = form.valid_hours.trim().parse::<i64>();
    match (max_rows, valid_hours) {
        (Ok(max_rows), Ok(valid_hours)) => {
            let policy = ExportApprovalPolicy { max_rows, restricted: checked(form.restricted.as_ref()), valid_hours };
            match state.tutela.set_export_approval_policy(&console.principal, policy).await {
                Ok(()) => return Ok(Redirect::to("/exports?notice=policy-saved").into_response()),
                Err(e) => forms.policy_errors.absorb(e).map_err(|e| console.core_error(e))?,
            }
        }
        (max_rows, valid_hours) => {
            if max_rows.is_err() {
                forms.policy_errors.add(Some("max_rows"), chrome.t("exports-error-max-rows"));
            }
            if valid_hours.is_err() {
                forms.policy_errors.add(Some("valid_hours"), chrome.t("exports-error-valid-hours"));
            }
        }
    }
    forms.policy = Some(form);
    render_page(&state, &console, None, forms).await
}
