//! Schema fields and customer rows.

use rusqlite::{Connection, Row, params, params_from_iter};
use tutela_store::{
    CustomerQuery, CustomerRow, FieldDef, FilterOp, RowScope, StoreError, StoreResult, WrappedKeyRef, parse_stored,
    sealed_codec,
};
use uuid::Uuid;

use crate::convert::{all_rows, col, first_row, from_micros, to_u32};
use crate::query_text::QueryText;

pub(crate) fn fields_list(conn: &Connection) -> StoreResult<Vec<FieldDef>> {
    all_rows(
        conn,
        "SELECT id, label_en, label_zh, kind, classification, required, position FROM fields ORDER BY position, id",
        [],
        |r| {
            Ok(FieldDef {
                id: col(r, 0)?,
                label_en: col(r, 1)?,
                label_zh: col(r, 2)?,
                kind: parse_stored("fields.kind", &col::<String>(r, 3)?)?,
                classification: parse_stored("fields.classification", &col::<String>(r, 4)?)?,
                required: col(r, 5)?,
                position: col(r, 6)?,
            })
        },
    )
}

const COLUMNS: &str = "id, version, kek_version, wrapped_dek, plain, sealed, created_at, updated_at, owner_id";

fn customer_from_row(r: &Row<'_>) -> StoreResult<CustomerRow> {
    let plain: String = col(r, 4)?;
    let sealed: Vec<u8> = col(r, 5)?;
    Ok(CustomerRow {
        id: col(r, 0)?,
        version: col(r, 1)?,
        kek_version: to_u32(col(r, 2)?)?,
        wrapped_dek: col(r, 3)?,
        owner_id: col(r, 8)?,
        plain: serde_json::from_str(&plain).map_err(|e| StoreError::Corrupt(format!("customers.plain: {e}")))?,
        sealed: sealed_codec::decode(&sealed)?,
        created_at: from_micros(col(r, 6)?)?,
        updated_at: from_micros(col(r, 7)?)?,
    })
}

pub(crate) fn get(conn: &Connection, id: Uuid) -> StoreResult<Option<CustomerRow>> {
    first_row(conn, &format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"), [id], customer_from_row)
}

pub(crate) fn blind_lookup(conn: &Connection, field_id: &str, hash: u32) -> StoreResult<Vec<Uuid>> {
    all_rows(
        conn,
        "SELECT customer_id FROM customer_blind WHERE field_id = ?1 AND hash = ?2",
        params![field_id, i64::from(hash)],
        |r| col(r, 0),
    )
}

/// JSON path of a plaintext field; field ids are validated identifiers, quoted anyway.
fn json_path(field_id: &str) -> String {
    format!("$.\"{field_id}\"")
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Appends `AND (…)` limiting rows to the scope: owned by, one of, or matching.
fn push_scope(text: &mut QueryText, scope: &RowScope) {
    let RowScope::Only { owners, ids, matching } = scope else {
        return;
    };
    text.push(" AND (0");
    if !owners.is_empty() {
        text.push(" OR owner_id IN (");
        push_ids(text, owners);
        text.push(")");
    }
    if !ids.is_empty() {
        text.push(" OR id IN (");
        push_ids(text, ids);
        text.push(")");
    }
    for (field, value) in matching {
        text.push(" OR json_extract(plain, ").bind(json_path(field)).push(") = ").bind(value.clone());
    }
    text.push(")");
}

fn push_ids(text: &mut QueryText, ids: &[Uuid]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(", ");
        }
        text.bind_id(*id);
    }
}

pub(crate) fn count(conn: &Connection, scope: &RowScope) -> StoreResult<u64> {
    if scope.is_empty() {
        return Ok(0);
    }
    let mut text = QueryText::new("SELECT COUNT(*) FROM customers WHERE 1 = 1");
    push_scope(&mut text, scope);
    let n: i64 = conn
        .prepare_cached(&text.sql)
        .and_then(|mut s| s.query_row(params_from_iter(text.values), |r| r.get(0)))
        .map_err(crate::convert::backend_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) fn query(conn: &Connection, q: &CustomerQuery) -> StoreResult<Vec<CustomerRow>> {
    if q.scope.is_empty() {
        return Ok(Vec::new());
    }
    let mut text = QueryText::new(&format!("SELECT {COLUMNS} FROM customers WHERE 1 = 1"));
    push_scope(&mut text, &q.scope);
    for filter in &q.filters {
        text.push(" AND json_extract(plain, ").bind(json_path(&filter.field_id)).push(")");
        match filter.op {
            FilterOp::Equals => text.push(" = ").bind(filter.value.clone()),
            FilterOp::Prefix => {
                text.push(" LIKE ").bind(format!("{}%", like_escape(&filter.value))).push(" ESCAPE '\\'")
            }
            FilterOp::Contains => {
                text.push(" LIKE ").bind(format!("%{}%", like_escape(&filter.value))).push(" ESCAPE '\\'")
            }
        };
    }
    if let Some(ids) = &q.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        text.push(" AND id IN (");
        push_ids(&mut text, ids);
        text.push(")");
    }
    let (cmp, dir) = if q.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some(field) = &q.sort.field_id {
        let key = format!("COALESCE(json_extract(plain, '{}'), '')", json_path(field).replace('\'', "''"));
        if let Some((value, id)) = &q.after {
            text.push(&format!(" AND ({key} {cmp} ")).bind(value.clone());
            text.push(&format!(" OR ({key} = ")).bind(value.clone());
            text.push(&format!(" AND id {cmp} ")).bind_id(*id).push("))");
        }
        text.push(&format!(" ORDER BY {key} {dir}, id {dir}"));
    } else {
        if let Some((_, id)) = &q.after {
            text.push(&format!(" AND id {cmp} ")).bind_id(*id);
        }
        text.push(&format!(" ORDER BY id {dir}"));
    }
    text.push(" LIMIT ").bind(i64::from(q.limit));
    all_rows(conn, &text.sql, params_from_iter(text.values), customer_from_row)
}

/// Wrapped data keys older than `version` in `table` (`customers` or `users`).
pub(crate) fn keys_below(
    conn: &Connection,
    table: &'static str,
    version: u32,
    after: Option<Uuid>,
    limit: u32,
) -> StoreResult<Vec<WrappedKeyRef>> {
    all_rows(
        conn,
        &format!(
            "SELECT id, kek_version, wrapped_dek FROM {table}
             WHERE kek_version < ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
        ),
        params![i64::from(version), after, i64::from(limit)],
        |r| Ok(WrappedKeyRef { id: col(r, 0)?, kek_version: to_u32(col(r, 1)?)?, wrapped_dek: col(r, 2)? }),
    )
}
