//! Reading customer files for the Tutela vault.
//!
//! Turns CSV (UTF-8 or GB18030, detected) and Excel .xlsx files into rows of
//! `(field id, value)` pairs, using a [`ColumnMapping`] typed by the user or a
//! [`Preset`] for Zoho CRM and Fxiaoke (纷享销客) exports. Rows stream: a
//! file is never held in memory as rows, so million-row files import in
//! constant memory. This crate neither stores nor encrypts anything; the
//! vault consumes the rows.
//!
//! ```no_run
//! use std::path::Path;
//! use tutela_import::{Encoding, ImportReader, Preset};
//!
//! # fn main() -> Result<(), tutela_import::ImportError> {
//! let mapping = Preset::ZohoContacts.mapping();
//! let reader = ImportReader::open(Path::new("contacts.csv"), None, Encoding::Auto, &mapping)?;
//! for row in reader {
//!     match row {
//!         Ok(row) => println!("line {}: {:?}", row.line, row.values),
//!         Err(error) => eprintln!("{error}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod csv_rows;
mod decode;
mod encoding;
mod error;
mod excel_value;
mod format;
mod header;
mod line_tracker;
mod mapping;
mod preset;
mod reader;
mod resolve;
mod row;
mod xlsx_rows;

pub use encoding::Encoding;
pub use error::{ImportError, RowError};
pub use format::FileFormat;
pub use mapping::ColumnMapping;
pub use preset::{Preset, detect_preset};
pub use reader::ImportReader;
pub use row::ImportRow;
