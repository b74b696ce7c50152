//! `tutela notify` with the real binary, on SQLite and PostgreSQL: a test e-mail through a
//! real SMTP server (aiosmtpd, the notifier tests' fixture) in either language, exit 1 when
//! the server cannot be reached, exit 2 naming the flag for bad input or missing `[smtp]`;
//! and the delivery status of alerts the installation sent and gave up on, exit 1 while a
//! failed one is listed.

use crate::support;

use crate::smtp_sink;

use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use smtp_sink::{SmtpSink, free_port};
use support::{expect, init, open_with};
use tutela_core::Config;
use tutela_core::identity::NewUser;
use tutela_core::notify::{NotifyConfig, SmtpSecurity, SmtpSettings};
use tutela_core::policy::{Credential, Permission, Principal};

const WHY: &str = "Customer escalated ticket #4711; owner is on leave and the complaint is due today.";

/// In-process settings: e-mail through loopback `port`, given up after `max_attempts`.
fn email_to(port: u16, max_attempts: u32) -> Config {
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Tutela <tutela@example.com>".into(),
        timeout: Duration::from_secs(5),
        ca_file: None,
    };
    Config { notify: NotifyConfig { smtp: Some(smtp), max_attempts, public_url: None }, ..Config::default() }
}

/// The binary's settings: `[smtp]` in the data directory's `tutela.toml`.
fn write_smtp(data: &Path, port: u16) {
    let toml = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Tutela <tutela@example.com>\"\n\
         timeout_seconds = 5\n"
    );
    std::fs::write(data.join("tutela.toml"), toml).unwrap();
}

/// Two break-glass requests, each alerting the administrator `init` made: the first e-mailed
/// to the sink, the second given up after one attempt at a port nobody listens on.
async fn alert_twice(data: &Path, db: &str, sink: u16) {
    let t = open_with(data, db, email_to(sink, 8)).await;
    let seed = Principal::direct(None, "seed", [Permission::UserManage].into(), Credential::LocalCli, None);
    let new = NewUser {
        email: "sales@example.com".into(),
        display_name: "Sales".into(),
        password: SecretString::from("another long password 2026".to_owned()),
        roles: vec!["support".into()],
    };
    let user = t.create_user(&seed, new).await.unwrap();
    let may = [Permission::CustomerRead, Permission::CustomerWrite].into();
    let requester = Principal::direct(Some(user.id), "sales@example.com", may, Credential::Session, None);
    let record = t.create_customer(&requester, [("name".to_owned(), "赵六".to_owned())].into()).await.unwrap().id;
    t.request_break_glass(&requester, record, WHY, 30).await.unwrap();
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    t.close().await;

    let t = open_with(data, db, email_to(free_port(), 1)).await;
    t.request_break_glass(&requester, record, WHY, 30).await.unwrap();
    assert_eq!(t.deliver_due().await.unwrap().failed, 1);
    t.close().await;
}

async fn notify_commands(data: &Path, db: &str) {
    init(data, db);
    let sink = SmtpSink::start(0, None);

    // Without `[smtp]` e-mail is off: nothing to test.
    let (_, err) = expect(data, db, &["notify", "test", "--to", "ops@example.com"], 2);
    assert!(err.contains("[smtp]"), "{err}");

    write_smtp(data, sink.port);
    let (out, _) = expect(data, db, &["notify", "test", "--to", "ops@example.com", "--language", "en"], 0);
    assert!(out.contains("sent a test message to ops@example.com"), "{out}");
    let (out, _) = expect(data, db, &["--json", "notify", "test", "--to", "ops@example.com"], 0);
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&answer["sent"], &answer["error"]), (&Value::Bool(true), &Value::Null), "{answer}");
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["to"][0], "ops@example.com");
    assert_eq!(got[0]["subject"], "Tutela test message");
    assert!(got[1]["body"].as_str().unwrap().contains("测试"), "Chinese by default: {}", got[1]["body"]);

    let (_, err) = expect(data, db, &["notify", "test", "--to", "ops@example.com", "--language", "fr"], 2);
    assert!(err.contains("--language"), "{err}");
    let (_, err) = expect(data, db, &["notify", "test"], 2);
    assert!(err.contains("--to"), "{err}");
    write_smtp(data, free_port());
    let (_, err) = expect(data, db, &["notify", "test", "--to", "ops@example.com"], 1);
    assert!(err.contains("not sent"), "{err}");
    assert_eq!(sink.messages().len(), 2, "nothing else arrived");

    // The delivery status of what the installation itself sent.
    alert_twice(data, db, sink.port).await;
    assert_eq!(sink.messages()[2]["to"][0], "admin@example.com");
    let (out, _) = expect(data, db, &["notify", "deliveries"], 1);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().all(|l| l.contains("admin@example.com") && l.contains("break_glass.request")), "{out}");
    assert!(out.contains(" failed ") && out.contains(" sent "), "{out}");
    let (out, _) = expect(data, db, &["notify", "deliveries", "--status", "sent"], 0);
    assert!(out.lines().count() == 1 && out.contains("attempts 1"), "{out}");
    let (out, _) = expect(data, db, &["--json", "notify", "deliveries", "--status", "failed"], 1);
    let failed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert!(failed[0]["attempts"] == 1 && failed[0]["last_error"].is_string(), "{failed}");
    let (_, err) = expect(data, db, &["notify", "deliveries", "--status", "lost"], 2);
    assert!(err.contains("--status"), "{err}");
}

cli_on_both_stores! {
    notify_commands => notify_commands;
}
