//! .xlsx workbooks made with `rust_xlsxwriter`, read back.

use crate::common;

use common::{ok_rows, open, pairs, write_file};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, XlsxError};
use tutela_import::{ColumnMapping, Encoding, FileFormat, ImportError, ImportReader, Preset};

fn mapping() -> ColumnMapping {
    ColumnMapping::new()
        .map("name", "姓名")
        .map("mobile", "手机")
        .map("birth_date", "生日")
        .map("annual_revenue", "年收入")
        .map("notes", "备注")
}

/// Header on sheet row 1, then: a full row, a blank row, a sparse row.
fn customer_workbook() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = workbook.add_worksheet();
    for (column, header) in (0_u16..).zip(["姓名", "手机", "生日", "年收入", "备注", "Extra"]) {
        sheet.write_string(0, column, header)?;
    }
    sheet.write_string(1, 0, " 张三 ")?;
    sheet.write_number(1, 1, 13_800_138_000.0)?;
    sheet.write_datetime_with_format(1, 2, &ExcelDateTime::from_ymd(1990, 5, 17)?, &date)?;
    sheet.write_number(1, 3, 1_234_567.5)?;
    sheet.write_boolean(1, 4, true)?;
    sheet.write_string(1, 5, "ignored")?;
    sheet.write_string(3, 0, "李四")?;
    sheet.write_number(3, 3, 100.0)?;
    let moment = ExcelDateTime::from_ymd(2024, 2, 29)?.and_hms(9, 30, 0)?;
    sheet.write_datetime_with_format(3, 4, &moment, &date_time)?;
    // Stray cell right of the header row: no column, ignored.
    sheet.write_string(3, 9, "total")?;
    workbook.add_worksheet().write_string(0, 0, "second sheet is not read")?;
    workbook.save_to_buffer()
}

#[test]
fn numbers_dates_and_blank_rows() {
    let file = write_file("customers.xlsx", &customer_workbook().unwrap());
    let reader = open(&file, Encoding::Auto, &mapping()).unwrap();
    assert_eq!(reader.format(), FileFormat::Xlsx);
    assert_eq!(reader.detected_encoding(), None);
    assert_eq!(reader.headers(), ["姓名", "手机", "生日", "年收入", "备注", "Extra"]);
    assert_eq!(reader.unmapped_headers(), ["Extra"]);
    assert_eq!(reader.total_rows(), Some(3));
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 2);
    assert_eq!(
        pairs(&rows[0]),
        [
            ("name", "张三"),
            ("mobile", "13800138000"),
            ("birth_date", "1990-05-17"),
            ("annual_revenue", "1234567.5"),
            ("notes", "TRUE"),
        ]
    );
    assert_eq!(rows[1].line, 4);
    assert_eq!(pairs(&rows[1]), [("name", "李四"), ("annual_revenue", "100"), ("notes", "2024-02-29T09:30:00")]);
}

#[test]
fn header_below_title_rows_and_sheet_row_numbers() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(2, 1, "Name").unwrap();
    sheet.write_string(2, 2, "Mobile").unwrap();
    sheet.write_string(5, 1, "Zhang San").unwrap();
    sheet.write_number(5, 2, 13_900_139_000.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let mapping = ColumnMapping::new().map("name", "Name").map("mobile", "Mobile");
    let reader = ImportReader::from_bytes(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping).unwrap();
    assert_eq!(reader.headers(), ["", "Name", "Mobile"]);
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(rows[0].line, 6);
    assert_eq!(pairs(&rows[0]), [("name", "Zhang San"), ("mobile", "13900139000")]);
}

#[test]
fn preset_on_a_workbook() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in (0_u16..).zip(["姓名", "客户名称", "手机", "职务", "负责人"]) {
        sheet.write_string(0, column, header).unwrap();
    }
    for (column, value) in (0_u16..).zip(["陈静", "上海某某贸易有限公司", "13700001111", "财务经理", "李娜"])
    {
        sheet.write_string(1, column, value).unwrap();
    }
    let file = write_file("联系人.xlsx", &workbook.save_to_buffer().unwrap());
    let headers = open(&file, Encoding::Auto, &ColumnMapping::new().map("name", "姓名")).unwrap().headers().to_vec();
    let preset = tutela_import::detect_preset(&headers).unwrap();
    assert_eq!(preset, Preset::FxiaokeContacts);
    let rows = ok_rows(&file, Encoding::Auto, &preset.mapping());
    assert_eq!(rows[0].get("mobile"), Some("13700001111"));
    assert_eq!(rows[0].get("title"), Some("财务经理"));
}

#[test]
fn excel_error_in_a_mapped_cell_is_a_row_error_naming_the_column() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "姓名").unwrap();
    sheet.write_string(0, 1, "年收入").unwrap();
    sheet.write_string(0, 2, "Ignored").unwrap();
    sheet.write_string(1, 0, "张三").unwrap();
    sheet.write_formula(1, 1, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    sheet.write_string(2, 0, "李四").unwrap();
    sheet.write_formula(2, 2, Formula::new("=NA()").set_result("#N/A")).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let mapping = ColumnMapping::new().map("name", "姓名").map("annual_revenue", "年收入");
    let rows: Vec<_> = ImportReader::from_bytes(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping).unwrap().collect();
    let err = rows[0].as_ref().unwrap_err();
    assert_eq!((err.line, err.column.as_deref()), (2, Some("年收入")));
    assert!(err.to_string().starts_with("line 2, column \"年收入\": the cell holds the Excel error #DIV/0!"), "{err}");
    assert_eq!(pairs(rows[1].as_ref().unwrap()), [("name", "李四")]);
}

#[test]
fn workbook_named_csv_is_still_read_as_a_workbook() {
    let file = write_file("export.csv", &customer_workbook().unwrap());
    let reader = open(&file, Encoding::Auto, &mapping()).unwrap();
    assert_eq!(reader.format(), FileFormat::Xlsx);
}

#[test]
fn progress_counts_rows() {
    let mut reader =
        ImportReader::from_bytes(customer_workbook().unwrap(), FileFormat::Xlsx, Encoding::Auto, &mapping()).unwrap();
    while reader.next().is_some() {}
    assert_eq!(reader.bytes_read(), reader.total_bytes());
    assert_eq!(reader.rows_read(), 2);
}

#[test]
fn missing_header_in_a_workbook_is_named() {
    let bytes = customer_workbook().unwrap();
    let mapping = mapping().map("email", "邮箱");
    let err = ImportReader::from_bytes(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping).unwrap_err();
    assert!(matches!(err, ImportError::Header(_)));
    assert!(err.to_string().contains("\"邮箱\" (for field email)"), "{err}");
}

#[test]
fn empty_workbook_is_empty() {
    let mut workbook = Workbook::new();
    workbook.add_worksheet();
    let bytes = workbook.save_to_buffer().unwrap();
    let err = ImportReader::from_bytes(bytes, FileFormat::Xlsx, Encoding::Auto, &mapping()).unwrap_err();
    assert!(matches!(err, ImportError::Empty), "{err:?}");
}

#[test]
fn damaged_workbooks_are_errors() {
    let bytes = customer_workbook().unwrap();
    let truncated = bytes[..bytes.len() / 2].to_vec();
    let err = ImportReader::from_bytes(truncated, FileFormat::Xlsx, Encoding::Auto, &mapping()).unwrap_err();
    assert!(matches!(err, ImportError::Xlsx(_)), "{err:?}");
    let err =
        ImportReader::from_bytes(b"not a zip".to_vec(), FileFormat::Xlsx, Encoding::Auto, &mapping()).unwrap_err();
    assert!(matches!(err, ImportError::Xlsx(_)), "{err:?}");
}

#[test]
fn legacy_xls_is_refused_with_advice() {
    let file = write_file("old.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]);
    let err = open(&file, Encoding::Auto, &mapping()).unwrap_err();
    assert!(matches!(err, ImportError::UnsupportedFormat(_)));
    assert!(err.to_string().contains(".xlsx"));
}
