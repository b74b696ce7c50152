//! Schema fields and customer rows.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tutela_store::{
    CustomerQuery, CustomerRow, FieldDef, FilterOp, RowScope, StoreError, StoreResult, WrappedKeyRef, parse_stored,
    sealed_codec,
};
use uuid::Uuid;

use crate::convert::{backend_err, to_u32};

pub(crate) async fn fields_list(pool: &PgPool) -> StoreResult<Vec<FieldDef>> {
    let rows = sqlx::query(
        "SELECT id, label_en, label_zh, kind, classification, required, position FROM fields ORDER BY position, id",
    )
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter()
        .map(|r| {
            Ok(FieldDef {
                id: r.get(0),
                label_en: r.get(1),
                label_zh: r.get(2),
                kind: parse_stored("fields.kind", r.get(3))?,
                classification: parse_stored("fields.classification", r.get(4))?,
                required: r.get(5),
                position: r.get(6),
            })
        })
        .collect()
}

/// `plain` is JSONB; it is read back as text and decoded here, so a bad value is `Corrupt`.
const COLUMNS: &str = "id, version, kek_version, wrapped_dek, plain::text, sealed, created_at, updated_at, owner_id";

fn customer_from_row(r: &PgRow) -> StoreResult<CustomerRow> {
    let plain: &str = r.get(4);
    Ok(CustomerRow {
        id: r.get(0),
        version: r.get(1),
        kek_version: to_u32(r.get(2))?,
        wrapped_dek: r.get(3),
        owner_id: r.get(8),
        plain: serde_json::from_str(plain).map_err(|e| StoreError::Corrupt(format!("customers.plain: {e}")))?,
        sealed: sealed_codec::decode(r.get(5))?,
        created_at: r.get(6),
        updated_at: r.get(7),
    })
}

pub(crate) async fn get(pool: &PgPool, id: Uuid) -> StoreResult<Option<CustomerRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM customers WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(backend_err)?;
    row.as_ref().map(customer_from_row).transpose()
}

/// Escapes `%`, `_` and the escape character itself for an `ILIKE … ESCAPE '\'` pattern.
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

/// Pushes the sort key of a plaintext field: its value, or `''` when absent, compared by code
/// point (`COLLATE "C"`, as `SQLite` does) whatever the database's locale.
fn push_sort_key(sql: &mut QueryBuilder<'_, Postgres>, field: &str) {
    sql.push("(COALESCE(plain->>").push_bind(field.to_owned()).push(", '') COLLATE \"C\")");
}

/// Appends `AND (…)` limiting rows to the scope: owned by, one of, or matching.
fn push_scope(sql: &mut QueryBuilder<'_, Postgres>, scope: &RowScope) {
    let RowScope::Only { owners, ids, matching } = scope else {
        return;
    };
    sql.push(" AND (FALSE");
    if !owners.is_empty() {
        sql.push(" OR owner_id = ANY(").push_bind(owners.clone()).push(")");
    }
    if !ids.is_empty() {
        sql.push(" OR id = ANY(").push_bind(ids.clone()).push(")");
    }
    for (field, value) in matching {
        sql.push(" OR plain->>").push_bind(field.clone()).push(" = ").push_bind(value.clone());
    }
    sql.push(")");
}

pub(crate) async fn count(pool: &PgPool, scope: &RowScope) -> StoreResult<u64> {
    if scope.is_empty() {
        return Ok(0);
    }
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT COUNT(*) FROM customers WHERE TRUE");
    push_scope(&mut sql, scope);
    let n: i64 = sql.build_query_scalar().fetch_one(pool).await.map_err(backend_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn query(pool: &PgPool, q: &CustomerQuery) -> StoreResult<Vec<CustomerRow>> {
    if q.scope.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM customers WHERE TRUE"));
    push_scope(&mut sql, &q.scope);
    for filter in &q.filters {
        sql.push(" AND plain->>").push_bind(filter.field_id.clone());
        match filter.op {
            FilterOp::Equals => sql.push(" = ").push_bind(filter.value.clone()),
            FilterOp::Prefix => {
                sql.push(" ILIKE ").push_bind(format!("{}%", like_escape(&filter.value))).push(" ESCAPE '\\'")
            }
            FilterOp::Contains => {
                sql.push(" ILIKE ").push_bind(format!("%{}%", like_escape(&filter.value))).push(" ESCAPE '\\'")
            }
        };
    }
    if let Some(ids) = &q.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sql.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    let (cmp, dir) = if q.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some(field) = &q.sort.field_id {
        if let Some((value, id)) = &q.after {
            sql.push(" AND (");
            push_sort_key(&mut sql, field);
            sql.push(format!(" {cmp} ")).push_bind(value.clone()).push(" OR (");
            push_sort_key(&mut sql, field);
            sql.push(" = ").push_bind(value.clone());
            sql.push(format!(" AND id {cmp} ")).push_bind(*id).push("))");
        }
        sql.push(" ORDER BY ");
        push_sort_key(&mut sql, field);
        sql.push(format!(" {dir}, id {dir}"));
    } else {
        if let Some((_, id)) = &q.after {
            sql.push(format!(" AND id {cmp} ")).push_bind(*id);
        }
        sql.push(format!(" ORDER BY id {dir}"));
    }
    sql.push(" LIMIT ").push_bind(i64::from(q.limit));
    let rows = sql.build().fetch_all(pool).await.map_err(backend_err)?;
    rows.iter().map(customer_from_row).collect()
}

/// Wrapped data keys older than `version` in `table` (`customers` or `users`).
pub(crate) async fn keys_below(
    pool: &PgPool,
    table: &'static str,
    version: u32,
    after: Option<Uuid>,
    limit: u32,
) -> StoreResult<Vec<WrappedKeyRef>> {
    let rows = sqlx::query(&format!(
        "SELECT id, kek_version, wrapped_dek FROM {table}
         WHERE kek_version < $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ))
    .bind(i64::from(version))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter()
        .map(|r| Ok(WrappedKeyRef { id: r.get(0), kek_version: to_u32(r.get(1))?, wrapped_dek: r.get(2) }))
        .collect()
}
