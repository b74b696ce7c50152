//! Passkeys in a real browser: Debian's chromium through chromedriver, with Chromium's virtual
//! authenticator (`WebDriver`'s WebAuthn extension: CTAP2, built in, discoverable credentials,
//! user verification), against the real server over TLS. A user signs in with password and
//! TOTP, registers a passkey on the account page, signs out, signs in with password and the
//! passkey, signs out, and signs in with the passkey alone; then, when the role's sign-in
//! policy wants a fresh proof before a reveal, confirms with the passkey and reveals.
//!
//! WebAuthn needs a secure context and refuses IP addresses as relying-party ids, so the
//! browser opens `https://localhost:<port>` (Chromium accepts the test's self-signed
//! certificate there, as `--ignore-certificate-errors` asks) and the relying party is
//! `localhost` with that origin.

use crate::browser;

use browser::{
    Chromedriver, Server, add_virtual_authenticator, click, element, element_with_text, fill, virtual_credentials,
    wait_for_path,
};
use secrecy::SecretString;
use thirtyfour::prelude::*;
use tutela_core::Config;
use tutela_core::identity::{NewUser, RelyingParty, RoleSignInPolicy};
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, steward, values};
use tutela_crypto::totp;
use tutela_store::AuditFilter;
use tutela_web::AppState;

const USER: (&str, &str) = ("ann@example.com", "ann's password of some length");
const PASSKEY_NAME: &str = "Chromium virtual authenticator";
const PHONE: &str = "13800138000";

fn bootstrap() -> Principal {
    Principal::direct(None, "test", [Permission::UserManage].into_iter().collect(), Credential::LocalCli, None)
}

async fn seed(h: &Harness) {
    let new = NewUser {
        email: USER.0.into(),
        display_name: "Ann".into(),
        password: SecretString::from(USER.1.to_owned()),
        roles: vec!["sales".into()],
    };
    h.tutela.create_user(&bootstrap(), new).await.unwrap();
}

async fn password_step(driver: &WebDriver, base: &str) {
    driver.goto(format!("{base}/login")).await.unwrap();
    fill(driver, "email", USER.0).await;
    fill(driver, "password", USER.1).await;
    click(driver, By::Id("sign-in")).await;
}

/// The first sign-in: password, then enrolling the authenticator app.
async fn sign_in_and_enrol(driver: &WebDriver, h: &Harness, base: &str) {
    password_step(driver, base).await;
    wait_for_path(driver, "/login/enrol").await;
    let secret: String =
        element(driver, By::Id("totp-secret")).await.text().await.unwrap().split_whitespace().collect();
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).expect("the page shows a base32 key");
    let now = u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap();
    fill(driver, "code", &totp::current_code(&key, now).unwrap()).await;
    click(driver, By::Id("confirm-enrol")).await;
    click(driver, By::Id("recovery-saved")).await;
    wait_for_path(driver, "/customers").await;
}

async fn sign_out(driver: &WebDriver) {
    click(driver, By::Id("sign-out")).await;
    wait_for_path(driver, "/login").await;
    element(driver, By::Css(".alert.notice")).await;
}

async fn newest(h: &Harness, action: &str) -> serde_json::Value {
    let filter = AuditFilter { action: Some(action.into()), limit: 1, ..AuditFilter::default() };
    let events = h.tutela.store().audit_search(&filter).await.unwrap();
    let event = events.first().unwrap_or_else(|| panic!("no {action} event"));
    assert_eq!((event.actor.as_str(), event.outcome.as_str()), (USER.0, "ok"), "{event:?}");
    serde_json::from_str(event.detail.as_deref().unwrap_or("null")).unwrap()
}

async fn scenario(driver: &WebDriver, h: &Harness, base: &str) {
    let authenticator = add_virtual_authenticator(driver).await;
    sign_in_and_enrol(driver, h, base).await;

    // Register a passkey on the account page.
    driver.goto(format!("{base}/account")).await.unwrap();
    element(driver, By::Id("no-passkeys")).await;
    fill(driver, "passkey-name", PASSKEY_NAME).await;
    click(driver, By::Id("add-passkey")).await;
    element_with_text(driver, By::Css("#passkeys td.passkey-name"), PASSKEY_NAME).await;
    element(driver, By::Css(".alert.notice")).await;
    let held = virtual_credentials(driver, &authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true, "a discoverable credential: {held:?}");
    let registered = newest(h, "passkey.register").await;
    assert_eq!(registered["name"], PASSKEY_NAME);
    sign_out(driver).await;

    // Password, then the passkey instead of a code.
    password_step(driver, base).await;
    wait_for_path(driver, "/login/second-factor").await;
    click(driver, By::Id("use-passkey")).await;
    wait_for_path(driver, "/customers").await;
    let second = newest(h, "auth.second_factor").await;
    assert_eq!((second["factor"].as_str(), &second["passkey"]), (Some("passkey"), &registered["passkey"]));
    sign_out(driver).await;

    // The passkey alone.
    click(driver, By::Id("passkey-sign-in")).await;
    wait_for_path(driver, "/customers").await;
    let alone = newest(h, "auth.passkey_sign_in").await;
    assert_eq!(alone["passkey"], registered["passkey"]);

    // The account page shows when it was last used; the counter moved with each use.
    driver.goto(format!("{base}/account")).await.unwrap();
    let row = element_with_text(driver, By::Css("#passkeys tbody tr"), PASSKEY_NAME).await;
    assert!(!row.text().await.unwrap().contains("never"), "last used is shown");
    let id = registered["passkey"].as_str().unwrap().parse().unwrap();
    let stored = h.tutela.store().passkey_get(id).await.unwrap().unwrap();
    let held = virtual_credentials(driver, &authenticator).await;
    assert_eq!(i64::from(stored.sign_count), held[0]["signCount"].as_i64().unwrap(), "the authenticator's counter");

    // The role asks for a fresh proof before a reveal: the dialog leads to "Confirm it is you",
    // the passkey confirms, and the record page is back, where the reveal now works.
    let sales = h.tutela.roles(&bootstrap()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap().id;
    let policy = RoleSignInPolicy { reauth_minutes: Some(5), ..RoleSignInPolicy::default() };
    h.tutela.set_sign_in_policy(&bootstrap(), sales, policy).await.unwrap();
    let customer =
        h.tutela.create_customer(&steward(), values(&[("name", "赵六"), ("phone", PHONE)])).await.unwrap().id;
    let record = format!("/customers/{customer}");
    h.clock.advance(time::Duration::minutes(6));
    driver.goto(format!("{base}{record}")).await.unwrap();
    click(driver, By::Id("reveal-phone")).await;
    fill(driver, "purpose", "call back about the order").await;
    click(driver, By::Id("reveal-submit")).await;
    wait_for_path(driver, "/reauth").await;
    click(driver, By::Id("reauth-passkey")).await;
    wait_for_path(driver, &record).await;
    let confirmed = newest(h, "auth.reauth").await;
    assert_eq!(confirmed["factor"], "passkey");
    click(driver, By::Id("reveal-phone")).await;
    fill(driver, "purpose", "call back about the order").await;
    click(driver, By::Id("reveal-submit")).await;
    element_with_text(driver, By::Css("#value-phone .revealed"), PHONE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registered_in_the_browser_signs_in_after_the_password_and_alone() {
    let listener = Server::listener().await;
    let base = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    let relying_party = RelyingParty::for_url(&base, "base").unwrap();
    let h =
        Harness::with_config(Backend::Sqlite, Config { relying_party: Some(relying_party), ..Config::default() }).await;
    seed(&h).await;
    let server = Server::start_on(listener, AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let chromedriver = Chromedriver::start().await;
    let driver = chromedriver.browser().await;
    // The browser is closed whatever happens; a panic is re-raised after.
    let outcome = browser::guarded(driver.clone(), scenario(&driver, &h, &base)).await;
    drop(chromedriver);
    server.stop().await;
    h.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
