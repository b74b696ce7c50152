//! `tutela org show | department add|move|rename|remove|manager | team add|remove | member set`:
//! the organisation (departments, teams, memberships) as the local operator, who holds
//! `user.manage`. Departments, teams and users are named by id or by name (e-mail for users).

use anyhow::anyhow;
use clap::Subcommand;
use serde_json::{Value, json};
use tutela_core::access::{DepartmentInput, MembershipInput, Org, TeamInput};
use tutela_core::identity::UserView;
use tutela_core::{CoreError, Tutela};
use tutela_store::{DepartmentRow, TeamRow};
use uuid::Uuid;

use super::operator;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// The department tree with its teams and members.
    Show,
    /// Departments: a tree.
    Department {
        #[command(subcommand)]
        command: DepartmentCommand,
    },
    /// Teams, each in a department or in none.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Where users belong.
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
}

#[derive(Subcommand)]
pub enum DepartmentCommand {
    /// Create a department, at the top or under --parent.
    Add {
        name: String,
        /// The department above (id or name).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Put a department under another (--parent) or at the top (--top). A parent below the
    /// department itself is refused.
    Move {
        /// Id or name.
        department: String,
        #[arg(long, required_unless_present = "top", conflicts_with = "top")]
        parent: Option<String>,
        #[arg(long)]
        top: bool,
    },
    /// Give a department a new name.
    Rename {
        /// Id or name.
        department: String,
        name: String,
    },
    /// Delete an empty department (no sub-department, team or member).
    Remove {
        /// Id or name.
        department: String,
    },
    /// Name the department's manager (--user), who reviews its members' access in access
    /// reviews routed to managers, or name none (--none).
    Manager {
        /// Id or name.
        department: String,
        /// E-mail or id of an active user.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        user: Option<String>,
        #[arg(long)]
        none: bool,
    },
}

#[derive(Subcommand)]
pub enum TeamCommand {
    /// Create a team, in --department or in none.
    Add {
        name: String,
        /// Id or name.
        #[arg(long)]
        department: Option<String>,
    },
    /// Delete a team; its members then belong to no team.
    Remove {
        /// Id or name.
        team: String,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Place a user in a department and a team; a flag left out means none.
    Set {
        /// E-mail or id.
        user: String,
        /// Id or name.
        #[arg(long)]
        department: Option<String>,
        /// Id or name.
        #[arg(long)]
        team: Option<String>,
    },
}

pub async fn run(config: Config, command: OrgCommand, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = match command {
        OrgCommand::Show => show(&tutela, json).await,
        OrgCommand::Department { command } => department(&tutela, command, json).await,
        OrgCommand::Team { command } => team(&tutela, command, json).await,
        OrgCommand::Member { command } => member(&tutela, command, json).await,
    };
    tutela.close().await;
    result
}

/// A domain refusal with the field it names turned into the flag the user typed.
pub(super) fn flagged(e: CoreError, flags: &[(&str, &str)]) -> anyhow::Error {
    match e {
        CoreError::Invalid { field, message } => match flags.iter().find(|(f, _)| *f == field) {
            Some((_, flag)) => anyhow!("{flag}: {message}"),
            None => anyhow!("{field}: {message}"),
        },
        CoreError::Conflict(message) => anyhow!("{message}"),
        other => anyhow!(other),
    }
}

pub(super) fn find_department(org: &Org, flag: &str, text: &str) -> anyhow::Result<DepartmentRow> {
    let by_id = text.parse::<Uuid>().ok().and_then(|id| org.department(id));
    by_id
        .or_else(|| org.departments().iter().find(|d| d.name == text.trim()))
        .cloned()
        .ok_or_else(|| anyhow!("{flag}: no department {text:?}"))
}

fn find_team(org: &Org, flag: &str, text: &str) -> anyhow::Result<TeamRow> {
    let by_id = text.parse::<Uuid>().ok().and_then(|id| org.team(id));
    by_id
        .or_else(|| org.teams().iter().find(|t| t.name == text.trim()))
        .cloned()
        .ok_or_else(|| anyhow!("{flag}: no team {text:?}"))
}

pub(super) async fn find_user(tutela: &Tutela, flag: &str, text: &str) -> anyhow::Result<UserView> {
    let users = tutela.users(&operator()).await?;
    let id = text.parse::<Uuid>().ok();
    let email = text.trim().to_lowercase();
    users.into_iter().find(|u| Some(u.id) == id || u.email == email).ok_or_else(|| anyhow!("{flag}: no user {text:?}"))
}

fn department_json(d: &DepartmentRow) -> Value {
    json!({ "id": d.id, "name": d.name, "parent_id": d.parent_id, "manager_id": d.manager_id })
}

fn team_json(t: &TeamRow) -> Value {
    json!({ "id": t.id, "name": t.name, "department_id": t.department_id })
}

async fn show(tutela: &Tutela, json: bool) -> anyhow::Result<Outcome> {
    let p = operator();
    let org = tutela.access_settings(&p).await?.org.clone();
    let users = tutela.users(&p).await?;
    let members: Vec<(&UserView, Option<Uuid>, Option<Uuid>)> = users
        .iter()
        .filter_map(|u| org.membership(u.id).map(|m| (u, m.department_id, m.team_id)))
        .filter(|(_, d, t)| d.is_some() || t.is_some())
        .collect();
    if json {
        let members: Vec<Value> = members
            .iter()
            .map(|(u, d, t)| json!({ "user_id": u.id, "email": u.email, "department_id": d, "team_id": t }))
            .collect();
        let departments: Vec<Value> = org.departments().iter().map(department_json).collect();
        let teams: Vec<Value> = org.teams().iter().map(team_json).collect();
        println!("{}", json!({ "departments": departments, "teams": teams, "members": members }));
        return Ok(Outcome::Ok);
    }
    let team_name = |id: Option<Uuid>| id.and_then(|t| org.team(t)).map(|t| t.name.as_str());
    let print_contents = |department: Option<Uuid>, indent: &str| {
        for t in org.teams().iter().filter(|t| t.department_id == department) {
            println!("{indent}team {} ({})", t.name, t.id);
        }
        for (u, _, t) in members.iter().filter(|(_, d, _)| *d == department) {
            match team_name(*t) {
                Some(team) => println!("{indent}member {} (team {team})", u.email),
                None => println!("{indent}member {}", u.email),
            }
        }
    };
    // Depth-first from the top; a department whose parent is missing is printed at the top.
    let known = |id: Option<Uuid>| id.is_some_and(|id| org.department(id).is_some());
    let mut todo: Vec<(&DepartmentRow, usize)> =
        org.departments().iter().filter(|d| !known(d.parent_id)).rev().map(|d| (d, 0)).collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some((d, depth)) = todo.pop() {
        if !seen.insert(d.id) {
            continue;
        }
        let indent = "  ".repeat(depth);
        println!("{indent}{} ({})", d.name, d.id);
        print_contents(Some(d.id), &format!("{indent}  "));
        todo.extend(org.departments().iter().filter(|c| c.parent_id == Some(d.id)).rev().map(|c| (c, depth + 1)));
    }
    if org.teams().iter().any(|t| t.department_id.is_none()) || members.iter().any(|(_, d, _)| d.is_none()) {
        println!("(no department)");
        print_contents(None, "  ");
    }
    if org.departments().is_empty() && org.teams().is_empty() {
        println!("no departments or teams yet: `tutela org department add NAME`");
    }
    Ok(Outcome::Ok)
}

async fn department(tutela: &Tutela, command: DepartmentCommand, json: bool) -> anyhow::Result<Outcome> {
    let p = operator();
    let org = tutela.access_settings(&p).await?.org.clone();
    let (id, input, flags, verb) = match command {
        DepartmentCommand::Add { name, parent } => {
            let parent_id = parent.map(|x| find_department(&org, "--parent", &x)).transpose()?.map(|d| d.id);
            (None, DepartmentInput { name, parent_id }, [("name", "NAME"), ("parent_id", "--parent")], "created")
        }
        DepartmentCommand::Move { department, parent, top: _ } => {
            let d = find_department(&org, "DEPARTMENT", &department)?;
            let parent_id = parent.map(|x| find_department(&org, "--parent", &x)).transpose()?.map(|d| d.id);
            (
                Some(d.id),
                DepartmentInput { name: d.name, parent_id },
                [("name", "NAME"), ("parent_id", "--parent")],
                "moved",
            )
        }
        DepartmentCommand::Rename { department, name } => {
            let d = find_department(&org, "DEPARTMENT", &department)?;
            let input = DepartmentInput { name, parent_id: d.parent_id };
            (Some(d.id), input, [("name", "NAME"), ("parent_id", "--parent")], "renamed")
        }
        DepartmentCommand::Remove { department } => {
            let d = find_department(&org, "DEPARTMENT", &department)?;
            tutela.delete_department(&p, d.id).await.map_err(|e| flagged(e, &[]))?;
            if json {
                println!("{}", json!({ "removed": department_json(&d) }));
            } else {
                println!("removed department {} ({})", d.name, d.id);
            }
            return Ok(Outcome::Ok);
        }
        DepartmentCommand::Manager { department, user, none: _ } => {
            let d = find_department(&org, "DEPARTMENT", &department)?;
            let manager = match user {
                Some(u) => Some(find_user(tutela, "--user", &u).await?),
                None => None,
            };
            let manager_id = manager.as_ref().map(|u| u.id);
            tutela
                .set_department_manager(&p, d.id, manager_id)
                .await
                .map_err(|e| flagged(e, &[("manager_id", "--user")]))?;
            if json {
                println!("{}", json!({ "id": d.id, "name": d.name, "manager_id": manager_id }));
            } else {
                match manager {
                    Some(u) => println!("department {} ({}): manager {}", d.name, d.id, u.email),
                    None => println!("department {} ({}): no manager", d.name, d.id),
                }
            }
            return Ok(Outcome::Ok);
        }
    };
    let row = tutela.put_department(&p, id, input).await.map_err(|e| flagged(e, &flags))?;
    if json {
        println!("{}", department_json(&row));
    } else {
        let under = row.parent_id.and_then(|id| org.department(id)).map(|d| d.name.as_str());
        match under {
            Some(parent) => println!("{verb} department {} ({}) under {parent}", row.name, row.id),
            None => println!("{verb} department {} ({}) at the top", row.name, row.id),
        }
    }
    Ok(Outcome::Ok)
}

async fn team(tutela: &Tutela, command: TeamCommand, json: bool) -> anyhow::Result<Outcome> {
    let p = operator();
    let org = tutela.access_settings(&p).await?.org.clone();
    match command {
        TeamCommand::Add { name, department } => {
            let department_id =
                department.map(|x| find_department(&org, "--department", &x)).transpose()?.map(|d| d.id);
            let row = tutela
                .put_team(&p, None, TeamInput { name, department_id })
                .await
                .map_err(|e| flagged(e, &[("name", "NAME"), ("department_id", "--department")]))?;
            if json {
                println!("{}", team_json(&row));
            } else {
                println!("created team {} ({})", row.name, row.id);
            }
        }
        TeamCommand::Remove { team } => {
            let t = find_team(&org, "TEAM", &team)?;
            tutela.delete_team(&p, t.id).await.map_err(|e| flagged(e, &[]))?;
            if json {
                println!("{}", json!({ "removed": team_json(&t) }));
            } else {
                println!("removed team {} ({})", t.name, t.id);
            }
        }
    }
    Ok(Outcome::Ok)
}

async fn member(tutela: &Tutela, command: MemberCommand, json: bool) -> anyhow::Result<Outcome> {
    let MemberCommand::Set { user, department, team } = command;
    let p = operator();
    let org = tutela.access_settings(&p).await?.org.clone();
    let user = find_user(tutela, "USER", &user).await?;
    let department = department.map(|x| find_department(&org, "--department", &x)).transpose()?;
    let team = team.map(|x| find_team(&org, "--team", &x)).transpose()?;
    let input =
        MembershipInput { department_id: department.as_ref().map(|d| d.id), team_id: team.as_ref().map(|t| t.id) };
    tutela
        .set_membership(&p, user.id, input.clone())
        .await
        .map_err(|e| flagged(e, &[("department_id", "--department"), ("team_id", "--team")]))?;
    if json {
        println!(
            "{}",
            json!({ "user_id": user.id, "email": user.email, "department_id": input.department_id, "team_id": input.team_id })
        );
    } else {
        let name = |n: Option<&str>| n.map_or_else(|| "none".to_owned(), ToOwned::to_owned);
        println!(
            "{}: department {}, team {}",
            user.email,
            name(department.as_ref().map(|d| d.name.as_str())),
            name(team.as_ref().map(|t| t.name.as_str()))
        );
    }
    Ok(Outcome::Ok)
}
