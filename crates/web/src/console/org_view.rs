//! The organisation as the access pages show it: the department tree in display order, names
//! for ids, and the choices of a `<select>`.

use std::collections::BTreeSet;

use tutela_core::access::Org;
use uuid::Uuid;

/// One option of a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
        let value = value.into();
        Self { selected: value == current, value, label: label.into() }
    }
}

/// Indentation the stylesheet has classes for (`depth-0` … `depth-6`); deeper levels are
/// shown at the deepest.
pub const MAX_DEPTH: usize = 6;

/// The departments depth first, siblings by name, each with its depth. A department whose
/// parent is missing is shown as a root; a cycle (which the domain refuses) still ends.
pub fn tree(org: &Org) -> Vec<(Uuid, usize)> {
    let ids: BTreeSet<Uuid> = org.departments().iter().map(|d| d.id).collect();
    let children = |parent: Option<Uuid>| {
        let mut kids: Vec<_> = org
            .departments()
            .iter()
            .filter(|d| match parent {
                None => d.parent_id.is_none_or(|p| !ids.contains(&p)),
                Some(p) => d.parent_id == Some(p),
            })
            .collect();
        kids.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        kids.into_iter().map(|d| d.id).collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(Uuid, usize)> = children(None).into_iter().rev().map(|id| (id, 0)).collect();
    while let Some((id, depth)) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        out.push((id, depth));
        todo.extend(children(Some(id)).into_iter().rev().map(|c| (c, depth + 1)));
    }
    out
}

pub fn department_name(org: &Org, id: Option<Uuid>) -> String {
    id.and_then(|d| org.department(d)).map(|d| d.name.clone()).unwrap_or_default()
}

pub fn team_name(org: &Org, id: Option<Uuid>) -> String {
    id.and_then(|t| org.team(t)).map(|t| t.name.clone()).unwrap_or_default()
}

/// Departments as options, indented by depth, with "none" first; `except` is left out.
pub fn department_choices(org: &Org, current: &str, none: &str, except: Option<Uuid>) -> Vec<Choice> {
    let mut out = vec![Choice::new("", none, current)];
    for (id, depth) in tree(org).into_iter().filter(|(id, _)| Some(*id) != except) {
        let name = department_name(org, Some(id));
        out.push(Choice::new(id.to_string(), format!("{}{name}", "— ".repeat(depth)), current));
    }
    out
}

pub fn team_choices(org: &Org, current: &str, none: &str) -> Vec<Choice> {
    let mut teams: Vec<_> = org.teams().iter().collect();
    teams.sort_by(|a, b| a.name.cmp(&b.name));
    std::iter::once(Choice::new("", none, current))
        .chain(teams.into_iter().map(|t| Choice::new(t.id.to_string(), t.name.clone(), current)))
        .collect()
}

/// An optional id from a `<select>`: empty is none; anything else must be an id.
pub fn optional_id(raw: &str) -> Result<Option<Uuid>, ()> {
    let raw = raw.trim();
    if raw.is_empty() { Ok(None) } else { raw.parse().map(Some).map_err(|_| ()) }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use tutela_store::DepartmentRow;

    use super::*;

    fn dept(name: &str, parent: Option<Uuid>) -> DepartmentRow {
        DepartmentRow {
            id: Uuid::now_v7(),
            name: name.into(),
            parent_id: parent,
            created_at: OffsetDateTime::UNIX_EPOCH,
            manager_id: None,
        }
    }

    #[test]
    fn the_tree_is_depth_first_with_siblings_by_name() {
        let sales = dept("Sales", None);
        let north = dept("North", Some(sales.id));
        let east = dept("East", Some(sales.id));
        let finance = dept("Finance", None);
        let org = Org::new(vec![north.clone(), sales.clone(), finance.clone(), east.clone()], vec![], vec![]);
        assert_eq!(tree(&org), vec![(finance.id, 0), (sales.id, 0), (east.id, 1), (north.id, 1)]);
        let choices = department_choices(&org, &east.id.to_string(), "(none)", Some(finance.id));
        let labels: Vec<_> = choices.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["(none)", "Sales", "— East", "— North"]);
        assert!(choices[2].selected && !choices[1].selected);
    }
}
