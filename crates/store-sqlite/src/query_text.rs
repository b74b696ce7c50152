//! Statements assembled from optional conditions: SQL text with numbered parameters.

use std::fmt::Write as _;

use rusqlite::types::Value;
use uuid::Uuid;

#[derive(Default)]
pub(crate) struct QueryText {
    pub sql: String,
    pub values: Vec<Value>,
}

impl QueryText {
    pub fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), values: Vec::new() }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends the next numbered parameter (`?N`) bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        write!(self.sql, "?{}", self.values.len()).expect("writing to a String cannot fail");
        self
    }

    pub fn bind_id(&mut self, id: Uuid) -> &mut Self {
        self.bind(id.as_bytes().to_vec())
    }
}
