//! Passkeys in the console at router level, on both stores: the account page lists them in
//! both languages with a delete button (CSRF-checked; another user's passkey is not found),
//! the sign-in page offers a passkey, and the second-factor page offers one only to a user
//! who has one. The ceremonies themselves are `passkeys_api.rs` and `passkeys_browser.rs`.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use support::{Answer, Call, PASSWORD, call, create_user, form, get, sign_in};
use tutela_core::testing::authenticator::SoftAuthenticator;
use tutela_core::testing::{Backend, Harness};
use tutela_web::{AppState, router};
use uuid::Uuid;

async fn post(app: &Router, path: &str, session: &str, body: &[(&str, &str)]) -> Answer {
    let c = Call { session: Some(session), lang: Some("en"), form: Some(form(body)), ..Call::default() };
    call(app, Method::POST, path, c).await
}

/// Registers a passkey for the user of `session` through the domain.
async fn add_passkey(h: &Harness, session: &str, name: &str) -> Uuid {
    let p = h.tutela.session_principal(session, None).await.unwrap();
    let challenge = h.tutela.begin_passkey_registration(&p).await.unwrap();
    let mut device = SoftAuthenticator::new("https://localhost:8443");
    let answer = device.register(&serde_json::to_value(&challenge.options).unwrap());
    let answer = serde_json::from_value(answer).unwrap();
    h.tutela.finish_passkey_registration(&p, &challenge.ceremony, name, &answer).await.unwrap().id
}

async fn pending(h: &Harness, email: &str) -> String {
    let start = h.tutela.login(email, SecretString::from(PASSWORD.to_owned()), None, None).await.unwrap();
    start.pending_token.expose_secret().to_owned()
}

async fn listed_and_deleted_on_the_account_page(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    create_user(&h, "ann@example.com", &["sales"]).await;
    create_user(&h, "bob@example.com", &["sales"]).await;
    let ann = sign_in(&h, "ann@example.com").await;
    let bob = sign_in(&h, "bob@example.com").await;

    let page = get(&app, "/account", Some(&ann), "en").await;
    assert!(page.body.contains("You have no passkeys yet.") && page.body.contains("id=\"add-passkey\""));
    assert!(page.body.contains("/assets/passkeys.js?v="), "the script is served as a file");
    let id = add_passkey(&h, &ann, "Work laptop <b>").await;
    let page = get(&app, "/account", Some(&ann), "en").await;
    assert!(page.body.contains("Work laptop &") && !page.body.contains("Work laptop <b>"), "shown, escaped");
    assert!(page.body.contains(&format!("action=\"/account/passkeys/{id}/delete\"")));
    let zh = get(&app, "/account", Some(&ann), "zh-CN").await;
    assert!(zh.body.contains("通行密钥") && zh.body.contains("从未"), "Chinese, never used");

    // Bob's page shows nothing of Ann's, and his delete finds nothing.
    let bobs = get(&app, "/account", Some(&bob), "en").await;
    assert!(!bobs.body.contains("Work laptop"));
    let delete = format!("/account/passkeys/{id}/delete");
    let bob_csrf = bobs.csrf();
    assert_eq!(post(&app, &delete, &bob, &[("_csrf", &bob_csrf)]).await.status, StatusCode::NOT_FOUND);

    // Ann's delete needs her CSRF token.
    assert_eq!(post(&app, &delete, &ann, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.tutela.store().passkeys_for_user(h.tutela.session(&ann).await.unwrap().user_id).await.unwrap().len(),
        1
    );
    let csrf = page.csrf();
    let done = post(&app, &delete, &ann, &[("_csrf", &csrf)]).await;
    assert_eq!(done.location(), "/account?notice=passkey-deleted");
    assert!(get(&app, done.location(), Some(&ann), "en").await.body.contains("The passkey was deleted."));
    assert_eq!(post(&app, &delete, &ann, &[("_csrf", &csrf)]).await.status, StatusCode::NOT_FOUND, "already deleted");
    assert_eq!(
        post(&app, "/account/passkeys/nope/delete", &ann, &[("_csrf", &csrf)]).await.status,
        StatusCode::NOT_FOUND
    );
    h.close().await;
}

async fn sign_in_pages_offer_a_passkey(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    create_user(&h, "ann@example.com", &["sales"]).await;
    create_user(&h, "bob@example.com", &["sales"]).await;
    let ann = sign_in(&h, "ann@example.com").await;
    sign_in(&h, "bob@example.com").await;
    add_passkey(&h, &ann, "phone").await;

    let login = get(&app, "/login", None, "en").await;
    assert!(login.body.contains("id=\"passkey-sign-in\"") && login.body.contains("Sign in with a passkey"));
    assert!(get(&app, "/login", None, "zh-CN").await.body.contains("使用通行密钥登录"));

    let anns = get(&app, "/login/second-factor", Some(&pending(&h, "ann@example.com").await), "en").await;
    assert!(anns.body.contains("id=\"use-passkey\"") && anns.body.contains("id=\"code\""), "a passkey, or a code");
    let bobs = get(&app, "/login/second-factor", Some(&pending(&h, "bob@example.com").await), "en").await;
    assert!(!bobs.body.contains("use-passkey") && !bobs.body.contains("passkeys.js"), "Bob has none: a code only");
    h.close().await;
}

tutela_core::on_both_stores! {
    listed_and_deleted_on_the_account_page_ => listed_and_deleted_on_the_account_page;
    sign_in_pages_offer_a_passkey_ => sign_in_pages_offer_a_passkey;
}
