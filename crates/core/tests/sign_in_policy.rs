//! Sign-in policies per role, on both stores: a role that asks for a passkey joins only
//! sessions (and tokens) that proved one, a passkey re-authentication steps a session up;
//! the strictest role's session length and idle limit end sessions; reveals and exports wait
//! for a recent proof of identity, which a code or a passkey renews, wrong codes counting
//! towards the lockout; and the policy itself is checked, audited and seen by every node.

use secrecy::SecretString;
use serde_json::Value;
use time::Duration;
use tutela_core::CoreError;
use tutela_core::identity::{
    FactorRequirement, NewUser, PublicKeyCredential, RegisterPublicKeyCredential, RoleSignInPolicy,
};
use tutela_core::on_both_stores;
use tutela_core::policy::{Permission, Principal};
use tutela_core::testing::authenticator::SoftAuthenticator;
use tutela_core::testing::{Backend, Harness, SignInAs, principal, steward, values};
use tutela_core::vault::ExportFormat;
use tutela_store::{AuditFilter, AuditRecord};
use uuid::Uuid;

const PASSWORD: &str = "violet harbour nine lanterns";
const ORIGIN: &str = "https://localhost:8443";
const HOME: &str = "192.0.2.10";

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage])
}

async fn user(h: &Harness, email: &str, roles: &[&str]) -> SignInAs {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: SecretString::from(PASSWORD.to_owned()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    h.tutela.create_user(&admin(), new).await.unwrap();
    SignInAs::new(email, PASSWORD)
}

async fn role_id(h: &Harness, name: &str) -> Uuid {
    h.tutela.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == name).unwrap().id
}

async fn set_policy(h: &Harness, role: &str, policy: RoleSignInPolicy) {
    let id = role_id(h, role).await;
    h.tutela.set_sign_in_policy(&admin(), id, policy).await.unwrap();
}

async fn principal_of(h: &Harness, token: &str) -> Result<Principal, CoreError> {
    h.tutela.session_principal(token, Some(HOME.into())).await
}

async fn events(h: &Harness, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..AuditFilter::default() };
    h.tutela.store().audit_search(&filter).await.unwrap()
}

fn detail(r: &AuditRecord) -> Value {
    serde_json::from_str(r.detail.as_deref().unwrap_or("null")).unwrap()
}

fn options<T: serde::Serialize>(options: &T) -> Value {
    serde_json::to_value(options).unwrap()
}

/// Registers a passkey on `device` for the signed-in `p`.
async fn register(h: &Harness, p: &Principal, device: &mut SoftAuthenticator) {
    let challenge = h.tutela.begin_passkey_registration(p).await.unwrap();
    let answer: RegisterPublicKeyCredential =
        serde_json::from_value(device.register(&options(&challenge.options))).unwrap();
    h.tutela.finish_passkey_registration(p, &challenge.ceremony, "laptop", &answer).await.unwrap();
}

async fn passkey_reauth(h: &Harness, token: &str, device: &mut SoftAuthenticator) -> Result<(), CoreError> {
    let challenge = h.tutela.begin_passkey_reauthentication(token).await?;
    let answer: PublicKeyCredential = serde_json::from_value(device.assert(&options(&challenge.options))).unwrap();
    h.tutela.finish_passkey_reauthentication(token, &challenge.ceremony, &answer).await
}

fn passkey_only() -> RoleSignInPolicy {
    RoleSignInPolicy { factor: FactorRequirement::Passkey, ..RoleSignInPolicy::default() }
}

async fn a_passkey_role_joins_only_sessions_that_proved_a_passkey(backend: Backend) {
    let h = Harness::new(backend).await;
    set_policy(&h, "data-steward", passkey_only()).await;
    let mut ann = user(&h, "ann@example.com", &["sales", "data-steward"]).await;
    let token = ann.sign_in(&h, Some(HOME), None).await;
    let p = principal_of(&h, &token).await.unwrap();
    assert!(p.has(Permission::CustomerWrite), "sales applies to a code sign-in");
    assert!(!p.has(Permission::CustomerExport), "data-steward waits for a passkey");
    assert!(!p.has(Permission::RevealRestricted));

    // A token made in this session is worth this session: the steward's scopes are not its to give.
    let refused = h.tutela.create_api_token(&p, "nightly", &["customer.export".into()], None).await;
    assert!(matches!(refused, Err(CoreError::Forbidden(_))), "{refused:?}");
    let weak = h.tutela.create_api_token(&p, "reader", &["customer.read".into()], None).await.unwrap();

    // A passkey re-authentication steps the session up: the role joins at the next request.
    let mut device = SoftAuthenticator::new(ORIGIN);
    register(&h, &p, &mut device).await;
    passkey_reauth(&h, &token, &mut device).await.unwrap();
    let stepped_up = principal_of(&h, &token).await.unwrap();
    assert!(stepped_up.has(Permission::CustomerExport) && stepped_up.has(Permission::RevealRestricted));
    let reauth = events(&h, "auth.reauth").await;
    assert_eq!(reauth.len(), 1);
    assert_eq!(detail(&reauth[0])["factor"], "passkey");

    // A token made in the passkey session carries the role; the earlier one still does not.
    let strong = h.tutela.create_api_token(&stepped_up, "nightly", &["customer.export".into()], None).await.unwrap();
    let via_strong = h.tutela.token_principal(secrecy::ExposeSecret::expose_secret(&strong.token), None).await.unwrap();
    assert!(via_strong.has(Permission::CustomerExport));
    let via_weak = h.tutela.token_principal(secrecy::ExposeSecret::expose_secret(&weak.token), None).await.unwrap();
    assert!(
        via_weak.has(Permission::CustomerRead)
            && !via_weak.reach.grants().iter().any(|g| g.role_name == "data-steward")
    );

    // Lifting the requirement reaches the code session at its next request (another node too).
    let mut bob = user(&h, "bob@example.com", &["data-steward"]).await;
    let bobs = bob.sign_in(&h, Some(HOME), None).await;
    assert!(!principal_of(&h, &bobs).await.unwrap().has(Permission::CustomerExport));
    set_policy(&h, "data-steward", RoleSignInPolicy::default()).await;
    let node_b = h.second_node().await;
    assert!(node_b.session_principal(&bobs, None).await.unwrap().has(Permission::CustomerExport));
    h.close().await;
}

async fn the_strictest_role_ends_sessions_early(backend: Backend) {
    let h = Harness::new(backend).await;
    set_policy(&h, "support", RoleSignInPolicy { session_hours: Some(1), ..RoleSignInPolicy::default() }).await;
    set_policy(
        &h,
        "sales",
        RoleSignInPolicy { idle_minutes: Some(10), session_hours: Some(8), ..RoleSignInPolicy::default() },
    )
    .await;
    let mut ann = user(&h, "ann@example.com", &["sales", "support"]).await;
    let mut cy = user(&h, "cy@example.com", &["auditor"]).await;

    // Idle: the sales role's 10 minutes, not the server's 30.
    let idle = ann.sign_in(&h, Some(HOME), None).await;
    let fresh = h.tutela.my_sessions(&principal_of(&h, &idle).await.unwrap(), None).await.unwrap();
    assert_eq!(
        fresh[0].expires_at,
        fresh[0].last_seen_at + Duration::minutes(10),
        "the list shows the role's idle limit"
    );
    h.clock.advance(Duration::minutes(11));
    assert!(matches!(principal_of(&h, &idle).await, Err(CoreError::Unauthenticated(_))));
    assert!(matches!(principal_of(&h, &idle).await, Err(CoreError::Unauthenticated(_))), "the session is gone");

    // Length: the support role's hour, not sales' eight nor the server's twelve, however busy.
    let busy = ann.sign_in(&h, Some(HOME), None).await;
    let auditor = cy.sign_in(&h, Some(HOME), None).await;
    for _ in 0..6 {
        h.clock.advance(Duration::minutes(9));
        principal_of(&h, &busy).await.unwrap();
        principal_of(&h, &auditor).await.unwrap();
    }
    // The session list shows the end the policies set: here the hour, sooner than idleness.
    let listed = h.tutela.my_sessions(&principal_of(&h, &busy).await.unwrap(), None).await.unwrap();
    assert_eq!(listed.len(), 1, "the idle session is gone: {listed:?}");
    assert_eq!(listed[0].expires_at, listed[0].created_at + Duration::hours(1));
    h.clock.advance(Duration::minutes(6));
    assert!(matches!(principal_of(&h, &busy).await, Err(CoreError::Unauthenticated(_))), "past one hour");
    principal_of(&h, &auditor).await.expect("a role without a policy keeps the server's limits");
    h.close().await;
}

async fn reveals_and_exports_wait_for_a_recent_proof(backend: Backend) {
    let h = Harness::new(backend).await;
    set_policy(&h, "data-steward", RoleSignInPolicy { reauth_minutes: Some(15), ..RoleSignInPolicy::default() }).await;
    let id =
        h.tutela.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap().id;
    let mut ann = user(&h, "ann@example.com", &["data-steward"]).await;
    let token = ann.sign_in(&h, Some(HOME), None).await;
    let phone = ["phone".to_owned()];

    let p = principal_of(&h, &token).await.unwrap();
    h.tutela.reveal(&p, id, &phone, "call back about the order").await.expect("just signed in");

    // Twenty minutes on (in use, so not idle), the proof is too old.
    for _ in 0..2 {
        h.clock.advance(Duration::minutes(10));
        principal_of(&h, &token).await.unwrap();
    }
    let p = principal_of(&h, &token).await.unwrap();
    let refused = h.tutela.reveal(&p, id, &phone, "call back about the order").await;
    assert!(matches!(refused, Err(CoreError::ReauthRequired)), "{refused:?}");
    let export = h.tutela.begin_export(&p, ExportFormat::Csv, None).await;
    assert!(matches!(export, Err(CoreError::ReauthRequired)), "{:?}", export.err());
    let denied: Vec<_> = events(&h, "customer.reveal").await.into_iter().filter(|e| e.outcome == "denied").collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(detail(&denied[0])["reauthentication_required"], true);

    // A wrong code is refused and audited; the right one opens the window again.
    let wrong = h.tutela.reauthenticate_with_code(&token, "000000").await;
    assert!(matches!(&wrong, Err(CoreError::Invalid { field, .. }) if field == "code"), "{wrong:?}");
    h.tutela.reauthenticate_with_code(&token, &ann.fresh_code(&h)).await.unwrap();
    let p = principal_of(&h, &token).await.unwrap();
    h.tutela.reveal(&p, id, &phone, "call back about the order").await.expect("confirmed");
    assert!(h.tutela.begin_export(&p, ExportFormat::Csv, None).await.is_ok());
    let outcomes: Vec<String> = events(&h, "auth.reauth").await.into_iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["ok", "failed"], "newest first");

    // A code is accepted once.
    let code = ann.fresh_code(&h);
    h.tutela.reauthenticate_with_code(&token, &code).await.unwrap();
    assert!(h.tutela.reauthenticate_with_code(&token, &code).await.is_err(), "the same code again");

    // Reauthentication is for signed-in sessions only.
    let pending = h
        .tutela
        .login("ann@example.com", SecretString::from(PASSWORD.to_owned()), Some(HOME.into()), None)
        .await
        .unwrap();
    let pending = secrecy::ExposeSecret::expose_secret(&pending.pending_token).to_owned();
    assert!(matches!(
        h.tutela.reauthenticate_with_code(&pending, &ann.fresh_code(&h)).await,
        Err(CoreError::SecondFactorRequired)
    ));
    h.close().await;
}

async fn guessing_codes_in_a_stolen_session_locks_the_account(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut ann = user(&h, "ann@example.com", &["sales"]).await;
    let token = ann.sign_in(&h, Some(HOME), None).await;
    for guess in 0..5 {
        let r = h.tutela.reauthenticate_with_code(&token, &format!("{guess:06}")).await;
        assert!(matches!(r, Err(CoreError::Invalid { .. })), "{r:?}");
    }
    assert_eq!(events(&h, "auth.lockout").await.len(), 1, "five failures in ten minutes lock");
    let locked = h.tutela.reauthenticate_with_code(&token, &ann.fresh_code(&h)).await;
    assert!(matches!(&locked, Err(CoreError::Invalid { message, .. }) if message.contains("too many")), "{locked:?}");
    let refused =
        h.tutela.login("ann@example.com", SecretString::from(PASSWORD.to_owned()), Some(HOME.into()), None).await;
    assert!(refused.is_err(), "the password sign-in is paused as well");

    // A session signed in with a passkey confirms with a passkey, never with a code.
    let mut bob = user(&h, "bob@example.com", &["sales"]).await;
    let bobs = bob.sign_in(&h, Some(HOME), None).await;
    let mut device = SoftAuthenticator::new(ORIGIN);
    register(&h, &principal_of(&h, &bobs).await.unwrap(), &mut device).await;
    passkey_reauth(&h, &bobs, &mut device).await.unwrap();
    let downgrade = h.tutela.reauthenticate_with_code(&bobs, &bob.fresh_code(&h)).await;
    assert!(
        matches!(&downgrade, Err(CoreError::Invalid { message, .. }) if message.contains("passkey")),
        "{downgrade:?}"
    );
    h.close().await;
}

async fn the_policy_is_checked_and_audited(backend: Backend) {
    let h = Harness::new(backend).await;
    let sales = role_id(&h, "sales").await;
    for (policy, field) in [
        (RoleSignInPolicy { session_hours: Some(25), ..RoleSignInPolicy::default() }, "session_hours"),
        (RoleSignInPolicy { idle_minutes: Some(1), ..RoleSignInPolicy::default() }, "idle_minutes"),
        (RoleSignInPolicy { reauth_minutes: Some(0), ..RoleSignInPolicy::default() }, "reauth_minutes"),
    ] {
        let e = h.tutela.set_sign_in_policy(&admin(), sales, policy).await.unwrap_err();
        assert!(matches!(&e, CoreError::Invalid { field: f, .. } if f == field), "{e}");
    }
    let unknown = h.tutela.set_sign_in_policy(&admin(), Uuid::new_v4(), passkey_only()).await;
    assert!(matches!(unknown, Err(CoreError::NotFound("role"))));
    let clerk = principal("clerk@example.com", &[Permission::CustomerRead]);
    let forbidden = h.tutela.set_sign_in_policy(&clerk, sales, passkey_only()).await;
    assert!(matches!(forbidden, Err(CoreError::Forbidden(_))));
    assert!(events(&h, "access.sign_in_policy.set").await.iter().all(|e| e.outcome == "denied"));

    let strict =
        RoleSignInPolicy { factor: FactorRequirement::Passkey, reauth_minutes: Some(5), ..RoleSignInPolicy::default() };
    h.tutela.set_sign_in_policy(&admin(), sales, strict).await.unwrap();
    let listed = h.tutela.sign_in_policies(&principal("auditor@example.com", &[Permission::AuditRead])).await.unwrap();
    assert_eq!(listed.iter().find(|v| v.role == "sales").unwrap().policy, strict);
    assert_eq!(listed.iter().find(|v| v.role == "support").unwrap().policy, RoleSignInPolicy::default());
    let set: Vec<_> = events(&h, "access.sign_in_policy.set").await.into_iter().filter(|e| e.outcome == "ok").collect();
    assert_eq!(set.len(), 1);
    assert_eq!(detail(&set[0])["after"]["factor"], "passkey");
    assert_eq!(detail(&set[0])["before"]["factor"], "any");
    assert!(h.tutela.sign_in_policies(&clerk).await.is_err());
    h.close().await;
}

on_both_stores! {
    passkey_role => a_passkey_role_joins_only_sessions_that_proved_a_passkey;
    session_limits => the_strictest_role_ends_sessions_early;
    reauth_before_reveal_and_export => reveals_and_exports_wait_for_a_recent_proof;
    reauth_guessing => guessing_codes_in_a_stolen_session_locks_the_account;
    policy_checked => the_policy_is_checked_and_audited;
}
