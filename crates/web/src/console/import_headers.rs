//! The header row of an uploaded file, to recognise the CRM it came from or to match columns
//! to field names.

use tutela_import::{Encoding, FileFormat, ImportError, ImportReader};

pub fn header_row(bytes: &[u8], format: FileFormat, encoding: Encoding) -> Result<Vec<String>, ImportError> {
    ImportReader::header_row(bytes.to_vec(), format, encoding)
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
