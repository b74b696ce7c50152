//! The access policy page: the organisation-wide default, sharing rules and separation of
//! duties with its current violations. Role administrators change them; user administrators
//! read the default and the rules, auditors the separation of duties (as the domain allows).
//! The forms for the default and the rules are here; those for separation of duties in
//! `access_sod`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::{GranteeKind, OrgDefault, ShareAccess, SharingRuleInput};
use tutela_core::policy::{Permission, Principal};
use uuid::Uuid;

use super::access_labels::{grantee_key, org_default_key, share_key, stored};
use super::access_sod::{SodForm, SodSection, sod_section};
use super::error::{ConsoleError, ConsoleResult, render};
use super::fields::{label, ordered};
use super::forms::{Errors, Nothing};
use super::layout::{Chrome, Nav};
use super::org_view::{Choice, department_name, team_name, tree};
use super::session::{Console, ConsoleForm};
use crate::AppState;

pub const RULE_FIELDS: [&str; 5] = ["name", "field_id", "value", "grantee", "access"];

pub struct RuleLine {
    pub id: Uuid,
    pub name: String,
    pub field: String,
    pub value: String,
    pub grantee_kind: String,
    pub grantee: String,
    pub access: String,
}

pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub field_id: String,
    #[serde(default)]
    pub value: String,
    /// `kind:id`, one select grouped by kind.
    #[serde(default)]
    pub grantee: String,
    #[serde(default)]
    pub access: String,
}

/// The forms of the page as they are to be shown.
pub struct Forms {
    pub rule: RuleForm,
    pub rule_errors: Errors,
    pub sod: SodForm,
    pub sod_errors: Errors,
    pub general: Errors,
    pub status: StatusCode,
}

impl Forms {
    pub fn empty() -> Self {
        Self {
            rule: RuleForm { access: "read".into(), ..RuleForm::default() },
            rule_errors: Errors::for_fields(RULE_FIELDS),
            sod: SodForm::default(),
            sod_errors: Errors::for_fields(super::access_sod::SOD_FIELDS),
            general: Errors::for_fields::<&str>([]),
            status: StatusCode::OK,
        }
    }
}

/// What user administrators may read (and role administrators change): the default and the
/// sharing rules.
pub struct Settings {
    pub defaults: Vec<Choice>,
    pub default_label: String,
    pub rules: Vec<RuleLine>,
    pub fields: Vec<Choice>,
    pub grantees: Vec<ChoiceGroup>,
    pub accesses: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage {
    chrome: Chrome,
    notice: Option<String>,
    can_edit: bool,
    settings: Option<Settings>,
    rule: RuleForm,
    rule_errors: Errors,
    sod: SodSection,
    general: Errors,
    can_explain: bool,
    explain_users: Option<Vec<Choice>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccessQuery {
    notice: Option<String>,
}

fn may_read(p: &Principal) -> bool {
    Nav::Access.shown_to(p)
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<AccessQuery>) -> ConsoleResult {
    if !may_read(&console.principal) {
        console.require(Permission::RoleManage)?;
    }
    render_page(&state, &console, q.notice.as_deref(), Forms::empty()).await
}

pub async fn render_page(state: &AppState, console: &Console, notice: Option<&str>, forms: Forms) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::Access));
    let admin = p.has(Permission::RoleManage) || p.has(Permission::UserManage);
    let settings = if admin { Some(settings(state, console, &chrome, &forms.rule).await?) } else { None };
    let sod = sod_section(state, console, forms.sod, forms.sod_errors).await?;
    let explain_users = if p.has(Permission::UserManage) {
        let users = state.tutela.users(p).await.map_err(|e| console.core_error(e))?;
        Some(users.iter().map(|u| Choice::new(u.id.to_string(), u.email.clone(), "")).collect())
    } else {
        None
    };
    let notice = notice.and_then(|n| {
        let key = match n {
            "default-saved" => "access-notice-default-saved",
            "rule-saved" => "access-notice-rule-saved",
            "rule-deleted" => "access-notice-rule-deleted",
            "sod-saved" => "access-notice-sod-saved",
            _ => return None,
        };
        Some(chrome.t(key))
    });
    let page = AccessPage {
        notice,
        can_edit: p.has(Permission::RoleManage),
        settings,
        rule: forms.rule,
        rule_errors: forms.rule_errors,
        sod,
        general: forms.general,
        can_explain: admin,
        explain_users,
        chrome,
    };
    Ok(render(forms.status, &page))
}

async fn settings(state: &AppState, console: &Console, chrome: &Chrome, form: &RuleForm) -> ConsoleResult<Settings> {
    let p = &console.principal;
    let snapshot = state.tutela.access_settings(p).await.map_err(|e| console.core_error(e))?;
    let org = &snapshot.org;
    let fields = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let roles = state.tutela.roles(p).await.map_err(|e| console.core_error(e))?;
    let users = if p.has(Permission::UserManage) {
        state.tutela.users(p).await.map_err(|e| console.core_error(e))?
    } else {
        Vec::new()
    };
    let grantee_name = |kind: &str, id: Uuid| -> String {
        let name = match kind.parse::<GranteeKind>() {
            Ok(GranteeKind::Role) => roles.iter().find(|r| r.id == id).map(|r| r.name.clone()),
            Ok(GranteeKind::Department) => Some(department_name(org, Some(id))),
            Ok(GranteeKind::Team) => Some(team_name(org, Some(id))),
            Ok(GranteeKind::User) => users.iter().find(|u| u.id == id).map(|u| u.email.clone()),
            Err(_) => None,
        };
        name.filter(|n| !n.is_empty()).unwrap_or_else(|| id.to_string())
    };
    let field_label =
        |id: &str| fields.iter().find(|f| f.id == id).map_or_else(|| id.to_owned(), |f| label(f, console.lang));
    let mut rule_lines: Vec<RuleLine> = snapshot
        .rules
        .iter()
        .map(|r| RuleLine {
            id: r.id,
            name: r.name.clone(),
            field: field_label(&r.field_id),
            value: r.value.clone(),
            grantee_kind: stored(chrome, &r.grantee_kind, grantee_key),
            grantee: grantee_name(&r.grantee_kind, r.grantee_id),
            access: stored(chrome, &r.access, share_key),
        })
        .collect();
    rule_lines.sort_by(|a, b| a.name.cmp(&b.name));
    let group = |kind: GranteeKind, items: Vec<(Uuid, String)>| ChoiceGroup {
        label: chrome.t(grantee_key(kind)),
        choices: items.into_iter().map(|(id, name)| Choice::new(format!("{kind}:{id}"), name, &form.grantee)).collect(),
    };
    let mut grantees = vec![
        group(GranteeKind::Role, roles.iter().map(|r| (r.id, r.name.clone())).collect()),
        group(
            GranteeKind::Department,
            tree(org).into_iter().map(|(id, _)| (id, department_name(org, Some(id)))).collect(),
        ),
        group(GranteeKind::Team, org.teams().iter().map(|t| (t.id, t.name.clone())).collect()),
    ];
    if !users.is_empty() {
        grantees.push(group(GranteeKind::User, users.iter().map(|u| (u.id, u.email.clone())).collect()));
    }
    Ok(Settings {
        defaults: OrgDefault::ALL
            .iter()
            .map(|d| Choice::new(d.as_str(), chrome.t(org_default_key(*d)), snapshot.org_default.as_str()))
            .collect(),
        default_label: chrome.t(org_default_key(snapshot.org_default)),
        rules: rule_lines,
        fields: fields
            .iter()
            .filter(|f| !f.classification.is_sealed())
            .map(|f| Choice::new(f.id.clone(), label(f, console.lang), &form.field_id))
            .collect(),
        grantees: grantees.into_iter().filter(|g| !g.choices.is_empty()).collect(),
        accesses: ShareAccess::ALL
            .iter()
            .map(|a| Choice::new(a.as_str(), chrome.t(share_key(*a)), &form.access))
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    default: String,
}

pub async fn set_default(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<DefaultForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let mut forms = Forms::empty();
    match form.default.parse::<OrgDefault>() {
        Ok(default) => {
            state.tutela.set_org_default(&console.principal, default).await.map_err(|e| console.core_error(e))?;
            return Ok(Redirect::to("/access?notice=default-saved").into_response());
        }
        Err(e) => forms.general.absorb(e).map_err(|e| console.core_error(e))?,
    }
    forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    render_page(&state, &console, None, forms).await
}

pub async fn create_rule(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<RuleForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let mut forms = Forms::empty();
    forms.status = StatusCode::UNPROCESSABLE_ENTITY;
    match form.grantee.split_once(':').map(|(kind, id)| (kind, id.parse::<Uuid>())) {
        Some((kind, Ok(grantee_id))) => {
            let input = SharingRuleInput {
                name: form.name.clone(),
                field_id: form.field_id.clone(),
                value: form.value.clone(),
                grantee_kind: kind.to_owned(),
                grantee_id,
                access: form.access.clone(),
            };
            match state.tutela.put_sharing_rule(&console.principal, None, input).await {
                Ok(_) => return Ok(Redirect::to("/access?notice=rule-saved").into_response()),
                Err(CoreError::Conflict(m)) => {
                    forms.rule_errors.add(Some("name"), m);
                    forms.status = StatusCode::CONFLICT;
                }
                Err(CoreError::Invalid { field, message }) => {
                    let field = if field.starts_with("grantee") { "grantee" } else { field.as_str() };
                    forms.rule_errors.add(Some(field), message);
                }
                Err(e) => return Err(console.core_error(e)),
            }
        }
        _ => forms.rule_errors.add(Some("grantee"), console.chrome(None).t("access-error-grantee")),
    }
    forms.rule = form;
    render_page(&state, &console, None, forms).await
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    console.require(Permission::RoleManage)?;
    let id = console.path_id(&id)?;
    state.tutela.delete_sharing_rule(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/access?notice=rule-deleted").into_response())
}

#[derive(Debug, Deserialize)]
pub struct ExplainQuery {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    user: String,
}

/// The "explain" form of the access page: a customer id and a user, to the explanation.
pub async fn explain_redirect(console: Console, Query(q): Query<ExplainQuery>) -> ConsoleResult<Response> {
    let customer: Uuid =
        q.customer.trim().parse().map_err(|_| {
            ConsoleError::bad_request(console.lang, "customer: enter a customer id").for_htmx(console.htmx)
        })?;
    let user = q.user.trim();
    let query = serde_html_form::to_string([("user", user)]).unwrap_or_default();
    Ok(Redirect::to(&format!("/customers/{customer}/access?{query}")).into_response())
}
