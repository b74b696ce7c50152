//! Rows of a CSV file, streamed through one reused record buffer.
//!
//! The encoding is settled (and the whole file checked) before parsing, see
//! [`crate::encoding`]; UTF-8 input is then parsed as is, GB18030 input
//! through a streaming transcoder. Lines are physical file lines, so a
//! quoted cell with line breaks does not shift the numbers of later rows.

use std::fmt::Write as _;
use std::io::{self, Read, Seek, SeekFrom};

use crate::decode::{CountingReader, DecodeFault, DecodingReader, count_newlines, read_retrying};
use crate::encoding::{self, Encoding, TextEncoding};
use crate::error::{ImportError, RowError};
use crate::header::display_header;
use crate::line_tracker::LineTracker;
use crate::resolve::ResolvedMapping;
use crate::row::{ImportRow, RowCells};

/// Input the CSV reader can rewind (for the encoding check) and send to a
/// blocking task.
pub(crate) trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

pub(crate) type Input = Box<dyn ReadSeek>;

/// Bytes looked at to guess the delimiter.
const DELIMITER_SNIFF_LEN: usize = 64 * 1024;
/// Candidates, preferred in this order on a tie: Excel writes `;` in
/// locales with a decimal comma, and tab-separated text comes from
/// copy-paste and some CRM "export to text" options.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Parser input: UTF-8 as stored, or GB18030 decoded on the fly.
enum TextStream {
    Utf8(CountingReader<Input>),
    Gb18030(DecodingReader<CountingReader<Input>>),
}

impl TextStream {
    fn bytes_consumed(&self) -> u64 {
        match self {
            Self::Utf8(reader) => reader.count(),
            Self::Gb18030(reader) => reader.get_ref().count(),
        }
    }
}

impl Read for TextStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Utf8(reader) => reader.read(buf),
            Self::Gb18030(reader) => reader.read(buf),
        }
    }
}

pub(crate) struct CsvRows {
    reader: csv::Reader<LineTracker<TextStream>>,
    record: csv::StringRecord,
    headers: Vec<String>,
    record_start_byte: u64,
    delimiter: u8,
    encoding: TextEncoding,
    start_offset: u64,
    finished: bool,
}

impl CsvRows {
    /// Settles the encoding, then reads the header row (the first row with
    /// any text).
    pub(crate) fn open(mut input: Input, requested: Encoding) -> Result<(Self, Vec<String>), ImportError> {
        let detected = encoding::detect(&mut input, requested)?;
        let delimiter = sniff_delimiter(&mut input, detected.bom_len)?;
        let counting = CountingReader::new(input);
        let stream = match detected.encoding {
            TextEncoding::Utf8 => TextStream::Utf8(counting),
            TextEncoding::Gb18030 => {
                TextStream::Gb18030(DecodingReader::new(counting, TextEncoding::Gb18030, detected.bom_len))
            }
        };
        // `\n` alone ends a record, so that the parser consumes every line
        // break with its record (see `LineTracker`); the `\r` of CRLF files
        // stays at the end of the last cell and is trimmed like any space.
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(64 * 1024)
            .from_reader(LineTracker::new(stream));
        let mut rows = Self {
            reader,
            record: csv::StringRecord::new(),
            headers: Vec::new(),
            record_start_byte: 0,
            delimiter,
            encoding: detected.encoding,
            start_offset: detected.bom_len,
            finished: false,
        };
        loop {
            match rows.reader.read_record(&mut rows.record) {
                Ok(false) => return Err(ImportError::Empty),
                Ok(true) => {
                    rows.record_line();
                    if !is_blank(&rows.record) {
                        break;
                    }
                }
                Err(error) => {
                    let failure = rows.classify(error);
                    return Err(match failure.io {
                        Some(io_error) => ImportError::Io(io_error),
                        None => ImportError::Encoding { line: failure.line, message: failure.message },
                    });
                }
            }
        }
        rows.headers = rows.record.iter().map(display_header).collect();
        let headers = rows.headers.clone();
        Ok((rows, headers))
    }

    pub(crate) fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Position in the input file, for progress.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.start_offset + self.reader.get_ref().get_ref().bytes_consumed()
    }

    /// The delimiter guessed from the header line.
    pub(crate) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    pub(crate) fn next_row(&mut self, mapping: &ResolvedMapping) -> Option<Result<ImportRow, RowError>> {
        loop {
            if self.finished {
                return None;
            }
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    return None;
                }
                Err(error) => {
                    let failure = self.classify(error);
                    self.finished |= failure.fatal;
                    return Some(Err(RowError {
                        line: failure.line,
                        column: failure.column,
                        message: failure.message,
                    }));
                }
            }
            let line = self.record_line();
            if is_blank(&self.record) {
                continue;
            }
            if self.quote_left_open() {
                self.finished = true;
                return Some(Err(RowError::row(
                    line,
                    format!(
                        "a quote opened in this row is never closed, so lines {line} to {} were read as one row; \
                         add the missing closing quote",
                        self.last_line(line)
                    ),
                )));
            }
            if self.record.len() != self.headers.len() {
                return Some(Err(RowError::row(line, self.column_count_message(line))));
            }
            return Some(mapping.build_row(line, &RecordCells(&self.record)));
        }
    }

    /// Physical line where the record just read starts; also notes its
    /// start offset for [`CsvRows::quote_left_open`].
    fn record_line(&mut self) -> u64 {
        match self.record.position() {
            Some(stamp) => {
                let stamp = stamp.clone();
                let (line, byte) = self.reader.get_mut().record_start(&stamp);
                self.record_start_byte = byte;
                line
            }
            None => self.reader.position().line(),
        }
    }

    /// Whether the record just read swallowed the rest of the file because
    /// a quote in it is never closed.
    fn quote_left_open(&self) -> bool {
        self.record.as_slice().contains('\n')
            && self.reader.get_ref().quote_left_open(self.record_start_byte, self.reader.position().byte())
    }

    fn last_line(&self, line: u64) -> u64 {
        line + count_newlines(self.record.as_slice().trim_end_matches(['\r', '\n']).as_bytes())
    }

    fn column_count_message(&self, line: u64) -> String {
        let mut message = format!("expected {} columns, found {}", self.headers.len(), self.record.len());
        let last_line = self.last_line(line);
        if last_line > line {
            // Writing into a String cannot fail.
            let _ = write!(
                message,
                " (the row runs from line {line} to line {last_line}; a quote may be missing its closing quote)"
            );
        }
        message
    }

    fn classify(&self, error: csv::Error) -> Failure {
        let here = self.reader.position().line();
        match error.into_kind() {
            csv::ErrorKind::Io(io_error) => {
                match io_error.get_ref().and_then(|inner| inner.downcast_ref::<DecodeFault>()) {
                    Some(fault) => Failure {
                        line: fault.line,
                        column: None,
                        message: format!("{} is not valid {}", fault.describe_bytes(), self.encoding.name()),
                        fatal: true,
                        io: None,
                    },
                    None => Failure {
                        line: here,
                        column: None,
                        message: format!("could not read the file: {io_error}"),
                        fatal: true,
                        io: Some(io_error),
                    },
                }
            }
            csv::ErrorKind::Utf8 { pos, err } => Failure {
                line: pos.map_or(here, |p| p.line()),
                column: self.headers.get(err.field()).cloned(),
                message: format!("column {} is not valid UTF-8 text", err.field() + 1),
                fatal: false,
                io: None,
            },
            other => Failure {
                line: here,
                column: None,
                message: format!("the CSV cannot be parsed: {other:?}"),
                fatal: true,
                io: None,
            },
        }
    }
}

struct Failure {
    line: u64,
    column: Option<String>,
    message: String,
    /// Whether reading cannot go on after it.
    fatal: bool,
    /// The underlying I/O error, when that is what failed.
    io: Option<io::Error>,
}

struct RecordCells<'a>(&'a csv::StringRecord);

impl RowCells for RecordCells<'_> {
    fn cell(&self, column: usize) -> Result<&str, String> {
        Ok(self.0.get(column).unwrap_or(""))
    }
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}

/// Picks the delimiter that occurs most often, outside quotes, in the first
/// line; `,` when none occurs. Works on raw bytes: none of the candidates
/// can occur inside a multi-byte UTF-8 or GB18030 character. Leaves `input`
/// at `start`.
fn sniff_delimiter(input: &mut Input, start: u64) -> io::Result<u8> {
    let mut prefix = vec![0_u8; DELIMITER_SNIFF_LEN];
    let mut filled = 0;
    while filled < prefix.len() {
        let n = read_retrying(input, &mut prefix[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    input.seek(SeekFrom::Start(start))?;
    Ok(delimiter_of_first_line(&prefix[..filled]))
}

fn delimiter_of_first_line(text: &[u8]) -> u8 {
    let mut counts = [0_usize; DELIMITERS.len()];
    let mut quoted = false;
    for &byte in text {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == byte) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_guessed_from_first_line() {
        assert_eq!(delimiter_of_first_line(b"a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(delimiter_of_first_line(b"Name;Email;Phone\r\n"), b';');
        assert_eq!(delimiter_of_first_line(b"Name\tEmail\n"), b'\t');
        assert_eq!(delimiter_of_first_line(b"\"a;b;c\",d\n"), b',');
        assert_eq!(delimiter_of_first_line(b"Name\n"), b',');
        assert_eq!(delimiter_of_first_line(b""), b',');
    }
}
