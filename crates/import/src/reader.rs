//! [`ImportReader`]: opens a file, settles format, encoding and mapping,
//! then yields rows one at a time.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::iter::FusedIterator;
use std::path::Path;

use crate::csv_rows::{CsvRows, Input};
use crate::decode::to_u64;
use crate::encoding::Encoding;
use crate::error::{ImportError, RowError};
use crate::format::FileFormat;
use crate::mapping::ColumnMapping;
use crate::resolve::{self, ResolvedMapping};
use crate::row::ImportRow;
use crate::xlsx_rows::SheetRows;

/// Streams the rows of one customer file, mapped to Tutela field ids.
///
/// Everything that can make the whole file unusable (format, encoding,
/// header row, mapping) is checked by [`ImportReader::open`], so an import
/// either fails before its first row or runs to the end, rejecting single
/// rows with a [`RowError`] that names their line.
pub struct ImportReader {
    source: RowSource,
    headers: Vec<String>,
    mapping: ResolvedMapping,
    total_bytes: u64,
    rows_read: u64,
}

enum RowSource {
    // Boxed: the CSV state (parser and transcoder buffers) is much larger.
    Csv(Box<CsvRows>),
    Xlsx(SheetRows),
}

impl ImportReader {
    /// Opens a file, detects its format (content first, then extension)
    /// unless `format` is given, settles the encoding of a CSV file (the
    /// `encoding` is ignored for workbooks), reads the header row and binds
    /// `mapping` to it. A mapped header that is missing is an
    /// [`ImportError::Header`] naming it and the headers found; columns that
    /// are not mapped are ignored and listed by [`ImportReader::unmapped_headers`].
    ///
    /// A CSV file is read once to check its encoding before parsing; its rows
    /// are never held in memory together.
    pub fn open(
        path: &Path,
        format: Option<FileFormat>,
        encoding: Encoding,
        mapping: &ColumnMapping,
    ) -> Result<Self, ImportError> {
        // A mapping that can never work fails before the file is touched.
        resolve::validate(mapping)?;
        let open_error = |source| ImportError::Open { path: path.to_owned(), source };
        let mut file = File::open(path).map_err(open_error)?;
        let total_bytes = file.metadata().map_err(open_error)?.len();
        let format = if let Some(format) = format {
            format
        } else {
            let mut head = [0_u8; 8];
            let len = read_head(&mut file, &mut head)?;
            FileFormat::detect(Some(path), &head[..len])?
        };
        match format {
            FileFormat::Csv => Self::from_csv(Box::new(file), encoding, mapping, total_bytes),
            FileFormat::Xlsx => Self::from_xlsx(BufReader::new(file), mapping, total_bytes),
        }
    }

    /// Same as [`ImportReader::open`] for a file already in memory (uploads).
    pub fn from_bytes(
        bytes: Vec<u8>,
        format: FileFormat,
        encoding: Encoding,
        mapping: &ColumnMapping,
    ) -> Result<Self, ImportError> {
        resolve::validate(mapping)?;
        let total_bytes = to_u64(bytes.len());
        match format {
            FileFormat::Csv => Self::from_csv(Box::new(Cursor::new(bytes)), encoding, mapping, total_bytes),
            FileFormat::Xlsx => Self::from_xlsx(Cursor::new(bytes), mapping, total_bytes),
        }
    }

    /// The header row of a file in memory, read with the same format, encoding and delimiter
    /// rules as an import, without a mapping: for choosing a preset or mapping columns
    /// before the import itself.
    pub fn header_row(bytes: Vec<u8>, format: FileFormat, encoding: Encoding) -> Result<Vec<String>, ImportError> {
        let headers = match format {
            FileFormat::Csv => CsvRows::open(Box::new(Cursor::new(bytes)), encoding)?.1,
            FileFormat::Xlsx => SheetRows::open(Cursor::new(bytes))?.1,
        };
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::Header("the header row is blank; the first row must name the columns".to_owned()));
        }
        Ok(headers)
    }

    fn from_csv(
        input: Input,
        encoding: Encoding,
        mapping: &ColumnMapping,
        total_bytes: u64,
    ) -> Result<Self, ImportError> {
        let (rows, headers) = CsvRows::open(input, encoding)?;
        Self::finish(RowSource::Csv(Box::new(rows)), headers, mapping, total_bytes)
    }

    fn from_xlsx<RS>(input: RS, mapping: &ColumnMapping, total_bytes: u64) -> Result<Self, ImportError>
    where
        RS: Read + std::io::Seek + Send + 'static,
    {
        let (rows, headers) = SheetRows::open(input)?;
        Self::finish(RowSource::Xlsx(rows), headers, mapping, total_bytes)
    }

    fn finish(
        source: RowSource,
        headers: Vec<String>,
        mapping: &ColumnMapping,
        total_bytes: u64,
    ) -> Result<Self, ImportError> {
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::Header("the header row is blank; the first row must name the columns".to_owned()));
        }
        let mapping = ResolvedMapping::resolve(mapping, &headers)?;
        Ok(Self { source, headers, mapping, total_bytes, rows_read: 0 })
    }

    /// The header row as found in the file (trimmed, BOM removed); blank
    /// header cells are empty strings.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Non-blank headers of columns that no field is mapped to, in file order.
    pub fn unmapped_headers(&self) -> Vec<String> {
        self.mapping.unmapped_headers().to_vec()
    }

    /// `(field id, headers feeding it)` for each mapped field found in the
    /// file, for showing the user what goes where before importing.
    pub fn mapped_columns(&self) -> Vec<(String, Vec<String>)> {
        self.mapping.mapped_columns()
    }

    /// The file format being read.
    pub fn format(&self) -> FileFormat {
        match self.source {
            RowSource::Csv(_) => FileFormat::Csv,
            RowSource::Xlsx(_) => FileFormat::Xlsx,
        }
    }

    /// `"UTF-8"` or `"GB18030"` for CSV; `None` for workbooks.
    pub fn detected_encoding(&self) -> Option<&'static str> {
        match &self.source {
            RowSource::Csv(rows) => Some(rows.encoding().name()),
            RowSource::Xlsx(_) => None,
        }
    }

    /// The CSV delimiter guessed from the header line (`,` `;` tab or `|`);
    /// `None` for workbooks.
    pub fn csv_delimiter(&self) -> Option<char> {
        match &self.source {
            RowSource::Csv(rows) => Some(char::from(rows.delimiter())),
            RowSource::Xlsx(_) => None,
        }
    }

    /// Size of the input in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Progress in bytes: the read position for CSV (slightly ahead of the
    /// rows handed out, by the parser's buffer); for workbooks, whose
    /// compressed bytes do not advance with the rows, an estimate from the
    /// row reached (see [`ImportReader::total_rows`]).
    pub fn bytes_read(&self) -> u64 {
        match &self.source {
            RowSource::Csv(rows) => rows.bytes_read().min(self.total_bytes),
            RowSource::Xlsx(rows) => match rows.last_row() {
                Some(last) if last > 0 => {
                    let done = rows.current_row().min(last);
                    let estimate = u128::from(self.total_bytes) * u128::from(done) / u128::from(last);
                    u64::try_from(estimate).unwrap_or(self.total_bytes)
                }
                _ => 0,
            },
        }
    }

    /// Data rows a workbook declares after its header row (blank ones
    /// included); `None` for CSV, whose row count is unknown until read.
    pub fn total_rows(&self) -> Option<u64> {
        match &self.source {
            RowSource::Csv(_) => None,
            RowSource::Xlsx(rows) => rows.total_rows(),
        }
    }

    /// Rows handed out so far, rejected ones included (blank rows are not
    /// counted).
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }
}

impl Iterator for ImportReader {
    type Item = Result<ImportRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = match &mut self.source {
            RowSource::Csv(rows) => rows.next_row(&self.mapping),
            RowSource::Xlsx(rows) => rows.next_row(&self.mapping),
        };
        if row.is_some() {
            self.rows_read += 1;
        }
        row
    }
}

impl FusedIterator for ImportReader {}

impl std::fmt::Debug for ImportReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportReader")
            .field("format", &self.format())
            .field("encoding", &self.detected_encoding())
            .field("headers", &self.headers)
            .field("rows_read", &self.rows_read)
            .finish_non_exhaustive()
    }
}

/// Reads the first bytes for format detection and rewinds.
fn read_head(file: &mut File, head: &mut [u8]) -> Result<usize, ImportError> {
    use std::io::{Seek, SeekFrom};
    let mut filled = 0;
    while filled < head.len() {
        let n = crate::decode::read_retrying(file, &mut head[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(filled)
}
