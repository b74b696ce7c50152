//! The "Emergency access" page: break-glass requests (the user's own, or everyone's for
//! approvers, role administrators and auditors) with grant, deny and end buttons, a form to
//! ask for time-boxed access to a customer by id (a customer outside one's reach is answered
//! as absent, so this is the only way to it), and the policy form for role administrators.
//! The domain decides who may do what and audits every step.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::{BreakGlassPolicy, BreakGlassState};
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::{Errors, Nothing, RequestForms, checked};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub const REQUEST_FIELDS: [&str; 3] = ["customer", "justification", "minutes"];
pub const POLICY_FIELDS: [&str; 1] = ["max_minutes"];
/// What the minutes field proposes, unless the policy allows less.
const DEFAULT_MINUTES: i64 = 60;

pub struct Line {
    pub id: Uuid,
    pub state: String,
    pub state_class: &'static str,
    pub user: String,
    pub customer_id: Uuid,
    pub justification: String,
    pub minutes: u64,
    pub requested: Stamp,
    pub until: Option<Stamp>,
    /// The requester's own active access: a link to the record.
    pub open: bool,
    pub can_decide: bool,
    pub can_end: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub minutes: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    pub approval_required: Option<String>,
    #[serde(default)]
    pub max_minutes: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    /// `yes` grants, anything else denies.
    #[serde(default)]
    pub grant: String,
}

#[allow(clippy::struct_excessive_bools)] // separate facts about the page, not the states of one
#[derive(Template)]
#[template(path = "break_glass.html")]
struct BreakGlassPage {
    chrome: Chrome,
    notice: Option<String>,
    general: Errors,
    lines: Vec<Line>,
    approval_required: bool,
    max_minutes: u64,
    can_request: bool,
    form: RequestForm,
    errors: Errors,
    can_set_policy: bool,
    policy_approval: bool,
    policy_max: String,
    policy_errors: Errors,
}

type Forms = RequestForms<RequestForm, PolicyForm>;

fn forms(status: StatusCode) -> Forms {
    Forms::new(status, &REQUEST_FIELDS, &POLICY_FIELDS)
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    /// Fills in the request form's customer id.
    customer: Option<String>,
}

fn may_open(console: &Console) -> bool {
    Nav::BreakGlass.shown_to(&console.principal)
}

fn state_label(state: BreakGlassState) -> (&'static str, &'static str) {
    match state {
        BreakGlassState::Pending => ("break-glass-state-pending", "warn"),
        BreakGlassState::Active => ("break-glass-state-active", "danger"),
        BreakGlassState::Expired => ("break-glass-state-expired", ""),
        BreakGlassState::Denied => ("break-glass-state-denied", ""),
        BreakGlassState::Ended => ("break-glass-state-ended", "ok"),
    }
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    if !may_open(&console) {
        console.require(Permission::AccessApprove)?;
    }
    let mut forms = forms(StatusCode::OK);
    if let Some(customer) = q.customer {
        forms.request = Some(RequestForm { customer, ..RequestForm::default() });
    }
    render_page(&state, &console, q.notice.as_deref(), forms).await
}

async fn render_page(state: &AppState, console: &Console, notice: Option<&str>, forms: Forms) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::BreakGlass));
    let policy = state.tutela.break_glass_policy(p).await.map_err(|e| console.core_error(e))?;
    let views = state.tutela.break_glass_requests(p).await.map_err(|e| console.core_error(e))?;
    let approver = p.has(Permission::AccessApprove);
    let mut lines = Vec::with_capacity(views.len());
    for v in views {
        let own = p.user_id == Some(v.user_id);
        let live = matches!(v.state, BreakGlassState::Pending | BreakGlassState::Active);
        let (key, class) = state_label(v.state);
        lines.push(Line {
            id: v.id,
            state: chrome.t(key),
            state_class: class,
            user: v.user_email,
            customer_id: v.customer_id,
            justification: v.justification,
            minutes: u64::try_from(v.minutes).unwrap_or_default(),
            requested: Stamp::of(v.requested_at),
            until: v.expires_at.map(Stamp::of),
            open: own && v.state == BreakGlassState::Active,
            can_decide: approver && !own && v.state == BreakGlassState::Pending,
            can_end: live && (own || approver),
        });
    }
    let notice = notice.and_then(|n| {
        let key = match n {
            "requested" => "break-glass-notice-requested",
            "pending" => "break-glass-notice-pending",
            "granted" => "break-glass-notice-granted",
            "denied" => "break-glass-notice-denied",
            "ended" => "break-glass-notice-ended",
            "policy-saved" => "break-glass-notice-policy-saved",
            _ => return None,
        };
        Some(chrome.t(key))
    });
    let form = forms.request.unwrap_or_else(|| RequestForm {
        minutes: DEFAULT_MINUTES.min(policy.max_minutes).to_string(),
        ..RequestForm::default()
    });
    let form = if form.minutes.is_empty() {
        RequestForm { minutes: DEFAULT_MINUTES.min(policy.max_minutes).to_string(), ..form }
    } else {
        form
    };
    let (policy_approval, policy_max) = match forms.policy {
        Some(f) => (checked(f.approval_required.as_ref()), f.max_minutes),
        None => (policy.approval_required, policy.max_minutes.to_string()),
    };
    let page = BreakGlassPage {
        notice,
        general: forms.general,
        lines,
        approval_required: policy.approval_required,
        max_minutes: u64::try_from(policy.max_minutes).unwrap_or_default(),
        can_request: p.has(Permission::CustomerRead) && p.user_id.is_some(),
        form,
        errors: forms.errors,
        can_set_policy: p.has(Permission::RoleManage),
        policy_approval,
        policy_max,
        policy_errors: forms.policy_errors,
        chrome,
    };
    Ok(render(forms.status, &page))
}

pub async fn request(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<RequestForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::CustomerRead)?;
    let chrome = console.chrome(None);
    let mut forms = forms(StatusCode::UNPROCESSABLE_ENTITY);
    let customer = form.customer.trim().parse::<Uuid>();
    let minutes = form.minutes.trim().parse::<i64>();
    match (customer, minutes) {
        (Ok(customer), Ok(minutes)) => {
            match state.tutela.request_break_glass(&console.principal, customer, &form.justification, minutes).await {
                Ok(view) => {
                    let notice = if view.state == BreakGlassState::Pending { "pending" } else { "requested" };
                    return Ok(Redirect::to(&format!("/break-glass?notice={notice}")).into_response());
                }
                Err(CoreError::Invalid { field, message }) => forms.errors.add(Some(&field), message),
                Err(CoreError::NotFound(_)) => {
                    forms.errors.add(Some("customer"), chrome.t("break-glass-error-customer"));
                }
                Err(e) => return Err(console.core_error(e)),
            }
        }
        (customer, minutes) => {
            if customer.is_err() {
                forms.errors.add(Some("customer"), chrome.t("break-glass-error-customer-id"));
            }
            if minutes.is_err() {
                forms.errors.add(Some("minutes"), chrome.t("break-glass-error-minutes"));
            }
        }
    }
    forms.request = Some(form);
    render_page(&state, &console, None, forms).await
}

/// A refusal the page explains on top (deciding one's own request, a request no longer
/// pending) instead of an error page.
async fn refused_on_page(state: &AppState, console: &Console, e: CoreError) -> ConsoleResult<Response> {
    let status = match &e {
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        _ => return Err(console.core_error(e)),
    };
    let mut forms = forms(status);
    let message = match e {
        CoreError::Forbidden(_) => console.chrome(None).t("break-glass-error-own"),
        other => other.to_string(),
    };
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
    let grant = form.grant == "yes";
    match state.tutela.decide_break_glass(&console.principal, id, grant).await {
        Ok(_) => {
            let notice = if grant { "granted" } else { "denied" };
            Ok(Redirect::to(&format!("/break-glass?notice={notice}")).into_response())
        }
        Err(e) => refused_on_page(&state, &console, e).await,
    }
}

pub async fn end(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    match state.tutela.end_break_glass(&console.principal, id).await {
        Ok(()) => Ok(Redirect::to("/break-glass?notice=ended").into_response()),
        Err(CoreError::Conflict(m)) => refused_on_page(&state, &console, CoreError::Conflict(m)).await,
        Err(e) => Err(console.core_error(e)),
    }
}

pub async fn set_policy(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<PolicyForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let mut forms = forms(StatusCode::UNPROCESSABLE_ENTITY);
    match form.max_minutes.trim().parse::<i64>() {
        Ok(max_minutes) => {
            let policy = BreakGlassPolicy { approval_required: checked(form.approval_required.as_ref()), max_minutes };
            match state.tutela.set_break_glass_policy(&console.principal, policy).await {
                Ok(()) => return Ok(Redirect::to("/break-glass?notice=policy-saved").into_response()),
                Err(e) => forms.policy_errors.absorb(e).map_err(|e| console.core_error(e))?,
            }
        }
        Err(_) => forms.policy_errors.add(Some("max_minutes"), console.chrome(None).t("break-glass-error-max-minutes")),
    }
    forms.policy = Some(form);
    render_page(&state, &console, None, forms).await
}
