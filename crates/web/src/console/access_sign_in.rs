//! The "Sign-in policy" page (under Access policy): per role, the second factor it needs, how
//! long its sessions last, and how recently its users must have confirmed who they are before
//! revealing or exporting. The domain checks the ranges, applies the policies at every
//! session's next request, and audits each change.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::identity::{FactorRequirement, RoleSignInPolicy};
use tutela_core::policy::Permission;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::org_view::Choice;
use super::session::{Console, ConsoleForm};
use crate::AppState;

const FIELDS: [&str; 5] = ["role", "factor", "session_hours", "idle_minutes", "reauth_minutes"];

pub struct Line {
    pub role: String,
    pub factor: String,
    pub session_hours: String,
    pub idle_minutes: String,
    pub reauth_minutes: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInPolicyForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    factor: String,
    /// Empty: the server's default.
    #[serde(default)]
    session_hours: String,
    #[serde(default)]
    idle_minutes: String,
    #[serde(default)]
    reauth_minutes: String,
}

#[derive(Template)]
#[template(path = "access_sign_in.html")]
struct SignInPolicyPage {
    chrome: Chrome,
    notice: Option<String>,
    lines: Vec<Line>,
    can_edit: bool,
    roles: Vec<Choice>,
    factors: Vec<Choice>,
    form: SignInPolicyForm,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    if !console.can(Permission::AuditRead) && !console.can(Permission::UserManage) {
        console.require(Permission::RoleManage)?;
    }
    let notice = (q.notice.as_deref() == Some("saved")).then(|| console.chrome(None).t("sign-in-policy-saved"));
    let form = SignInPolicyForm { factor: FactorRequirement::Any.as_str().into(), ..SignInPolicyForm::default() };
    render_page(&state, &console, notice, form, Errors::for_fields(FIELDS), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    notice: Option<String>,
    form: SignInPolicyForm,
    errors: Errors,
    status: StatusCode,
) -> ConsoleResult {
    let chrome = console.chrome(Some(Nav::Access));
    let views = state.tutela.sign_in_policies(&console.principal).await.map_err(|e| console.core_error(e))?;
    let default = chrome.t("sign-in-policy-default");
    let or_default = |v: Option<u32>| v.map_or_else(|| default.clone(), |n| n.to_string());
    let roles = views.iter().map(|v| Choice::new(v.role_id.to_string(), v.role.clone(), &form.role)).collect();
    let lines = views
        .into_iter()
        .map(|v| Line {
            factor: chrome.t(&format!("sign-in-policy-factor-{}", v.policy.factor)),
            session_hours: or_default(v.policy.session_hours),
            idle_minutes: or_default(v.policy.idle_minutes),
            reauth_minutes: v.policy.reauth_minutes.map_or_else(|| chrome.t("sign-in-policy-never"), |n| n.to_string()),
            role: v.role,
        })
        .collect();
    let factors = [FactorRequirement::Any, FactorRequirement::Passkey]
        .into_iter()
        .map(|f| Choice::new(f.as_str(), chrome.t(&format!("sign-in-policy-factor-{f}")), &form.factor))
        .collect();
    let page = SignInPolicyPage {
        can_edit: console.can(Permission::RoleManage) || console.can(Permission::UserManage),
        notice,
        lines,
        roles,
        factors,
        form,
        errors,
        chrome,
    };
    Ok(render(status, &page))
}

/// A number of hours or minutes from the form; empty is the default, anything else not a
/// whole number is refused naming the field.
fn limit(field: &str, raw: &str) -> Result<Option<u32>, CoreError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| CoreError::invalid(field, format!("{raw:?} is not a whole number")))
}

fn policy_of(form: &SignInPolicyForm) -> Result<RoleSignInPolicy, CoreError> {
    Ok(RoleSignInPolicy {
        factor: form.factor.parse()?,
        session_hours: limit("session_hours", &form.session_hours)?,
        idle_minutes: limit("idle_minutes", &form.idle_minutes)?,
        reauth_minutes: limit("reauth_minutes", &form.reauth_minutes)?,
    })
}

pub async fn set(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<SignInPolicyForm>,
) -> ConsoleResult<Response> {
    let mut errors = Errors::for_fields(FIELDS);
    let outcome = match (form.role.parse(), policy_of(&form)) {
        (Err(_), _) => Err(CoreError::invalid("role", console.chrome(None).t("sign-in-policy-error-role"))),
        (_, Err(e)) => Err(e),
        (Ok(role), Ok(policy)) => state.tutela.set_sign_in_policy(&console.principal, role, policy).await.map(|_| ()),
    };
    match outcome {
        Ok(()) => return Ok(Redirect::to("/access/sign-in?notice=saved").into_response()),
        Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
    }
    render_page(&state, &console, None, form, errors, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .map(IntoResponse::into_response)
}
