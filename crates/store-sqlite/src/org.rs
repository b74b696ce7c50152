//! Departments, teams, memberships, sharing rules and record shares.

use rusqlite::{Connection, Row, params};
use tutela_store::{
    BreakGlassRow, DepartmentRow, MembershipRow, NetworkRuleRow, OrgChange, RecordShareRow, SharingRuleRow, StoreError,
    StoreResult, TeamRow,
};
use uuid::Uuid;

use crate::convert::{all_rows, col, from_micros, json_list, opt_from_micros, parse_json_list, to_micros};
use crate::write::{exactly_one, exec};

pub(crate) fn departments(conn: &Connection) -> StoreResult<Vec<DepartmentRow>> {
    all_rows(conn, "SELECT id, name, parent_id, created_at, manager_id FROM departments ORDER BY name", [], |r| {
        Ok(DepartmentRow {
            id: col(r, 0)?,
            name: col(r, 1)?,
            parent_id: col(r, 2)?,
            created_at: from_micros(col(r, 3)?)?,
            manager_id: col(r, 4)?,
        })
    })
}

pub(crate) fn teams(conn: &Connection) -> StoreResult<Vec<TeamRow>> {
    all_rows(conn, "SELECT id, name, department_id, created_at FROM teams ORDER BY name", [], |r| {
        Ok(TeamRow {
            id: col(r, 0)?,
            name: col(r, 1)?,
            department_id: col(r, 2)?,
            created_at: from_micros(col(r, 3)?)?,
        })
    })
}

pub(crate) fn memberships(conn: &Connection) -> StoreResult<Vec<MembershipRow>> {
    all_rows(conn, "SELECT user_id, department_id, team_id FROM memberships", [], |r| {
        Ok(MembershipRow { user_id: col(r, 0)?, department_id: col(r, 1)?, team_id: col(r, 2)? })
    })
}

pub(crate) fn role_assignments(conn: &Connection) -> StoreResult<Vec<(Uuid, Uuid)>> {
    all_rows(conn, "SELECT user_id, role_id FROM user_roles ORDER BY user_id, role_id", [], |r| {
        Ok((col(r, 0)?, col(r, 1)?))
    })
}

pub(crate) fn sharing_rules(conn: &Connection) -> StoreResult<Vec<SharingRuleRow>> {
    all_rows(
        conn,
        "SELECT id, name, field_id, value, grantee_kind, grantee_id, access, created_at FROM sharing_rules
         ORDER BY name",
        [],
        |r| {
            Ok(SharingRuleRow {
                id: col(r, 0)?,
                name: col(r, 1)?,
                field_id: col(r, 2)?,
                value: col(r, 3)?,
                grantee_kind: col(r, 4)?,
                grantee_id: col(r, 5)?,
                access: col(r, 6)?,
                created_at: from_micros(col(r, 7)?)?,
            })
        },
    )
}

fn share_from_row(r: &Row<'_>) -> StoreResult<RecordShareRow> {
    Ok(RecordShareRow {
        id: col(r, 0)?,
        customer_id: col(r, 1)?,
        user_id: col(r, 2)?,
        access: col(r, 3)?,
        reason: col(r, 4)?,
        granted_by: col(r, 5)?,
        created_at: from_micros(col(r, 6)?)?,
        expires_at: from_micros(col(r, 7)?)?,
    })
}

/// Shares whose `column` (`user_id` or `customer_id`) is `id`, newest first.
pub(crate) fn shares_where(conn: &Connection, column: &'static str, id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT id, customer_id, user_id, access, reason, granted_by, created_at, expires_at FROM record_shares
             WHERE {column} = ?1 ORDER BY created_at DESC, id"
        ),
        [id],
        share_from_row,
    )
}

pub(crate) fn network_rules(conn: &Connection) -> StoreResult<Vec<NetworkRuleRow>> {
    all_rows(
        conn,
        "SELECT subject_kind, subject_id, networks, updated_at FROM network_rules ORDER BY subject_kind, subject_id",
        [],
        |r| {
            Ok(NetworkRuleRow {
                subject_kind: col(r, 0)?,
                subject_id: col(r, 1)?,
                networks: parse_json_list("network_rules.networks", &col::<String>(r, 2)?)?,
                updated_at: from_micros(col(r, 3)?)?,
            })
        },
    )
}

/// Replaces a subject's ranges; an empty list removes the row.
fn set_network_rule(conn: &Connection, n: &NetworkRuleRow) -> StoreResult<()> {
    if n.networks.is_empty() {
        exec(
            conn,
            "DELETE FROM network_rules WHERE subject_kind = ?1 AND subject_id = ?2",
            params![n.subject_kind, n.subject_id],
        )?;
    } else {
        exec(
            conn,
            "INSERT INTO network_rules (subject_kind, subject_id, networks, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (subject_kind, subject_id) DO UPDATE SET networks = ?3, updated_at = ?4",
            params![n.subject_kind, n.subject_id, json_list(&n.networks), to_micros(n.updated_at)],
        )?;
    }
    Ok(())
}

const BREAK_GLASS_COLUMNS: &str =
    "id, customer_id, user_id, justification, status, minutes, requested_at, decided_by, decided_at, expires_at";

fn break_glass_from_row(r: &Row<'_>) -> StoreResult<BreakGlassRow> {
    Ok(BreakGlassRow {
        id: col(r, 0)?,
        customer_id: col(r, 1)?,
        user_id: col(r, 2)?,
        justification: col(r, 3)?,
        status: col(r, 4)?,
        minutes: col(r, 5)?,
        requested_at: from_micros(col(r, 6)?)?,
        decided_by: col(r, 7)?,
        decided_at: opt_from_micros(col(r, 8)?)?,
        expires_at: opt_from_micros(col(r, 9)?)?,
    })
}

/// Break-glass requests whose `column` is `id` (or all of them with `None`), newest first.
pub(crate) fn break_glass_where(
    conn: &Connection,
    filter: Option<(&'static str, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<BreakGlassRow>> {
    let condition = filter.map_or("?1 IS NULL".to_owned(), |(column, _)| format!("{column} = ?1"));
    all_rows(
        conn,
        &format!(
            "SELECT {BREAK_GLASS_COLUMNS} FROM break_glass WHERE {condition} ORDER BY requested_at DESC, id LIMIT ?2"
        ),
        params![filter.map(|(_, id)| id), i64::from(limit)],
        break_glass_from_row,
    )
}

fn delete_one(conn: &Connection, sql: &str, id: Uuid) -> StoreResult<()> {
    exactly_one(exec(conn, sql, [id])?, || StoreError::NotFound)
}

pub(crate) fn apply(conn: &Connection, change: &OrgChange) -> StoreResult<()> {
    match change {
        OrgChange::PutDepartment(d) => {
            exec(
                conn,
                "INSERT INTO departments (id, name, parent_id, created_at, manager_id) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, parent_id = ?3, manager_id = ?5",
                params![d.id, d.name, d.parent_id, to_micros(d.created_at), d.manager_id],
            )?;
        }
        OrgChange::SetDepartmentManager { id, manager_id } => {
            let changed = exec(conn, "UPDATE departments SET manager_id = ?2 WHERE id = ?1", params![id, manager_id])?;
            exactly_one(changed, || StoreError::NotFound)?;
        }
        OrgChange::DeleteDepartment { id } => {
            exec(conn, "UPDATE memberships SET department_id = NULL WHERE department_id = ?1", [id])?;
            delete_one(conn, "DELETE FROM departments WHERE id = ?1", *id)?;
        }
        OrgChange::PutTeam(t) => {
            exec(
                conn,
                "INSERT INTO teams (id, name, department_id, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, department_id = ?3",
                params![t.id, t.name, t.department_id, to_micros(t.created_at)],
            )?;
        }
        OrgChange::DeleteTeam { id } => {
            exec(conn, "UPDATE memberships SET team_id = NULL WHERE team_id = ?1", [id])?;
            delete_one(conn, "DELETE FROM teams WHERE id = ?1", *id)?;
        }
        OrgChange::SetMembership(m) => {
            exec(
                conn,
                "INSERT INTO memberships (user_id, department_id, team_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id) DO UPDATE SET department_id = ?2, team_id = ?3",
                params![m.user_id, m.department_id, m.team_id],
            )?;
        }
        OrgChange::PutSharingRule(r) => {
            exec(
                conn,
                "INSERT INTO sharing_rules (id, name, field_id, value, grantee_kind, grantee_id, access, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, field_id = ?3, value = ?4, grantee_kind = ?5,
                 grantee_id = ?6, access = ?7",
                params![
                    r.id,
                    r.name,
                    r.field_id,
                    r.value,
                    r.grantee_kind,
                    r.grantee_id,
                    r.access,
                    to_micros(r.created_at)
                ],
            )?;
        }
        OrgChange::DeleteSharingRule { id } => delete_one(conn, "DELETE FROM sharing_rules WHERE id = ?1", *id)?,
        OrgChange::InsertRecordShare(s) => {
            exec(
                conn,
                "INSERT INTO record_shares (id, customer_id, user_id, access, reason, granted_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    s.id,
                    s.customer_id,
                    s.user_id,
                    s.access,
                    s.reason,
                    s.granted_by,
                    to_micros(s.created_at),
                    to_micros(s.expires_at)
                ],
            )?;
        }
        OrgChange::DeleteRecordShare { id } => delete_one(conn, "DELETE FROM record_shares WHERE id = ?1", *id)?,
        OrgChange::SetNetworkRule(n) => set_network_rule(conn, n)?,
        OrgChange::PutBreakGlass(b) => {
            exec(
                conn,
                &format!(
                    "INSERT INTO break_glass ({BREAK_GLASS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (id) DO UPDATE SET status = ?5, decided_by = ?8, decided_at = ?9, expires_at = ?10"
                ),
                params![
                    b.id,
                    b.customer_id,
                    b.user_id,
                    b.justification,
                    b.status,
                    b.minutes,
                    to_micros(b.requested_at),
                    b.decided_by,
                    b.decided_at.map(to_micros),
                    b.expires_at.map(to_micros)
                ],
            )?;
        }
    }
    Ok(())
}
