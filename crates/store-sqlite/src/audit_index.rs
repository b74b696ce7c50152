//! Audit events by customer: filed in batches, found by bucket (see migration 0003 for why).

use rusqlite::{Connection, params};
use tutela_store::StoreResult;

use crate::convert::{backend_err, write_err};
use crate::query_text::QueryText;

/// Events filed at a time: once this many are waiting, the commit that appends more files them.
const FILE_EVERY: i64 = 10_000;
/// `seq >> BUCKET_BITS` is an event's bucket.
const BUCKET_BITS: u32 = 16;

/// Within a write transaction, after events up to `head` were appended: files the waiting
/// events if there are enough of them.
pub(crate) fn file_if_due(conn: &Connection, head: i64) -> StoreResult<()> {
    let upto = filed_upto(conn)?;
    if head - upto < FILE_EVERY {
        return Ok(());
    }
    // Sorted by key, so that each index page is written once.
    conn.prepare_cached(
        "INSERT INTO audit_customer_index (bucket, customer_id, seq)
         SELECT seq >> ?3, customer_id, seq FROM audit_events
         WHERE seq > ?1 AND seq <= ?2 AND customer_id IS NOT NULL
         ORDER BY seq >> ?3, customer_id, seq",
    )
    .and_then(|mut s| s.execute(params![upto, head, BUCKET_BITS]))
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

/// Appends to `text` a condition selecting the events of `customer`: those filed, one probe
/// per bucket, and those after the filed ones.
pub(crate) fn push_customer_condition(
    conn: &Connection,
    text: &mut QueryText,
    customer: uuid::Uuid,
) -> StoreResult<()> {
    let upto = filed_upto(conn)?;
    text.push(" AND seq IN (WITH RECURSIVE buckets(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM buckets WHERE b < ")
        .bind(upto >> BUCKET_BITS)
        .push(") SELECT seq FROM audit_customer_index WHERE bucket IN (SELECT b FROM buckets) AND customer_id = ")
        .bind_id(customer)
        .push(" UNION ALL SELECT seq FROM audit_events WHERE seq > ")
        .bind(upto)
        .push(" AND customer_id = ")
        .bind_id(customer)
        .push(")");
    Ok(())
}
