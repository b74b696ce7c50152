//! The organisation as one snapshot: the department tree, teams and who belongs where, with
//! the questions data scopes and sharing rules ask of it.

use std::collections::{BTreeSet, HashMap};

use tutela_store::{DepartmentRow, MembershipRow, TeamRow};
use uuid::Uuid;

use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, Default)]
pub struct Org {
    departments: Vec<DepartmentRow>,
    teams: Vec<TeamRow>,
    members: HashMap<Uuid, MembershipRow>,
    /// Children of each department.
    children: HashMap<Uuid, Vec<Uuid>>,
}

impl Org {
    pub fn new(departments: Vec<DepartmentRow>, teams: Vec<TeamRow>, memberships: Vec<MembershipRow>) -> Self {
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for d in &departments {
            if let Some(parent) = d.parent_id {
                children.entry(parent).or_default().push(d.id);
            }
        }
        let members = memberships.into_iter().map(|m| (m.user_id, m)).collect();
        Self { departments, teams, members, children }
    }

    pub fn departments(&self) -> &[DepartmentRow] {
        &self.departments
    }

    pub fn teams(&self) -> &[TeamRow] {
        &self.teams
    }

    pub fn department(&self, id: Uuid) -> Option<&DepartmentRow> {
        self.departments.iter().find(|d| d.id == id)
    }

    pub fn team(&self, id: Uuid) -> Option<&TeamRow> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn membership(&self, user: Uuid) -> Option<&MembershipRow> {
        self.members.get(&user)
    }

    pub fn department_of(&self, user: Uuid) -> Option<Uuid> {
        self.members.get(&user).and_then(|m| m.department_id)
    }

    pub fn team_of(&self, user: Uuid) -> Option<Uuid> {
        self.members.get(&user).and_then(|m| m.team_id)
    }

    /// The department and every department below it. The walk remembers where it has been,
    /// so even a cycle written behind the domain's back ends.
    pub fn subtree(&self, root: Uuid) -> BTreeSet<Uuid> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![root];
        while let Some(d) = todo.pop() {
            if seen.insert(d) {
                todo.extend(self.children.get(&d).into_iter().flatten().copied());
            }
        }
        seen
    }

    /// The department and the departments above it, nearest first.
    pub fn ancestry(&self, start: Uuid) -> Vec<Uuid> {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(d) = at {
            if path.contains(&d) {
                break;
            }
            path.push(d);
            at = self.department(d).and_then(|row| row.parent_id);
        }
        path
    }

    /// Users whose department is one of `departments`.
    pub fn members_of_departments<'a>(&'a self, departments: &'a BTreeSet<Uuid>) -> impl Iterator<Item = Uuid> + 'a {
        self.members
            .values()
            .filter(move |m| m.department_id.is_some_and(|d| departments.contains(&d)))
            .map(|m| m.user_id)
    }

    pub fn members_of_team(&self, team: Uuid) -> impl Iterator<Item = Uuid> + '_ {
        self.members.values().filter(move |m| m.team_id == Some(team)).map(|m| m.user_id)
    }

    /// Refuses a parent that would put the department under itself.
    pub fn check_parent(&self, department: Uuid, parent: Option<Uuid>) -> CoreResult<()> {
        let Some(parent) = parent else {
            return Ok(());
        };
        if self.department(parent).is_none() {
            return Err(CoreError::invalid("parent_id", format!("no department {parent}")));
        }
        if self.ancestry(parent).contains(&department) {
            return Err(CoreError::invalid(
                "parent_id",
                "that parent is the department itself or one below it: the tree would have a cycle",
            ));
        }
        Ok(())
    }
}
