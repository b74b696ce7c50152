//! CSV files end to end: encodings, line numbers, malformed rows, headers.

use crate::common;

use common::{gb18030, ok_rows, open, pairs, read_all, write_file};
use tutela_import::{ColumnMapping, Encoding, FileFormat, ImportError, ImportReader};

fn name_email() -> ColumnMapping {
    ColumnMapping::new().map("name", "Name").map("email", "Email")
}

#[test]
fn utf8_without_bom() {
    let file = write_file("c.csv", "Name,Email\n张三,zs@example.com\nJohn,john@example.com\n".as_bytes());
    let reader = open(&file, Encoding::Auto, &name_email()).unwrap();
    assert_eq!(reader.detected_encoding(), Some("UTF-8"));
    assert_eq!(reader.format(), FileFormat::Csv);
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(rows[0].line, 2);
    assert_eq!(pairs(&rows[0]), [("name", "张三"), ("email", "zs@example.com")]);
    assert_eq!(rows[1].line, 3);
}

#[test]
fn utf8_with_bom_strips_it_from_the_first_header() {
    let file = write_file("c.csv", "\u{FEFF}Name,Email\r\n李四,ls@example.com\r\n".as_bytes());
    for encoding in [Encoding::Auto, Encoding::Utf8] {
        let reader = open(&file, encoding, &name_email()).unwrap();
        assert_eq!(reader.headers(), ["Name", "Email"]);
        assert_eq!(reader.detected_encoding(), Some("UTF-8"));
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(pairs(&rows[0]), [("name", "李四"), ("email", "ls@example.com")]);
    }
}

#[test]
fn gb18030_is_detected_and_can_be_named() {
    let text = "姓名,手机,备注\n王五,13800138000,老客户（VIP）\n赵六,13900139000,\n";
    let file = write_file("gbk.csv", &gb18030(text));
    let mapping = ColumnMapping::new().map("name", "姓名").map("mobile", "手机").map("notes", "备注");
    for encoding in [Encoding::Auto, "gbk".parse().unwrap(), "GB18030".parse().unwrap()] {
        let reader = open(&file, encoding, &mapping).unwrap();
        assert_eq!(reader.detected_encoding(), Some("GB18030"));
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(pairs(&rows[0]), [("name", "王五"), ("mobile", "13800138000"), ("notes", "老客户（VIP）")]);
        assert_eq!(pairs(&rows[1]), [("name", "赵六"), ("mobile", "13900139000")]);
        assert_eq!(rows[1].line, 3);
    }
}

#[test]
fn invalid_utf8_named_utf8_is_an_error_naming_the_line() {
    let file = write_file("bad.csv", b"Name,Email\nok,a@b.c\nbad\xFF,x@y.z\n");
    let err = open(&file, Encoding::Utf8, &name_email()).unwrap_err();
    assert!(matches!(err, ImportError::Encoding { line: 3, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("line 3:") && message.contains("0xFF"), "{message}");
}

#[test]
fn invalid_gb18030_named_gb18030_is_an_error_naming_the_line() {
    let mut bytes = gb18030("姓名\n张三\n李四\n");
    bytes.extend_from_slice(b"\x81\x0A");
    let file = write_file("bad.csv", &bytes);
    let err = open(&file, Encoding::Gb18030, &ColumnMapping::new().map("name", "姓名")).unwrap_err();
    assert!(matches!(err, ImportError::Encoding { line: 4, .. }), "{err:?}");
}

#[test]
fn auto_rejects_bytes_that_are_neither_encoding() {
    let mut bytes = gb18030("姓名\n张三\n");
    bytes.extend_from_slice(b"\xFF\xFF\n");
    let file = write_file("bad.csv", &bytes);
    let err = open(&file, Encoding::Auto, &ColumnMapping::new().map("name", "姓名")).unwrap_err();
    assert!(matches!(err, ImportError::Encoding { line: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("GB18030"), "{err}");
}

#[test]
fn utf16_is_refused_with_advice() {
    let file = write_file("u16.csv", b"\xFF\xFEN\0a\0m\0e\0");
    let err = open(&file, Encoding::Auto, &name_email()).unwrap_err();
    assert!(matches!(err, ImportError::UnsupportedFormat(_)));
    assert!(err.to_string().contains("CSV UTF-8"));
}

#[test]
fn wrong_column_count_is_a_row_error_and_reading_goes_on() {
    let file = write_file("c.csv", b"Name,Email\nA,a@x\nB\nC,c@x,extra\nD,d@x\n");
    let rows = read_all(open(&file, Encoding::Auto, &name_email()).unwrap());
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].as_ref().unwrap().line, 2);
    let err = rows[1].as_ref().unwrap_err();
    assert_eq!((err.line, err.column.as_deref()), (3, None));
    assert_eq!(err.message, "expected 2 columns, found 1");
    assert_eq!(err.to_string(), "line 3: expected 2 columns, found 1");
    assert_eq!(rows[2].as_ref().unwrap_err().line, 4);
    assert_eq!(rows[3].as_ref().unwrap().line, 5);
}

#[test]
fn embedded_newlines_keep_later_line_numbers_right() {
    let text = "Name,Notes\nA,\"first\nsecond\r\nthird\"\nB,plain\n\"C\nD\",x\nE,y\n";
    let file = write_file("c.csv", text.as_bytes());
    let mapping = ColumnMapping::new().map("name", "Name").map("notes", "Notes");
    let rows = ok_rows(&file, Encoding::Auto, &mapping);
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 5, 6, 8]);
    assert_eq!(rows[0].get("notes"), Some("first\nsecond\r\nthird"));
    assert_eq!(rows[2].get("name"), Some("C\nD"));
}

#[test]
fn unclosed_quote_is_pointed_out() {
    let file = write_file("c.csv", b"Name,Email\nA,\"a@x\nB,b@x\nC,c@x\n");
    let rows = read_all(open(&file, Encoding::Auto, &name_email()).unwrap());
    assert_eq!(rows.len(), 1);
    let err = rows[0].as_ref().unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("closing quote"), "{}", err.message);
}

#[test]
fn blank_rows_are_skipped() {
    let file = write_file("c.csv", b"\nName,Email\n\nA,a@x\n,\n \t, \nB,b@x\n");
    let rows = ok_rows(&file, Encoding::Auto, &name_email());
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 7]);
}

#[test]
fn values_are_trimmed_unwrapped_and_empty_ones_omitted() {
    let text = "Name,Phone,Email\n  张三\u{3000},=\"0755-8888\",\"  \"\n";
    let file = write_file("c.csv", text.as_bytes());
    let mapping = name_email().map("phone", "Phone");
    let rows = ok_rows(&file, Encoding::Auto, &mapping);
    assert_eq!(pairs(&rows[0]), [("name", "张三"), ("phone", "0755-8888")]);
}

#[test]
fn joins_skip_empty_parts() {
    let text = "Last Name,First Name,Street,City,Zip\nSmith,John,1 Main St,,10001\n王,,,,\n";
    let file = write_file("c.csv", text.as_bytes());
    let mapping = ColumnMapping::new().join("name", &["Last Name", "First Name"], " ").join(
        "address",
        &["Street", "City", "Zip"],
        ", ",
    );
    let rows = ok_rows(&file, Encoding::Auto, &mapping);
    assert_eq!(pairs(&rows[0]), [("name", "Smith John"), ("address", "1 Main St, 10001")]);
    assert_eq!(pairs(&rows[1]), [("name", "王")]);
}

#[test]
fn other_delimiters_are_recognised() {
    for (text, delimiter) in [("Name;Email\nA;a@x\n", ';'), ("Name\tEmail\nA\ta@x\n", '\t')] {
        let file = write_file("c.csv", text.as_bytes());
        let reader = open(&file, Encoding::Auto, &name_email()).unwrap();
        assert_eq!(reader.csv_delimiter(), Some(delimiter));
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(pairs(&rows[0]), [("name", "A"), ("email", "a@x")]);
    }
}

#[test]
fn headers_match_forgivingly() {
    let text = "\u{FEFF}  NAME ,ｅｍａｉｌ,电话（办公）\nA,a@x,1\n";
    let file = write_file("c.csv", text.as_bytes());
    let mapping = name_email().map("phone", "电话(办公)");
    let rows = ok_rows(&file, Encoding::Auto, &mapping);
    assert_eq!(pairs(&rows[0]), [("name", "A"), ("email", "a@x"), ("phone", "1")]);
}

#[test]
fn missing_mapped_header_is_named_with_the_headers_found() {
    let file = write_file("c.csv", b"Name,Email,Phone\nA,a@x,1\n");
    let mapping = ColumnMapping::new().map("name", "Name").map("email", "E-mail");
    let err = open(&file, Encoding::Auto, &mapping).unwrap_err();
    assert!(matches!(err, ImportError::Header(_)));
    let message = err.to_string();
    assert!(message.contains("\"E-mail\" (for field email)"), "{message}");
    assert!(message.contains("\"Name\", \"Email\", \"Phone\""), "{message}");
}

#[test]
fn unmapped_headers_are_listed() {
    let file = write_file("c.csv", b"Name,Fax,Email,,Owner\nA,1,a@x,,me\n");
    let reader = open(&file, Encoding::Auto, &name_email()).unwrap();
    assert_eq!(reader.unmapped_headers(), ["Fax", "Owner"]);
    assert_eq!(
        reader.mapped_columns(),
        [("name".to_owned(), vec!["Name".to_owned()]), ("email".to_owned(), vec!["Email".to_owned()])]
    );
}

#[test]
fn empty_and_header_only_files() {
    let empty = write_file("empty.csv", b"");
    assert!(matches!(open(&empty, Encoding::Auto, &name_email()), Err(ImportError::Empty)));
    let blank = write_file("blank.csv", b"\n\n");
    assert!(matches!(open(&blank, Encoding::Auto, &name_email()), Err(ImportError::Empty)));
    let header_only = write_file("h.csv", b"Name,Email\n");
    assert!(ok_rows(&header_only, Encoding::Auto, &name_email()).is_empty());
}

#[test]
fn empty_mapping_is_refused() {
    let file = write_file("c.csv", b"Name\nA\n");
    assert!(matches!(open(&file, Encoding::Auto, &ColumnMapping::new()), Err(ImportError::Mapping(_))));
}

#[test]
fn missing_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.csv");
    let err = ImportReader::open(&path, None, Encoding::Auto, &name_email()).unwrap_err();
    assert!(matches!(err, ImportError::Open { .. }));
    assert!(err.to_string().contains("nope.csv"));
}

#[test]
fn progress_reaches_the_end() {
    let file = write_file("c.csv", b"\xEF\xBB\xBFName,Email\nA,a@x\nB,b@x\n");
    let mut reader = open(&file, Encoding::Auto, &name_email()).unwrap();
    assert_eq!(reader.total_bytes(), 26);
    assert_eq!(reader.total_rows(), None);
    while reader.next().is_some() {}
    assert_eq!(reader.bytes_read(), reader.total_bytes());
    assert_eq!(reader.rows_read(), 2);
}

#[test]
fn from_bytes_matches_open() {
    let bytes = gb18030("姓名,邮箱\n张三,zs@x\n");
    let mapping = ColumnMapping::new().map("name", "姓名").map("email", "邮箱");
    let reader = ImportReader::from_bytes(bytes, FileFormat::Csv, Encoding::Auto, &mapping).unwrap();
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(pairs(&rows[0]), [("name", "张三"), ("email", "zs@x")]);
}

#[test]
fn reader_can_move_to_a_blocking_task() {
    fn assert_send<T: Send>() {}
    assert_send::<ImportReader>();
}
