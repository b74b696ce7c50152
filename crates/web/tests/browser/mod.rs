//! What a real-browser test needs: the server in-process over TLS on a loopback port, and
//! Debian's chromium driven through chromedriver. Missing browsers fail the test: a console
//! whose browser test silently skipped is a console nobody tested.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};
use thirtyfour::common::command::{Command as WebDriverCommand, ExtensionCommand};
use thirtyfour::prelude::*;
use thirtyfour::stringmatch::StringMatch;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::oneshot;
use tutela_web::{AppState, ServeConfig, TlsFiles, router, serve};

/// How long any one wait in the browser may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// The console served over TLS with a fresh self-signed certificate.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _certs: tempfile::TempDir,
}

impl Server {
    pub async fn start(state: AppState) -> Self {
        Self::start_on(Self::listener().await, state)
    }

    /// A loopback listener on a free port, for a test that must know the port before the
    /// server's state is made (the passkey relying party's origin names it).
    pub async fn listener() -> tokio::net::TcpListener {
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
    }

    /// Serves on `listener` (spawned on the current runtime).
    pub fn start_on(listener: tokio::net::TcpListener, state: AppState) -> Self {
        let certs = tempfile::tempdir().unwrap();
        let generated =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let config = ServeConfig { tls: Some(TlsFiles { cert, key }), grace: Duration::from_secs(2) };
        let app = router(state);
        let task = tokio::spawn(async move {
            serve(listener, app, config, async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        Self { base: format!("https://{addr}"), stop: Some(stop), task, _certs: certs }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

fn binary(var: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
    assert!(
        path.exists(),
        "{} not found (set {var}); install Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver",
        path.display()
    );
    path
}

/// chromedriver on a free loopback port, killed when dropped (also when the test panics).
pub struct Chromedriver {
    child: Child,
    pub url: String,
    _profile: tempfile::TempDir,
    pub chromium: PathBuf,
    pub profile: PathBuf,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks chromedriver's status endpoint whether it is ready. chromedriver may keep the
/// connection open, so the answer is read only until it says so, within a bound.
async fn ready(port: u16) -> bool {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        let mut buf = [0_u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if text.contains("\"ready\":true") {
                return Some(());
            }
            if n == 0 {
                return None;
            }
        }
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), ask).await, Ok(Some(())))
}

impl Chromedriver {
    pub async fn start() -> Self {
        let driver = binary("TUTELA_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = binary("TUTELA_TEST_CHROMIUM", "/usr/bin/chromium");
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
        let profile = tempfile::tempdir().unwrap();
        let this = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: profile.path().to_owned(),
            _profile: profile,
            chromium,
        };
        let deadline = Instant::now() + WAIT;
        while !ready(port).await {
            assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within {WAIT:?}");
            tokio::time::sleep(POLL).await;
        }
        this
    }

    pub async fn browser(&self) -> WebDriver {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&self.chromium.to_string_lossy()).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--ignore-certificate-errors",
            "--window-size=1400,1000",
            "--lang=en-US",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", self.profile.display())).unwrap();
        caps.accept_insecure_certs(true).unwrap();
        WebDriver::new(self.url.clone(), caps).await.expect("a chromium session")
    }
}

/// The first element matching `by`, waiting for it.
/// Runs `scenario` in the browser. If it panics, the page it failed on is printed; the
/// browser is quit either way, and the panic comes back for the caller to re-raise once it
/// has cleaned up.
pub async fn guarded(driver: WebDriver, scenario: impl std::future::Future<Output = ()>) -> std::thread::Result<()> {
    use futures::FutureExt as _;
    let outcome = std::panic::AssertUnwindSafe(scenario).catch_unwind().await;
    if outcome.is_err()
        && let Ok(page) = driver.source().await
    {
        let url = driver.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        eprintln!("page at failure ({url}):\n{page}");
    }
    driver.quit().await.unwrap();
    outcome
}

pub async fn element(driver: &WebDriver, by: By) -> WebElement {
    let what = format!("{by:?}");
    driver.query(by).wait(WAIT, POLL).desc(&what).first().await.unwrap_or_else(|e| panic!("waiting for {what}: {e}"))
}

/// The first element matching `by` whose text contains `text`, waiting for it. An element
/// that htmx replaces while its text is read goes stale; the query then starts again.
pub async fn element_with_text(driver: &WebDriver, by: By, text: &str) -> WebElement {
    let what = format!("{by:?} containing {text:?}");
    let deadline = Instant::now() + WAIT;
    loop {
        let found = driver
            .query(by.clone())
            .with_text(StringMatch::new(text.to_owned()).partial())
            .wait(WAIT, POLL)
            .desc(&what)
            .first()
            .await;
        match found {
            Ok(element) => return element,
            Err(e) if e.to_string().contains("stale") && Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

/// Types into a field after clearing it.
pub async fn fill(driver: &WebDriver, id: &str, text: &str) {
    let input = element(driver, By::Id(id)).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

pub async fn click(driver: &WebDriver, by: By) {
    element(driver, by).await.click().await.unwrap();
}

/// Waits until the browser shows a page whose path starts with `path`.
pub async fn wait_for_path(driver: &WebDriver, path: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = driver.current_url().await.unwrap();
        if url.path().starts_with(path) {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {path}");
        tokio::time::sleep(POLL).await;
    }
}

/// A `WebDriver` extension command: the virtual authenticator's are in WebAuthn Level 2,
/// section 11 ("`WebDriver` Extension Capability"), which chromedriver implements.
#[derive(Debug)]
struct Extension {
    method: Method,
    endpoint: String,
    body: Option<Value>,
}

impl ExtensionCommand for Extension {
    fn parameters_json(&self) -> Option<Value> {
        self.body.clone()
    }

    fn method(&self) -> Method {
        self.method.clone()
    }

    fn endpoint(&self) -> std::sync::Arc<str> {
        self.endpoint.as_str().into()
    }
}

async fn extension(driver: &WebDriver, method: Method, endpoint: String, body: Option<Value>) -> Value {
    let what = format!("{method} {endpoint}");
    let answer = driver
        .cmd(WebDriverCommand::ExtensionCommand(Box::new(Extension { method, endpoint, body })))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    answer.value_json().unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Adds a virtual platform authenticator to the browser: CTAP2, built in ("internal"), able
/// to keep discoverable credentials, with user verification that always succeeds (as a
/// fingerprint or PIN would). Returns its id.
pub async fn add_virtual_authenticator(driver: &WebDriver) -> String {
    let options = json!({
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": true,
        "hasUserVerification": true,
        "isUserVerified": true,
        "automaticPresenceSimulation": true,
    });
    let id = extension(driver, Method::POST, "/webauthn/authenticator".into(), Some(options)).await;
    id.as_str().expect("an authenticator id").to_owned()
}

/// The credentials the virtual authenticator holds.
pub async fn virtual_credentials(driver: &WebDriver, authenticator: &str) -> Vec<Value> {
    let endpoint = format!("/webauthn/authenticator/{authenticator}/credentials");
    let list = extension(driver, Method::GET, endpoint, None).await;
    list.as_array().cloned().unwrap_or_default()
}
