//! Separation of duties on the access page: the declared pairs, a form to add one and a
//! button to remove one (each replaces the list in one call), and who holds a pair today.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::SodRule;
use tutela_core::policy::Permission;

use super::access_policy::{Forms, render_page};
use super::error::ConsoleResult;
use super::forms::Errors;
use super::org_view::Choice;
use super::session::{Console, ConsoleForm};
use crate::AppState;

pub const SOD_FIELDS: [&str; 3] = ["first", "second", "reason"];

pub struct SodLine {
    pub first: &'static str,
    pub second: &'static str,
    pub reason: String,
    /// How many users hold both today.
    pub violations: usize,
}

pub struct ViolationLine {
    pub email: String,
    pub first: &'static str,
    pub second: &'static str,
    pub roles: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SodForm {
    #[serde(default)]
    pub first: String,
    #[serde(default)]
    pub second: String,
    #[serde(default)]
    pub reason: String,
}

/// What the page shows of separation of duties; `None` parts the viewer may not read.
pub struct SodSection {
    pub visible: bool,
    pub rules: Vec<SodLine>,
    pub violations: Vec<ViolationLine>,
    pub form: SodForm,
    pub firsts: Vec<Choice>,
    pub seconds: Vec<Choice>,
    pub errors: Errors,
}

fn permission_choices(current: &str) -> Vec<Choice> {
    std::iter::once(Choice::new("", "—", current))
        .chain(Permission::ALL.iter().map(|p| Choice::new(p.as_str(), p.as_str(), current)))
        .collect()
}

pub async fn sod_section(
    state: &AppState,
    console: &Console,
    form: SodForm,
    errors: Errors,
) -> ConsoleResult<SodSection> {
    let p = &console.principal;
    let visible = [Permission::RoleManage, Permission::UserManage, Permission::AuditRead].into_iter().any(|x| p.has(x));
    let (rules, violations) = if visible {
        let rules = state.tutela.sod_rules(p).await.map_err(|e| console.core_error(e))?;
        let violations = state.tutela.sod_violations(p).await.map_err(|e| console.core_error(e))?;
        (rules, violations)
    } else {
        (Vec::new(), Vec::new())
    };
    let lines = rules
        .iter()
        .map(|r| SodLine {
            first: r.first.as_str(),
            second: r.second.as_str(),
            reason: r.reason.clone(),
            violations: violations.iter().filter(|v| v.rule == *r).count(),
        })
        .collect();
    let violations = violations
        .iter()
        .map(|v| ViolationLine {
            email: v.email.clone(),
            first: v.rule.first.as_str(),
            second: v.rule.second.as_str(),
            roles: v.roles.join(", "),
        })
        .collect();
    Ok(SodSection {
        visible,
        rules: lines,
        violations,
        firsts: permission_choices(&form.first),
        seconds: permission_choices(&form.second),
        form,
        errors,
    })
}

/// Replaces the rules; a refusal of the new list is shown next to the add form.
async fn replace(state: &AppState, console: &Console, rules: Vec<SodRule>, form: SodForm) -> ConsoleResult<Response> {
    let added = rules.len().saturating_sub(1);
    let mut forms = Forms::empty();
    match state.tutela.set_sod_rules(&console.principal, rules).await {
        Ok(_) => return Ok(Redirect::to("/access?notice=sod-saved#sod").into_response()),
        Err(CoreError::Invalid { field, message }) => {
            let target = if field.ends_with(".reason") {
                "reason"
            } else if field == format!("rules[{added}]") {
                "second"
            } else {
                "rules"
            };
            forms.sod_errors.add(Some(target), message);
        }
        Err(e) => return Err(console.core_error(e)),
    }
    forms.sod = form;
    forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    render_page(state, console, None, forms).await
}

pub async fn add(State(state): State<AppState>, ConsoleForm { console, form }: ConsoleForm<SodForm>) -> ConsoleResult {
    console.require(Permission::RoleManage)?;
    let mut errors = Errors::for_fields(SOD_FIELDS);
    let choose = console.chrome(None).t("access-error-permission");
    let first = form.first.parse::<Permission>().map_err(|_| errors.add(Some("first"), choose.clone())).ok();
    let second = form.second.parse::<Permission>().map_err(|_| errors.add(Some("second"), choose)).ok();
    let (Some(first), Some(second)) = (first, second) else {
        let mut forms = Forms::empty();
        forms.sod = form;
        forms.sod_errors = errors;
        forms.status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_page(&state, &console, None, forms).await;
    };
    let mut rules = state.tutela.sod_rules(&console.principal).await.map_err(|e| console.core_error(e))?;
    rules.push(SodRule { first, second, reason: form.reason.trim().to_owned() });
    replace(&state, &console, rules, form).await
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    first: String,
    #[serde(default)]
    second: String,
}

pub async fn remove(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<RemoveForm>,
) -> ConsoleResult {
    console.require(Permission::RoleManage)?;
    let mut rules = state.tutela.sod_rules(&console.principal).await.map_err(|e| console.core_error(e))?;
    rules.retain(|r| !(r.first.as_str() == form.first && r.second.as_str() == form.second));
    replace(&state, &console, rules, SodForm::default()).await
}
