//! The scheduler's leases and run history, each statement committed on its own outside the
//! audit-chain lock (see the `Store` trait on why these bypass `WriteTx`).

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use tutela_store::{JobLeaseRow, JobRunRow, StoreResult};

use crate::convert::backend_err;

const RUN_COLUMNS: &str = "id, kind, node, started_at, finished_at, status, done, total, summary";

fn run_from_row(r: &PgRow) -> JobRunRow {
    JobRunRow {
        id: r.get(0),
        kind: r.get(1),
        node: r.get(2),
        started_at: r.get(3),
        finished_at: r.get(4),
        status: r.get(5),
        done: r.get(6),
        total: r.get(7),
        summary: r.get(8),
    }
}

/// One statement: the row is written only where the lease is free, lapsed or already the
/// holder's. Two nodes racing on a free kind conflict on the primary key and `ON CONFLICT`
/// re-checks the condition against the winner's row, so exactly one gets a row back.
pub(crate) async fn lease_acquire(
    pool: &PgPool,
    kind: &str,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> StoreResult<bool> {
    let row = sqlx::query(
        "INSERT INTO job_leases (kind, holder, lease_until) VALUES ($1, $2, $4)
         ON CONFLICT (kind) DO UPDATE SET holder = $2, lease_until = $4
         WHERE job_leases.holder = $2 OR job_leases.lease_until <= $3
         RETURNING kind",
    )
    .bind(kind)
    .bind(holder)
    .bind(now)
    .bind(until)
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    Ok(row.is_some())
}

pub(crate) async fn lease_release(pool: &PgPool, kind: &str, holder: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM job_leases WHERE kind = $1 AND holder = $2")
        .bind(kind)
        .bind(holder)
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn leases(pool: &PgPool) -> StoreResult<Vec<JobLeaseRow>> {
    let rows = sqlx::query("SELECT kind, holder, lease_until FROM job_leases ORDER BY kind")
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    Ok(rows.iter().map(|r| JobLeaseRow { kind: r.get(0), holder: r.get(1), lease_until: r.get(2) }).collect())
}

pub(crate) async fn run_put(pool: &PgPool, r: &JobRunRow) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO job_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET finished_at = $5, status = $6, done = $7, total = $8, summary = $9"
    ))
    .bind(r.id)
    .bind(&r.kind)
    .bind(&r.node)
    .bind(r.started_at)
    .bind(r.finished_at)
    .bind(&r.status)
    .bind(r.done)
    .bind(r.total)
    .bind(&r.summary)
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn runs(pool: &PgPool, kind: Option<&str>, limit: u32) -> StoreResult<Vec<JobRunRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM job_runs WHERE $1::text IS NULL OR kind = $1
         ORDER BY started_at DESC, id DESC LIMIT $2"
    ))
    .bind(kind)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows.iter().map(run_from_row).collect())
}
