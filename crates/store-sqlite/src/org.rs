//! Departments, teams, memberships, sharing rules and record shares.

use rusqlite::{Connection, Row, params};
use tutela_store::{
    DepartmentRow, MembershipRow, OrgChange, RecordShareRow, SharingRuleRow, StoreError, StoreResult, TeamRow,
};
use uuid::Uuid;

use crate::convert::{all_rows, col, from_micros, to_micros};
use crate::write::{exactly_one, exec};

pub(crate) fn departments(conn: &Connection) -> StoreResult<Vec<DepartmentRow>> {
    all_rows(conn, "SELECT id, name, parent_id, created_at FROM departments ORDER BY name", [], |r| {
        Ok(DepartmentRow {
            id: col(r, 0)?,
            name: col(r, 1)?,
            parent_id: col(r, 2)?,
            created_at: from_micros(col(r, 3)?)?,
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

fn delete_one(conn: &Connection, sql: &str, id: Uuid) -> StoreResult<()> {
    exactly_one(exec(conn, sql, [id])?, || StoreError::NotFound)
}

pub(crate) fn apply(conn: &Connection, change: &OrgChange) -> StoreResult<()> {
    match change {
        OrgChange::PutDepartment(d) => {
            exec(
                conn,
                "INSERT INTO departments (id, name, parent_id, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, parent_id = ?3",
                params![d.id, d.name, d.parent_id, to_micros(d.created_at)],
            )?;
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
    }
    Ok(())
}
