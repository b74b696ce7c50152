//! Audit events and checkpoints.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tutela_store::{AuditCheckpoint, AuditFilter, AuditRecord, StoreResult};

use crate::convert::{backend_err, hash32, parse_json_list, to_u32};

const COLUMNS: &str =
    "seq, at, actor_id, actor, action, outcome, customer_id, fields::text, purpose, source, detail, hash";

fn record_from_row(r: &PgRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0),
        at: r.get(1),
        actor_id: r.get(2),
        actor: r.get(3),
        action: r.get(4),
        outcome: r.get(5),
        customer_id: r.get(6),
        fields: parse_json_list("audit_events.fields", r.get(7))?,
        purpose: r.get(8),
        source: r.get(9),
        detail: r.get(10),
        hash: hash32(r.get(11))?,
    })
}

pub(crate) async fn head<'e, E: sqlx::Executor<'e, Database = Postgres>>(
    exec: E,
) -> StoreResult<Option<(i64, [u8; 32])>> {
    let row = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(exec)
        .await
        .map_err(backend_err)?;
    row.map(|r| Ok((r.get(0), hash32(r.get(1))?))).transpose()
}

pub(crate) async fn scan(pool: &PgPool, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"))
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter().map(record_from_row).collect()
}

pub(crate) async fn search(pool: &PgPool, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM audit_events WHERE TRUE"));
    if let Some(actor) = f.actor_id {
        sql.push(" AND actor_id = ").push_bind(actor);
    }
    if let Some(action) = &f.action {
        sql.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(customer) = f.customer_id {
        sql.push(" AND customer_id = ").push_bind(customer);
    }
    if let Some(from) = f.from {
        sql.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        sql.push(" AND at < ").push_bind(to);
    }
    if let Some(before) = f.before_seq {
        sql.push(" AND seq < ").push_bind(before);
    }
    sql.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(f.limit));
    let rows = sql.build().fetch_all(pool).await.map_err(backend_err)?;
    rows.iter().map(record_from_row).collect()
}

pub(crate) async fn checkpoints(pool: &PgPool) -> StoreResult<Vec<AuditCheckpoint>> {
    let rows = sqlx::query("SELECT seq, hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq")
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter()
        .map(|r| {
            Ok(AuditCheckpoint {
                seq: r.get(0),
                hash: hash32(r.get(1))?,
                at: r.get(2),
                key_version: to_u32(r.get(3))?,
                signature: r.get(4),
            })
        })
        .collect()
}
