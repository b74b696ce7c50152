//! The real `tutela` binary asking for, approving and downloading an export, on SQLite and
//! PostgreSQL: the refusal says what to do, the requester cannot approve, the downloaded file
//! is private and watermarked.

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use support::{expect, init, open};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::custom_role;

const NATIONAL_ID: &str = "11010519491231002X";

/// A data steward and an export approver, each with a token file; one customer.
async fn seed(data: &Path, db: &str) -> (String, String) {
    let t = open(data, db).await;
    let admin = Principal::direct(
        None,
        "seed",
        [Permission::UserManage, Permission::RoleManage].into(),
        Credential::LocalCli,
        None,
    );
    t.put_role(&admin, custom_role("export-approver", &[Permission::AccessApprove])).await.unwrap();
    let mut files = Vec::new();
    for (email, role) in [("steward@example.com", "data-steward"), ("officer@example.com", "export-approver")] {
        let new = NewUser {
            email: email.into(),
            display_name: email.into(),
            password: SecretString::from("another long password 2026".to_owned()),
            roles: vec![role.into()],
        };
        let user = t.create_user(&admin, new).await.unwrap();
        let all: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
        let owner = Principal::direct(Some(user.id), email, Permission::ALL.into(), Credential::Session, None);
        let token = t.create_api_token(&owner, "cli", &all, None).await.unwrap();
        let file = data.with_extension(format!("{role}.token"));
        std::fs::write(&file, token.token.expose_secret()).unwrap();
        if role == "data-steward" {
            let fields = [("name".to_owned(), "甲公司".to_owned()), ("national_id".to_owned(), NATIONAL_ID.to_owned())];
            t.create_customer(&t.token_principal(token.token.expose_secret(), None).await.unwrap(), fields.into())
                .await
                .unwrap();
        }
        files.push(file.to_str().unwrap().to_owned());
    }
    t.close().await;
    (files[0].clone(), files[1].clone())
}

async fn request_approve_download(data: &Path, db: &str) {
    init(data, db);
    let (steward, officer) = seed(data, db).await;
    let out = data.with_extension("export.csv");
    let out = out.to_str().unwrap();

    let (_, err) =
        expect(data, db, &["customers", "export", "--out", out, "--purpose", "审计", "--token-file", &steward], 2);
    assert!(err.contains("restricted fields in plaintext") && err.contains("export-request"), "{err}");
    assert!(!Path::new(out).exists(), "nothing written");
    expect(data, db, &["customers", "export", "--out", out, "--token-file", &steward], 0);
    assert!(!std::fs::read_to_string(out).unwrap().contains(NATIONAL_ID), "masked within the limits");

    let (_, err) = expect(data, db, &["customers", "export-request", "--format", "xml", "--token-file", &steward], 2);
    assert!(err.contains("format"), "{err}");
    let (asked, _) =
        expect(data, db, &["--json", "customers", "export-request", "--purpose", "审计", "--token-file", &steward], 0);
    let asked: Value = serde_json::from_str(&asked).unwrap();
    assert_eq!(asked[0]["state"], "pending", "{asked}");
    let id = asked[0]["id"].as_str().unwrap().to_owned();

    let (_, err) = expect(data, db, &["customers", "export-decide", &id, "--approve", "--token-file", &steward], 2);
    assert!(err.contains("access.approve"), "{err}");
    let (_, err) = expect(data, db, &["customers", "export-decide", &id, "--token-file", &officer], 2);
    assert!(err.contains("--approve") || err.contains("--deny"), "clap wants a decision: {err}");
    let (decided, _) = expect(
        data,
        db,
        &["customers", "export-decide", &id, "--approve", "--note", "ok", "--token-file", &officer],
        0,
    );
    assert!(decided.contains("approved"), "{decided}");
    let (listed, _) = expect(data, db, &["customers", "export-requests", "--token-file", &steward], 0);
    assert!(listed.contains(&id) && listed.contains("steward@example.com"), "{listed}");

    let (_, err) = expect(
        data,
        db,
        &["customers", "export", "--out", out, "--request", &id, "--format", "jsonl", "--token-file", &steward],
        2,
    );
    assert!(err.contains("--format"), "{err}");
    expect(data, db, &["customers", "export", "--out", out, "--request", &id, "--token-file", &steward], 0);
    let file = std::fs::read_to_string(out).unwrap();
    assert!(file.contains(NATIONAL_ID) && file.contains("_watermark") && file.contains(&id), "{file}");
    assert_eq!(std::fs::metadata(out).unwrap().permissions().mode() & 0o777, 0o600);
    expect(data, db, &["audit", "verify"], 0);
}

cli_on_both_stores! {
    request_approve_download => request_approve_download;
}
