//! The real `tutela` binary running access reviews and jobs, on SQLite and PostgreSQL:
//! flags named in errors, exit codes, `--json`, the kept report written privately.

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use secrecy::SecretString;
use serde_json::Value;
use support::{expect, init, open};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};

async fn seed(data: &Path, db: &str) {
    let t = open(data, db).await;
    let admin = Principal::direct(None, "seed", [Permission::UserManage].into(), Credential::LocalCli, None);
    let new = NewUser {
        email: "sales@example.com".into(),
        display_name: "Sales".into(),
        password: SecretString::from("another long sales password".to_owned()),
        roles: vec!["sales".into()],
    };
    t.create_user(&admin, new).await.unwrap();
    t.close().await;
}

async fn reviews_and_jobs(data: &Path, db: &str) {
    init(data, db);
    seed(data, db).await;
    let create = ["access", "review", "create", "Q1 复核", "--routing", "reviewer", "--reviewer", "admin@example.com"];
    let (_, err) = expect(data, db, &[&create[..], &["--policy", "delete"]].concat(), 2);
    assert!(err.contains("--policy"), "{err}");
    let (_, err) = expect(
        data,
        db,
        &["access", "review", "create", "x", "--routing", "reviewer", "--reviewer", "nobody@example.com"],
        2,
    );
    assert!(err.contains("--reviewer"), "{err}");
    let (_, err) = expect(data, db, &[&create[..], &["--days", "0"]].concat(), 2);
    assert!(err.contains("--days"), "{err}");
    let (out, _) = expect(data, db, &["--json", "access", "review", "list"], 0);
    assert_eq!(out.trim(), "[]", "nothing half-made");

    let (out, _) = expect(data, db, &create, 0);
    assert!(out.contains("2 items, 2 open"), "administrator and sales: {out}");
    let (out, _) = expect(data, db, &["--json", "access", "review", "list"], 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let (out, _) = expect(data, db, &["--json", "access", "review", "show", &id], 0);
    let detail: Value = serde_json::from_str(&out).unwrap();
    let item = detail["items"].as_array().unwrap().iter().find(|i| i["user_email"] == "sales@example.com").unwrap();
    let item = item["id"].as_str().unwrap().to_owned();
    let (_, err) = expect(data, db, &["access", "review", "decide", &id, &item, "keep"], 2);
    assert!(err.contains("DECISION"), "{err}");
    let (out, _) = expect(data, db, &["access", "review", "decide", &id, &item, "revoke", "--note", "离职"], 0);
    assert!(out.contains("sales@example.com role sales: revoked"), "{out}");
    let (_, err) = expect(data, db, &["access", "review", "report", &id], 2);
    assert!(err.contains("still open"), "{err}");

    let (out, _) = expect(data, db, &["jobs", "run", "access.review.deadlines"], 0);
    assert!(out.contains("succeeded — 0 campaign(s) closed"), "{out}");
    let (_, err) = expect(data, db, &["jobs", "run", "backups"], 2);
    assert!(err.contains("KIND: unknown job kind"), "{err}");
    let (out, _) = expect(data, db, &["--json", "jobs", "list"], 0);
    let jobs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(jobs[0]["runs"][0]["status"], "succeeded", "{jobs}");

    let (out, _) = expect(data, db, &["access", "review", "close", &id], 0);
    assert!(out.contains("[closed]") && out.contains("1 revoked at the deadline"), "{out}");
    let (_, err) = expect(data, db, &["access", "review", "decide", &id, &item, "certify"], 2);
    assert!(err.contains("closed"), "{err}");
    let file = data.with_extension("csv");
    expect(data, db, &["access", "review", "report", &id, "--csv", "--output", file.to_str().unwrap()], 0);
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("campaign,user,kind") && csv.contains("离职"), "{csv}");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let (out, _) = expect(data, db, &["access", "review", "report", &id], 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["items"].as_array().unwrap().len(), 2);
    expect(data, db, &["audit", "verify"], 0);
}

cli_on_both_stores! {
    reviews_and_jobs => reviews_and_jobs;
}
