//! Audit events and checkpoints.

use rusqlite::{Connection, Row, params, params_from_iter};
use tutela_store::{AuditCheckpoint, AuditFilter, AuditRecord, StoreResult};

use crate::audit_index::{self, Filed};
use crate::convert::{all_rows, col, first_row, from_micros, hash32, parse_json_list, to_u32};
use crate::query_text::QueryText;

const COLUMNS: &str = "seq, at, actor_id, actor, action, outcome, customer_id, fields, purpose, source, detail, hash";

fn record_from_row(r: &Row<'_>) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        seq: col(r, 0)?,
        at: from_micros(col(r, 1)?)?,
        actor_id: col(r, 2)?,
        actor: col(r, 3)?,
        action: col(r, 4)?,
        outcome: col(r, 5)?,
        customer_id: col(r, 6)?,
        fields: parse_json_list("audit_events.fields", &col::<String>(r, 7)?)?,
        purpose: col(r, 8)?,
        source: col(r, 9)?,
        detail: col(r, 10)?,
        hash: hash32(&col::<Vec<u8>>(r, 11)?)?,
    })
}

pub(crate) fn head(conn: &Connection) -> StoreResult<Option<(i64, [u8; 32])>> {
    first_row(conn, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| {
        Ok((col(r, 0)?, hash32(&col::<Vec<u8>>(r, 1)?)?))
    })
}

pub(crate) fn scan(conn: &Connection, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
    all_rows(
        conn,
        &format!("SELECT {COLUMNS} FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        params![after_seq, i64::from(limit)],
        record_from_row,
    )
}

pub(crate) fn search(conn: &Connection, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let mut text = QueryText::new(&format!("SELECT {COLUMNS} FROM audit_events WHERE 1 = 1"));
    if let Some(actor) = f.actor_id {
        audit_index::push_condition(conn, &mut text, Filed::Actor, actor.as_bytes().to_vec())?;
    }
    if let Some(action) = &f.action {
        audit_index::push_condition(conn, &mut text, Filed::Action, action.clone())?;
    }
    if let Some(customer) = f.customer_id {
        audit_index::push_condition(conn, &mut text, Filed::Customer, customer.as_bytes().to_vec())?;
    }
    if f.from.is_some() || f.to.is_some() {
        audit_index::push_time_range(conn, &mut text, f.from, f.to)?;
    }
    if let Some(before) = f.before_seq {
        text.push(" AND seq < ").bind(before);
    }
    text.push(" ORDER BY seq DESC LIMIT ").bind(i64::from(f.limit));
    all_rows(conn, &text.sql, params_from_iter(text.values), record_from_row)
}

pub(crate) fn checkpoints(conn: &Connection) -> StoreResult<Vec<AuditCheckpoint>> {
    all_rows(conn, "SELECT seq, hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq", [], |r| {
        Ok(AuditCheckpoint {
            seq: col(r, 0)?,
            hash: hash32(&col::<Vec<u8>>(r, 1)?)?,
            at: from_micros(col(r, 2)?)?,
            key_version: to_u32(col(r, 3)?)?,
            signature: col(r, 4)?,
        })
    })
}
