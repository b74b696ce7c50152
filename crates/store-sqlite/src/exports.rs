//! Export requests.

use rusqlite::{Connection, Row, params};
use tutela_store::{ExportRequestRow, StoreResult};
use uuid::Uuid;

use crate::convert::{all_rows, col, from_micros, json_list, opt_from_micros, parse_json_list, to_micros};
use crate::write::exec;

const COLUMNS: &str = "id, user_id, format, purpose, revealed, rows, reasons, status, requested_at, decided_by, \
                       decided_at, note, expires_at";

fn from_row(r: &Row<'_>) -> StoreResult<ExportRequestRow> {
    Ok(ExportRequestRow {
        id: col(r, 0)?,
        user_id: col(r, 1)?,
        format: col(r, 2)?,
        purpose: col(r, 3)?,
        revealed: parse_json_list("export_requests.revealed", &col::<String>(r, 4)?)?,
        rows: col(r, 5)?,
        reasons: parse_json_list("export_requests.reasons", &col::<String>(r, 6)?)?,
        status: col(r, 7)?,
        requested_at: from_micros(col(r, 8)?)?,
        decided_by: col(r, 9)?,
        decided_at: opt_from_micros(col(r, 10)?)?,
        note: col(r, 11)?,
        expires_at: opt_from_micros(col(r, 12)?)?,
    })
}

/// Requests whose `column` is `id` (or all of them with `None`), newest first.
pub(crate) fn requests_where(
    conn: &Connection,
    filter: Option<(&'static str, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<ExportRequestRow>> {
    let condition = filter.map_or("?1 IS NULL".to_owned(), |(column, _)| format!("{column} = ?1"));
    all_rows(
        conn,
        &format!("SELECT {COLUMNS} FROM export_requests WHERE {condition} ORDER BY requested_at DESC, id LIMIT ?2"),
        params![filter.map(|(_, id)| id), i64::from(limit)],
        from_row,
    )
}

pub(crate) fn put(conn: &Connection, r: &ExportRequestRow) -> StoreResult<()> {
    exec(
        conn,
        &format!(
            "INSERT INTO export_requests ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET status = ?8, decided_by = ?10, decided_at = ?11, note = ?12,
             expires_at = ?13"
        ),
        params![
            r.id,
            r.user_id,
            r.format,
            r.purpose,
            json_list(&r.revealed),
            r.rows,
            json_list(&r.reasons),
            r.status,
            to_micros(r.requested_at),
            r.decided_by,
            r.decided_at.map(to_micros),
            r.note,
            r.expires_at.map(to_micros)
        ],
    )?;
    Ok(())
}
