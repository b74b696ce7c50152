//! Export requests.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tutela_store::{ExportRequestRow, StoreResult};
use uuid::Uuid;

use crate::convert::{backend_err, json_list, parse_json_list};
use crate::write::PgWriteTx;

const COLUMNS: &str = "id, user_id, format, purpose, revealed::text, rows, reasons::text, status, requested_at, \
                       decided_by, decided_at, note, expires_at";

fn from_row(r: &PgRow) -> StoreResult<ExportRequestRow> {
    Ok(ExportRequestRow {
        id: r.get(0),
        user_id: r.get(1),
        format: r.get(2),
        purpose: r.get(3),
        revealed: parse_json_list("export_requests.revealed", r.get(4))?,
        rows: r.get(5),
        reasons: parse_json_list("export_requests.reasons", r.get(6))?,
        status: r.get(7),
        requested_at: r.get(8),
        decided_by: r.get(9),
        decided_at: r.get(10),
        note: r.get(11),
        expires_at: r.get(12),
    })
}

/// Requests whose `column` is `id` (or all of them with `None`), newest first.
pub(crate) async fn requests_where(
    pool: &PgPool,
    filter: Option<(&'static str, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<ExportRequestRow>> {
    let condition = filter.map_or("$1::uuid IS NULL".to_owned(), |(column, _)| format!("{column} = $1"));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM export_requests WHERE {condition} ORDER BY requested_at DESC, id LIMIT $2"
    ))
    .bind(filter.map(|(_, id)| id))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter().map(from_row).collect()
}

impl PgWriteTx {
    pub(crate) async fn put_export_request(&mut self, r: &ExportRequestRow) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO export_requests (id, user_id, format, purpose, revealed, rows, reasons, status,
                 requested_at, decided_by, decided_at, note, expires_at)
                 VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (id) DO UPDATE SET status = $8, decided_by = $10, decided_at = $11, note = $12,
                 expires_at = $13",
            )
            .bind(r.id)
            .bind(r.user_id)
            .bind(&r.format)
            .bind(&r.purpose)
            .bind(json_list(&r.revealed))
            .bind(r.rows)
            .bind(json_list(&r.reasons))
            .bind(&r.status)
            .bind(r.requested_at)
            .bind(r.decided_by)
            .bind(r.decided_at)
            .bind(&r.note)
            .bind(r.expires_at),
        )
        .await?;
        Ok(())
    }
}
