//! Helpers shared by the integration tests: real files in a temporary
//! directory, read back through the public API.

use std::path::PathBuf;

use tempfile::TempDir;
use tutela_import::{ColumnMapping, Encoding, ImportError, ImportReader, ImportRow, RowError};

/// A file written into its own temporary directory (removed on drop).
pub struct TempFile {
    _dir: TempDir,
    pub path: PathBuf,
}

pub fn write_file(name: &str, bytes: &[u8]) -> TempFile {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    TempFile { _dir: dir, path }
}

pub fn open(file: &TempFile, encoding: Encoding, mapping: &ColumnMapping) -> Result<ImportReader, ImportError> {
    ImportReader::open(&file.path, None, encoding, mapping)
}

pub fn read_all(reader: ImportReader) -> Vec<Result<ImportRow, RowError>> {
    reader.collect()
}

/// Rows of a file that must open and read without any row error.
pub fn ok_rows(file: &TempFile, encoding: Encoding, mapping: &ColumnMapping) -> Vec<ImportRow> {
    let reader = open(file, encoding, mapping).expect("file opens");
    reader.map(|row| row.expect("row reads")).collect()
}

pub fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

pub fn pairs(row: &ImportRow) -> Vec<(&str, &str)> {
    row.values.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect()
}
