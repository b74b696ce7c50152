//! Each role's data scope and field levels: a table of fields with a level each, "default"
//! meaning no rule, next to the level the role's permissions give the field by default.
//! Role administrators change them; user administrators read them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::{DataScope, FieldAccess, default_level};
use tutela_core::policy::{Permission, parse_permissions};
use tutela_store::{FieldDef, RoleRow};
use uuid::Uuid;

use super::access_labels::{level_key, scope_key, stored};
use super::error::{ConsoleError, ConsoleResult, render};
use super::fields::{classification_key, label, ordered};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::org_view::Choice;
use super::session::{Console, ConsoleForm};
use crate::AppState;

/// The prefix of a field's level in the posted form: `level-<field id>`.
const LEVEL: &str = "level-";

pub struct RoleLink {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub rules: usize,
    pub current: bool,
}

pub struct FieldLevelLine {
    pub id: String,
    pub label: String,
    pub classification: String,
    pub sealed: bool,
    /// The level without a rule, from the role's permissions and the classification.
    pub default: String,
    pub levels: Vec<Choice>,
    pub ruled: bool,
}

pub struct Editor {
    pub id: Uuid,
    pub name: String,
    pub builtin: bool,
    pub permissions: String,
    pub scopes: Vec<Choice>,
    pub fields: Vec<FieldLevelLine>,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    chrome: Chrome,
    notice: Option<String>,
    can_edit: bool,
    roles: Vec<RoleLink>,
    editor: Option<Editor>,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct RolesQuery {
    role: Option<String>,
    notice: Option<String>,
}

fn may_read(console: &Console) -> ConsoleResult<()> {
    if console.can(Permission::UserManage) { Ok(()) } else { console.require(Permission::RoleManage) }
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<RolesQuery>) -> ConsoleResult {
    may_read(&console)?;
    let selected = q.role.as_deref().and_then(|r| r.parse().ok());
    let notice = (q.notice.as_deref() == Some("saved")).then(|| console.chrome(None).t("roles-notice-saved"));
    render_page(&state, &console, selected, None, Errors::for_fields(["scope"]), notice, StatusCode::OK).await
}

/// The page with `selected` (or the first role) in the editor, showing `posted` input if any.
async fn render_page(
    state: &AppState,
    console: &Console,
    selected: Option<Uuid>,
    posted: Option<(String, BTreeMap<String, String>)>,
    errors: Errors,
    notice: Option<String>,
    status: StatusCode,
) -> ConsoleResult {
    let mut roles = state.tutela.roles(&console.principal).await.map_err(|e| console.core_error(e))?;
    roles.sort_by(|a, b| (!a.builtin, &a.name).cmp(&(!b.builtin, &b.name)));
    let fields = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let chrome = console.chrome(Some(Nav::Access));
    let current = selected.and_then(|id| roles.iter().find(|r| r.id == id)).or(roles.first());
    let editor = current.map(|role| {
        let (scope, field_rules) = posted.unwrap_or_else(|| (role.data_scope.clone(), role.field_rules.clone()));
        editor(&chrome, console, role, &fields, &scope, &field_rules)
    });
    let links = roles
        .iter()
        .map(|r| RoleLink {
            id: r.id,
            name: r.name.clone(),
            scope: stored(&chrome, &r.data_scope, scope_key),
            rules: r.field_rules.len(),
            current: current.is_some_and(|c| c.id == r.id),
        })
        .collect();
    let page =
        RolesPage { notice, can_edit: console.can(Permission::RoleManage), roles: links, editor, errors, chrome };
    Ok(render(status, &page))
}

fn editor(
    chrome: &Chrome,
    console: &Console,
    role: &RoleRow,
    fields: &[FieldDef],
    scope: &str,
    rules: &BTreeMap<String, String>,
) -> Editor {
    let permissions = parse_permissions(&role.permissions).unwrap_or_default();
    let lines = fields
        .iter()
        .map(|def| {
            let default = default_level(&permissions, def.classification);
            let current = rules.get(&def.id).map_or("", String::as_str);
            let levels = std::iter::once(Choice::new("", chrome.t("roles-level-default"), current))
                .chain(FieldAccess::ALL.iter().map(|l| Choice::new(l.as_str(), chrome.t(level_key(*l)), current)))
                .collect();
            FieldLevelLine {
                id: def.id.clone(),
                label: label(def, console.lang),
                classification: chrome.t(classification_key(def.classification)),
                sealed: def.classification.is_sealed(),
                default: chrome.t(level_key(default)),
                levels,
                ruled: !current.is_empty(),
            }
        })
        .collect();
    Editor {
        id: role.id,
        name: role.name.clone(),
        builtin: role.builtin,
        permissions: role.permissions.join(", "),
        scopes: DataScope::ALL.iter().map(|s| Choice::new(s.as_str(), chrome.t(scope_key(*s)), scope)).collect(),
        fields: lines,
    }
}

/// The posted scope and the fields given a level; "default" (empty) is no rule.
fn read_form(form: &[(String, String)]) -> (String, BTreeMap<String, String>) {
    let scope = form.iter().find(|(k, _)| k == "scope").map(|(_, v)| v.clone()).unwrap_or_default();
    let rules = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(LEVEL)?.to_owned(), v.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    (scope, rules)
}

pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<Vec<(String, String)>>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let id = console.path_id(&id)?;
    let roles = state.tutela.roles(&console.principal).await.map_err(|e| console.core_error(e))?;
    let role = roles.into_iter().find(|r| r.id == id).ok_or_else(|| ConsoleError::not_found(console.lang))?;
    let (scope, field_rules) = read_form(&form);
    let changed = RoleRow { data_scope: scope.clone(), field_rules: field_rules.clone(), ..role };
    let mut errors = Errors::for_fields(["scope"]);
    let status = match state.tutela.put_role(&console.principal, changed).await {
        Ok(_) => return Ok(Redirect::to(&format!("/roles?role={id}&notice=saved")).into_response()),
        Err(CoreError::Conflict(m)) => {
            errors.add(None, m);
            StatusCode::CONFLICT
        }
        Err(CoreError::Invalid { field, message }) => {
            let field = if field == "data_scope" { "scope" } else { field.as_str() };
            errors.add(Some(field), message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) => return Err(console.core_error(e)),
    };
    render_page(&state, &console, Some(id), Some((scope, field_rules)), errors, None, status).await
}
