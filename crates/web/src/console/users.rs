//! Users and roles: who exists, their roles and second factor, creating users, changing
//! roles, disabling and enabling, signing a user out everywhere.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::identity::NewUser;
use tutela_core::policy::Permission;
use tutela_store::UserStatus;
use uuid::Uuid;

use super::error::{ConsoleError, ConsoleResult, render};
use super::forms::{Errors, Nothing};
use super::layout::{Chrome, Nav};
use super::password_rules::{self, NewPasswordField};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

const NEW_USER_FIELDS: [&str; 4] = ["email", "display_name", "password", "roles"];

pub struct RoleChoice {
    pub name: String,
    pub checked: bool,
}

pub struct UserLine {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub roles: Vec<RoleChoice>,
    pub created: Stamp,
    pub is_self: bool,
    /// While failed sign-ins keep the account locked: when the latest lock ends.
    pub locked_until: Option<Stamp>,
}

pub struct RoleLine {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserLine>,
    roles: Vec<RoleLine>,
    new_user: NewUserForm,
    new_roles: Vec<RoleChoice>,
    password: NewPasswordField,
    errors: Errors,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    notice: Option<String>,
}

async fn render_page(
    state: &AppState,
    console: &Console,
    new_user: NewUserForm,
    errors: Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> ConsoleResult<Response> {
    let p = &console.principal;
    let users = state.tutela.users(p).await.map_err(|e| console.core_error(e))?;
    let roles = state.tutela.roles(p).await.map_err(|e| console.core_error(e))?;
    let choices = |held: &[String]| {
        roles.iter().map(|r| RoleChoice { name: r.name.clone(), checked: held.contains(&r.name) }).collect::<Vec<_>>()
    };
    let lines = users
        .iter()
        .map(|u| UserLine {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            active: u.status == UserStatus::Active.as_str(),
            totp_enabled: u.totp_enabled,
            roles: choices(&u.roles),
            created: Stamp::of(u.created_at),
            is_self: Some(u.id) == p.user_id,
            locked_until: u.locked_until.map(Stamp::of),
        })
        .collect();
    let chrome = console.chrome(Some(Nav::Users));
    let notice = match notice {
        Some("created") => Some(chrome.t("users-notice-created")),
        Some("saved") => Some(chrome.t("users-notice-saved")),
        Some("unlocked") => Some(chrome.t("users-notice-unlocked")),
        Some("sessions-ended") => Some(chrome.t("users-notice-sessions-ended")),
        _ => None,
    };
    let role_lines = roles
        .iter()
        .map(|r| RoleLine {
            name: r.name.clone(),
            description: builtin_description(&chrome, r.builtin, &r.name).unwrap_or_else(|| r.description.clone()),
            builtin: r.builtin,
            permissions: r.permissions.join(", "),
        })
        .collect();
    let page = UsersPage {
        password: NewPasswordField::new(&state.tutela, &chrome),
        new_roles: choices(&new_user.roles),
        roles: role_lines,
        users: lines,
        chrome,
        new_user,
        errors,
        notice,
    };
    Ok(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<UsersQuery>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    render_page(
        &state,
        &console,
        NewUserForm::default(),
        Errors::for_fields(NEW_USER_FIELDS),
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<NewUserForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let new = NewUser {
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        password: SecretString::from(form.password.clone()),
        roles: form.roles.clone(),
    };
    let mut errors = Errors::for_fields(NEW_USER_FIELDS);
    let chrome = console.chrome(Some(Nav::Users));
    if let Some(why) = password_rules::refusal(&state.tutela, &chrome, &new.password, &new.email, &new.display_name) {
        errors.add(Some("password"), why);
        let form = NewUserForm { password: String::new(), ..form };
        return render_page(&state, &console, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let status = match state.tutela.create_user(&console.principal, new).await {
        Ok(_) => return Ok(Redirect::to("/users?notice=created").into_response()),
        Err(CoreError::Conflict(m)) => {
            errors.add(Some("email"), m);
            StatusCode::CONFLICT
        }
        Err(e) => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    // The password is never sent back.
    let form = NewUserForm { password: String::new(), ..form };
    render_page(&state, &console, form, errors, None, status).await
}

/// Lifts a user's sign-in lockout (audited by the domain).
pub async fn clear_lockout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    on_user(&console, &id, "unlocked", async |user| state.tutela.clear_sign_in_lockout(&console.principal, user).await)
        .await
}

/// Signs a user out everywhere (audited by the domain).
pub async fn end_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    on_user(&console, &id, "sessions-ended", async |user| {
        state.tutela.end_user_sessions(&console.principal, user).await
    })
    .await
}

/// An administrator's action on one user, answered on the users page with `notice`.
async fn on_user<T>(
    console: &Console,
    id: &str,
    notice: &str,
    act: impl AsyncFnOnce(Uuid) -> Result<T, CoreError>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let user = parse_user(id, console)?;
    act(user).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to(&format!("/users?notice={notice}")).into_response())
}

/// Built-in roles are described in the user's language; custom ones as their author wrote.
fn builtin_description(chrome: &Chrome, builtin: bool, name: &str) -> Option<String> {
    let key = format!("role-desc-{name}");
    (builtin && chrome.i18n.has(&key)).then(|| chrome.t(&key))
}

fn parse_user(raw: &str, console: &Console) -> Result<Uuid, ConsoleError> {
    raw.parse().map_err(|_| ConsoleError::not_found(console.lang))
}

#[derive(Deserialize)]
pub struct RolesForm {
    #[serde(default)]
    roles: Vec<String>,
}

pub async fn set_roles(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<RolesForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = parse_user(&id, &console)?;
    state.tutela.set_user_roles(&console.principal, id, &form.roles).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/users?notice=saved").into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<StatusForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::UserManage)?;
    let id = parse_user(&id, &console)?;
    let status: UserStatus =
        form.status.parse().map_err(|()| ConsoleError::bad_request(console.lang, "status: use active or disabled"))?;
    state.tutela.set_user_status(&console.principal, id, status).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/users?notice=saved").into_response())
}
