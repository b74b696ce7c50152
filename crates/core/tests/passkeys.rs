//! Passkeys end to end against a software authenticator, on both stores: registered by a
//! signed-in user, used as the second factor and passwordless, each use recorded with its
//! counter and audited; and refused for another user's credential, a replayed or expired
//! ceremony, a missing user verification, a cloned authenticator, an API token, and — with
//! the password's lockout — a stream of unknown passkeys.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tutela_core::CoreError;
use tutela_core::identity::{NewUser, PasskeyChallenge, PublicKeyCredential, RegisterPublicKeyCredential};
use tutela_core::notify::Language;
use tutela_core::on_both_stores;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::authenticator::SoftAuthenticator;
use tutela_core::testing::{Backend, Harness, SignInAs, principal};
use tutela_store::{AuditFilter, AuditRecord};
use uuid::Uuid;

const PASSWORD: &str = "violet harbour nine lanterns";
const ORIGIN: &str = "https://localhost:8443";
const HOME: &str = "192.0.2.10";

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage])
}

async fn user(h: &Harness, email: &str) -> SignInAs {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: vec!["sales".into()],
    };
    h.tutela.create_user(&admin(), new).await.unwrap();
    SignInAs::new(email, PASSWORD)
}

async fn signed_in(h: &Harness, who: &mut SignInAs) -> Principal {
    let token = who.sign_in(h, Some(HOME), None).await;
    h.tutela.session_principal(&token, Some(HOME.into())).await.unwrap()
}

fn json<T: serde::Serialize>(challenge: &PasskeyChallenge<T>) -> Value {
    serde_json::to_value(&challenge.options).unwrap()
}

fn registration(answer: Value) -> RegisterPublicKeyCredential {
    serde_json::from_value(answer).expect("the authenticator's answer parses")
}

fn assertion(answer: Value) -> PublicKeyCredential {
    serde_json::from_value(answer).expect("the authenticator's answer parses")
}

/// Registers a passkey on `device` for the signed-in `p`.
async fn register(h: &Harness, p: &Principal, device: &mut SoftAuthenticator, name: &str) -> Uuid {
    let challenge = h.tutela.begin_passkey_registration(p).await.unwrap();
    let answer = registration(device.register(&json(&challenge)));
    h.tutela.finish_passkey_registration(p, &challenge.ceremony, name, &answer).await.unwrap().id
}

/// The password step only: a pending session's token.
async fn password(h: &Harness, email: &str, source: &str) -> String {
    let start =
        h.tutela.login(email, SecretString::from(PASSWORD.to_owned()), Some(source.into()), None).await.unwrap();
    start.pending_token.expose_secret().to_owned()
}

async fn passwordless(h: &Harness, device: &mut SoftAuthenticator, source: &str) -> Result<String, CoreError> {
    let challenge = h.tutela.begin_passkey_sign_in().unwrap();
    let answer = assertion(device.assert(&json(&challenge)));
    let session = h.tutela.finish_passkey_sign_in(&challenge.ceremony, &answer, Some(source.into()), None).await?;
    Ok(session.expose_secret().to_owned())
}

async fn events(h: &Harness, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..AuditFilter::default() };
    h.tutela.store().audit_search(&filter).await.unwrap()
}

fn detail(r: &AuditRecord) -> Value {
    serde_json::from_str(r.detail.as_deref().unwrap_or("null")).unwrap()
}

fn invalid_field<T: std::fmt::Debug>(r: Result<T, CoreError>) -> String {
    match r {
        Err(CoreError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn register_and_sign_in_both_ways(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut ann = user(&h, "ann@example.com").await;
    let p = signed_in(&h, &mut ann).await;
    let mut laptop = SoftAuthenticator::new(ORIGIN);
    let id = register(&h, &p, &mut laptop, "  Work laptop 工作 ").await;

    let mine = h.tutela.my_passkeys(&p).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].id, mine[0].name.as_str(), mine[0].last_used_at), (id, "Work laptop 工作", None));
    let stored = h.tutela.store().passkey_get(id).await.unwrap().unwrap();
    assert_eq!(stored.credential_id, laptop.credentials[0].id, "the authenticator's credential id");
    assert!(!stored.passkey.contains("private"), "only the public key is stored");
    let registered = events(&h, "passkey.register").await;
    assert_eq!(detail(&registered[0])["passkey"], id.to_string());

    // The second factor after the password: a new, signed-in session.
    let pending = password(&h, "ann@example.com", HOME).await;
    assert!(h.tutela.pending_has_passkey(&pending).await.unwrap());
    let challenge = h.tutela.begin_passkey_second_factor(&pending).await.unwrap();
    let answer = assertion(laptop.assert(&json(&challenge)));
    let session = h.tutela.finish_passkey_second_factor(&pending, &challenge.ceremony, &answer).await.unwrap();
    assert_ne!(session.expose_secret(), &pending, "a new session id");
    assert!(h.tutela.session(&pending).await.is_err(), "the pending session is gone");
    assert!(h.tutela.session(session.expose_secret()).await.unwrap().mfa_done);
    let second = events(&h, "auth.second_factor").await;
    let d = detail(&second[0]);
    assert_eq!((d["factor"].as_str(), d["passkey"].as_str()), (Some("passkey"), Some(id.to_string().as_str())));
    let used = h.tutela.store().passkey_get(id).await.unwrap().unwrap();
    assert_eq!(used.sign_count, 1, "the counter is recorded");
    assert_eq!(used.last_used_at, Some(h.tutela.clock().now()));

    // From a network the account has not used, the user is told, naming the passkey.
    let pending = password(&h, "ann@example.com", "198.51.100.20").await;
    let challenge = h.tutela.begin_passkey_second_factor(&pending).await.unwrap();
    let answer = assertion(laptop.assert(&json(&challenge)));
    let away = h.tutela.finish_passkey_second_factor(&pending, &challenge.ceremony, &answer).await.unwrap();
    let me = h.tutela.session_principal(away.expose_secret(), None).await.unwrap();
    let inbox = h.tutela.notifications(&me, None, 10, Some(Language::En)).await.unwrap();
    assert_eq!(inbox.items.len(), 1, "{:?}", inbox.items);
    let body = &inbox.items[0].body;
    assert!(body.contains("198.51.100.20") && body.contains("Proved with: a passkey"), "{body}");

    // Passwordless: the passkey alone signs in fully.
    h.clock.advance(time::Duration::seconds(5));
    let token = passwordless(&h, &mut laptop, HOME).await.unwrap();
    let info = h.tutela.session(&token).await.unwrap();
    assert!(info.mfa_done && info.email == "ann@example.com");
    let signed = events(&h, "auth.passkey_sign_in").await;
    assert_eq!(signed[0].actor, "ann@example.com");
    assert_eq!(detail(&signed[0])["passkey"], id.to_string());
    assert_eq!(h.tutela.store().passkey_get(id).await.unwrap().unwrap().sign_count, 3, "the third use");

    // The same authenticator cannot be registered twice.
    let challenge = h.tutela.begin_passkey_registration(&p).await.unwrap();
    let excluded = json(&challenge)["publicKey"]["excludeCredentials"].clone();
    assert_eq!(excluded.as_array().map(Vec::len), Some(1), "{excluded}");
    assert_eq!(json(&challenge)["publicKey"]["authenticatorSelection"]["residentKey"], "required");

    // Deleted: audited, and it signs in no more.
    h.tutela.delete_passkey(&p, id).await.unwrap();
    assert!(h.tutela.my_passkeys(&p).await.unwrap().is_empty());
    assert_eq!(detail(&events(&h, "passkey.delete").await[0])["passkey"], id.to_string());
    assert!(matches!(passwordless(&h, &mut laptop, HOME).await, Err(CoreError::Unauthenticated(_))));
    h.close().await;
}

async fn other_users_credentials_and_ceremonies_are_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut ann = user(&h, "ann@example.com").await;
    let mut bob = user(&h, "bob@example.com").await;
    let as_ann = signed_in(&h, &mut ann).await;
    let as_bob = signed_in(&h, &mut bob).await;
    let mut anns = SoftAuthenticator::new(ORIGIN);
    let mut bobs = SoftAuthenticator::new(ORIGIN);
    let ann_key = register(&h, &as_ann, &mut anns, "Ann's key").await;
    register(&h, &as_bob, &mut bobs, "Bob's key").await;

    // Bob's password, then Ann's passkey as his second factor.
    let pending = password(&h, "bob@example.com", HOME).await;
    let challenge = h.tutela.begin_passkey_second_factor(&pending).await.unwrap();
    let answer = assertion(anns.assert_with(&json(&challenge), 0));
    let refused = h.tutela.finish_passkey_second_factor(&pending, &challenge.ceremony, &answer).await;
    assert_eq!(invalid_field(refused), "credential");
    assert!(!h.tutela.session(&pending).await.unwrap().mfa_done, "still pending");
    let failed = events(&h, "auth.second_factor").await;
    assert_eq!(failed[0].outcome, "failed");

    // A registration ceremony belongs to whoever started it.
    let started = h.tutela.begin_passkey_registration(&as_ann).await.unwrap();
    let answer = registration(bobs.register(&json(&started)));
    let stolen = h.tutela.finish_passkey_registration(&as_bob, &started.ceremony, "mine now", &answer).await;
    assert_eq!(invalid_field(stolen), "ceremony");
    let late = h.tutela.finish_passkey_registration(&as_ann, &started.ceremony, "too late", &answer).await;
    assert_eq!(invalid_field(late), "ceremony", "and Bob's attempt used it up");

    // Replayed: the answer of a finished ceremony finds nothing.
    let pending = password(&h, "bob@example.com", HOME).await;
    let challenge = h.tutela.begin_passkey_second_factor(&pending).await.unwrap();
    let answer = assertion(bobs.assert(&json(&challenge)));
    h.tutela.finish_passkey_second_factor(&pending, &challenge.ceremony, &answer).await.unwrap();
    let pending = password(&h, "bob@example.com", HOME).await;
    let replay = h.tutela.finish_passkey_second_factor(&pending, &challenge.ceremony, &answer).await;
    assert_eq!(invalid_field(replay), "ceremony");
    // Nor does the answer fit a new ceremony: its challenge is another.
    let fresh = h.tutela.begin_passkey_second_factor(&pending).await.unwrap();
    let replay = h.tutela.finish_passkey_second_factor(&pending, &fresh.ceremony, &answer).await;
    assert_eq!(invalid_field(replay), "credential");

    // Expired: five minutes and the ceremony is gone.
    let challenge = h.tutela.begin_passkey_sign_in().unwrap();
    let answer = assertion(anns.assert(&json(&challenge)));
    h.clock.advance(time::Duration::minutes(5));
    let expired = h.tutela.finish_passkey_sign_in(&challenge.ceremony, &answer, Some(HOME.into()), None).await;
    assert_eq!(invalid_field(expired), "ceremony");

    // Passwordless with Ann's credential claiming to be Bob: the generic refusal.
    let challenge = h.tutela.begin_passkey_sign_in().unwrap();
    let mut answer = anns.assert(&json(&challenge));
    let bob_id = h.tutela.store().user_by_email("bob@example.com").await.unwrap().unwrap().id;
    answer["response"]["userHandle"] = data_encoding::BASE64URL_NOPAD.encode(bob_id.as_bytes()).into();
    let refused =
        h.tutela.finish_passkey_sign_in(&challenge.ceremony, &assertion(answer), Some(HOME.into()), None).await;
    assert!(matches!(refused, Err(CoreError::Unauthenticated(_))), "{refused:?}");

    // Bob cannot delete Ann's passkey: not found, audited as denied, still there.
    assert!(matches!(h.tutela.delete_passkey(&as_bob, ann_key).await, Err(CoreError::NotFound("passkey"))));
    assert!(matches!(h.tutela.delete_passkey(&as_bob, Uuid::new_v4()).await, Err(CoreError::NotFound("passkey"))));
    assert_eq!(events(&h, "passkey.delete").await[0].outcome, "denied");
    assert_eq!(h.tutela.my_passkeys(&as_ann).await.unwrap().len(), 1);

    // Without user verification a passkey is one factor, not two: refused.
    anns.user_verification = false;
    assert!(matches!(passwordless(&h, &mut anns, HOME).await, Err(CoreError::Unauthenticated(_))));
    anns.user_verification = true;
    passwordless(&h, &mut anns, HOME).await.expect("with user verification");

    // A wrong origin (a phishing site relaying the ceremony) is refused.
    anns.origin = "https://tutela.example.net".into();
    assert!(matches!(passwordless(&h, &mut anns, HOME).await, Err(CoreError::Unauthenticated(_))));

    // An API token may list passkeys but not register one.
    let token = Principal { credential: Credential::ApiToken { token_id: Uuid::new_v4() }, ..as_ann.clone() };
    assert!(matches!(h.tutela.begin_passkey_registration(&token).await, Err(CoreError::Forbidden(_))));
    assert_eq!(h.tutela.my_passkeys(&token).await.unwrap().len(), 1);
    h.close().await;
}

async fn a_cloned_authenticator_is_suspended(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut ann = user(&h, "ann@example.com").await;
    let p = signed_in(&h, &mut ann).await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    let id = register(&h, &p, &mut key, "YubiKey").await;
    for _ in 0..3 {
        passwordless(&h, &mut key, HOME).await.unwrap();
    }
    assert_eq!(h.tutela.store().passkey_get(id).await.unwrap().unwrap().sign_count, 3);

    // A copy of the key, behind on the counter.
    key.credentials[0].counter = 1;
    assert!(matches!(passwordless(&h, &mut key, HOME).await, Err(CoreError::Unauthenticated(_))));
    let stored = h.tutela.store().passkey_get(id).await.unwrap().unwrap();
    assert!(stored.suspended_at.is_some(), "suspended");
    assert_eq!(stored.sign_count, 3, "the counter is not moved back");
    let suspended = events(&h, "passkey.suspend").await;
    assert_eq!(detail(&suspended[0])["passkey"], id.to_string());
    assert!(h.tutela.my_passkeys(&p).await.unwrap()[0].suspended_at.is_some(), "its owner sees why");

    // Even the genuine key, ahead again, is refused until the user registers anew.
    key.credentials[0].counter = 10;
    assert!(matches!(passwordless(&h, &mut key, HOME).await, Err(CoreError::Unauthenticated(_))));
    let pending = password(&h, "ann@example.com", HOME).await;
    assert!(!h.tutela.pending_has_passkey(&pending).await.unwrap());
    assert_eq!(invalid_field(h.tutela.begin_passkey_second_factor(&pending).await), "passkey");
    h.close().await;
}

async fn unknown_passkeys_are_throttled_like_wrong_passwords(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut ann = user(&h, "ann@example.com").await;
    let p = signed_in(&h, &mut ann).await;
    let mut genuine = SoftAuthenticator::new(ORIGIN);
    register(&h, &p, &mut genuine, "phone").await;

    // A device whose passkeys this server never registered, tried from one address: paused
    // after 5, like 5 wrong passwords for one account there.
    let attacker = "203.0.113.66";
    let mut forged = SoftAuthenticator::new(ORIGIN);
    forged.register(&json(&h.tutela.begin_passkey_registration(&p).await.unwrap()));
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(passwordless(&h, &mut forged, attacker).await.unwrap_err());
    }
    assert!(answers.iter().all(|e| matches!(e, CoreError::Unauthenticated(_))), "{answers:?}");
    let lock = &events(&h, "auth.lockout").await[0];
    assert_eq!((lock.actor.as_str(), detail(lock)["scope"].as_str()), ("(unknown passkey)", Some("account-address")));
    let refused = &events(&h, "auth.login").await[0];
    assert_eq!(
        (detail(refused)["factor"].as_str(), detail(refused)["locked"].as_str()),
        (Some("passkey"), Some("account-address"))
    );
    // The pause is on unknown passkeys from there: Ann's own passkey still signs her in.
    passwordless(&h, &mut genuine, attacker).await.expect("a registered passkey is not an unknown one");

    // Ann's account paused at an address by wrong passwords: her passkey gets the one answer
    // an unknown passkey gets there, until the pause ends.
    let elsewhere = "198.51.100.7";
    for _ in 0..5 {
        let wrong = h
            .tutela
            .login("ann@example.com", SecretString::from("wrong password!".to_owned()), Some(elsewhere.into()), None)
            .await;
        assert!(matches!(wrong, Err(CoreError::Unauthenticated(_))));
    }
    let paused = passwordless(&h, &mut genuine, elsewhere).await.unwrap_err().to_string();
    let unknown = passwordless(&h, &mut forged, "192.0.2.99").await.unwrap_err().to_string();
    assert_eq!(paused, unknown, "one answer for a paused account and an unknown passkey");
    passwordless(&h, &mut genuine, HOME).await.expect("other addresses are not paused");
    h.clock.advance(time::Duration::minutes(11));
    passwordless(&h, &mut genuine, elsewhere).await.expect("the pause ended");
    h.close().await;
}

on_both_stores! {
    register_and_sign_in => register_and_sign_in_both_ways;
    refusals => other_users_credentials_and_ceremonies_are_refused;
    cloned => a_cloned_authenticator_is_suspended;
    throttled => unknown_passkeys_are_throttled_like_wrong_passwords;
}
