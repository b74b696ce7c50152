//! The notifier against a real SMTP server (aiosmtpd, started from
//! `tests/fixtures/smtp_sink.py` with the Python that `TUTELA_TEST_AIOSMTPD_PYTHON` names;
//! `scripts/test` installs it): the new-device notice, the break-glass alert, retries, giving
//! up, and STARTTLS with a certificate made here. On SQLite and PostgreSQL.

use crate::smtp_sink;

use std::time::Duration as StdDuration;

use serde_json::Value;
use smtp_sink::{SmtpSink, free_port};
use time::Duration;
use tutela_core::access::BreakGlassPolicy;
use tutela_core::identity::NewUser;
use tutela_core::notify::{DeliveryReport, DeliveryStatus, Language, NotifyConfig, SmtpSecurity, SmtpSettings};
use tutela_core::policy::{Permission, Principal};
use tutela_core::testing::{Backend, Harness, SignInAs, custom_role, principal, steward, values};
use tutela_core::{Config, CoreError};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const PASSWORD: &str = "a long enough passphrase 2026";
const WHY: &str = "customer on the phone reports fraud on the account, owner is away";

fn smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Tutela <tutela@example.com>".into(),
        timeout: StdDuration::from_secs(5),
        ca_file: None,
    }
}

fn config(settings: SmtpSettings, max_attempts: u32) -> Config {
    Config {
        notify: NotifyConfig {
            smtp: Some(settings),
            max_attempts,
            public_url: Some("https://tutela.example.com".into()),
        },
        ..Config::default()
    }
}

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead])
}

async fn user(h: &Harness, email: &str, roles: &[&str]) -> uuid::Uuid {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: PASSWORD.to_owned().into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    h.tutela.create_user(&admin(), new).await.unwrap().id
}

fn text(message: &Value) -> String {
    format!("{}\n{}", message["subject"].as_str().unwrap(), message["body"].as_str().unwrap())
}

async fn new_device_notice_once_per_device(backend: Backend) {
    let sink = SmtpSink::start(0, None);
    let h = Harness::with_config(backend, config(smtp(sink.port), 8)).await;
    let t = &h.tutela;
    user(&h, "li@example.com", &["support"]).await;
    let mut li = SignInAs::new("li@example.com", PASSWORD);

    // The first sign-in sets the account up: its device is remembered, nobody is told.
    let session = li.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    let me = t.session_principal(&session, None).await.unwrap();
    t.set_notice_language(&me, Language::En).await.unwrap();
    li.sign_in(&h, Some("192.0.2.99"), Some(&FIREFOX.replace("128.0", "129.0"))).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 0, "same browser, same /24: not a new device");
    assert!(t.notifications(&me, None, 10, None).await.unwrap().items.is_empty());

    // A new network.
    let other = li.sign_in(&h, Some("198.51.100.5"), Some(FIREFOX)).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["to"][0], "li@example.com");
    let mail = text(&got[0]);
    assert!(mail.starts_with("New sign-in to your Tutela account"), "in the user's language: {mail}");
    for expected in ["198.51.100.5", "Firefox on Linux", "https://tutela.example.com/account", "end every session"] {
        assert!(mail.contains(expected), "{expected} missing from {mail}");
    }
    for secret in [PASSWORD, session.as_str(), other.as_str(), "192.0.2.10"] {
        assert!(!mail.contains(secret), "the notice carries {secret}");
    }

    // Again from there, and once more from a new browser on a known network.
    li.sign_in(&h, Some("198.51.100.77"), Some(FIREFOX)).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 0);
    li.sign_in(&h, Some("192.0.2.10"), Some(CHROME)).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    assert!(text(&sink.messages()[1]).contains("Chrome on Windows"));

    // The inbox holds both, unread until read; someone else's notice is not found.
    let me = t.session_principal(&other, None).await.unwrap();
    let inbox = t.notifications(&me, None, 10, None).await.unwrap();
    assert_eq!((inbox.items.len(), inbox.unread), (2, 2));
    assert!(inbox.items[0].body.contains("Chrome on Windows"), "newest first");
    assert_eq!(inbox.items[0].link.as_deref(), Some("/account"));
    t.mark_notification_read(&me, inbox.items[1].id).await.unwrap();
    assert_eq!(t.notifications_unread(&me).await.unwrap(), 1);
    let page = t.notifications(&me, None, 1, Some(Language::ZhCn)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.items[0].subject.contains("新的登录"), "{}", page.items[0].subject);
    let older = t.notifications(&me, page.next, 1, None).await.unwrap();
    assert_eq!(older.items[0].id, inbox.items[1].id);
    assert!(older.items[0].read_at.is_some());
    let stranger = principal("x@example.com", &[]);
    assert!(matches!(t.mark_notification_read(&stranger, inbox.items[0].id).await, Err(CoreError::NotFound(_))));
    assert!(
        matches!(t.notifications(&me, None, 0, None).await, Err(CoreError::Invalid { field, .. }) if field == "limit")
    );

    // A Chinese-speaking user (the default) gets it in Chinese.
    user(&h, "wang@example.com", &["support"]).await;
    let mut wang = SignInAs::new("wang@example.com", PASSWORD);
    wang.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    wang.sign_in(&h, Some("203.0.113.1"), Some(FIREFOX)).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    let mail = text(&sink.messages()[2]);
    assert!(mail.starts_with("您的 Tutela 账户有新的登录"), "{mail}");
    h.close().await;
}

async fn break_glass_alerts_the_approvers(backend: Backend) {
    let sink = SmtpSink::start(0, None);
    let h = Harness::with_config(backend, config(smtp(sink.port), 8)).await;
    let t = &h.tutela;
    t.put_role(&admin(), custom_role("approver", &[Permission::AccessApprove])).await.unwrap();
    user(&h, "approver@example.com", &["approver"]).await;
    user(&h, "auditor@example.com", &["auditor"]).await;
    user(&h, "bystander@example.com", &["support"]).await;
    let mut sales = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap();
    sales.data_scope = "own".into();
    t.put_role(&admin(), sales).await.unwrap();
    let requester = user(&h, "sales@example.com", &["sales"]).await;
    let record = t.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap().id;
    let mut who = SignInAs::new("sales@example.com", PASSWORD);
    let session = who.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    let p = t.session_principal(&session, None).await.unwrap();
    assert_eq!(p.user_id, Some(requester));

    let approval = BreakGlassPolicy { approval_required: true, ..BreakGlassPolicy::default() };
    t.set_break_glass_policy(&admin(), approval).await.unwrap();
    t.request_break_glass(&p, record, WHY, 30).await.unwrap();
    assert_eq!(t.deliver_due().await.unwrap().sent, 2);
    let got = sink.messages();
    let mut to: Vec<&str> = got.iter().map(|m| m["to"][0].as_str().unwrap()).collect();
    to.sort_unstable();
    assert_eq!(to, ["approver@example.com", "auditor@example.com"], "those who can act, not the requester");
    for message in &got {
        let mail = text(message);
        assert!(mail.contains(&record.to_string()) && mail.contains("sales@example.com"), "{mail}");
        assert!(mail.contains("https://tutela.example.com/break-glass"), "{mail}");
        assert!(mail.contains(&WHY.chars().count().to_string()), "the justification's length: {mail}");
        for leak in ["赵六", "13800138000", "fraud"] {
            assert!(!mail.contains(leak), "the alert carries {leak}: {mail}");
        }
    }

    // The approver grants it: the requester is told (in their language, zh-CN by default).
    let approver = SignInAs::new("approver@example.com", PASSWORD).sign_in(&h, Some("192.0.2.11"), Some(FIREFOX)).await;
    let approver = t.session_principal(&approver, None).await.unwrap();
    let pending = t.break_glass_requests(&p).await.unwrap()[0].id;
    t.decide_break_glass(&approver, pending, true).await.unwrap();
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    let answer = sink.messages().into_iter().last().unwrap();
    assert_eq!(answer["to"][0], "sales@example.com");
    let mail = text(&answer);
    assert!(mail.starts_with("您的紧急访问申请已获批准") && mail.contains("approver@example.com"), "{mail}");
    assert!(mail.contains(&record.to_string()) && !mail.contains("13800138000"), "{mail}");
    h.close().await;
}

async fn retried_until_the_server_answers(backend: Backend) {
    let port = free_port();
    let h = Harness::with_config(backend, config(smtp(port), 8)).await;
    let t = &h.tutela;
    user(&h, "li@example.com", &["support"]).await;
    let mut li = SignInAs::new("li@example.com", PASSWORD);
    li.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    li.sign_in(&h, Some("198.51.100.5"), Some(FIREFOX)).await;

    let report = t.deliver_due().await.unwrap();
    assert_eq!((report.sent, report.retrying), (0, 1), "nobody listens yet");
    let pending = t.notification_deliveries(&admin(), Some(DeliveryStatus::Pending)).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 1);
    assert!(pending[0].last_error.as_deref().is_some_and(|e| e.starts_with("SMTP")), "{:?}", pending[0].last_error);
    assert_eq!(t.deliver_due().await.unwrap(), DeliveryReport::default(), "not due again before the wait");

    let sink = SmtpSink::start(port, None);
    h.clock.advance(Duration::seconds(31));
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    assert_eq!(sink.messages().len(), 1);
    let sent = t.notification_deliveries(&admin(), Some(DeliveryStatus::Sent)).await.unwrap();
    assert_eq!((sent.len(), sent[0].attempts, sent[0].kind.as_str()), (1, 2, "sign_in.new_device"));
    assert!(sent[0].sent_at.is_some());
    h.close().await;
}

async fn given_up_after_the_last_attempt(backend: Backend) {
    let h = Harness::with_config(backend, config(smtp(free_port()), 2)).await;
    let t = &h.tutela;
    user(&h, "li@example.com", &["support"]).await;
    let mut li = SignInAs::new("li@example.com", PASSWORD);
    li.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    li.sign_in(&h, Some("198.51.100.5"), Some(FIREFOX)).await;
    assert_eq!(t.deliver_due().await.unwrap().retrying, 1);
    h.clock.advance(Duration::seconds(31));
    assert_eq!(t.deliver_due().await.unwrap().failed, 1);
    h.clock.advance(Duration::hours(3));
    assert_eq!(t.deliver_due().await.unwrap(), DeliveryReport::default(), "a failed delivery is not tried again");
    let failed = t.notification_deliveries(&admin(), Some(DeliveryStatus::Failed)).await.unwrap();
    assert_eq!((failed.len(), failed[0].attempts, failed[0].address.as_str()), (1, 2, "li@example.com"));
    assert!(failed[0].last_error.is_some());
    // The inbox has it all the same; only administrators and auditors see deliveries.
    let nobody = principal("nobody@example.com", &[Permission::CustomerRead]);
    assert!(matches!(t.notification_deliveries(&nobody, None).await, Err(CoreError::Forbidden(_))));
    h.close().await;
}

/// STARTTLS to a server whose certificate is made here and trusted through `ca_file`; a
/// server whose certificate is not trusted is an error, never a plaintext fallback.
async fn starttls_with_a_trusted_certificate(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let sink = SmtpSink::start(0, Some((&cert_path, &key_path)));
    let settings = SmtpSettings {
        host: "localhost".into(),
        security: SmtpSecurity::Starttls,
        ca_file: Some(cert_path.clone()),
        ..smtp(sink.port)
    };
    let h = Harness::with_config(backend, config(settings, 8)).await;
    let t = &h.tutela;
    user(&h, "li@example.com", &["support"]).await;
    let mut li = SignInAs::new("li@example.com", PASSWORD);
    li.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    li.sign_in(&h, Some("198.51.100.5"), Some(FIREFOX)).await;
    assert_eq!(t.deliver_due().await.unwrap().sent, 1);
    assert_eq!(sink.messages()[0]["tls"], true);

    let untrusted = SmtpSettings { host: "localhost".into(), security: SmtpSecurity::Starttls, ..smtp(sink.port) };
    let channel = tutela_core::notify::email::SmtpChannel::new(&untrusted).unwrap();
    let message = tutela_core::notify::test_message(Language::En, h.tutela.clock().now());
    let refused = tutela_core::notify::Channel::send(&channel, "li@example.com", &message).await;
    assert!(refused.is_err(), "an untrusted certificate was accepted");
    assert_eq!(sink.messages().len(), 1);
    h.close().await;
}

tutela_core::on_both_stores! {
    new_device => new_device_notice_once_per_device;
    break_glass => break_glass_alerts_the_approvers;
    retries => retried_until_the_server_answers;
    gives_up => given_up_after_the_last_attempt;
    starttls => starttls_with_a_trusted_certificate;
}
