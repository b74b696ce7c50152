//! The scheduler's leases and run history. Each statement is its own transaction on the
//! writer connection (see the `Store` trait on why these bypass `WriteTx`).

use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use tutela_store::{JobLeaseRow, JobRunRow, StoreResult};

use crate::convert::{all_rows, col, from_micros, opt_from_micros, to_micros};
use crate::write::exec;

const RUN_COLUMNS: &str = "id, kind, node, started_at, finished_at, status, done, total, summary";

fn run_from_row(r: &Row<'_>) -> StoreResult<JobRunRow> {
    Ok(JobRunRow {
        id: col(r, 0)?,
        kind: col(r, 1)?,
        node: col(r, 2)?,
        started_at: from_micros(col(r, 3)?)?,
        finished_at: opt_from_micros(col(r, 4)?)?,
        status: col(r, 5)?,
        done: col(r, 6)?,
        total: col(r, 7)?,
        summary: col(r, 8)?,
    })
}

/// The conditional upsert changes a row only where the lease is free, lapsed or already the
/// holder's; `SQLite` runs the statement under its write lock, so it is atomic.
pub(crate) fn lease_acquire(
    conn: &Connection,
    kind: &str,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> StoreResult<bool> {
    let changed = exec(
        conn,
        "INSERT INTO job_leases (kind, holder, lease_until) VALUES (?1, ?2, ?4)
         ON CONFLICT (kind) DO UPDATE SET holder = ?2, lease_until = ?4
         WHERE job_leases.holder = ?2 OR job_leases.lease_until <= ?3",
        params![kind, holder, to_micros(now), to_micros(until)],
    )?;
    Ok(changed == 1)
}

pub(crate) fn lease_release(conn: &Connection, kind: &str, holder: &str) -> StoreResult<()> {
    exec(conn, "DELETE FROM job_leases WHERE kind = ?1 AND holder = ?2", params![kind, holder])?;
    Ok(())
}

pub(crate) fn leases(conn: &Connection) -> StoreResult<Vec<JobLeaseRow>> {
    all_rows(conn, "SELECT kind, holder, lease_until FROM job_leases ORDER BY kind", [], |r| {
        Ok(JobLeaseRow { kind: col(r, 0)?, holder: col(r, 1)?, lease_until: from_micros(col(r, 2)?)? })
    })
}

pub(crate) fn run_put(conn: &Connection, r: &JobRunRow) -> StoreResult<()> {
    exec(
        conn,
        &format!(
            "INSERT INTO job_runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET finished_at = ?5, status = ?6, done = ?7, total = ?8, summary = ?9"
        ),
        params![
            r.id,
            r.kind,
            r.node,
            to_micros(r.started_at),
            r.finished_at.map(to_micros),
            r.status,
            r.done,
            r.total,
            r.summary
        ],
    )?;
    Ok(())
}

pub(crate) fn runs(conn: &Connection, kind: Option<&str>, limit: u32) -> StoreResult<Vec<JobRunRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT {RUN_COLUMNS} FROM job_runs WHERE ?1 IS NULL OR kind = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2"
        ),
        params![kind, i64::from(limit)],
        run_from_row,
    )
}
