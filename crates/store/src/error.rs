use thiserror::Error;

/// What a backend reports. A database failure is never dressed up as "not found":
/// callers match on the kind and map each to its own answer.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or optimistic-concurrency conflict; the message names what collided.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that does not decode (a corrupt row, a format from the future).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database itself failed (I/O, connection, migration).
    #[error("database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
