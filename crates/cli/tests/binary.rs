//! Black-box tests of the real `tutela` binary: init, serve over TLS, sign in with a real
//! TOTP code, write a canary into a restricted field, shut down gracefully, verify the audit
//! log, tamper with it and see verification name the event — on SQLite and PostgreSQL.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

const CANARY: &str = "CANARYBIN4242ZXQ77";
const PASSWORD: &str = "a long admin password";

fn tutela(data: &Path, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tutela"));
    c.arg("--data-dir").arg(data);
    if !db.is_empty() {
        c.arg("--database-url").arg(db);
    }
    c.env_remove("TUTELA_LOG");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server with its stderr collected on a thread; the listen address read from it.
struct Server {
    child: Option<Child>,
    base: String,
    logs: mpsc::Receiver<String>,
    /// Ends at the server's stderr EOF: joined before the logs are read, so none is missed.
    reader: Option<std::thread::JoinHandle<()>>,
}

fn start(data: &Path, db: &str, metrics: u16) -> Server {
    let mut child = tutela(data, db)
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen"])
        .arg(format!("127.0.0.1:{metrics}"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, logs) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut server = Server { child: Some(child), base: String::new(), logs, reader: Some(reader) };
    let mut seen = Vec::new();
    loop {
        let line = server
            .logs
            .recv_timeout(Duration::from_mins(1))
            .unwrap_or_else(|_| panic!("server did not start: {seen:?}"));
        if let Some(base) = line.strip_prefix("Tutela is serving ") {
            base.trim().clone_into(&mut server.base);
            return server;
        }
        seen.push(line);
    }
}

/// A failing test must not leave the server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    fn stop(mut self) -> String {
        let mut child = self.child.take().expect("running");
        Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0: {status}");
        self.reader.take().expect("reading").join().unwrap();
        self.logs.try_iter().collect::<Vec<_>>().join("\n")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).cookie_store(true).build().unwrap()
}

/// Password, TOTP enrolment with a code computed from the secret the server shows; returns
/// the CSRF token of the signed-in session.
async fn sign_in(c: &reqwest::Client, base: &str, email: &str) -> String {
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let enrol: Value = c.post(format!("{base}/api/v1/auth/totp/enrol")).send().await.unwrap().json().await.unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(enrol["secret"].as_str().unwrap().as_bytes()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let code = tutela_crypto::totp::current_code(&secret, now).unwrap();
    let r = c.post(format!("{base}/api/v1/auth/totp/confirm")).json(&json!({"code": code})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let signed: Value = r.json().await.unwrap();
    assert_eq!(signed["recovery_codes"].as_array().unwrap().len(), 10);
    signed["csrf_token"].as_str().unwrap().to_owned()
}

fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(all_bytes(&p)) } else { out.extend(std::fs::read(&p).unwrap_or_default()) }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn whole_life(data: &Path, db: &str, tamper: impl AsyncFnOnce()) {
    let data: PathBuf = data.to_path_buf();
    let password_file = data.with_extension("pw");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();

    let init = tutela(&data, db)
        .args(["init", "--admin-email", "admin@example.com", "--admin-password-file"])
        .arg(&password_file)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let key_mode = std::fs::metadata(data.join("keys/root.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(key_mode, 0o600);
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let again = tutela(&data, db)
        .args(["init", "--admin-email", "x@example.com", "--admin-password-file"])
        .arg(&password_file)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "a second init is refused");

    let metrics = free_port();
    let server = start(&data, db, metrics);
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let c = client();
    let health = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("strict-transport-security"));
    assert_eq!(c.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);

    // The administrator creates a data steward, who signs in and writes the canary.
    let csrf = sign_in(&c, &base, "admin@example.com").await;
    let r = c
        .post(format!("{base}/api/v1/users"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"email": "steward@example.com", "display_name": "Steward", "password": PASSWORD, "roles": ["data-steward"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let without_csrf = c.post(format!("{base}/api/v1/users")).json(&json!({})).send().await.unwrap();
    assert_eq!(without_csrf.status(), 403, "a cookie-authenticated change needs the CSRF token");
    let steward = client();
    let csrf = sign_in(&steward, &base, "steward@example.com").await;
    let created: Value = steward
        .post(format!("{base}/api/v1/customers"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"fields": {"name": "Bin", "bank_account": CANARY, "phone": "13800138000"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let revealed: Value = steward
        .post(format!("{base}/api/v1/customers/{id}/reveal"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"fields": ["bank_account"], "purpose": "black-box test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["values"]["bank_account"], CANARY);
    let scrape = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics")).await.unwrap().text().await.unwrap();
    assert!(scrape.contains("tutela_http_requests_total"), "{scrape}");
    let logs = server.stop();
    assert!(!logs.contains(CANARY), "the canary reached the server log");
    assert!(logs.contains("\"level\":\"INFO\""), "structured JSON logs: {logs}");
    assert!(!contains(&all_bytes(&data), CANARY), "the canary is in plaintext under the data directory");

    let exported = data.with_extension("audit.jsonl");
    let export = tutela(&data, db).args(["audit", "export", "--out"]).arg(&exported).output().unwrap();
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let lines = std::fs::read_to_string(&exported).unwrap();
    assert!(lines.lines().any(|l| l.contains("\"customer.reveal\"") && l.contains("black-box test")), "{lines}");
    assert!(!lines.contains(CANARY));
    let verify = tutela(&data, db).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact"));

    tamper().await;
    let verify = tutela(&data, db).args(["--json", "audit", "verify"]).output().unwrap();
    assert_eq!(verify.status.code(), Some(1), "{}", String::from_utf8_lossy(&verify.stdout));
    let report: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["first_bad_seq"], 3, "{report}");

    let bad = tutela(&data, db).args(["serve", "--insecure-http", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "plain HTTP off loopback is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_whole_life() {
    // SQLite lives in the data directory; the tamperer opens it beside Tutela.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("tutela.db");
    whole_life(&data, "", async || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE audit_events SET purpose = 'rewritten' WHERE seq = 3", []).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_whole_life() {
    let dir = tempfile::tempdir().unwrap();
    let (url, guard) = tutela_store_tests::fresh_pg_database().await;
    let tamper_url = url.clone();
    whole_life(&dir.path().join("data"), &url, async || {
        let pool = sqlx::PgPool::connect(&tamper_url).await.unwrap();
        sqlx::query("UPDATE audit_events SET purpose = 'rewritten' WHERE seq = 3").execute(&pool).await.unwrap();
        pool.close().await;
    })
    .await;
    guard.drop_database().await;
}
