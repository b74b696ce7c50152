//! Allowed address ranges per role, user and API token: a role outside its ranges does not
//! apply, a user or token outside theirs is refused (and audited), an unknown address matches
//! nothing, a malformed range is named, and nobody locks themselves out by mistake.

use secrecy::{ExposeSecret, SecretString};
use tutela_core::CoreError;
use tutela_core::access::NetworkSubject;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, SignInAs, principal};
use tutela_store::AuditFilter;
use uuid::Uuid;

const PASSWORD: &str = "a long enough passphrase 2026";
const OFFICE: &str = "10.1.2.3";
const CAFE: &str = "192.0.2.10";

fn admin() -> Principal {
    Principal::direct(
        Some(Uuid::now_v7()),
        "admin@example.com",
        [Permission::UserManage, Permission::RoleManage, Permission::AuditRead].into(),
        Credential::Session,
        Some(OFFICE.into()),
    )
}

/// A user holding `roles`, and a token acting as them with every permission they have.
async fn user(h: &Harness, email: &str, roles: &[&str]) -> (Uuid, String, Uuid) {
    let t = &h.tutela;
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let id = t.create_user(&admin(), new).await.unwrap().id;
    let all: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    let owner = Principal::direct(Some(id), email, Permission::ALL.into(), Credential::Session, None);
    let token = t.create_api_token(&owner, "t", &all, None).await.unwrap();
    (id, token.token.expose_secret().to_owned(), token.id)
}

async fn role_id(h: &Harness, name: &str) -> Uuid {
    h.tutela.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == name).unwrap().id
}

fn ranges(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

async fn a_role_applies_only_from_its_ranges(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (_, token, _) = user(&h, "sales@example.com", &["sales", "support"]).await;
    // Used once before the rule: the cached principal must not outlive it.
    assert!(t.token_principal(&token, Some(CAFE.into())).await.unwrap().has(Permission::CustomerWrite));

    let sales = role_id(&h, "sales").await;
    let set = t.set_network_rule(&admin(), NetworkSubject::Role, sales, &ranges(&["10.0.0.0/8"])).await.unwrap();
    assert_eq!(set, ["10.0.0.0/8"]);
    let in_office = t.token_principal(&token, Some(OFFICE.into())).await.unwrap();
    assert!(in_office.has(Permission::CustomerWrite), "sales applies in the office");
    let outside = t.token_principal(&token, Some(CAFE.into())).await.unwrap();
    assert!(!outside.has(Permission::CustomerWrite), "sales does not apply outside");
    assert!(outside.has(Permission::CustomerRead), "support, unrestricted, still does");
    let unknown = t.token_principal(&token, None).await.unwrap();
    assert!(!unknown.has(Permission::CustomerWrite), "an unknown address matches no range");

    let views = t.network_rules(&admin()).await.unwrap();
    assert_eq!((views[0].subject_name.as_str(), views[0].networks.clone()), ("sales", ranges(&["10.0.0.0/8"])));
    // Lifting it.
    t.set_network_rule(&admin(), NetworkSubject::Role, sales, &[]).await.unwrap();
    assert!(t.token_principal(&token, Some(CAFE.into())).await.unwrap().has(Permission::CustomerWrite));
    assert!(t.network_rules(&admin()).await.unwrap().is_empty());
    h.close().await;
}

async fn a_user_or_token_outside_its_ranges_is_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (id, token, token_id) = user(&h, "remote@example.com", &["support"]).await;
    let mut remote = SignInAs::new("remote@example.com", PASSWORD);
    let session = remote.sign_in(&h, Some(CAFE), None).await;

    t.set_network_rule(&admin(), NetworkSubject::User, id, &ranges(&["10.0.0.0/8", "2001:db8::/32"])).await.unwrap();
    assert!(t.token_principal(&token, Some("2001:db8::5".into())).await.is_ok());
    let refused = t.token_principal(&token, Some(CAFE.into())).await;
    assert!(matches!(&refused, Err(CoreError::Forbidden(m)) if m.contains(CAFE)), "{refused:?}");
    assert!(matches!(t.session_principal(&session, Some(CAFE.into())).await, Err(CoreError::Forbidden(_))));
    assert!(t.session_principal(&session, Some(OFFICE.into())).await.is_ok());
    // The right password from outside gets the answer of a wrong one.
    let login = t.login("remote@example.com", SecretString::from(PASSWORD.to_owned()), Some(CAFE.into()), None).await;
    assert!(matches!(login, Err(CoreError::Unauthenticated(_))), "{login:?}");
    let in_office = remote.sign_in(&h, Some(OFFICE), None).await;
    assert!(t.session_principal(&in_office, Some(OFFICE.into())).await.is_ok());
    let filter = AuditFilter { action: Some("access.network.denied".into()), limit: 10, ..Default::default() };
    let denied = t.store().audit_search(&filter).await.unwrap();
    assert_eq!(denied.len(), 3);
    assert!(denied.iter().all(|e| e.actor == "remote@example.com" && e.outcome == "denied"));
    assert!(denied.iter().all(|e| e.actor_id == Some(id)), "searchable by the user's id");

    // The token's owner narrows their own token further; someone else may not.
    t.set_network_rule(&admin(), NetworkSubject::User, id, &[]).await.unwrap();
    let owner = t.token_principal(&token, Some(OFFICE.into())).await.unwrap();
    t.set_network_rule(&owner, NetworkSubject::Token, token_id, &ranges(&["10.1.2.0/24"])).await.unwrap();
    assert!(t.token_principal(&token, Some(OFFICE.into())).await.is_ok());
    assert!(matches!(t.token_principal(&token, Some("10.9.9.9".into())).await, Err(CoreError::Forbidden(_))));
    let (_, other_token, _) = user(&h, "other@example.com", &["support"]).await;
    let other = t.token_principal(&other_token, Some(OFFICE.into())).await.unwrap();
    let stranger = t.set_network_rule(&other, NetworkSubject::Token, token_id, &[]).await;
    assert!(matches!(stranger, Err(CoreError::Forbidden(_))), "{stranger:?}");
    h.close().await;
}

async fn bad_ranges_and_self_lockout_are_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (id, _, _) = user(&h, "x@example.com", &["support"]).await;
    let field = |r: Result<Vec<String>, CoreError>| match r {
        Err(CoreError::Invalid { field, message }) => format!("{field}: {message}"),
        other => panic!("expected invalid input, got {other:?}"),
    };
    let bad =
        field(t.set_network_rule(&admin(), NetworkSubject::User, id, &ranges(&["10.0.0.0/8", "10.0.0/33"])).await);
    assert!(bad.starts_with("networks: entry 2: \"10.0.0/33\""), "{bad}");
    assert!(t.network_rules(&admin()).await.unwrap().is_empty(), "nothing half-applied");
    let missing = t.set_network_rule(&admin(), NetworkSubject::Role, Uuid::now_v7(), &ranges(&["10.0.0.0/8"])).await;
    assert!(matches!(missing, Err(CoreError::NotFound("role"))));
    let sales = principal("s@example.com", &[Permission::CustomerRead]);
    assert!(matches!(t.set_network_rule(&sales, NetworkSubject::User, id, &[]).await, Err(CoreError::Forbidden(_))));

    // An administrator restricting their own account must keep the address in use.
    let (admin_id, admin_token, _) = user(&h, "boss@example.com", &["administrator"]).await;
    let me = t.token_principal(&admin_token, Some(OFFICE.into())).await.unwrap();
    let lockout = field(t.set_network_rule(&me, NetworkSubject::User, admin_id, &ranges(&["192.0.2.0/24"])).await);
    assert!(lockout.contains("address you are using"), "{lockout}");
    t.set_network_rule(&me, NetworkSubject::User, admin_id, &ranges(&["10.0.0.0/8"])).await.unwrap();
    h.close().await;
}

tutela_core::on_both_stores! {
    a_role_applies_only_from_its_ranges_ => a_role_applies_only_from_its_ranges;
    a_user_or_token_outside_its_ranges_is_refused_ => a_user_or_token_outside_its_ranges_is_refused;
    bad_ranges_and_self_lockout_are_refused_ => bad_ranges_and_self_lockout_are_refused;
}
