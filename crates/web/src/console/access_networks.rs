//! The "Allowed networks" page (under Access policy): the address ranges (CIDR) each role,
//! user and API token may be used from, and a form to set those of a role or a user. The
//! domain checks who may set what, refuses malformed ranges by entry and a range list that
//! would lock the caller out, and audits every change.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::access::NetworkSubject;
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::org_view::Choice;
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub const FIELDS: [&str; 2] = ["subject", "networks"];

pub struct Line {
    pub kind: String,
    pub name: String,
    pub networks: String,
    pub updated: Stamp,
}

#[derive(Debug, Default, Deserialize)]
pub struct NetworksForm {
    /// `role:<id>` or `user:<id>`.
    #[serde(default)]
    pub subject: String,
    /// One range per line.
    #[serde(default)]
    pub networks: String,
}

#[derive(Template)]
#[template(path = "access_networks.html")]
struct NetworksPage {
    chrome: Chrome,
    notice: Option<String>,
    lines: Vec<Line>,
    can_edit: bool,
    subjects: Vec<Choice>,
    form: NetworksForm,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

fn may_read(console: &Console) -> bool {
    [Permission::UserManage, Permission::RoleManage, Permission::AuditRead]
        .into_iter()
        .any(|p| console.principal.has(p))
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    if !may_read(&console) {
        console.require(Permission::UserManage)?;
    }
    let notice = (q.notice.as_deref() == Some("saved")).then(|| console.chrome(None).t("networks-notice-saved"));
    render_page(&state, &console, notice, NetworksForm::default(), Errors::for_fields(FIELDS), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    notice: Option<String>,
    form: NetworksForm,
    errors: Errors,
    status: StatusCode,
) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::Access));
    let views = state.tutela.network_rules(p).await.map_err(|e| console.core_error(e))?;
    let lines = views
        .into_iter()
        .map(|v| Line {
            kind: chrome.t(&format!("networks-kind-{}", v.subject_kind)),
            name: v.subject_name,
            networks: v.networks.join(", "),
            updated: Stamp::of(v.updated_at),
        })
        .collect();
    let mut subjects = Vec::new();
    if p.has(Permission::RoleManage) {
        for role in state.tutela.roles(p).await.map_err(|e| console.core_error(e))? {
            let label = format!("{} · {}", chrome.t("networks-kind-role"), role.name);
            subjects.push(Choice::new(format!("role:{}", role.id), label, &form.subject));
        }
    }
    if p.has(Permission::UserManage) {
        for user in state.tutela.users(p).await.map_err(|e| console.core_error(e))? {
            let label = format!("{} · {}", chrome.t("networks-kind-user"), user.email);
            subjects.push(Choice::new(format!("user:{}", user.id), label, &form.subject));
        }
    }
    let page = NetworksPage { notice, lines, can_edit: !subjects.is_empty(), subjects, form, errors, chrome };
    Ok(render(status, &page))
}

fn subject(raw: &str) -> Option<(NetworkSubject, Uuid)> {
    let (kind, id) = raw.split_once(':')?;
    let kind = match kind {
        "role" => NetworkSubject::Role,
        "user" => NetworkSubject::User,
        _ => return None,
    };
    Some((kind, id.parse().ok()?))
}

pub async fn set(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<NetworksForm>,
) -> ConsoleResult<Response> {
    let mut errors = Errors::for_fields(FIELDS);
    match subject(&form.subject) {
        Some((kind, id)) => {
            let entries: Vec<String> = form.networks.lines().map(str::to_owned).collect();
            match state.tutela.set_network_rule(&console.principal, kind, id, &entries).await {
                Ok(_) => return Ok(Redirect::to("/access/networks?notice=saved").into_response()),
                Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
            }
        }
        None => errors.add(Some("subject"), console.chrome(None).t("networks-error-subject")),
    }
    render_page(&state, &console, None, form, errors, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .map(IntoResponse::into_response)
}
