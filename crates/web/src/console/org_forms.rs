//! Changing the organisation: create, rename, move and delete departments; create and delete
//! teams; place a user in a department and a team. Each is one call on the domain, which
//! checks and audits it; a refusal re-renders the page with the message next to its field.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::{DepartmentInput, MembershipInput, TeamInput};
use tutela_core::policy::Permission;

use super::error::{ConsoleError, ConsoleResult};
use super::forms::{Errors, Nothing};
use super::org::{DepartmentForm, Forms, OrgQuery, TeamForm, render_page};
use super::org_view::optional_id;
use super::session::{Console, ConsoleForm};
use crate::AppState;

fn bad_id(console: &Console, field: &str) -> ConsoleError {
    ConsoleError::bad_request(console.lang, format!("{field}: not an id")).for_htmx(console.htmx)
}

/// Puts a domain refusal into `errors`: a conflict next to `conflict_field` (409), bad input
/// next to its field (422). A cycle in the tree gets the console's own words.
fn absorb(console: &Console, errors: &mut Errors, e: CoreError, conflict_field: &str) -> ConsoleResult<StatusCode> {
    match e {
        CoreError::Conflict(m) => {
            errors.add(Some(conflict_field), m);
            Ok(StatusCode::CONFLICT)
        }
        CoreError::Invalid { field, message } if field == "parent_id" && message.contains("cycle") => {
            errors.add(Some("parent_id"), console.chrome(None).t("org-error-cycle"));
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
        e => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// Creates a department (no `id`) or renames and moves one.
pub async fn save_department(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<DepartmentForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = optional_id(&form.id).map_err(|()| bad_id(&console, "id"))?;
    let mut forms = Forms::empty();
    if let Ok(parent_id) = optional_id(&form.parent_id) {
        let input = DepartmentInput { name: form.name.clone(), parent_id };
        match state.tutela.put_department(&console.principal, id, input).await {
            Ok(_) => return Ok(Redirect::to("/org?notice=department-saved").into_response()),
            Err(e) => forms.status = absorb(&console, &mut forms.department_errors, e, "name")?,
        }
    } else {
        forms.department_errors.add(Some("parent_id"), console.chrome(None).t("org-error-choose"));
        forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    forms.department = form;
    render_page(&state, &console, &OrgQuery::default(), forms).await
}

pub async fn delete_department(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = console.path_id(&id)?;
    let mut forms = Forms::empty();
    match state.tutela.delete_department(&console.principal, id).await {
        Ok(()) => return Ok(Redirect::to("/org?notice=department-deleted").into_response()),
        Err(e) => forms.status = absorb(&console, &mut forms.general, e, "department")?,
    }
    render_page(&state, &console, &OrgQuery::default(), forms).await
}

pub async fn save_team(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<TeamForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let mut forms = Forms::empty();
    if let Ok(department_id) = optional_id(&form.department_id) {
        let input = TeamInput { name: form.team_name.clone(), department_id };
        match state.tutela.put_team(&console.principal, None, input).await {
            Ok(_) => return Ok(Redirect::to("/org?notice=team-saved").into_response()),
            Err(CoreError::Invalid { field, message }) if field == "name" => {
                forms.team_errors.add(Some("team_name"), message);
                forms.status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => forms.status = absorb(&console, &mut forms.team_errors, e, "team_name")?,
        }
    } else {
        forms.team_errors.add(Some("department_id"), console.chrome(None).t("org-error-choose"));
        forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    forms.team = form;
    render_page(&state, &console, &OrgQuery::default(), forms).await
}

pub async fn delete_team(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = console.path_id(&id)?;
    state.tutela.delete_team(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/org?notice=team-deleted").into_response())
}

#[derive(Debug, Deserialize)]
pub struct ManagerForm {
    /// A user id; empty: nobody.
    #[serde(default)]
    manager_id: String,
}

/// Names a department's manager, who reviews its members' access in campaigns routed to
/// managers; a refusal re-opens the department's editor with the message next to the choice.
pub async fn set_manager(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<ManagerForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = console.path_id(&id)?;
    let mut forms = Forms::empty();
    if let Ok(manager) = optional_id(&form.manager_id) {
        match state.tutela.set_department_manager(&console.principal, id, manager).await {
            Ok(()) => return Ok(Redirect::to("/org?notice=manager-saved").into_response()),
            Err(e) => forms.status = absorb(&console, &mut forms.manager_errors, e, "manager_id")?,
        }
    } else {
        forms.manager_errors.add(Some("manager_id"), console.chrome(None).t("org-error-choose"));
        forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let settings = state.tutela.access_settings(&console.principal).await.map_err(|e| console.core_error(e))?;
    let department =
        settings.org.department(id).ok_or_else(|| console.core_error(CoreError::NotFound("department")))?;
    forms.edit(department);
    forms.manager = Some(form.manager_id);
    render_page(&state, &console, &OrgQuery::default(), forms).await
}

#[derive(Debug, Deserialize)]
pub struct MembershipForm {
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    team_id: String,
}

pub async fn set_membership(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<MembershipForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let user = console.path_id(&id)?;
    let input = MembershipInput {
        department_id: optional_id(&form.department_id).map_err(|()| bad_id(&console, "department_id"))?,
        team_id: optional_id(&form.team_id).map_err(|()| bad_id(&console, "team_id"))?,
    };
    let mut forms = Forms::empty();
    match state.tutela.set_membership(&console.principal, user, input).await {
        Ok(()) => return Ok(Redirect::to("/org?notice=member-saved#members").into_response()),
        Err(e) => forms.status = absorb(&console, &mut forms.general, e, "member")?,
    }
    render_page(&state, &console, &OrgQuery::default(), forms).await
}
