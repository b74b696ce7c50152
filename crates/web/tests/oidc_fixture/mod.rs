//! A real OpenID provider for the single sign-on tests: panva's `oidc-provider` (OpenID
//! Certified, from npm, pinned in `tests/fixtures/oidc-provider/package-lock.json`) run by
//! Node.js on a free loopback port, with accounts whose claims the test writes; and a
//! cookie-keeping HTTP client that plays the browser there (the provider's sign-in form).
//!
//! Without `node` the tests are skipped with a message, except under CI (`CI=true`), where a
//! skipped single sign-on test would be an untested one: there they fail.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tutela_core::identity::{SsoConfig, SsoPolicy};
use tutela_oidc::{OidcProvider, OidcSettings};

pub const CLIENT_ID: &str = "tutela";
pub const CLIENT_SECRET: &str = "the client secret the provider gave tutela";
pub const REDIRECT_URI: &str = "https://tutela.test/login/sso/callback";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc-provider")
}

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// Whether Node.js is here; outside CI, a missing one skips the test with a message.
fn node_available() -> bool {
    let found = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(!in_ci(), "node is not installed: the single sign-on tests need Node.js (apt-get install nodejs npm)");
        eprintln!("SKIPPED: node is not installed, so the single sign-on tests cannot start their OpenID provider");
    }
    found
}

/// The provider, stopped when dropped (and by itself when the test process ends: it exits
/// when its standard input closes).
pub struct Provider {
    child: Child,
    _stdin: ChildStdin,
    pub issuer: String,
    accounts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider with `accounts` (see `provider.mjs`); `None` when the test is to be
    /// skipped (no Node.js, outside CI).
    pub async fn start(accounts: &Value) -> Option<Self> {
        if !node_available() {
            return None;
        }
        let dir = fixture_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the OpenID provider's packages are missing: run `npm ci` in {} (scripts/test does)",
            dir.display()
        );
        let tmp = tempfile::tempdir().unwrap();
        let accounts_file = tmp.path().join("accounts.json");
        std::fs::write(&accounts_file, accounts.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("FIXTURE_CLIENT_ID", CLIENT_ID)
            .env("FIXTURE_CLIENT_SECRET", CLIENT_SECRET)
            .env("FIXTURE_REDIRECT_URI", REDIRECT_URI)
            .env("FIXTURE_ACCOUNTS", &accounts_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // The first line says it is ready; whatever follows is drained, so that the provider
        // never writes into a closed pipe.
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = ready_tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = tokio::time::timeout(Duration::from_secs(30), ready_rx)
            .await
            .expect("the OpenID provider did not start within 30 s")
            .expect("the OpenID provider exited before it was ready");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("the provider said {line:?}"));
        let issuer = ready["issuer"].as_str().expect("an issuer").to_owned();
        Some(Self { child, _stdin: stdin, issuer, accounts: accounts_file, _dir: tmp })
    }

    /// Replaces the accounts; the provider reads them at each use.
    pub fn set_accounts(&self, accounts: &Value) {
        std::fs::write(&self.accounts, accounts.to_string()).unwrap();
    }

    /// Stops the provider now (a provider that went down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Tutela's single sign-on against this provider.
    pub fn sso(&self, policy: SsoPolicy) -> SsoConfig {
        sso_at(&self.issuer, policy)
    }
}

/// Tutela's single sign-on against the provider at `issuer`, registered as the fixture's client.
pub fn sso_at(issuer: &str, policy: SsoPolicy) -> SsoConfig {
    let settings = OidcSettings {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.to_owned().into()),
        redirect_url: REDIRECT_URI.into(),
        scopes: vec!["openid".into(), "email".into(), "profile".into(), "groups".into()],
        groups_claim: "groups".into(),
        timeout: Duration::from_secs(5),
    };
    SsoConfig { provider: Arc::new(OidcProvider::new(settings).unwrap()), policy }
}

/// The provider's answer at the redirect URI, as its query parameters.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

impl Answer {
    pub fn query(&self) -> String {
        let mut url = url::Url::parse("https://x/").unwrap();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [("code", &self.code), ("state", &self.state), ("iss", &self.iss), ("error", &self.error)] {
                if let Some(v) = v {
                    q.append_pair(k, v);
                }
            }
        }
        url.query().unwrap_or_default().to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::json!({ "code": self.code, "state": self.state, "iss": self.iss, "error": self.error })
    }
}

/// Plays the browser at the provider: follows the authorisation URL, signs in as `login` on
/// the provider's form, consents, and returns what the provider sends to the redirect URI.
pub async fn authorize(authorization_url: &str, login: &str) -> Answer {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut url = url::Url::parse(authorization_url).expect("an authorisation URL");
    for _ in 0..12 {
        let response = browser.get(url.clone()).send().await.expect("the provider answers");
        let response = if response.status().is_success() {
            let page = response.text().await.unwrap();
            let start = page.find("action=\"").expect("the provider's sign-in form") + 8;
            let action = &page[start..start + page[start..].find('"').unwrap()];
            browser.post(url.join(action).unwrap()).form(&[("login", login)]).send().await.unwrap()
        } else {
            response
        };
        assert!(response.status().is_redirection(), "the provider answered {}", response.status());
        let location = response.headers()["location"].to_str().unwrap();
        url = url.join(location).unwrap();
        if url.as_str().starts_with(REDIRECT_URI) {
            let get = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            return Answer { code: get("code"), state: get("state"), iss: get("iss"), error: get("error") };
        }
    }
    panic!("the provider did not send the browser back to Tutela");
}
