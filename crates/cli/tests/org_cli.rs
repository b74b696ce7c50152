//! The real `tutela` binary administering the organisation and explaining access, on SQLite
//! and PostgreSQL: names and flags in errors, exit codes, `--json`, and the audit trail.

use crate::support;

use std::path::Path;

use secrecy::SecretString;
use serde_json::Value;
use support::{expect, init, open};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use uuid::Uuid;

/// The installation opened in-process, to add what the command line does not make: a sales
/// user and a customer of theirs.
async fn seed(data: &Path, db: &str) -> Uuid {
    let t = open(data, db).await;
    let admin = Principal::direct(None, "seed", [Permission::UserManage].into(), Credential::LocalCli, None);
    let new = NewUser {
        email: "sales@example.com".into(),
        display_name: "Sales".into(),
        password: SecretString::from("another long sales password".to_owned()),
        roles: vec!["sales".into()],
    };
    let sales = t.create_user(&admin, new).await.unwrap();
    let as_sales = Principal::direct(
        Some(sales.id),
        "sales@example.com",
        [Permission::CustomerRead, Permission::CustomerWrite].into(),
        Credential::Session,
        None,
    );
    let fields = [("name".to_owned(), "华东客户".to_owned()), ("region".to_owned(), "华东".to_owned())].into();
    let customer = t.create_customer(&as_sales, fields).await.unwrap().id;
    t.close().await;
    customer
}

/// Address ranges: set, refused by entry, listed, lifted.
fn networks(data: &Path, db: &str) {
    let (out, _) = expect(data, db, &["access", "networks"], 0);
    assert!(out.contains("no address restrictions"), "{out}");
    let (_, err) = expect(data, db, &["access", "networks", "--user", "sales@example.com", "--allow", "10.0.0/33"], 2);
    assert!(err.contains("--allow: entry 1: \"10.0.0/33\""), "{err}");
    let (_, err) = expect(data, db, &["access", "networks", "--allow", "10.0.0.0/8"], 2);
    assert!(err.contains("--user"), "clap wants the user: {err}");
    let (out, _) = expect(data, db, &["access", "networks", "--user", "sales@example.com", "--allow", "10.1.2.3/8"], 0);
    assert!(out.contains("user sales@example.com: 10.0.0.0/8"), "{out}");
    let (out, _) = expect(data, db, &["--json", "access", "networks", "--user", "sales@example.com"], 0);
    assert_eq!(out.trim(), "[]", "no --allow lifts it");
}

/// Sign-in policies: listed, refused by flag, set, lifted.
fn sign_in_policy(data: &Path, db: &str) {
    let (out, _) = expect(data, db, &["access", "sign-in-policy"], 0);
    assert!(out.contains("sales: factor any, session default, idle default, re-authenticate never asked"), "{out}");
    let (_, err) = expect(data, db, &["access", "sign-in-policy", "--role", "sales", "--session-hours", "30"], 2);
    assert!(err.contains("--session-hours: must be between 1 and 24"), "{err}");
    let (_, err) = expect(data, db, &["access", "sign-in-policy", "--role", "sales", "--factor", "fido"], 2);
    assert!(err.contains("--factor"), "{err}");
    let (_, err) = expect(data, db, &["access", "sign-in-policy", "--role", "nobody"], 2);
    assert!(err.contains("--role: no role \"nobody\""), "{err}");
    let (_, err) = expect(data, db, &["access", "sign-in-policy", "--reauth-minutes", "5"], 2);
    assert!(err.contains("--role"), "clap wants the role: {err}");
    let set = ["access", "sign-in-policy", "--role", "sales", "--factor", "passkey", "--reauth-minutes", "10"];
    let (out, _) = expect(data, db, &set, 0);
    assert!(
        out.contains("sales: factor passkey, session default, idle default, re-authenticate every 10 min"),
        "{out}"
    );
    let (out, _) = expect(data, db, &["--json", "access", "sign-in-policy", "--role", "sales"], 0);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let sales = listed.as_array().unwrap().iter().find(|r| r["role"] == "sales").unwrap();
    assert_eq!(sales["factor"], "any", "no flags put the defaults back: {out}");
}

/// A department's manager, who reviews its members' access: refused by argument, named,
/// lifted. 销售部 exists and sales@example.com is its only member.
fn department_manager(data: &Path, db: &str) {
    let manager = |extra: &[&'static str]| [&["org", "department", "manager"][..], extra].concat();
    let (_, err) = expect(data, db, &manager(&["销售部", "--user", "nobody@example.com"]), 2);
    assert!(err.contains("--user: no user"), "{err}");
    let (_, err) = expect(data, db, &manager(&["不存在", "--user", "sales@example.com"]), 2);
    assert!(err.contains("DEPARTMENT: no department"), "{err}");
    let (_, err) = expect(data, db, &manager(&["销售部"]), 2);
    assert!(err.contains("required") && err.contains("--user"), "clap names the missing flag: {err}");
    let (_, err) = expect(data, db, &manager(&["销售部", "--user", "sales@example.com", "--none"]), 2);
    assert!(err.contains("--none"), "{err}");
    let (out, _) = expect(data, db, &manager(&["销售部", "--user", "SALES@example.com"]), 0);
    assert!(out.contains("department 销售部 (") && out.contains("): manager sales@example.com"), "{out}");
    let (out, _) = expect(data, db, &["--json", "org", "show"], 0);
    let named: Value = serde_json::from_str(&out).unwrap();
    let sales_row = named["departments"].as_array().unwrap().iter().find(|d| d["name"] == "销售部").unwrap().clone();
    assert_eq!(sales_row["manager_id"], named["members"][0]["user_id"], "{named}");
    let (out, _) = expect(data, db, &["--json", "org", "department", "manager", "销售部", "--none"], 0);
    let lifted: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((lifted["name"].as_str(), &lifted["manager_id"]), (Some("销售部"), &Value::Null), "{lifted}");
}

async fn org_and_explain(data: &Path, db: &str) {
    init(data, db);
    let customer = seed(data, db).await.to_string();

    let (out, _) = expect(data, db, &["org", "show"], 0);
    assert!(out.contains("no departments"), "{out}");
    expect(data, db, &["org", "department", "add", "总部"], 0);
    let (out, _) = expect(data, db, &["--json", "org", "department", "add", "销售部", "--parent", "总部"], 0);
    let sales_dept: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sales_dept["name"], "销售部");

    // Refusals name the flag or argument at fault and exit 2, changing nothing.
    let (_, err) = expect(data, db, &["org", "department", "move", "总部", "--parent", "销售部"], 2);
    assert!(err.contains("--parent") && err.contains("cycle"), "{err}");
    let (_, err) = expect(data, db, &["org", "department", "move", "总部", "--parent", "总部"], 2);
    assert!(err.contains("--parent"), "{err}");
    let (_, err) = expect(data, db, &["org", "department", "add", "华南", "--parent", "不存在"], 2);
    assert!(err.contains("--parent: no department \"不存在\""), "{err}");
    let (_, err) = expect(data, db, &["org", "department", "add", "  "], 2);
    assert!(err.contains("NAME"), "{err}");
    let (_, err) = expect(data, db, &["org", "department", "add", "销售部"], 2);
    assert!(err.contains("exists"), "{err}");
    let (_, err) = expect(data, db, &["org", "department", "move", "总部"], 2);
    assert!(err.contains("--parent") || err.contains("--top"), "clap names the missing flag: {err}");
    let (_, err) = expect(data, db, &["org", "team", "add", "A", "--department", "nowhere"], 2);
    assert!(err.contains("--department"), "{err}");

    expect(data, db, &["org", "team", "add", "华东组", "--department", "销售部"], 0);
    let (_, err) = expect(data, db, &["org", "member", "set", "nobody@example.com", "--department", "销售部"], 2);
    assert!(err.contains("USER: no user"), "{err}");
    let (_, err) = expect(data, db, &["org", "member", "set", "sales@example.com", "--team", "无此组"], 2);
    assert!(err.contains("--team"), "{err}");
    let (out, _) = expect(
        data,
        db,
        &["org", "member", "set", "SALES@example.com", "--department", "销售部", "--team", "华东组"],
        0,
    );
    assert!(out.contains("department 销售部, team 华东组"), "{out}");
    department_manager(data, db);

    let (out, _) = expect(data, db, &["--json", "org", "show"], 0);
    let org: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(org["departments"].as_array().unwrap().len(), 2, "{org}");
    let head = org["departments"].as_array().unwrap().iter().find(|d| d["name"] == "总部").unwrap().clone();
    assert_eq!(sales_dept["parent_id"], head["id"], "the refused moves changed nothing: {org}");
    assert_eq!(org["members"].as_array().unwrap().len(), 1, "{org}");
    assert_eq!(org["members"][0]["email"], "sales@example.com");
    assert_eq!(org["members"][0]["department_id"], sales_dept["id"]);
    let (out, _) = expect(data, db, &["org", "show"], 0);
    assert!(out.contains("总部 (") && out.contains("\n  销售部 ("), "{out}");
    assert!(out.contains("    team 华东组") && out.contains("    member sales@example.com (team 华东组)"), "{out}");

    // A department in use stays; an emptied one goes.
    let (_, err) = expect(data, db, &["org", "department", "remove", "总部"], 2);
    assert!(err.contains("sub-departments"), "{err}");
    expect(data, db, &["org", "department", "move", "销售部", "--top"], 0);
    expect(data, db, &["org", "department", "rename", "总部", "集团"], 0);
    expect(data, db, &["org", "department", "remove", "集团"], 0);
    expect(data, db, &["org", "team", "remove", "华东组"], 0);
    let (out, _) = expect(data, db, &["--json", "org", "show"], 0);
    let org: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(org["departments"].as_array().unwrap().len(), 1, "{org}");
    assert_eq!(org["departments"][0]["parent_id"], Value::Null, "{org}");
    assert_eq!(org["members"][0]["team_id"], Value::Null, "{org}");

    // Explanations.
    let (out, _) = expect(data, db, &["access", "explain", "--user", "sales@example.com", "--customer", &customer], 0);
    assert!(out.contains("read yes, write yes") && out.contains("role sales: data scope all, may write"), "{out}");
    assert!(out.contains("fields:") && out.contains("region") && !out.contains("华东客户"), "no values: {out}");
    let (out, _) =
        expect(data, db, &["--json", "access", "explain", "--user", "admin@example.com", "--customer", &customer], 0);
    let why: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(why["access"]["read"], false, "the administrator holds no customer permission: {why}");
    assert_eq!(why["row_reasons"], serde_json::json!([]), "{why}");
    let (_, err) = expect(data, db, &["access", "explain", "--user", "sales@example.com", "--customer", "42"], 2);
    assert!(err.contains("--customer"), "{err}");
    let unknown = Uuid::now_v7().to_string();
    let (_, err) = expect(data, db, &["access", "explain", "--user", "sales@example.com", "--customer", &unknown], 2);
    assert!(err.contains("--customer: no customer"), "{err}");
    let (_, err) = expect(data, db, &["access", "explain", "--user", "who@example.com", "--customer", &customer], 2);
    assert!(err.contains("--user: no user"), "{err}");

    networks(data, db);
    sign_in_policy(data, db);

    // Every change and explanation is in the audit log, by the operator.
    let exported = data.with_extension("audit.jsonl");
    expect(data, db, &["audit", "export", "--out", exported.to_str().unwrap()], 0);
    let lines = std::fs::read_to_string(&exported).unwrap();
    for action in [
        "org.department.put",
        "org.department.delete",
        "org.team.put",
        "org.team.delete",
        "org.membership.set",
        "org.department.manager",
        "access.explain",
        "access.networks.set",
        "access.sign_in_policy.set",
    ] {
        assert!(
            lines.lines().any(|l| l.contains(&format!("\"{action}\"")) && l.contains("cli:")),
            "{action} by the operator: {lines}"
        );
    }
    expect(data, db, &["audit", "verify"], 0);
}

cli_on_both_stores! {
    org_and_explain => org_and_explain;
}
