//! Audit events by customer, actor, action and time: filed in batches, not indexed per event
//! (see migrations 0003 and 0013 for why).
//!
//! Once `FILE_EVERY` events wait, the commit that appends more files them: sorted entries
//! keyed by bucket (`seq >> BUCKET_BITS`) for customers, actors and actions, and one time
//! zone for the batch. A search takes what is filed through these and scans the events after
//! `filed_upto`, fewer than `FILE_EVERY` plus one commit's.

use rusqlite::{Connection, params};
use time::OffsetDateTime;
use tutela_store::StoreResult;

use crate::convert::{backend_err, to_micros, write_err};
use crate::query_text::QueryText;

/// Events filed at a time: once this many are waiting, the commit that appends more files them.
const FILE_EVERY: i64 = 10_000;
/// `seq >> BUCKET_BITS` is an event's bucket.
const BUCKET_BITS: u32 = 16;

/// A column of `audit_events` filed by bucket, with the table that files it.
#[derive(Clone, Copy)]
pub(crate) enum Filed {
    Customer,
    Actor,
    Action,
}

impl Filed {
    const ALL: [Filed; 3] = [Filed::Customer, Filed::Actor, Filed::Action];

    fn table(self) -> &'static str {
        match self {
            Filed::Customer => "audit_customer_index",
            Filed::Actor => "audit_actor_index",
            Filed::Action => "audit_action_index",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Filed::Customer => "customer_id",
            Filed::Actor => "actor_id",
            Filed::Action => "action",
        }
    }
}

/// Within a write transaction, after events up to `head` were appended: files the waiting
/// events if there are enough of them.
pub(crate) fn file_if_due(conn: &Connection, head: i64) -> StoreResult<()> {
    let upto = filed_upto(conn)?;
    if head - upto < FILE_EVERY {
        return Ok(());
    }
    for filed in Filed::ALL {
        let (table, column) = (filed.table(), filed.column());
        // Sorted by key, so that each index page is written once.
        conn.prepare_cached(&format!(
            "INSERT INTO {table} (bucket, {column}, seq)
             SELECT seq >> ?3, {column}, seq FROM audit_events
             WHERE seq > ?1 AND seq <= ?2 AND {column} IS NOT NULL
             ORDER BY seq >> ?3, {column}, seq"
        ))
        .and_then(|mut s| s.execute(params![upto, head, BUCKET_BITS]))
        .map_err(write_err)?;
    }
    conn.prepare_cached(
        "INSERT INTO audit_time_zones (first_seq, last_seq, min_at, max_at)
         SELECT MIN(seq), MAX(seq), MIN(at), MAX(at) FROM audit_events WHERE seq > ?1 AND seq <= ?2",
    )
    .and_then(|mut s| s.execute([upto, head]))
    .map_err(write_err)?;
    conn.prepare_cached("UPDATE audit_customer_index_state SET filed_upto = ?1 WHERE id = 1")
        .and_then(|mut s| s.execute([head]))
        .map_err(write_err)?;
    Ok(())
}

fn filed_upto(conn: &Connection) -> StoreResult<i64> {
    conn.prepare_cached("SELECT filed_upto FROM audit_customer_index_state WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(backend_err)
}

/// Appends to `text` a condition selecting the events whose `filed` column is `value`: those
/// filed, one probe per bucket, and those after the filed ones.
pub(crate) fn push_condition(
    conn: &Connection,
    text: &mut QueryText,
    filed: Filed,
    value: impl Into<rusqlite::types::Value> + Clone,
) -> StoreResult<()> {
    let upto = filed_upto(conn)?;
    let (table, column) = (filed.table(), filed.column());
    text.push(" AND seq IN (WITH RECURSIVE buckets(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM buckets WHERE b < ")
        .bind(upto >> BUCKET_BITS)
        .push(&format!(") SELECT seq FROM {table} WHERE bucket IN (SELECT b FROM buckets) AND {column} = "))
        .bind(value.clone())
        .push(" UNION ALL SELECT seq FROM audit_events WHERE seq > ")
        .bind(upto)
        .push(&format!(" AND {column} = "))
        .bind(value)
        .push(")");
    Ok(())
}

/// Appends to `text` the time range `[from, to)` and the events that may hold it: those of
/// the filed batches whose zone meets the range, and those not yet filed.
pub(crate) fn push_time_range(
    conn: &Connection,
    text: &mut QueryText,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> StoreResult<()> {
    let (from, to) = (from.map(to_micros), to.map(to_micros));
    if let Some(from) = from {
        text.push(" AND at >= ").bind(from);
    }
    if let Some(to) = to {
        text.push(" AND at < ").bind(to);
    }
    let upto = filed_upto(conn)?;
    let (low, high): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT MIN(first_seq), MAX(last_seq) FROM audit_time_zones
             WHERE max_at >= COALESCE(?1, max_at) AND min_at < COALESCE(?2, min_at + 1)",
        )
        .and_then(|mut s| s.query_row(params![from, to], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(backend_err)?;
    match (low, high) {
        // The zones met lie between `low` and `high`; batches in between that miss the range
        // are scanned too, which only happens when the clock stepped back.
        (Some(low), Some(high)) => {
            text.push(" AND (seq BETWEEN ").bind(low).push(" AND ").bind(high).push(" OR seq > ").bind(upto).push(")");
        }
        _ => {
            text.push(" AND seq > ").bind(upto);
        }
    }
    Ok(())
}
