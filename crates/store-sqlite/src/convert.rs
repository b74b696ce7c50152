//! Conversions between Rust values and `SQLite`'s storage classes.

use time::OffsetDateTime;
use tutela_store::StoreError;

pub(crate) fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps constraint violations to `Conflict`, everything else to `Backend`.
pub(crate) fn write_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && (db.is_unique_violation() || db.is_foreign_key_violation())
    {
        return StoreError::Conflict(db.message().to_owned());
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
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}
