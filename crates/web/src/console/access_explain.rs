//! "Why can I see this?": what opens a customer to a user (roles' scopes, the organisation
//! default, sharing rules, shares) and each field's level with the role that gave it and
//! whether a field rule or the role's default decided. Names and levels only, never a value.
//! Users ask about themselves; role and user administrators about anyone.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tutela_core::access::{OrgDefault, RowAccess, RowReason, ShareAccess};
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::access_labels::{level_key, org_default_key, scope_key, share_key};
use super::error::{ConsoleError, ConsoleResult, ok};
use super::fields::{classification_key, label, ordered};
use super::layout::{Chrome, Nav};
use super::org_view::Choice;
use super::session::Console;
use super::stamp::Stamp;
use crate::AppState;

/// One thing that opens the record: its kind, then what names it.
pub struct ReasonLine {
    pub kind: String,
    pub name: String,
    pub detail: String,
    pub write: bool,
}

pub struct RoleLevel {
    pub role: String,
    pub level: String,
    pub from_rule: bool,
    pub missing: String,
}

#[allow(clippy::struct_excessive_bools)] // the four capabilities the domain reports
pub struct FieldLine {
    pub id: String,
    pub label: String,
    pub classification: String,
    pub visible: bool,
    pub clear: bool,
    pub reveal: bool,
    pub write: bool,
    pub roles: Vec<RoleLevel>,
}

#[derive(Template)]
#[template(path = "customers/access.html")]
struct ExplainPage {
    chrome: Chrome,
    customer: Uuid,
    email: String,
    access: RowAccess,
    reasons: Vec<ReasonLine>,
    fields: Vec<FieldLine>,
    /// Administrators pick the user: from a list (user administrators) or by id.
    users: Option<Vec<Choice>>,
    pick_by_id: bool,
    user: String,
    can_open: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ExplainQuery {
    #[serde(default)]
    user: String,
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<ExplainQuery>,
) -> ConsoleResult<Response> {
    let customer = console.path_id(&id)?;
    let p = &console.principal;
    let user = if q.user.trim().is_empty() {
        p.user_id.ok_or_else(|| ConsoleError::not_found(console.lang))?
    } else {
        q.user.trim().parse::<Uuid>().map_err(|_| ConsoleError::bad_request(console.lang, "user: not a user id"))?
    };
    let explained = state.tutela.explain_access(p, user, customer).await.map_err(|e| console.core_error(e))?;
    let nav = if console.can(Permission::CustomerRead) { Nav::Customers } else { Nav::Access };
    let chrome = console.chrome(Some(nav));
    let defs = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let reasons = explained.row_reasons.iter().map(|r| reason(&chrome, r)).collect();
    let fields = defs
        .iter()
        .filter_map(|def| {
            let f = explained.fields.iter().find(|f| f.field == def.id)?;
            Some(FieldLine {
                id: def.id.clone(),
                label: label(def, console.lang),
                classification: chrome.t(classification_key(f.classification)),
                visible: f.caps.visible,
                clear: f.caps.clear,
                reveal: f.caps.reveal,
                write: f.caps.write,
                roles: f
                    .reasons
                    .iter()
                    .map(|r| RoleLevel {
                        role: r.role.clone(),
                        level: chrome.t(level_key(r.level)),
                        from_rule: r.from_rule,
                        missing: r.missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
                    })
                    .collect(),
            })
        })
        .collect();
    let users = if console.can(Permission::UserManage) {
        let all = state.tutela.users(p).await.map_err(|e| console.core_error(e))?;
        Some(all.iter().map(|u| Choice::new(u.id.to_string(), u.email.clone(), &user.to_string())).collect())
    } else {
        None
    };
    let page = ExplainPage {
        customer,
        email: explained.email,
        access: explained.access,
        reasons,
        fields,
        pick_by_id: users.is_none() && console.can(Permission::RoleManage),
        users,
        user: user.to_string(),
        can_open: console.can(Permission::CustomerRead),
        chrome,
    };
    Ok(ok(&page))
}

fn reason(chrome: &Chrome, r: &RowReason) -> ReasonLine {
    match r {
        RowReason::Scope { role, scope, write } => ReasonLine {
            kind: chrome.t("explain-reason-scope"),
            name: role.clone(),
            detail: chrome.t(scope_key(*scope)),
            write: *write,
        },
        RowReason::OrgDefault { default } => ReasonLine {
            kind: chrome.t("explain-reason-default"),
            name: chrome.t(org_default_key(*default)),
            detail: String::new(),
            write: *default == OrgDefault::ReadWrite,
        },
        RowReason::Rule { rule, field, value, access } => ReasonLine {
            kind: chrome.t("explain-reason-rule"),
            name: rule.clone(),
            detail: format!("{field} = {value}"),
            write: *access == ShareAccess::Write,
        },
        RowReason::Share { access, expires_at, .. } => ReasonLine {
            kind: chrome.t("explain-reason-share"),
            name: chrome.t(share_key(*access)),
            detail: format!("{} {}", chrome.t("share-until"), Stamp::of(*expires_at).shown),
            write: *access == ShareAccess::Write,
        },
        RowReason::BreakGlass { expires_at, .. } => ReasonLine {
            kind: chrome.t("explain-reason-break-glass"),
            name: chrome.t(share_key(ShareAccess::Read)),
            detail: format!("{} {}", chrome.t("share-until"), Stamp::of(*expires_at).shown),
            write: false,
        },
    }
}
