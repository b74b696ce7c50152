//! The organisation page: the department tree, teams, and each user's department and team
//! (a table that filters and sorts). The forms that change them are in `org_forms`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tutela_core::access::Org;
use tutela_core::policy::Permission;
use tutela_store::DepartmentRow;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::org_view::{Choice, MAX_DEPTH, department_choices, department_name, team_choices, team_name, tree};
use super::session::Console;
use crate::AppState;

pub const DEPARTMENT_FIELDS: [&str; 2] = ["name", "parent_id"];
pub const TEAM_FIELDS: [&str; 2] = ["team_name", "department_id"];
pub const MANAGER_FIELDS: [&str; 1] = ["manager_id"];

pub struct DepartmentLine {
    pub id: Uuid,
    pub name: String,
    pub depth: usize,
    pub parent: String,
    /// The manager's e-mail: who reviews the members' access in campaigns routed to managers.
    pub manager: String,
    pub teams: usize,
    pub members: usize,
}

pub struct TeamLine {
    pub id: Uuid,
    pub name: String,
    pub department: String,
    pub members: usize,
}

pub struct MemberLine {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub department: String,
    pub team: String,
    pub departments: Vec<Choice>,
    pub teams: Vec<Choice>,
}

/// A column header of the members table: where a click sorts, and how it is sorted now.
pub struct SortLink {
    pub label: String,
    pub href: String,
    pub sorted: &'static str,
}

/// The department editor: a new department, an existing one, or what was just posted.
#[derive(Debug, Default, Deserialize)]
pub struct DepartmentForm {
    /// Set when editing an existing department.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub parent_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    pub team_name: String,
    #[serde(default)]
    pub department_id: String,
}

/// The three forms of the page as they are to be shown.
pub struct Forms {
    pub department: DepartmentForm,
    pub department_errors: Errors,
    pub team: TeamForm,
    pub team_errors: Errors,
    /// The manager just posted for the edited department (a user id, empty for none), and
    /// its errors; without one the editor shows the department's manager.
    pub manager: Option<String>,
    pub manager_errors: Errors,
    /// Errors of the department and team deletions and of the member table.
    pub general: Errors,
    pub status: StatusCode,
}

impl Forms {
    /// Opens the editor on an existing department.
    pub fn edit(&mut self, d: &DepartmentRow) {
        self.department = DepartmentForm {
            id: d.id.to_string(),
            name: d.name.clone(),
            parent_id: d.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        };
    }

    pub fn empty() -> Self {
        Self {
            department: DepartmentForm::default(),
            department_errors: Errors::for_fields(DEPARTMENT_FIELDS),
            team: TeamForm::default(),
            team_errors: Errors::for_fields(TEAM_FIELDS),
            manager: None,
            manager_errors: Errors::for_fields(MANAGER_FIELDS),
            general: Errors::for_fields::<&str>([]),
            status: StatusCode::OK,
        }
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    chrome: Chrome,
    notice: Option<String>,
    departments: Vec<DepartmentLine>,
    teams: Vec<TeamLine>,
    members: Vec<MemberLine>,
    member_sorts: Vec<SortLink>,
    query: OrgQuery,
    editing: bool,
    department: DepartmentForm,
    parents: Vec<Choice>,
    department_errors: Errors,
    team: TeamForm,
    team_departments: Vec<Choice>,
    team_errors: Errors,
    managers: Vec<Choice>,
    manager_errors: Errors,
    general: Errors,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct OrgQuery {
    pub edit: Option<String>,
    pub notice: Option<String>,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub order: String,
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<OrgQuery>) -> ConsoleResult {
    console.require(Permission::UserManage)?;
    let mut forms = Forms::empty();
    if let Some(id) = q.edit.as_deref().and_then(|raw| raw.parse::<Uuid>().ok()) {
        let settings = state.tutela.access_settings(&console.principal).await.map_err(|e| console.core_error(e))?;
        if let Some(d) = settings.org.department(id) {
            forms.edit(d);
        }
    }
    render_page(&state, &console, &q, forms).await
}

fn members_of(org: &Org, department: Uuid) -> usize {
    org.members_of_departments(&[department].into()).count()
}

pub async fn render_page(state: &AppState, console: &Console, q: &OrgQuery, forms: Forms) -> ConsoleResult<Response> {
    let p = &console.principal;
    let settings = state.tutela.access_settings(p).await.map_err(|e| console.core_error(e))?;
    let users = state.tutela.users(p).await.map_err(|e| console.core_error(e))?;
    let org = &settings.org;
    let chrome = console.chrome(Some(Nav::Org));
    let none = chrome.t("org-none");
    let departments = tree(org)
        .into_iter()
        .filter_map(|(id, depth)| {
            let d = org.department(id)?;
            Some(DepartmentLine {
                id,
                name: d.name.clone(),
                depth: depth.min(MAX_DEPTH),
                parent: department_name(org, d.parent_id),
                manager: d
                    .manager_id
                    .and_then(|m| users.iter().find(|u| u.id == m))
                    .map(|u| u.email.clone())
                    .unwrap_or_default(),
                teams: org.teams().iter().filter(|t| t.department_id == Some(id)).count(),
                members: members_of(org, id),
            })
        })
        .collect();
    let mut teams: Vec<TeamLine> = org
        .teams()
        .iter()
        .map(|t| TeamLine {
            id: t.id,
            name: t.name.clone(),
            department: department_name(org, t.department_id),
            members: org.members_of_team(t.id).count(),
        })
        .collect();
    teams.sort_by(|a, b| a.name.cmp(&b.name));
    let needle = q.q.trim().to_lowercase();
    let mut members: Vec<MemberLine> = users
        .iter()
        .map(|u| {
            let m = org.membership(u.id);
            let (dept, team) = (m.and_then(|m| m.department_id), m.and_then(|m| m.team_id));
            let as_value = |id: Option<Uuid>| id.map(|i| i.to_string()).unwrap_or_default();
            MemberLine {
                id: u.id,
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                department: department_name(org, dept),
                team: team_name(org, team),
                departments: department_choices(org, &as_value(dept), &none, None),
                teams: team_choices(org, &as_value(team), &none),
            }
        })
        .filter(|m| {
            needle.is_empty()
                || [&m.email, &m.display_name, &m.department, &m.team]
                    .iter()
                    .any(|s| s.to_lowercase().contains(&needle))
        })
        .collect();
    sort_members(&mut members, &q.sort, q.order == "desc");
    let member_sorts =
        ["email", "name", "department", "team"].into_iter().map(|column| sort_link(&chrome, q, column)).collect();
    let editing = !forms.department.id.is_empty();
    let except = forms.department.id.parse().ok();
    let manager = forms.manager.clone().unwrap_or_else(|| {
        let current = except.and_then(|id: Uuid| org.department(id)).and_then(|d| d.manager_id);
        current.map(|m| m.to_string()).unwrap_or_default()
    });
    let mut managers = vec![Choice::new("", none.clone(), &manager)];
    managers.extend(
        users
            .iter()
            .filter(|u| u.status == "active")
            .map(|u| Choice::new(u.id.to_string(), format!("{} <{}>", u.display_name, u.email), &manager)),
    );
    let page = OrgPage {
        notice: notice(&chrome, q.notice.as_deref()),
        departments,
        teams,
        members,
        member_sorts,
        query: q.clone(),
        editing,
        parents: department_choices(org, &forms.department.parent_id, &none, except),
        team_departments: department_choices(org, &forms.team.department_id, &none, None),
        department: forms.department,
        department_errors: forms.department_errors,
        team: forms.team,
        team_errors: forms.team_errors,
        managers,
        manager_errors: forms.manager_errors,
        general: forms.general,
        chrome,
    };
    Ok(render(forms.status, &page))
}

fn sort_members(members: &mut [MemberLine], column: &str, desc: bool) {
    let key = |m: &MemberLine| -> String {
        match column {
            "name" => m.display_name.to_lowercase(),
            "department" => m.department.to_lowercase(),
            "team" => m.team.to_lowercase(),
            _ => m.email.clone(),
        }
    };
    members.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.email.cmp(&b.email)));
    if desc {
        members.reverse();
    }
}

fn sort_link(chrome: &Chrome, q: &OrgQuery, column: &'static str) -> SortLink {
    let current = if q.sort.is_empty() { "email" } else { q.sort.as_str() };
    let (sorted, next) = match (current == column, q.order == "desc") {
        (true, false) => ("asc", "desc"),
        (true, true) => ("desc", "asc"),
        (false, _) => ("", "asc"),
    };
    let query =
        serde_html_form::to_string([("q", q.q.as_str()), ("sort", column), ("order", next)]).unwrap_or_default();
    SortLink { label: chrome.t(&format!("org-col-{column}")), href: format!("/org?{query}#members"), sorted }
}

fn notice(chrome: &Chrome, notice: Option<&str>) -> Option<String> {
    let key = match notice? {
        "department-saved" => "org-notice-department-saved",
        "department-deleted" => "org-notice-department-deleted",
        "team-saved" => "org-notice-team-saved",
        "team-deleted" => "org-notice-team-deleted",
        "member-saved" => "org-notice-member-saved",
        "manager-saved" => "org-notice-manager-saved",
        _ => return None,
    };
    Some(chrome.t(key))
}
