//! File formats and how a file's format is recognised.
//!
//! The content decides over the name: a workbook renamed to `.csv` is still a
//! workbook, and parsing its zip bytes as text would only produce a confusing
//! encoding error.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ImportError;

/// The kind of file being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma-, semicolon- or tab-separated text.
    Csv,
    /// Excel 2007+ workbook (first worksheet).
    Xlsx,
}

/// Zip local-file header: every .xlsx starts with it.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// OLE compound file: legacy .xls, and also password-protected .xlsx.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

impl FileFormat {
    /// The names [`FileFormat::from_str`] accepts.
    pub const ACCEPTED: &'static str = "csv, xlsx";

    /// Lower-case name, also the usual file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    /// Recognises a file from its first bytes (at least 8 for certainty)
    /// and, failing that, its name. Anything that is not a workbook is read
    /// as CSV, since customer lists arrive as `.txt` and without extension too.
    pub fn detect(path: Option<&Path>, head: &[u8]) -> Result<Self, ImportError> {
        let extension = path.and_then(Path::extension).and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase);
        let extension = extension.as_deref();
        if head.starts_with(ZIP_MAGIC) {
            return Ok(Self::Xlsx);
        }
        if head.starts_with(OLE_MAGIC) {
            // An encrypted .xlsx is an OLE container too; let the workbook
            // reader say "password-protected" for those.
            return match extension {
                Some("xlsx" | "xlsm") => Ok(Self::Xlsx),
                _ => Err(ImportError::UnsupportedFormat(
                    "this is a legacy Excel 97-2003 (.xls) workbook, which is not supported; \
                     open it in Excel and save it as .xlsx or \"CSV UTF-8\""
                        .to_owned(),
                )),
            };
        }
        match extension {
            Some("xlsx" | "xlsm") => Err(ImportError::Xlsx(
                "the file is named .xlsx but is not an Excel workbook (no zip container); \
                 if it is text, rename it to .csv"
                    .to_owned(),
            )),
            Some("xls") => Err(ImportError::UnsupportedFormat(
                "legacy .xls workbooks are not supported; save the file as .xlsx or \"CSV UTF-8\"".to_owned(),
            )),
            _ => Ok(Self::Csv),
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FileFormat {
    type Err = ImportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_start_matches('.').to_ascii_lowercase().as_str() {
            "csv" | "txt" | "tsv" => Ok(Self::Csv),
            "xlsx" | "xlsm" | "excel" => Ok(Self::Xlsx),
            _ => Err(ImportError::UnknownFormat { given: s.to_owned() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_wins_over_extension() {
        let zip = b"PK\x03\x04rest";
        assert_eq!(FileFormat::detect(Some(Path::new("a.csv")), zip).unwrap(), FileFormat::Xlsx);
        assert_eq!(FileFormat::detect(None, zip).unwrap(), FileFormat::Xlsx);
        assert_eq!(FileFormat::detect(Some(Path::new("a.CSV")), b"a,b").unwrap(), FileFormat::Csv);
        assert_eq!(FileFormat::detect(None, b"").unwrap(), FileFormat::Csv);
    }

    #[test]
    fn legacy_and_fake_workbooks_are_explained() {
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0];
        assert!(matches!(FileFormat::detect(Some(Path::new("old.xls")), &ole), Err(ImportError::UnsupportedFormat(_))));
        assert_eq!(FileFormat::detect(Some(Path::new("locked.xlsx")), &ole).unwrap(), FileFormat::Xlsx);
        assert!(matches!(FileFormat::detect(Some(Path::new("fake.xlsx")), b"a,b\n"), Err(ImportError::Xlsx(_))));
    }

    #[test]
    fn names_parse() {
        assert_eq!("XLSX".parse::<FileFormat>().ok(), Some(FileFormat::Xlsx));
        assert_eq!(".csv".parse::<FileFormat>().ok(), Some(FileFormat::Csv));
        assert!("pdf".parse::<FileFormat>().unwrap_err().to_string().contains("csv, xlsx"));
    }
}
