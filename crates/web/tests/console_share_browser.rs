//! Sharing a customer in a real browser (Debian's chromium through chromedriver) against the
//! real server over TLS: Alice, whose role reaches only her own records, opens the share form
//! on her customer, lends it to Bob with a reason, and sees him in the list; Bob can then open
//! the customer and is told why. Sign-in and enrolment are covered by `console_browser`; here
//! the sessions are made through the domain and handed to the browser as cookies.

use crate::browser;
use crate::support;

use browser::{Chromedriver, Server, click, element, element_with_text, fill, wait_for_path};
use thirtyfour::prelude::*;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, values};
use tutela_web::AppState;
use uuid::Uuid;

const REASON: &str = "Covering the account while Alice is on leave";

/// Alice and Bob in sales, which reaches its own records only; a customer of Alice's.
async fn seed(h: &Harness) -> (String, String, Uuid) {
    support::create_user(h, "alice@example.com", &["sales"]).await;
    support::create_user(h, "bob@example.com", &["sales"]).await;
    let roles = Principal::direct(None, "test", [Permission::RoleManage].into(), Credential::LocalCli, None);
    let sales = h.tutela.roles(&roles).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap();
    h.tutela.put_role(&roles, tutela_store::RoleRow { data_scope: "own".into(), ..sales }).await.unwrap();
    let alice = support::sign_in(h, "alice@example.com").await;
    let bob = support::sign_in(h, "bob@example.com").await;
    let owner = h.tutela.session_principal(&alice, None).await.unwrap();
    let customer = h.tutela.create_customer(&owner, values(&[("name", "王五")])).await.unwrap().id;
    (alice, bob, customer)
}

async fn as_user(driver: &WebDriver, base: &str, session: &str) {
    driver.goto(format!("{base}/login")).await.unwrap();
    driver.delete_all_cookies().await.unwrap();
    let mut cookie = Cookie::new(support::SESSION_COOKIE, session);
    cookie.set_path("/");
    cookie.set_secure(true);
    cookie.set_http_only(true);
    driver.add_cookie(cookie).await.unwrap();
    let mut lang = Cookie::new("lang", "en");
    lang.set_path("/");
    driver.add_cookie(lang).await.unwrap();
}

async fn scenario(driver: &WebDriver, base: &str, (alice, bob, customer): (String, String, Uuid)) {
    let page = format!("{base}/customers/{customer}");
    // Bob cannot open Alice's customer yet.
    as_user(driver, base, &bob).await;
    driver.goto(&page).await.unwrap();
    element_with_text(driver, By::Tag("h1"), "Not found").await;

    // Alice shares it; the date keeps its default, a week ahead.
    as_user(driver, base, &alice).await;
    driver.goto(&page).await.unwrap();
    element_with_text(driver, By::Css("#shares .empty"), "not shared").await;
    click(driver, By::Id("share-open")).await;
    fill(driver, "share-user", "bob@example.com").await;
    fill(driver, "share-reason", REASON).await;
    click(driver, By::Id("share-submit")).await;
    element_with_text(driver, By::Css(".alert.notice"), "The record was shared.").await;
    let row = element_with_text(driver, By::Css("#shares tbody tr"), "bob@example.com").await;
    let text = row.text().await.unwrap();
    assert!(text.contains(REASON) && text.contains("alice@example.com") && text.contains("read"), "{text}");

    // Bob opens it now, and is told why.
    as_user(driver, base, &bob).await;
    driver.goto(&page).await.unwrap();
    element_with_text(driver, By::Css("#customer-fields"), "王五").await;
    click(driver, By::Id("why-access")).await;
    wait_for_path(driver, &format!("/customers/{customer}/access")).await;
    element_with_text(driver, By::Id("row-reasons"), "Shared with them").await;
    element(driver, By::Id("can-read")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_shares_a_customer_with_bob_in_the_browser() {
    let h = Harness::new(Backend::Sqlite).await;
    let seeded = seed(&h).await;
    let server = Server::start(AppState { tutela: h.tutela.clone(), secure_cookies: true }).await;
    let chromedriver = Chromedriver::start().await;
    let driver = chromedriver.browser().await;
    // The browser is closed whatever happens; a panic is re-raised after.
    let outcome = browser::guarded(driver.clone(), scenario(&driver, &server.base, seeded)).await;
    drop(chromedriver);
    server.stop().await;
    h.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
