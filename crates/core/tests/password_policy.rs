//! The password policy wherever a password is set — the first administrator by `init` and by
//! the setup link, users created by an administrator — on both stores: a refusal names the
//! field `password`, says why, and leaves nothing behind; any Unicode is accepted and
//! normalised, so the same password typed another way still signs in.

use secrecy::{ExposeSecret, SecretString};
use tutela_core::CoreError;
use tutela_core::identity::NewUser;
use tutela_core::testing::{Backend, Harness, operator};
use tutela_store::AuditFilter;

fn user(email: &str, password: &str) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: "Wang Fang".into(),
        password: SecretString::from(password),
        roles: vec!["support".into()],
    }
}

fn assert_refused(result: Result<impl std::fmt::Debug, CoreError>, why: &str) {
    match result {
        Err(CoreError::Invalid { field, message }) => {
            assert_eq!(field, "password");
            assert!(message.contains(why), "{message:?} should say {why:?}");
        }
        other => panic!("expected a refused password, got {other:?}"),
    }
}

async fn audited(h: &Harness, action: &str) -> usize {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..Default::default() };
    h.tutela.store().audit_search(&filter).await.unwrap().len()
}

async fn weak_passwords_are_refused_and_nothing_is_created(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = operator();
    let cases = [
        ("short pass", "at least 12 characters"),
        ("Password1234", "common or breached"),
        ("098765432109", "aaaa, abcabc or 1234"),
        ("wang.fang@example2024", "without the e-mail address, name or product name"),
        ("tutela-tutela-2024", "without the e-mail address, name or product name"),
    ];
    for (password, why) in cases {
        assert_refused(h.tutela.create_user(&admin, user("wang.fang@example.com", password)).await, why);
    }
    assert!(h.tutela.users(&admin).await.unwrap().is_empty(), "no user was created");
    assert_eq!(audited(&h, "user.create").await, 0);
    // The same e-mail address is still free for a good password.
    h.tutela.create_user(&admin, user("wang.fang@example.com", "kettle on the windowsill")).await.unwrap();
    h.close().await;
}

async fn the_first_administrator_obeys_the_policy_both_ways(backend: Backend) {
    let h = Harness::new(backend).await;
    assert_refused(h.tutela.init_admin(user("root@example.com", "baseball1234")).await, "common");
    let token = h.tutela.setup_token().await.unwrap().expect("still no user, so a setup link");
    assert_refused(
        h.tutela.complete_setup(token.expose_secret(), user("root@example.com", "abababababababab")).await,
        "abcabc",
    );
    // The refusal did not use up the link.
    h.tutela.complete_setup(token.expose_secret(), user("root@example.com", "seven plum trees in fog")).await.unwrap();
    assert_eq!(audited(&h, "setup.admin").await, 1);
    h.close().await;
}

async fn any_unicode_is_accepted_and_normalised(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = operator();
    // Chinese with a space, set by one input method; full-width Latin, as an IME in
    // full-width mode types it; an accent as a combining mark.
    h.tutela.create_user(&admin, user("a@example.com", "我的 密码是一只很长的猫")).await.unwrap();
    h.tutela.create_user(&admin, user("b@example.com", "ｋｅｔｔｌｅ ｏｎ ｔｈｅ ｓｉｌｌ")).await.unwrap();
    h.tutela.create_user(&admin, user("c@example.com", "cafe\u{301} au lait, sans sucre")).await.unwrap();
    for (email, typed) in [
        ("a@example.com", "我的 密码是一只很长的猫"),
        ("b@example.com", "kettle on the sill"),
        ("c@example.com", "caf\u{e9} au lait, sans sucre"),
    ] {
        let start = h.tutela.login(email, SecretString::from(typed), None, None).await;
        assert!(start.is_ok(), "{email} signs in with {typed:?}: {start:?}");
    }
    h.close().await;
}

tutela_core::on_both_stores! {
    weak_passwords_are_refused_and_nothing_is_created_ => weak_passwords_are_refused_and_nothing_is_created;
    the_first_administrator_obeys_the_policy_both_ways_ => the_first_administrator_obeys_the_policy_both_ways;
    any_unicode_is_accepted_and_normalised_ => any_unicode_is_accepted_and_normalised;
}
