//! Conversions between Rust values and `SQLite`'s storage classes.

use rusqlite::types::FromSql;
use rusqlite::{Connection, ErrorCode, Params, Row};
use time::OffsetDateTime;
use tutela_store::StoreError;

pub(crate) fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps constraint violations (unique keys, foreign keys) to `Conflict`, everything else to
/// `Backend`.
pub(crate) fn write_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, message) = &e
        && err.code == ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict(message.clone().unwrap_or_else(|| err.to_string()));
    }
    backend_err(e)
}

pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).expect("timestamps stay within i64 microseconds")
}

pub(crate) fn from_micros(m: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1000)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {m} out of range")))
}

pub(crate) fn opt_from_micros(m: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    m.map(from_micros).transpose()
}

pub(crate) fn to_u32(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is not a key version")))
}

pub(crate) fn hash32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))
}

pub(crate) fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("a list of strings serialises")
}

pub(crate) fn parse_json_list(column: &str, text: &str) -> Result<Vec<String>, StoreError> {
    // Lists of field ids and permission names hold no escapes, quotes or commas inside their
    // strings: split those directly (verification reads millions), leave the rest to serde.
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
        && !inner.contains('\\')
    {
        if inner.is_empty() {
            return Ok(Vec::new());
        }
        let items: Option<Vec<String>> = inner
            .split(',')
            .map(|item| item.strip_prefix('"').and_then(|i| i.strip_suffix('"')).filter(|i| !i.contains('"')))
            .map(|item| item.map(str::to_owned))
            .collect();
        if let Some(items) = items {
            return Ok(items);
        }
    }
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn json_map(v: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::to_string(v).expect("a string map serialises")
}

pub(crate) fn parse_json_map(
    column: &str,
    text: &str,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A column's value; a value of the wrong type means the file was altered or damaged.
pub(crate) fn col<T: FromSql>(row: &Row<'_>, index: usize) -> Result<T, StoreError> {
    row.get(index).map_err(|e| match e {
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => {
            StoreError::Corrupt(e.to_string())
        }
        other => backend_err(other),
    })
}

/// Every row of a cached statement, converted.
pub(crate) fn all_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend_err)?;
    let mut rows = stmt.query(params).map_err(backend_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend_err)? {
        out.push(convert(row)?);
    }
    Ok(out)
}

/// The first row of a cached statement, if any, converted.
pub(crate) fn first_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    convert: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend_err)?;
    let mut rows = stmt.query(params).map_err(backend_err)?;
    rows.next().map_err(backend_err)?.map(convert).transpose()
}

/// A count as `u64` (`COUNT(*)` is never negative).
pub(crate) fn count(conn: &Connection, sql: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.prepare_cached(sql).and_then(|mut s| s.query_row([], |r| r.get(0))).map_err(backend_err)?;
    Ok(n.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::{json_list, parse_json_list};

    #[test]
    fn json_lists_round_trip() {
        for list in [
            vec![],
            vec!["email".to_owned()],
            vec!["a".to_owned(), "b_c".to_owned(), "客户".to_owned()],
            vec!["with, comma".to_owned(), "with \"quote\"".to_owned(), "back\\slash".to_owned()],
            vec![String::new(), " spaced ".to_owned()],
        ] {
            assert_eq!(parse_json_list("t", &json_list(&list)).unwrap(), list, "{list:?}");
        }
        assert!(parse_json_list("t", "[\"unterminated]").is_err());
        assert!(parse_json_list("t", "not json").is_err());
    }
}
