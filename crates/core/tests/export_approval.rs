//! Export approval: exports over the row limit, or releasing restricted fields in plaintext,
//! wait for an approver; the approved export is downloaded by its requester only, watermarked,
//! until the approval expires.

use secrecy::ExposeSecret;
use time::Duration;
use tutela_core::CoreError;
use tutela_core::access::{ExportApprovalPolicy, ExportRequestState};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, custom_role, principal, steward, values};
use tutela_core::vault::{Export, ExportFormat, WATERMARK_COLUMN};
use tutela_store::AuditFilter;

const NATIONAL_ID: &str = "11010519491231002X";

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage])
}

/// An officer who approves exports (a real account, so that decisions name them).
async fn approver(h: &Harness) -> Principal {
    let new = NewUser {
        email: "officer@example.com".into(),
        display_name: "Officer".into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: vec!["auditor".into()],
    };
    let id = h.tutela.create_user(&admin(), new).await.unwrap().id;
    let permissions = [Permission::AccessApprove].into();
    Principal::direct(Some(id), "officer@example.com", permissions, Credential::Session, None)
}

/// A data steward (reads everything, exports, reveals both classifications), acting through
/// a token so that the principal is resolved as a request would resolve it.
async fn exporter(h: &Harness, email: &str) -> Principal {
    let t = &h.tutela;
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: vec!["data-steward".into()],
    };
    let id = t.create_user(&admin(), new).await.unwrap().id;
    let all: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    let owner = Principal::direct(Some(id), email, Permission::ALL.into_iter().collect(), Credential::Session, None);
    let token = t.create_api_token(&owner, "t", &all, None).await.unwrap().token.expose_secret().to_owned();
    t.token_principal(&token, None).await.unwrap()
}

/// Five customers, the policy, the exporter and the approver.
async fn setup(h: &Harness, max_rows: u64) -> (Principal, Principal) {
    for i in 0..5 {
        let v = values(&[("name", &format!("客户{i}")), ("phone", "13800138000"), ("national_id", NATIONAL_ID)]);
        h.tutela.create_customer(&steward(), v).await.unwrap();
    }
    let policy = ExportApprovalPolicy { max_rows: Some(max_rows), restricted: true, valid_hours: 2 };
    h.tutela.set_export_approval_policy(&admin(), policy).await.unwrap();
    (exporter(h, "exporter@example.com").await, approver(h).await)
}

async fn drain(mut export: Export) -> String {
    let mut out = Vec::new();
    while let Some(chunk) = export.next_chunk().await.unwrap() {
        out.extend(chunk);
    }
    String::from_utf8(out).unwrap()
}

fn message(r: Result<impl std::fmt::Debug, CoreError>) -> String {
    match r {
        Err(CoreError::ApprovalRequired(m) | CoreError::Conflict(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn audited(h: &Harness, action: &str) -> Vec<tutela_store::AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..Default::default() };
    h.tutela.store().audit_search(&filter).await.unwrap()
}

async fn over_the_limits_waits_for_an_approver(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (p, officer) = setup(&h, 3).await;

    // Straight exports over a limit are refused, naming the limit, and audited as denied.
    let m = message(t.begin_export(&p, ExportFormat::Csv, None).await.map(|_| ()));
    assert!(m.contains("5 rows") && m.contains("3 allowed"), "{m}");
    let m = message(t.begin_export(&p, ExportFormat::Csv, Some("tax audit")).await.map(|_| ()));
    assert!(m.contains("restricted fields in plaintext (national_id, bank_account)"), "{m}");
    assert_eq!(audited(&h, "customer.export").await.len(), 2);
    assert!(audited(&h, "customer.export").await.iter().all(|e| e.outcome == "denied"));

    let asked = t.request_export(&p, ExportFormat::Csv, Some("tax audit")).await.unwrap();
    assert_eq!(asked.state, ExportRequestState::Pending);
    assert_eq!(asked.reasons, ["rows", "restricted"]);
    for sealed in ["phone", "email", "national_id", "bank_account"] {
        assert!(asked.revealed.iter().any(|f| f == sealed), "{sealed} in {:?}", asked.revealed);
    }
    assert_eq!(asked.rows, 5);
    assert!(message(t.begin_approved_export(&p, asked.id).await.map(|_| ())).contains("waiting for an approver"));

    // Never the requester, and only with access.approve.
    assert!(matches!(t.decide_export(&p, asked.id, true, None).await, Err(CoreError::Forbidden(_))));
    let self_approver =
        Principal::direct(p.user_id, &p.label, [Permission::AccessApprove].into(), Credential::Session, None);
    assert!(matches!(t.decide_export(&self_approver, asked.id, true, None).await, Err(CoreError::Forbidden(_))));
    let long = "x".repeat(501);
    assert!(matches!(
        t.decide_export(&officer, asked.id, true, Some(&long)).await,
        Err(CoreError::Invalid { field, .. }) if field == "note"
    ));
    assert_eq!(t.export_requests(&officer).await.unwrap().len(), 1, "the officer sees it");
    let approved = t.decide_export(&officer, asked.id, true, Some("只限本次税务审计")).await.unwrap();
    assert_eq!(approved.state, ExportRequestState::Approved);
    assert_eq!(approved.decided_by.as_deref(), Some("officer@example.com"));
    assert!(matches!(t.decide_export(&officer, asked.id, false, None).await, Err(CoreError::Conflict(_))));

    // Someone else cannot download it, nor even see it.
    let other = exporter(&h, "other@example.com").await;
    assert!(matches!(t.begin_approved_export(&other, asked.id).await, Err(CoreError::NotFound(_))));
    assert!(matches!(t.export_request(&other, asked.id).await, Err(CoreError::NotFound(_))));
    assert!(t.export_requests(&other).await.unwrap().is_empty());

    let csv = drain(t.begin_approved_export(&p, asked.id).await.unwrap()).await;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(&format!(",{WATERMARK_COLUMN}")), "{csv}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        assert!(row.contains(NATIONAL_ID) && row.contains("13800138000"), "approved plaintext: {row}");
        assert!(row.contains("exporter@example.com") && row.ends_with(&asked.id.to_string()), "watermark: {row}");
    }
    let download = &audited(&h, "customer.export").await[0];
    assert_eq!(download.outcome, "ok");
    assert_eq!(download.purpose.as_deref(), Some("tax audit"));
    assert!(download.detail.as_deref().unwrap().contains(&asked.id.to_string()));

    // The approval runs out.
    h.clock.advance(Duration::hours(2) + Duration::seconds(1));
    assert!(message(t.begin_approved_export(&p, asked.id).await.map(|_| ())).contains("expired"));
    assert_eq!(t.export_request(&p, asked.id).await.unwrap().state, ExportRequestState::Expired);
    h.close().await;
}

async fn denial_cancellation_and_stale_requests(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (p, officer) = setup(&h, 3).await;

    let denied = t.request_export(&p, ExportFormat::JsonLines, None).await.unwrap();
    assert_eq!(denied.reasons, ["rows"], "masked: only the row count needs approval");
    assert_eq!(t.decide_export(&officer, denied.id, false, None).await.unwrap().state, ExportRequestState::Denied);
    assert!(message(t.begin_approved_export(&p, denied.id).await.map(|_| ())).contains("denied"));

    let withdrawn = t.request_export(&p, ExportFormat::Csv, None).await.unwrap();
    let stranger = principal("x@example.com", &[Permission::CustomerExport]);
    assert!(matches!(t.cancel_export(&stranger, withdrawn.id).await, Err(CoreError::Forbidden(_))));
    t.cancel_export(&p, withdrawn.id).await.unwrap();
    assert!(matches!(t.cancel_export(&p, withdrawn.id).await, Err(CoreError::Conflict(_))));
    assert!(matches!(t.decide_export(&officer, withdrawn.id, true, None).await, Err(CoreError::Conflict(_))));

    let stale = t.request_export(&p, ExportFormat::Csv, None).await.unwrap();
    h.clock.advance(Duration::days(7));
    let m = message(t.decide_export(&officer, stale.id, true, None).await.map(|_| ()));
    assert!(m.contains("expired undecided"), "{m}");
    assert_eq!(t.export_request(&p, stale.id).await.unwrap().state, ExportRequestState::Expired);
    h.close().await;
}

async fn within_the_limits_leaves_at_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (p, _) = setup(&h, 10).await;

    // Masked, under the row limit: straight out, no watermark.
    let csv = drain(t.begin_export(&p, ExportFormat::Csv, None).await.unwrap()).await;
    assert!(!csv.contains(WATERMARK_COLUMN) && csv.contains("110***********002X"), "{csv}");
    // Through a request: approved at once by nobody, and watermarked.
    let asked = t.request_export(&p, ExportFormat::Csv, None).await.unwrap();
    assert_eq!((asked.state, asked.decided_by.as_deref()), (ExportRequestState::Approved, None));
    assert!(asked.reasons.is_empty());
    assert!(drain(t.begin_approved_export(&p, asked.id).await.unwrap()).await.contains(WATERMARK_COLUMN));

    // With restricted fields in plaintext allowed by policy, a purpose is enough.
    let open = ExportApprovalPolicy { max_rows: None, restricted: false, valid_hours: 1 };
    t.set_export_approval_policy(&admin(), open).await.unwrap();
    assert_eq!(t.export_approval_policy(&p).await.unwrap(), open);
    assert!(drain(t.begin_export(&p, ExportFormat::Csv, Some("tax audit")).await.unwrap()).await.contains(NATIONAL_ID));

    // Bad input.
    let field = |r: Result<(), CoreError>| match r {
        Err(CoreError::Invalid { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    let bad = ExportApprovalPolicy { valid_hours: 0, ..open };
    assert_eq!(field(t.set_export_approval_policy(&admin(), bad).await), "valid_hours");
    assert_eq!(field(t.request_export(&p, ExportFormat::Csv, Some(&"x".repeat(501))).await.map(|_| ())), "purpose");
    assert_eq!(field("xml".parse::<ExportFormat>().map(|_| ())), "format");
    assert!(matches!(t.set_export_approval_policy(&p, open).await, Err(CoreError::Forbidden(_))));

    // Approving exports and taking them out are separated duties by default.
    t.put_role(&admin(), custom_role("export-approver", &[Permission::AccessApprove])).await.unwrap();
    let both = NewUser {
        email: "both@example.com".into(),
        display_name: "Both".into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: vec!["data-steward".into(), "export-approver".into()],
    };
    match t.create_user(&admin(), both).await {
        Err(CoreError::Conflict(m)) => assert!(m.contains("access.approve") && m.contains("customer.export"), "{m}"),
        other => panic!("expected a separation-of-duties conflict, got {other:?}"),
    }
    h.close().await;
}

tutela_core::on_both_stores! {
    over_the_limits_waits_for_an_approver_ => over_the_limits_waits_for_an_approver;
    denial_cancellation_and_stale_requests_ => denial_cancellation_and_stale_requests;
    within_the_limits_leaves_at_once_ => within_the_limits_leaves_at_once;
}
