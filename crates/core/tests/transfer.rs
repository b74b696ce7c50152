//! Import (all or nothing, or skipping bad rows) and export (masked unless revealed with a
//! purpose), on both stores.

use std::io::Write as _;

use tutela_core::CoreError;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, principal, steward};
use tutela_core::vault::import::ImportOptions;
use tutela_core::vault::{ExportFormat, ListRequest};
use tutela_import::{ColumnMapping, Encoding, ImportReader, Preset};
use tutela_store::AuditFilter;

const GOOD: &str = "姓名,手机,邮箱,身份证号,地区\n张三,13800138000,zhang@example.com,11010519491231002X,华东\n李四,+86 139 0013 9000,li@example.com,,华北\n";

fn write_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    path
}

/// Imports a file written by the test with [`mapping`].
async fn import_file(
    h: &Harness,
    who: &tutela_core::policy::Principal,
    path: &std::path::Path,
    skip_bad: bool,
) -> Result<tutela_core::vault::import::ImportReport, CoreError> {
    let open = || ImportReader::open(path, None, Encoding::Auto, &mapping());
    h.tutela.import_customers(who, open, ImportOptions { skip_bad }, |_| {}).await
}

fn mapping() -> ColumnMapping {
    ColumnMapping::new()
        .map("name", "姓名")
        .map("mobile", "手机")
        .map("email", "邮箱")
        .map("national_id", "身份证号")
        .map("region", "地区")
}

async fn import_writes_all_rows(backend: Backend) {
    let h = Harness::new(backend).await;
    let path = write_file(h.dir.path(), "ok.csv", GOOD);
    let mut last = None;
    let report = h
        .tutela
        .import_customers(
            &steward(),
            || ImportReader::open(&path, None, Encoding::Auto, &mapping()),
            ImportOptions::default(),
            |p| last = Some(p),
        )
        .await
        .unwrap();
    assert_eq!((report.rows, report.imported, report.rejected), (2, 2, 0));
    assert!(last.is_some(), "progress reported");
    let found = h.tutela.lookup_customers(&steward(), "mobile", "13900139000").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get("name"), Some("李四"));
    let events = h
        .tutela
        .store()
        .audit_search(&AuditFilter { action: Some("customer.import".into()), limit: 5, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    h.close().await;
}

async fn a_bad_row_refuses_the_whole_file(backend: Backend) {
    let h = Harness::new(backend).await;
    let text = format!("{GOOD}王五,12,wang@example.com,,华南\n");
    let path = write_file(h.dir.path(), "bad.csv", &text);
    let report = import_file(&h, &steward(), &path, false).await.unwrap();
    assert!(report.refused);
    assert_eq!(report.rejected, 1);
    assert_eq!(report.errors[0].line, 4);
    assert_eq!(report.errors[0].column.as_deref(), Some("手机"));
    assert_eq!(h.tutela.customer_count().await.unwrap(), 0, "nothing of a failed import stays");

    let skipped = import_file(&h, &steward(), &path, true).await.unwrap();
    assert_eq!((skipped.imported, skipped.rejected, skipped.refused), (2, 1, false));
    assert_eq!(h.tutela.customer_count().await.unwrap(), 2);
    h.close().await;
}

async fn gb18030_and_presets(backend: Backend) {
    let h = Harness::new(backend).await;
    let text = "客户名称,电话,邮箱,省,市,详细地址,备注\n杭州某某网络有限公司,0571-88886666,info@example.cn,浙江省,杭州市,西湖区文三路1号,重要客户\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let path = h.dir.path().join("fxiaoke.csv");
    std::fs::write(&path, &bytes).unwrap();
    let report = h
        .tutela
        .import_customers(
            &steward(),
            || ImportReader::open(&path, None, Encoding::Auto, &Preset::FxiaokeCustomers.mapping()),
            ImportOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.errors);
    let page = h.tutela.list_customers(&steward(), ListRequest::default()).await.unwrap();
    assert_eq!(page.items[0].get("name"), Some("杭州某某网络有限公司"));
    h.close().await;
}

async fn import_needs_permission(backend: Backend) {
    let h = Harness::new(backend).await;
    let path = write_file(h.dir.path(), "ok.csv", GOOD);
    let sales = principal("sales@example.com", &[Permission::CustomerRead, Permission::CustomerWrite]);
    let err = import_file(&h, &sales, &path, false).await.unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)));
    h.close().await;
}

async fn drain(export: &mut tutela_core::vault::Export) -> String {
    let mut out = Vec::new();
    while let Some(chunk) = export.next_chunk().await.unwrap() {
        out.extend(chunk);
    }
    String::from_utf8(out).unwrap()
}

async fn export_masks_unless_revealed(backend: Backend) {
    let h = Harness::new(backend).await;
    let path = write_file(h.dir.path(), "ok.csv", GOOD);
    import_file(&h, &steward(), &path, false).await.unwrap();

    // Export reaches only what the exporter may read: customer.read is part of it.
    let exporter = principal(
        "exporter@example.com",
        &[Permission::CustomerRead, Permission::CustomerExport, Permission::RevealConfidential],
    );
    let mut masked = h.tutela.begin_export(&exporter, ExportFormat::Csv, None).await.unwrap();
    let csv = drain(&mut masked).await;
    assert!(csv.starts_with("id,name,"), "{csv}");
    assert!(csv.contains("138****8000") && !csv.contains("13800138000"), "{csv}");
    assert_eq!(masked.report().rows, 2);

    let mut revealed =
        h.tutela.begin_export(&exporter, ExportFormat::JsonLines, Some("mailing approved by DPO")).await.unwrap();
    let jsonl = drain(&mut revealed).await;
    assert!(jsonl.contains("13800138000"), "confidential revealed with a purpose: {jsonl}");
    assert!(
        jsonl.contains("110***********002X") && !jsonl.contains("11010519491231002X"),
        "restricted stays masked without reveal.restricted"
    );
    assert_eq!(jsonl.lines().count(), 2);
    let events = h
        .tutela
        .store()
        .audit_search(&AuditFilter { action: Some("customer.export".into()), limit: 5, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].purpose.as_deref(), Some("mailing approved by DPO"));
    assert!(events[0].fields.contains(&"mobile".to_owned()));
    h.close().await;
}

tutela_core::on_both_stores! {
    import_writes_all_rows_ => import_writes_all_rows;
    a_bad_row_refuses_the_whole_file_ => a_bad_row_refuses_the_whole_file;
    gb18030_and_presets_ => gb18030_and_presets;
    import_needs_permission_ => import_needs_permission;
    export_masks_unless_revealed_ => export_masks_unless_revealed;
}
