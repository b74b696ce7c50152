//! Errors: [`ImportError`] stops an import before (or instead of) reading
//! rows; [`RowError`] rejects one row and lets the import go on.
//!
//! Every message names what a person can fix (the line, the column, the
//! header that is missing and the headers that were found), because the
//! person reading it has only the file and a spreadsheet program.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The path that was given.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Reading failed half-way (disk error, file removed while reading…).
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes do not decode in the chosen (or detected) text encoding.
    #[error("line {line}: {message}")]
    Encoding {
        /// 1-based physical line of the first undecodable byte.
        line: u64,
        /// What is wrong and what to choose instead.
        message: String,
    },
    /// The header row does not fit the mapping (a mapped header is missing,
    /// or the header row is blank).
    #[error("{0}")]
    Header(String),
    /// The mapping itself is unusable (bad `field=Header` pair, nothing mapped).
    #[error("{0}")]
    Mapping(String),
    /// The .xlsx workbook could not be read.
    #[error("{0}")]
    Xlsx(String),
    /// The kind of file is recognised but not supported (legacy .xls, UTF-16 text).
    #[error("{0}")]
    UnsupportedFormat(String),
    /// An encoding name that [`crate::Encoding`] does not know.
    #[error("unknown encoding \"{given}\"; use one of: {accepted}", accepted = crate::Encoding::ACCEPTED)]
    UnknownEncoding {
        /// The name as given.
        given: String,
    },
    /// A format name that [`crate::FileFormat`] does not know.
    #[error("unknown file format \"{given}\"; use one of: {accepted}", accepted = crate::FileFormat::ACCEPTED)]
    UnknownFormat {
        /// The name as given.
        given: String,
    },
    /// The file has no rows at all, not even a header row.
    #[error("the file is empty: it needs a header row naming the columns, then one row per customer")]
    Empty,
}

/// Why one row was rejected; the rows after it are still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based physical line (CSV) or sheet row number (xlsx).
    pub line: u64,
    /// Header of the offending column, when one column is to blame.
    pub column: Option<String>,
    /// What is wrong with the row.
    pub message: String,
}

impl RowError {
    pub(crate) fn row(line: u64, message: impl Into<String>) -> Self {
        Self { line, column: None, message: message.into() }
    }

    pub(crate) fn cell(line: u64, column: &str, message: impl Into<String>) -> Self {
        Self { line, column: Some(column.to_owned()), message: message.into() }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column \"{column}\": {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// Quotes and comma-separates names for messages: `"A", "B"`.
pub(crate) fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "(none)".to_owned();
    }
    names.iter().map(|name| format!("\"{}\"", name.as_ref())).collect::<Vec<_>>().join(", ")
}
