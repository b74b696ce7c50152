//! Departments, teams, memberships, sharing rules and record shares.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tutela_store::{
    BreakGlassRow, DepartmentRow, MembershipRow, NetworkRuleRow, OrgChange, RecordShareRow, SharingRuleRow, StoreError,
    StoreResult, TeamRow,
};
use uuid::Uuid;

use crate::convert::{backend_err, json_list, parse_json_list};
use crate::write::PgWriteTx;

async fn all(pool: &PgPool, sql: &str) -> StoreResult<Vec<PgRow>> {
    sqlx::query(sql).fetch_all(pool).await.map_err(backend_err)
}

pub(crate) async fn departments(pool: &PgPool) -> StoreResult<Vec<DepartmentRow>> {
    let rows = all(pool, "SELECT id, name, parent_id, created_at, manager_id FROM departments ORDER BY name").await?;
    Ok(rows
        .iter()
        .map(|r| DepartmentRow {
            id: r.get(0),
            name: r.get(1),
            parent_id: r.get(2),
            created_at: r.get(3),
            manager_id: r.get(4),
        })
        .collect())
}

pub(crate) async fn teams(pool: &PgPool) -> StoreResult<Vec<TeamRow>> {
    let rows = all(pool, "SELECT id, name, department_id, created_at FROM teams ORDER BY name").await?;
    Ok(rows
        .iter()
        .map(|r| TeamRow { id: r.get(0), name: r.get(1), department_id: r.get(2), created_at: r.get(3) })
        .collect())
}

pub(crate) async fn memberships(pool: &PgPool) -> StoreResult<Vec<MembershipRow>> {
    let rows = all(pool, "SELECT user_id, department_id, team_id FROM memberships").await?;
    Ok(rows.iter().map(|r| MembershipRow { user_id: r.get(0), department_id: r.get(1), team_id: r.get(2) }).collect())
}

pub(crate) async fn role_assignments(pool: &PgPool) -> StoreResult<Vec<(Uuid, Uuid)>> {
    let rows = all(pool, "SELECT user_id, role_id FROM user_roles ORDER BY user_id, role_id").await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(crate) async fn sharing_rules(pool: &PgPool) -> StoreResult<Vec<SharingRuleRow>> {
    let rows = all(
        pool,
        "SELECT id, name, field_id, value, grantee_kind, grantee_id, access, created_at FROM sharing_rules
         ORDER BY name",
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| SharingRuleRow {
            id: r.get(0),
            name: r.get(1),
            field_id: r.get(2),
            value: r.get(3),
            grantee_kind: r.get(4),
            grantee_id: r.get(5),
            access: r.get(6),
            created_at: r.get(7),
        })
        .collect())
}

/// Shares whose `column` (`user_id` or `customer_id`) is `id`, newest first.
pub(crate) async fn shares_where(pool: &PgPool, column: &'static str, id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
    let rows = sqlx::query(&format!(
        "SELECT id, customer_id, user_id, access, reason, granted_by, created_at, expires_at FROM record_shares
         WHERE {column} = $1 ORDER BY created_at DESC, id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows
        .iter()
        .map(|r| RecordShareRow {
            id: r.get(0),
            customer_id: r.get(1),
            user_id: r.get(2),
            access: r.get(3),
            reason: r.get(4),
            granted_by: r.get(5),
            created_at: r.get(6),
            expires_at: r.get(7),
        })
        .collect())
}

pub(crate) async fn network_rules(pool: &PgPool) -> StoreResult<Vec<NetworkRuleRow>> {
    let rows = all(
        pool,
        "SELECT subject_kind, subject_id, networks::text, updated_at FROM network_rules
         ORDER BY subject_kind, subject_id",
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NetworkRuleRow {
                subject_kind: r.get(0),
                subject_id: r.get(1),
                networks: parse_json_list("network_rules.networks", r.get(2))?,
                updated_at: r.get(3),
            })
        })
        .collect()
}

const BREAK_GLASS_COLUMNS: &str =
    "id, customer_id, user_id, justification, status, minutes, requested_at, decided_by, decided_at, expires_at";

/// Break-glass requests whose `column` is `id` (or all of them with `None`), newest first.
pub(crate) async fn break_glass_where(
    pool: &PgPool,
    filter: Option<(&'static str, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<BreakGlassRow>> {
    let condition = filter.map_or("$1::uuid IS NULL".to_owned(), |(column, _)| format!("{column} = $1"));
    let rows = sqlx::query(&format!(
        "SELECT {BREAK_GLASS_COLUMNS} FROM break_glass WHERE {condition} ORDER BY requested_at DESC, id LIMIT $2"
    ))
    .bind(filter.map(|(_, id)| id))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows
        .iter()
        .map(|r| BreakGlassRow {
            id: r.get(0),
            customer_id: r.get(1),
            user_id: r.get(2),
            justification: r.get(3),
            status: r.get(4),
            minutes: r.get(5),
            requested_at: r.get(6),
            decided_by: r.get(7),
            decided_at: r.get(8),
            expires_at: r.get(9),
        })
        .collect())
}

impl PgWriteTx {
    async fn delete_one(&mut self, sql: &str, id: Uuid) -> StoreResult<()> {
        if self.exec(sqlx::query(sql).bind(id)).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces a subject's ranges; an empty list removes the row.
    async fn set_network_rule(&mut self, n: &NetworkRuleRow) -> StoreResult<()> {
        if n.networks.is_empty() {
            self.exec(
                sqlx::query("DELETE FROM network_rules WHERE subject_kind = $1 AND subject_id = $2")
                    .bind(&n.subject_kind)
                    .bind(n.subject_id),
            )
            .await?;
        } else {
            self.exec(
                sqlx::query(
                    "INSERT INTO network_rules (subject_kind, subject_id, networks, updated_at)
                     VALUES ($1, $2, $3::jsonb, $4)
                     ON CONFLICT (subject_kind, subject_id) DO UPDATE SET networks = $3::jsonb, updated_at = $4",
                )
                .bind(&n.subject_kind)
                .bind(n.subject_id)
                .bind(json_list(&n.networks))
                .bind(n.updated_at),
            )
            .await?;
        }
        Ok(())
    }

    async fn put_break_glass(&mut self, b: &BreakGlassRow) -> StoreResult<()> {
        self.exec(
            sqlx::query(&format!(
                "INSERT INTO break_glass ({BREAK_GLASS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET status = $5, decided_by = $8, decided_at = $9, expires_at = $10"
            ))
            .bind(b.id)
            .bind(b.customer_id)
            .bind(b.user_id)
            .bind(&b.justification)
            .bind(&b.status)
            .bind(b.minutes)
            .bind(b.requested_at)
            .bind(b.decided_by)
            .bind(b.decided_at)
            .bind(b.expires_at),
        )
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_lines)] // one arm per change reads better than a dispatch table
    pub(crate) async fn apply_org(&mut self, change: &OrgChange) -> StoreResult<()> {
        match change {
            OrgChange::PutDepartment(d) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO departments (id, name, parent_id, created_at, manager_id)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (id) DO UPDATE SET name = $2, parent_id = $3, manager_id = $5",
                    )
                    .bind(d.id)
                    .bind(&d.name)
                    .bind(d.parent_id)
                    .bind(d.created_at)
                    .bind(d.manager_id),
                )
                .await?;
            }
            OrgChange::SetDepartmentManager { id, manager_id } => {
                let n = self
                    .exec(sqlx::query("UPDATE departments SET manager_id = $2 WHERE id = $1").bind(id).bind(manager_id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            OrgChange::DeleteDepartment { id } => {
                self.exec(sqlx::query("UPDATE memberships SET department_id = NULL WHERE department_id = $1").bind(id))
                    .await?;
                self.delete_one("DELETE FROM departments WHERE id = $1", *id).await?;
            }
            OrgChange::PutTeam(t) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO teams (id, name, department_id, created_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (id) DO UPDATE SET name = $2, department_id = $3",
                    )
                    .bind(t.id)
                    .bind(&t.name)
                    .bind(t.department_id)
                    .bind(t.created_at),
                )
                .await?;
            }
            OrgChange::DeleteTeam { id } => {
                self.exec(sqlx::query("UPDATE memberships SET team_id = NULL WHERE team_id = $1").bind(id)).await?;
                self.delete_one("DELETE FROM teams WHERE id = $1", *id).await?;
            }
            OrgChange::SetMembership(m) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO memberships (user_id, department_id, team_id) VALUES ($1, $2, $3)
                         ON CONFLICT (user_id) DO UPDATE SET department_id = $2, team_id = $3",
                    )
                    .bind(m.user_id)
                    .bind(m.department_id)
                    .bind(m.team_id),
                )
                .await?;
            }
            OrgChange::PutSharingRule(r) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO sharing_rules (id, name, field_id, value, grantee_kind, grantee_id, access,
                         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (id) DO UPDATE SET name = $2, field_id = $3, value = $4, grantee_kind = $5,
                         grantee_id = $6, access = $7",
                    )
                    .bind(r.id)
                    .bind(&r.name)
                    .bind(&r.field_id)
                    .bind(&r.value)
                    .bind(&r.grantee_kind)
                    .bind(r.grantee_id)
                    .bind(&r.access)
                    .bind(r.created_at),
                )
                .await?;
            }
            OrgChange::DeleteSharingRule { id } => {
                self.delete_one("DELETE FROM sharing_rules WHERE id = $1", *id).await?;
            }
            OrgChange::InsertRecordShare(s) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO record_shares (id, customer_id, user_id, access, reason, granted_by, created_at,
                         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(s.id)
                    .bind(s.customer_id)
                    .bind(s.user_id)
                    .bind(&s.access)
                    .bind(&s.reason)
                    .bind(s.granted_by)
                    .bind(s.created_at)
                    .bind(s.expires_at),
                )
                .await?;
            }
            OrgChange::DeleteRecordShare { id } => {
                self.delete_one("DELETE FROM record_shares WHERE id = $1", *id).await?;
            }
            OrgChange::PutBreakGlass(b) => self.put_break_glass(b).await?,
            OrgChange::SetNetworkRule(n) => self.set_network_rule(n).await?,
        }
        Ok(())
    }
}
