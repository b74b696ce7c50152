//! Sign-in with password and TOTP, replay refusal, recovery codes, session timeouts,
//! API tokens — on both stores.

use secrecy::{ExposeSecret, SecretString};
use tutela_core::CoreError;
use tutela_core::identity::NewUser;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};
use tutela_crypto::totp;

const PASSWORD: &str = "correct horse battery staple";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

async fn with_admin(backend: Backend) -> Harness {
    let h = Harness::new(backend).await;
    h.tutela
        .init_admin(NewUser {
            email: "Admin@Example.com".into(),
            display_name: "Admin".into(),
            password: secret(PASSWORD),
            roles: vec![],
        })
        .await
        .unwrap();
    h
}

fn now(h: &Harness) -> u64 {
    u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap()
}

/// Signs in through enrolment; returns the session token and the TOTP secret.
async fn enrol(h: &Harness) -> (SecretString, Vec<u8>, Vec<SecretString>) {
    let start = h.tutela.login("admin@example.com", secret(PASSWORD), Some("127.0.0.1".into()), None).await.unwrap();
    assert!(start.must_enrol);
    let pending = start.pending_token.expose_secret().to_owned();
    assert!(matches!(h.tutela.session_principal(&pending, None).await, Err(CoreError::SecondFactorRequired)));
    let enrolment = h.tutela.begin_totp_enrolment(&pending).await.unwrap();
    assert!(enrolment.otpauth_url.expose_secret().starts_with("otpauth://totp/"));
    assert!(enrolment.qr_svg.contains("<svg"));
    let key = data_encoding::BASE32_NOPAD.decode(enrolment.secret_base32.expose_secret().as_bytes()).unwrap();
    let code = totp::current_code(&key, now(h)).unwrap();
    let (session, codes) = h.tutela.confirm_totp_enrolment(&pending, &code).await.unwrap();
    assert_eq!(codes.len(), 10);
    (session, key, codes)
}

async fn password_then_totp(backend: Backend) {
    let h = with_admin(backend).await;
    let (session, key, _) = enrol(&h).await;
    let principal = h.tutela.session_principal(session.expose_secret(), None).await.unwrap();
    assert!(principal.has(Permission::UserManage));
    assert!(!principal.has(Permission::CustomerRead), "administration does not imply customer data");

    // Second sign-in: a fresh code works once; the same code again is refused (replay).
    h.clock.advance(time::Duration::seconds(30));
    let code = totp::current_code(&key, now(&h)).unwrap();
    let pending = h.tutela.login("admin@example.com", secret(PASSWORD), None, None).await.unwrap();
    assert!(!pending.must_enrol);
    h.tutela.second_factor(pending.pending_token.expose_secret(), &code).await.unwrap();
    let again = h.tutela.login("admin@example.com", secret(PASSWORD), None, None).await.unwrap();
    let err = h.tutela.second_factor(again.pending_token.expose_secret(), &code).await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid { .. }), "replayed code must be refused: {err:?}");
    let wrong = h.tutela.second_factor(again.pending_token.expose_secret(), "000000").await;
    assert!(wrong.is_err());
    h.close().await;
}

async fn wrong_password_and_unknown_user_look_alike(backend: Backend) {
    let h = with_admin(backend).await;
    let a = h.tutela.login("admin@example.com", secret("wrong password here"), None, None).await.err().unwrap();
    let b = h.tutela.login("nobody@example.com", secret(PASSWORD), None, None).await.err().unwrap();
    assert_eq!(a.to_string(), b.to_string());
    let failures = h
        .tutela
        .store()
        .audit_search(&tutela_store::AuditFilter { action: Some("auth.login".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(failures.iter().filter(|e| e.outcome == "failed").count(), 2);
    h.close().await;
}

async fn recovery_code_works_once(backend: Backend) {
    let h = with_admin(backend).await;
    let (_, _, codes) = enrol(&h).await;
    let code = codes[3].expose_secret().to_uppercase();
    let p = h.tutela.login("admin@example.com", secret(PASSWORD), None, None).await.unwrap();
    h.tutela.second_factor(p.pending_token.expose_secret(), &code).await.unwrap();
    let p = h.tutela.login("admin@example.com", secret(PASSWORD), None, None).await.unwrap();
    assert!(h.tutela.second_factor(p.pending_token.expose_secret(), &code).await.is_err());
    h.close().await;
}

async fn sessions_expire(backend: Backend) {
    let h = with_admin(backend).await;
    let (session, _, _) = enrol(&h).await;
    h.clock.advance(time::Duration::minutes(29));
    h.tutela.session_principal(session.expose_secret(), None).await.unwrap();
    h.clock.advance(time::Duration::minutes(31));
    let err = h.tutela.session_principal(session.expose_secret(), None).await.unwrap_err();
    assert!(matches!(err, CoreError::Unauthenticated(_)), "idle timeout: {err:?}");
    h.close().await;
}

async fn api_tokens_are_scoped_and_revocable(backend: Backend) {
    let h = with_admin(backend).await;
    let (session, _, _) = enrol(&h).await;
    let admin = h.tutela.session_principal(session.expose_secret(), None).await.unwrap();
    let err = h.tutela.create_api_token(&admin, "too much", &["customer.read".into()], None).await.unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
    let t = h
        .tutela
        .create_api_token(&admin, "audit reader", &["audit.read".into()], Some(time::Duration::days(1)))
        .await
        .unwrap();
    let via_token = h.tutela.token_principal(t.token.expose_secret(), None).await.unwrap();
    assert!(via_token.has(Permission::AuditRead));
    assert!(!via_token.has(Permission::UserManage), "scopes narrow the owner's permissions");
    h.clock.advance(time::Duration::days(2));
    assert!(h.tutela.token_principal(t.token.expose_secret(), None).await.is_err(), "expired");
    let t2 = h.tutela.create_api_token(&admin, "second", &["audit.read".into()], None).await;
    // The admin's session is past its absolute limit by now; the principal still holds.
    let t2 = t2.unwrap();
    h.tutela.revoke_api_token(&admin, t2.id).await.unwrap();
    assert!(h.tutela.token_principal(t2.token.expose_secret(), None).await.is_err(), "revoked");
    h.close().await;
}

async fn setup_link_creates_first_admin_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let token = h.tutela.setup_token().await.unwrap().unwrap();
    let admin = || NewUser {
        email: "first@example.com".into(),
        display_name: "First".into(),
        password: secret(PASSWORD),
        roles: vec![],
    };
    assert!(h.tutela.complete_setup("setup_wrong", admin()).await.is_err());
    let user = h.tutela.complete_setup(token.expose_secret(), admin()).await.unwrap();
    assert_eq!(user.roles, vec!["administrator"]);
    assert!(h.tutela.complete_setup(token.expose_secret(), admin()).await.is_err(), "used once");
    assert!(h.tutela.setup_token().await.unwrap().is_none(), "no link once a user exists");
    h.close().await;
}

tutela_core::on_both_stores! {
    password_then_totp_ => password_then_totp;
    wrong_password_and_unknown_user_look_alike_ => wrong_password_and_unknown_user_look_alike;
    recovery_code_works_once_ => recovery_code_works_once;
    sessions_expire_ => sessions_expire;
    api_tokens_are_scoped_and_revocable_ => api_tokens_are_scoped_and_revocable;
    setup_link_creates_first_admin_once_ => setup_link_creates_first_admin_once;
}
