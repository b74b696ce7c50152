//! Hostile and large inputs: garbage never panics, big files stream.

use std::fmt::Write as _;
use std::io::Write as _;

use proptest::prelude::*;
use tutela_import::{ColumnMapping, Encoding, FileFormat, ImportReader, Preset};

fn mapping() -> ColumnMapping {
    ColumnMapping::new().map("name", "a").join("address", &["b", "c"], ", ")
}

/// Opens and drains; only panics matter, errors are expected.
fn drain(bytes: Vec<u8>, format: FileFormat, encoding: Encoding, mapping: &ColumnMapping) {
    if let Ok(reader) = ImportReader::from_bytes(bytes, format, encoding, mapping) {
        let _ = reader.headers().len() + reader.unmapped_headers().len();
        for row in reader {
            match row {
                Ok(row) => assert!(row.values.iter().all(|(_, v)| !v.is_empty())),
                Err(error) => assert!(!error.to_string().is_empty()),
            }
        }
    }
}

/// Bytes drawn from pieces that stress the CSV parser and the decoders.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"a",
        b"b",
        b"c",
        b",",
        b";",
        b"\t",
        b"\"",
        b"\"\"",
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"=\"",
        "张".as_bytes(),
        b"\xD5\xC5",
        b"\x81\x30\x81\x30",
        b"\xFF",
        b"\x81",
        b"\xEF\xBB\xBF",
        b"\0",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..200).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for encoding in [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030] {
            drain(bytes.clone(), FileFormat::Csv, encoding, &mapping());
        }
        drain(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping());
    }

    #[test]
    fn csv_like_input_never_panics(body in csvish()) {
        let mut bytes = b"a,b,c\n".to_vec();
        bytes.extend_from_slice(&body);
        for encoding in [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030] {
            drain(bytes.clone(), FileFormat::Csv, encoding, &mapping());
            drain(bytes.clone(), FileFormat::Csv, encoding, &Preset::ZohoContacts.mapping());
        }
    }

    #[test]
    fn zip_like_garbage_never_panics(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&body);
        drain(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping());
    }

    #[test]
    fn damaged_workbooks_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = small_workbook();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        drain(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping());
    }
}

fn small_workbook() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in (0_u16..).zip(["a", "b", "c"]) {
        sheet.write_string(0, column, header).unwrap();
    }
    sheet.write_string(1, 0, "张三").unwrap();
    sheet.write_number(1, 1, 13_800_138_000.0).unwrap();
    sheet.write_string(1, 2, "深圳").unwrap();
    workbook.save_to_buffer().unwrap()
}

/// 200,000 generated rows stream through without error (no timing claim).
#[test]
fn two_hundred_thousand_rows_stream() {
    const ROWS: u64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "姓名,手机,邮箱,省,市,区,详细地址,备注").unwrap();
    let mut line = String::new();
    for i in 0..ROWS {
        line.clear();
        writeln!(line, "客户{i},138{i:08},user{i}@example.cn,广东省,深圳市,南山区,\"科技园{i}号, {i}室\",\"备注 {i}\"")
            .unwrap();
        file.write_all(line.as_bytes()).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();

    let reader = ImportReader::open(&path, None, Encoding::Auto, &Preset::FxiaokeCustomers.mapping()).unwrap();
    assert_eq!(reader.detected_encoding(), Some("UTF-8"));
    let mut count = 0_u64;
    let mut last_line = 0;
    for row in reader {
        let row = row.unwrap();
        count += 1;
        last_line = row.line;
    }
    assert_eq!(count, ROWS);
    assert_eq!(last_line, ROWS + 1);
}
