//! Conversions between Rust values and `PostgreSQL` columns, and error mapping.

use tutela_store::StoreError;

pub(crate) fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps constraint violations (unique, foreign key) to `Conflict`, everything else to `Backend`.
pub(crate) fn write_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && (db.is_unique_violation() || db.is_foreign_key_violation())
    {
        return StoreError::Conflict(db.message().to_owned());
    }
    backend_err(e)
}

/// Key versions are `u32` in Rust and `BIGINT` in the database.
pub(crate) fn to_u32(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is not a key version")))
}

/// Counts are `BIGINT` and never negative.
pub(crate) fn to_u64(v: i64) -> u64 {
    v.unsigned_abs()
}

pub(crate) fn hash32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))
}

/// A list of strings as JSON text, bound as `$n::jsonb`.
pub(crate) fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("a list of strings serialises")
}

/// A JSONB list, selected as `column::text`.
pub(crate) fn parse_json_list(column: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A map of strings as JSON text, bound as `$n::jsonb`.
pub(crate) fn json_map(v: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::to_string(v).expect("a string map serialises")
}

/// A JSONB object of strings, selected as `column::text`.
pub(crate) fn parse_json_map(
    column: &str,
    text: &str,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}
