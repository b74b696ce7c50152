//! The header row of an uploaded file, to recognise the CRM it came from or to match columns
//! to field names. The import crate opens a file only together with a mapping (and refuses a
//! mapping none of whose columns exist), so each preset is tried in turn; a CSV file that
//! matches none has its first record read here.

use std::borrow::Cow;

use tutela_import::{Encoding, FileFormat, ImportError, ImportReader, Preset};

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

pub fn header_row(bytes: &[u8], format: FileFormat, encoding: Encoding) -> Result<Vec<String>, ImportError> {
    let mut refusal = None;
    for preset in Preset::all() {
        match ImportReader::from_bytes(bytes.to_vec(), format, encoding, &preset.mapping()) {
            Ok(reader) => return Ok(reader.headers().to_vec()),
            // Only "these columns are not here" says nothing about the file itself.
            Err(ImportError::Header(m)) => refusal = Some(m),
            Err(other) => return Err(other),
        }
    }
    match format {
        FileFormat::Csv => Ok(first_csv_record(bytes, encoding)),
        FileFormat::Xlsx => Err(ImportError::Header(refusal.unwrap_or_default())),
    }
}

/// The first record of a CSV file whose encoding the import crate has already accepted.
fn first_csv_record(bytes: &[u8], encoding: Encoding) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let text: Cow<'_, str> = match (encoding, std::str::from_utf8(bytes)) {
        (Encoding::Auto | Encoding::Utf8, Ok(text)) => Cow::Borrowed(text),
        _ => encoding_rs::GB18030.decode_without_bom_handling(bytes).0,
    };
    let delimiter = delimiter_of_first_line(text.as_bytes());
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|record| record.iter().map(|h| h.trim().to_owned()).collect())
        .unwrap_or_default()
}

/// The delimiter used most outside quotes on the first line (as the import crate guesses it).
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
    let best = (0..DELIMITERS.len()).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    DELIMITERS[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_files_no_preset_knows() {
        let csv = "\u{feff}\"id\";\"Loyalty; tier\";name\r\n1;gold;x\r\n";
        assert_eq!(
            header_row(csv.as_bytes(), FileFormat::Csv, Encoding::Auto).unwrap(),
            ["id", "Loyalty; tier", "name"]
        );
        let (gb, _, _) = encoding_rs::GB18030.encode("编号\t会员等级\n1\t金\n");
        assert_eq!(header_row(&gb, FileFormat::Csv, Encoding::Auto).unwrap(), ["编号", "会员等级"]);
    }

    #[test]
    fn a_known_export_is_read_by_the_import_crate() {
        let csv = "姓名,手机,电子邮箱\n张三,13812345678,z@example.com\n";
        assert_eq!(header_row(csv.as_bytes(), FileFormat::Csv, Encoding::Auto).unwrap(), ["姓名", "手机", "电子邮箱"]);
    }
}
