//! Text encodings of CSV files and how the one in use is decided.
//!
//! Chinese users' CSV files come in two encodings: UTF-8 (CRM exports, "CSV
//! UTF-8" from Excel) and GB18030/GBK (Excel's plain "CSV" on a Chinese
//! Windows). Guessing wrong turns every Chinese character into mojibake that
//! would be stored in the vault for good, so the whole file is checked before
//! a single row is handed out: a file either decodes completely or the import
//! stops with the line of the first bad byte. Nothing is ever replaced with
//! U+FFFD.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::str::FromStr;

use encoding_rs::DecoderResult;
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeFault, count_newlines, read_retrying, to_u64};
use crate::error::ImportError;

/// The encoding a CSV file is read in, as chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// A UTF-8 byte-order mark means UTF-8 (the mark is dropped); otherwise
    /// UTF-8 when the whole file is valid UTF-8, else GB18030 when the whole
    /// file decodes as GB18030, else an error naming the line of the first
    /// bad byte.
    #[default]
    Auto,
    /// UTF-8; undecodable bytes are an error naming their line.
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030 (a superset of GBK and GB2312); undecodable bytes are an error
    /// naming their line.
    Gb18030,
}

impl Encoding {
    /// The names [`Encoding::from_str`] accepts, for help texts and errors.
    pub const ACCEPTED: &'static str = "auto, utf-8 (or utf8), gb18030 (or gbk, gb2312)";

    /// The canonical name: `auto`, `utf-8` or `gb18030`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Utf8 => "utf-8",
            Self::Gb18030 => "gb18030",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Encoding {
    type Err = ImportError;

    /// Case-insensitive; GBK and GB2312 are read as GB18030, which contains
    /// both, so a file labelled with either decodes the same.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "utf-8" | "utf8" => Ok(Self::Utf8),
            "gb18030" | "gbk" | "gb2312" => Ok(Self::Gb18030),
            _ => Err(ImportError::UnknownEncoding { given: s.to_owned() }),
        }
    }
}

/// An encoding a file is actually decoded with (never "auto").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    Utf8,
    Gb18030,
}

impl TextEncoding {
    /// Display name, as returned by `ImportReader::detected_encoding`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Gb18030 => "GB18030",
        }
    }

    pub(crate) fn codec(self) -> &'static encoding_rs::Encoding {
        match self {
            Self::Utf8 => encoding_rs::UTF_8,
            Self::Gb18030 => encoding_rs::GB18030,
        }
    }
}

/// The outcome of [`detect`]: how to decode, and where the text starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetectedEncoding {
    pub(crate) encoding: TextEncoding,
    /// Length of the byte-order mark to skip.
    pub(crate) bom_len: u64,
}

/// Byte-order marks that say which encoding a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bom {
    Utf8,
    Gb18030,
    Utf16,
}

impl Bom {
    fn sniff(head: &[u8]) -> Option<(Self, u64)> {
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            Some((Self::Utf8, 3))
        } else if head.starts_with(&[0x84, 0x31, 0x95, 0x33]) {
            Some((Self::Gb18030, 4))
        } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            Some((Self::Utf16, 2))
        } else {
            None
        }
    }
}

/// Decides the encoding of a CSV input and checks that the whole input
/// decodes in it, then leaves `input` positioned just after any byte-order
/// mark. Reads the input once per candidate encoding; the bytes are not kept.
pub(crate) fn detect<R: Read + Seek>(input: &mut R, requested: Encoding) -> Result<DetectedEncoding, ImportError> {
    input.seek(SeekFrom::Start(0))?;
    let mut head = [0_u8; 4];
    let head_len = read_prefix(input, &mut head)?;
    let bom = Bom::sniff(&head[..head_len]);

    let (encoding, bom_len) = match (bom, requested) {
        (Some((Bom::Utf16, _)), _) => {
            return Err(ImportError::UnsupportedFormat(
                "the file is UTF-16 text (Excel's \"Unicode Text\"), which is not supported; \
                 save it from Excel as \"CSV UTF-8\" or as .xlsx"
                    .to_owned(),
            ));
        }
        (Some((Bom::Utf8, len)), Encoding::Auto | Encoding::Utf8) => (TextEncoding::Utf8, len),
        (Some((Bom::Gb18030, len)), Encoding::Auto | Encoding::Gb18030) => (TextEncoding::Gb18030, len),
        (Some((Bom::Utf8, _)), Encoding::Gb18030) => {
            return Err(bom_conflict("UTF-8", "GB18030", "utf-8"));
        }
        (Some((Bom::Gb18030, _)), Encoding::Utf8) => {
            return Err(bom_conflict("GB18030", "UTF-8", "gb18030"));
        }
        (None, Encoding::Utf8) => (TextEncoding::Utf8, 0),
        (None, Encoding::Gb18030) => (TextEncoding::Gb18030, 0),
        (None, Encoding::Auto) => return detect_without_bom(input),
    };

    if let Some(fault) = first_fault(input, bom_len, encoding)? {
        return Err(fault_error(&fault, encoding, requested == Encoding::Auto));
    }
    input.seek(SeekFrom::Start(bom_len))?;
    Ok(DetectedEncoding { encoding, bom_len })
}

/// The "auto" rule for a file without a byte-order mark: UTF-8 if it all
/// decodes as UTF-8, else GB18030 if it all decodes as GB18030.
fn detect_without_bom<R: Read + Seek>(input: &mut R) -> Result<DetectedEncoding, ImportError> {
    let Some(utf8_fault) = first_fault(input, 0, TextEncoding::Utf8)? else {
        input.seek(SeekFrom::Start(0))?;
        return Ok(DetectedEncoding { encoding: TextEncoding::Utf8, bom_len: 0 });
    };
    let Some(gb_fault) = first_fault(input, 0, TextEncoding::Gb18030)? else {
        input.seek(SeekFrom::Start(0))?;
        return Ok(DetectedEncoding { encoding: TextEncoding::Gb18030, bom_len: 0 });
    };
    // Neither fits. The encoding that decoded further is most likely the
    // intended one with a damaged spot, so its first bad byte is reported.
    let (best, fault, other, other_fault) = if gb_fault.offset > utf8_fault.offset {
        (TextEncoding::Gb18030, &gb_fault, TextEncoding::Utf8, &utf8_fault)
    } else {
        (TextEncoding::Utf8, &utf8_fault, TextEncoding::Gb18030, &gb_fault)
    };
    Err(ImportError::Encoding {
        line: fault.line,
        message: format!(
            "the file is neither UTF-8 nor GB18030: as {} it breaks here at {} (as {} already at line {}); \
             the file may be damaged or in another encoding: save it again as \"CSV UTF-8\"",
            best.name(),
            fault.describe_bytes(),
            other.name(),
            other_fault.line,
        ),
    })
}

fn bom_conflict(found: &str, requested: &str, suggestion: &str) -> ImportError {
    ImportError::Encoding {
        line: 1,
        message: format!(
            "the file starts with a {found} byte-order mark but {requested} was requested; \
             choose \"{suggestion}\" or \"auto\""
        ),
    }
}

fn fault_error(fault: &DecodeFault, encoding: TextEncoding, auto: bool) -> ImportError {
    let hint = match (encoding, auto) {
        (_, true) => "the file may be damaged; save it again as \"CSV UTF-8\"",
        (TextEncoding::Utf8, false) => "if the file was saved by Excel on a Chinese Windows, choose GB18030 or auto",
        (TextEncoding::Gb18030, false) => "if the file is UTF-8, choose utf-8 or auto",
    };
    ImportError::Encoding {
        line: fault.line,
        message: format!("{} is not valid {}; {hint}", fault.describe_bytes(), encoding.name()),
    }
}

/// Reads up to `buf.len()` bytes (fewer only at end of input).
fn read_prefix<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = read_retrying(input, &mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// Size of the chunks the validation pass reads.
const CHUNK: usize = 64 * 1024;

/// Decodes `input` from `start` to its end without keeping the text and
/// returns where the first undecodable byte is, if any.
pub(crate) fn first_fault<R: Read + Seek>(
    input: &mut R,
    start: u64,
    encoding: TextEncoding,
) -> io::Result<Option<DecodeFault>> {
    input.seek(SeekFrom::Start(start))?;
    let mut decoder = encoding.codec().new_decoder_without_bom_handling();
    let mut chunk = vec![0_u8; CHUNK];
    let mut scratch = vec![0_u8; CHUNK * 3 + 16];
    let mut offset = start;
    let mut newlines = 0_u64;
    loop {
        let len = read_retrying(input, &mut chunk)?;
        let last = len == 0;
        let mut src = &chunk[..len];
        loop {
            let (result, read, _) = decoder.decode_to_utf8_without_replacement(src, &mut scratch, last);
            match result {
                DecoderResult::Malformed(bad_len, extra) => {
                    let end = read.saturating_sub(usize::from(extra));
                    let bad_start = end.saturating_sub(usize::from(bad_len));
                    return Ok(Some(DecodeFault {
                        line: 1 + newlines + count_newlines(&src[..bad_start]),
                        offset: offset + to_u64(bad_start),
                        bytes: src[bad_start..end].to_vec(),
                    }));
                }
                DecoderResult::OutputFull => {
                    newlines += count_newlines(&src[..read]);
                    offset += to_u64(read);
                    src = &src[read..];
                }
                DecoderResult::InputEmpty => {
                    newlines += count_newlines(&src[..read]);
                    offset += to_u64(read);
                    break;
                }
            }
        }
        if last {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn detect_bytes(bytes: &[u8], requested: Encoding) -> Result<DetectedEncoding, ImportError> {
        detect(&mut Cursor::new(bytes.to_vec()), requested)
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("UTF-8".parse::<Encoding>().ok(), Some(Encoding::Utf8));
        assert_eq!(" Utf8 ".parse::<Encoding>().ok(), Some(Encoding::Utf8));
        assert_eq!("GBK".parse::<Encoding>().ok(), Some(Encoding::Gb18030));
        assert_eq!("gb2312".parse::<Encoding>().ok(), Some(Encoding::Gb18030));
        assert_eq!("Auto".parse::<Encoding>().ok(), Some(Encoding::Auto));
        let message = "latin1".parse::<Encoding>().unwrap_err().to_string();
        assert!(message.contains("latin1") && message.contains("gb18030"), "{message}");
    }

    #[test]
    fn auto_prefers_utf8_then_gb18030() {
        let utf8 = "姓名\n张三\n".as_bytes();
        assert_eq!(detect_bytes(utf8, Encoding::Auto).unwrap().encoding, TextEncoding::Utf8);
        let (gb, _, _) = encoding_rs::GB18030.encode("姓名\n张三\n");
        assert_eq!(detect_bytes(&gb, Encoding::Auto).unwrap().encoding, TextEncoding::Gb18030);
        assert_eq!(detect_bytes(b"", Encoding::Auto).unwrap().encoding, TextEncoding::Utf8);
    }

    #[test]
    fn bom_is_skipped_and_conflicts_are_reported() {
        let detected = detect_bytes(b"\xEF\xBB\xBFa,b\n", Encoding::Auto).unwrap();
        assert_eq!(detected, DetectedEncoding { encoding: TextEncoding::Utf8, bom_len: 3 });
        assert!(matches!(
            detect_bytes(b"\xEF\xBB\xBFa,b\n", Encoding::Gb18030),
            Err(ImportError::Encoding { line: 1, .. })
        ));
        assert!(matches!(detect_bytes(b"\xFF\xFEa\0", Encoding::Auto), Err(ImportError::UnsupportedFormat(_))));
    }

    #[test]
    fn fault_line_counts_newlines_across_chunks() {
        let mut bytes = "a\n".repeat(CHUNK).into_bytes();
        bytes.extend_from_slice(b"ok\n\xFF\n");
        let fault = first_fault(&mut Cursor::new(bytes), 0, TextEncoding::Utf8).unwrap().unwrap();
        assert_eq!(fault.line, to_u64(CHUNK) + 2);
        assert_eq!(fault.bytes, vec![0xFF]);
    }

    #[test]
    fn truncated_sequence_at_end_is_a_fault() {
        let fault = first_fault(&mut Cursor::new(b"a\n\xE5\xBC".to_vec()), 0, TextEncoding::Utf8).unwrap().unwrap();
        assert_eq!(fault.line, 2);
    }
}
