//! The console in a real browser (Debian's chromium through chromedriver) against the real
//! server over TLS: a sales user signs in, enrols an authenticator, finds a customer by phone
//! number, reveals the masked phone with a purpose and signs out; the administrator then finds
//! that reveal, with its purpose, in the audit log. SQLite is enough here; the router tests
//! cover both stores.

use crate::browser;

use browser::{Chromedriver, Server, click, element, element_with_text, fill, wait_for_path};
use secrecy::SecretString;
use thirtyfour::prelude::*;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Principal, builtin_roles};
use tutela_core::testing::{Backend, Harness, steward, values};
use tutela_crypto::totp;
use tutela_web::AppState;

const ADMIN: (&str, &str) = ("admin@example.com", "admin password of some length");
const SALES: (&str, &str) = ("sales@example.com", "sales password of some length");
const PHONE: &str = "13812345678";
const PURPOSE: &str = "Call back about the March invoice";

async fn seed(h: &Harness) {
    let new = |(email, password): (&str, &str), roles: Vec<String>| NewUser {
        email: email.into(),
        display_name: email.split('@').next().unwrap().into(),
        password: SecretString::from(password.to_owned()),
        roles,
    };
    let admin = h.tutela.init_admin(new(ADMIN, vec![])).await.unwrap();
    let permissions = builtin_roles().into_iter().find(|(name, _, _)| *name == "administrator").unwrap().2;
    let as_admin = Principal::direct(
        Some(admin.id),
        admin.email,
        permissions.into_iter().collect(),
        Credential::Session,
        Some("127.0.0.1".into()),
    );
    h.tutela.create_user(&as_admin, new(SALES, vec!["sales".into()])).await.unwrap();
    let fields =
        values(&[("name", "张三"), ("company", "Acme 上海"), ("phone", PHONE), ("email", "zhang.san@example.com")]);
    h.tutela.create_customer(&steward(), fields).await.unwrap();
}

/// Password, then enrolment: reads the key off the page like a person typing it into an
/// app, answers with the current code, and returns the recovery codes shown.
async fn sign_in_and_enrol(
    driver: &WebDriver,
    h: &Harness,
    base: &str,
    (email, password): (&str, &str),
) -> Vec<String> {
    driver.goto(format!("{base}/login")).await.unwrap();
    fill(driver, "email", email).await;
    fill(driver, "password", password).await;
    click(driver, By::Id("sign-in")).await;
    wait_for_path(driver, "/login/enrol").await;
    let secret: String =
        element(driver, By::Id("totp-secret")).await.text().await.unwrap().split_whitespace().collect();
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).expect("the page shows a base32 key");
    let now = u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap();
    fill(driver, "code", &totp::current_code(&key, now).unwrap()).await;
    click(driver, By::Id("confirm-enrol")).await;
    element(driver, By::Id("recovery-codes")).await;
    let codes = driver.find_all(By::Css("#recovery-codes code")).await.unwrap();
    let mut out = Vec::new();
    for code in codes {
        out.push(code.text().await.unwrap());
    }
    click(driver, By::Id("recovery-saved")).await;
    out
}

async fn scenario(driver: &WebDriver, h: &Harness, base: &str) {
    // The sign-in page, switched to Chinese by its language link.
    driver.goto(format!("{base}/login")).await.unwrap();
    element_with_text(driver, By::Tag("h1"), "Sign in").await;
    click(driver, By::LinkText("中文")).await;
    element_with_text(driver, By::Tag("h1"), "登录").await;
    let topbar = element(driver, By::Css("header.topbar")).await;
    let background = topbar.css_value("background-color").await.unwrap();
    assert!(background.contains("17, 24, 39"), "the stylesheet applies: {background}");

    // Sales: enrol, then search by phone number (an exact lookup on a sealed field).
    let codes = sign_in_and_enrol(driver, h, base, SALES).await;
    assert_eq!(codes.len(), 10, "ten recovery codes: {codes:?}");
    wait_for_path(driver, "/customers").await;
    element_with_text(driver, By::Tag("h1"), "客户").await;
    fill(driver, "q", PHONE).await;
    click(driver, By::Id("search")).await;
    element_with_text(driver, By::Css("#customer-table .masked"), "138****5678").await;
    assert!(driver.find(By::Css("img.watermark")).await.is_ok(), "customer pages carry the watermark");
    click(driver, By::Css("#customer-table a.open-customer")).await;

    // The customer: masked, then revealed with a purpose.
    element_with_text(driver, By::Css("#value-phone .masked"), "138****5678").await;
    assert!(!driver.source().await.unwrap().contains(PHONE), "the plaintext is not on the page before the reveal");
    click(driver, By::Id("reveal-phone")).await;
    fill(driver, "purpose", PURPOSE).await;
    click(driver, By::Id("reveal-submit")).await;
    element_with_text(driver, By::Css("#value-phone .revealed"), PHONE).await;
    assert!(driver.find_all(By::Id("reveal-dialog")).await.unwrap().is_empty(), "the dialog closed");

    // Sign out; the administrator signs in and finds the reveal in the audit log.
    click(driver, By::Id("sign-out")).await;
    wait_for_path(driver, "/login").await;
    element(driver, By::Css(".alert.notice")).await;
    sign_in_and_enrol(driver, h, base, ADMIN).await;
    wait_for_path(driver, "/schema").await;
    click(driver, By::Css("nav.mainnav a[href='/audit']")).await;
    wait_for_path(driver, "/audit").await;
    let row = element_with_text(driver, By::Css("#audit-events tbody tr"), "customer.reveal").await;
    let text = row.text().await.unwrap();
    assert!(text.contains(PURPOSE) && text.contains(SALES.0) && text.contains("phone"), "{text}");
    click(driver, By::Id("verify-chain")).await;
    element(driver, By::Id("verify-ok")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_reveals_a_phone_and_the_admin_sees_it_audited() {
    let h = Harness::new(Backend::Sqlite).await;
    seed(&h).await;
    let server = Server::start(AppState { tutela: h.tutela.clone(), secure_cookies: true }).await;
    let chromedriver = Chromedriver::start().await;
    let driver = chromedriver.browser().await;
    // The browser is closed whatever happens; a panic is re-raised after.
    let outcome = browser::guarded(driver.clone(), scenario(&driver, &h, &server.base)).await;
    drop(chromedriver);
    server.stop().await;
    h.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
