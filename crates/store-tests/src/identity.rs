//! Users, roles, recovery codes, sessions, API tokens and passkeys.

use time::Duration;
use tutela_store::{ApiTokenRow, Mutation, PasskeyRow, RoleRow, SessionRow, Store, UserRow, UserStatus};
use uuid::Uuid;

use crate::support::{
    assert_conflict, assert_not_found, must_write, new_user, now, rand_bytes, role, session, tag, user, write,
};

pub async fn users(store: &dyn Store) {
    let count = store.user_count().await.unwrap();
    let run = tag();
    let b = user(&format!("b{run}"), 1);
    let a = user(&format!("a{run}"), 1);
    must_write(store, &[Mutation::InsertUser(b.clone()), Mutation::InsertUser(a.clone())]).await;
    assert_eq!(store.user_count().await.unwrap(), count + 2);
    assert_eq!(store.user_get(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.user_by_email(&b.email).await.unwrap(), Some(b.clone()));
    assert_eq!(store.user_get(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.user_by_email(&format!("nobody-{run}@example.test")).await.unwrap(), None);
    let listed = store.users_list().await.unwrap();
    assert!(listed.windows(2).all(|w| w[0].email < w[1].email), "users_list ordered by email");
    let ours: Vec<UserRow> = listed.into_iter().filter(|u| u.email.contains(&run)).collect();
    assert_eq!(ours, vec![a.clone(), b.clone()], "users by email");

    // Every column is updated.
    let a2 = UserRow {
        email: format!("c{run}@example.test"),
        display_name: "Renamed".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into(),
        status: UserStatus::Disabled,
        kek_version: 3,
        wrapped_dek: rand_bytes::<60>().to_vec(),
        totp_secret: Some(rand_bytes::<20>().to_vec()),
        totp_enabled: true,
        totp_last_step: Some(59_652_323_999),
        locale: "zh-TW".into(),
        updated_at: now() + Duration::minutes(1),
        ..a.clone()
    };
    must_write(store, &[Mutation::UpdateUser(a2.clone())]).await;
    assert_eq!(store.user_get(a.id).await.unwrap(), Some(a2.clone()), "after update");
    assert_eq!(store.user_by_email(&a.email).await.unwrap(), None, "old email released");
    assert_eq!(store.user_by_email(&a2.email).await.unwrap(), Some(a2.clone()));
    // And back to empty optional columns.
    let a3 = UserRow {
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        status: UserStatus::Active,
        ..a2.clone()
    };
    must_write(store, &[Mutation::UpdateUser(a3.clone())]).await;
    assert_eq!(store.user_get(a.id).await.unwrap(), Some(a3.clone()), "optional columns cleared");

    assert_not_found(write(store, &[Mutation::UpdateUser(user("ghost", 1))]).await, "update of a missing user");
    let taken = UserRow { email: b.email.clone(), ..user("dup", 1) };
    assert_conflict(write(store, &[Mutation::InsertUser(taken)]).await, "duplicate email on insert");
    let clash = UserRow { email: b.email.clone(), ..a3.clone() };
    assert_conflict(write(store, &[Mutation::UpdateUser(clash)]).await, "duplicate email on update");
    assert_conflict(
        write(store, &[Mutation::InsertUser(UserRow { email: format!("x{run}@example.test"), ..b.clone() })]).await,
        "duplicate id",
    );
    assert_eq!(store.user_get(a.id).await.unwrap(), Some(a3), "unchanged by a rejected update");
    assert_eq!(store.user_count().await.unwrap(), count + 2);
}

pub async fn totp_steps(store: &dyn Store) {
    let u = new_user(store, "totp").await;
    let advance = |step| Mutation::AdvanceTotpStep { user_id: u.id, step };
    let step = |u: Option<UserRow>| u.expect("the user").totp_last_step;
    must_write(store, &[advance(59_652_323)]).await;
    assert_eq!(step(store.user_get(u.id).await.unwrap()), Some(59_652_323), "first step recorded");
    assert_conflict(write(store, &[advance(59_652_323)]).await, "the same step again (a replayed code)");
    assert_conflict(write(store, &[advance(59_652_322)]).await, "an older step");
    must_write(store, &[advance(59_652_324)]).await;
    assert_eq!(step(store.user_get(u.id).await.unwrap()), Some(59_652_324), "newer step recorded");
    assert_conflict(
        write(store, &[Mutation::AdvanceTotpStep { user_id: Uuid::new_v4(), step: 1 }]).await,
        "a step for a missing user",
    );
    let other = step(store.user_get(u.id).await.unwrap());
    assert_eq!(other, Some(59_652_324), "unchanged by rejected steps");
}

pub async fn roles(store: &dyn Store) {
    let run = tag();
    let r1 = role(&format!("{run}-b-reader"), &["customers.read", "audit.read"]);
    let r2 = RoleRow { builtin: true, ..role(&format!("{run}-a-admin"), &[]) };
    must_write(store, &[Mutation::PutRole(r1.clone()), Mutation::PutRole(r2.clone())]).await;
    let ours = |roles: Vec<RoleRow>| roles.into_iter().filter(|r| r.name.starts_with(&run)).collect::<Vec<_>>();
    let all = store.roles_list().await.unwrap();
    assert!(all.windows(2).all(|w| w[0].name < w[1].name), "roles_list ordered by name");
    assert_eq!(ours(all), vec![r2.clone(), r1.clone()], "roles by name");

    // Put is an upsert by id; names stay unique.
    let r1b = RoleRow {
        name: format!("{run}-c-reader"),
        description: "changed".into(),
        permissions: vec!["customers.reveal".into()],
        ..r1.clone()
    };
    must_write(store, &[Mutation::PutRole(r1b.clone())]).await;
    assert_eq!(ours(store.roles_list().await.unwrap()), vec![r2.clone(), r1b.clone()], "after upsert");
    assert_conflict(write(store, &[Mutation::PutRole(role(&r2.name, &[]))]).await, "duplicate role name");

    // Assignments: set replaces, unknown roles are rejected.
    let u = new_user(store, "roles").await;
    let other = new_user(store, "roles-other").await;
    assert_eq!(store.user_roles(u.id).await.unwrap(), Vec::new());
    must_write(store, &[Mutation::SetUserRoles { user_id: u.id, role_ids: vec![r1.id, r2.id] }]).await;
    must_write(store, &[Mutation::SetUserRoles { user_id: other.id, role_ids: vec![r1.id] }]).await;
    assert_eq!(store.user_roles(u.id).await.unwrap(), vec![r2.clone(), r1b.clone()], "user roles by name");
    must_write(store, &[Mutation::SetUserRoles { user_id: u.id, role_ids: vec![r1.id] }]).await;
    assert_eq!(store.user_roles(u.id).await.unwrap(), vec![r1b.clone()], "set replaces");
    assert_conflict(
        write(store, &[Mutation::SetUserRoles { user_id: u.id, role_ids: vec![r2.id, Uuid::new_v4()] }]).await,
        "assigning an unknown role",
    );
    assert_eq!(store.user_roles(u.id).await.unwrap(), vec![r1b.clone()], "unchanged by a rejected assignment");
    must_write(store, &[Mutation::SetUserRoles { user_id: u.id, role_ids: Vec::new() }]).await;
    assert_eq!(store.user_roles(u.id).await.unwrap(), Vec::new(), "set to none");
    assert_eq!(store.user_roles(other.id).await.unwrap(), vec![r1b.clone()], "other users untouched");

    // Deleting a role removes its assignments.
    must_write(store, &[Mutation::DeleteRole { id: r1.id }]).await;
    assert_eq!(store.user_roles(other.id).await.unwrap(), Vec::new(), "assignment gone with the role");
    assert_eq!(ours(store.roles_list().await.unwrap()), vec![r2.clone()]);
    assert_not_found(write(store, &[Mutation::DeleteRole { id: r1.id }]).await, "deleting a deleted role");
}

pub async fn recovery_codes(store: &dyn Store) {
    let u = new_user(store, "recovery").await;
    let other = new_user(store, "recovery-other").await;
    let [h1, h2, h3, h4]: [[u8; 32]; 4] = [rand_bytes(), rand_bytes(), rand_bytes(), rand_bytes()];
    let use_code = |user_id, hash| Mutation::UseRecoveryCode { user_id, hash, at: now() };
    must_write(store, &[Mutation::InsertRecoveryCodes { user_id: u.id, hashes: vec![h1, h2] }]).await;
    must_write(store, &[Mutation::InsertRecoveryCodes { user_id: other.id, hashes: vec![h3] }]).await;

    must_write(store, &[use_code(u.id, h1)]).await;
    assert_not_found(write(store, &[use_code(u.id, h1)]).await, "a code used twice");
    assert_not_found(write(store, &[use_code(u.id, h3)]).await, "another user's code");
    assert_not_found(write(store, &[use_code(u.id, h4)]).await, "an unknown code");

    // A new set replaces the old one, used or not.
    must_write(store, &[Mutation::InsertRecoveryCodes { user_id: u.id, hashes: vec![h4] }]).await;
    assert_not_found(write(store, &[use_code(u.id, h2)]).await, "a code of the replaced set");
    must_write(store, &[use_code(u.id, h4)]).await;
    must_write(store, &[use_code(other.id, h3)]).await;
    assert_not_found(write(store, &[use_code(other.id, h3)]).await, "the other user's code used twice");
}

pub async fn sessions(store: &dyn Store) {
    let u = new_user(store, "sessions").await;
    let other = new_user(store, "sessions-other").await;
    let s1 = session(u.id, false);
    let s3 = SessionRow { source: None, user_agent: Some("Mozilla/5.0 (X11) 測試".into()), ..session(u.id, true) };
    let s4 = session(other.id, true);
    must_write(
        store,
        &[
            Mutation::InsertSession(s1.clone()),
            Mutation::InsertSession(s3.clone()),
            Mutation::InsertSession(s4.clone()),
        ],
    )
    .await;
    assert_eq!(store.session_get(&s1.token_hash).await.unwrap(), Some(s1.clone()));
    assert_eq!(store.session_get(&s3.token_hash).await.unwrap(), Some(s3.clone()));
    assert_eq!(store.session_get(&rand_bytes()).await.unwrap(), None);
    assert_conflict(
        write(store, &[Mutation::InsertSession(session(Uuid::new_v4(), false))]).await,
        "session of a missing user",
    );
    assert_conflict(
        write(store, &[Mutation::InsertSession(SessionRow { mfa_done: true, ..s1.clone() })]).await,
        "duplicate token",
    );

    let seen = now() + Duration::minutes(5);
    store.session_touch(&s1.token_hash, seen).await.unwrap();
    assert_eq!(
        store.session_get(&s1.token_hash).await.unwrap(),
        Some(SessionRow { last_seen_at: seen, ..s1.clone() }),
        "touched"
    );
    store.session_touch(&rand_bytes(), seen).await.expect("touching a missing session is not an error");

    // Promotion replaces the token.
    let s2 = SessionRow { token_hash: rand_bytes(), mfa_done: true, factor: Some("passkey".into()), ..s1.clone() };
    must_write(store, &[Mutation::PromoteSession { old_hash: s1.token_hash, new: s2.clone() }]).await;
    assert_eq!(store.session_get(&s1.token_hash).await.unwrap(), None, "old token gone");
    assert_eq!(store.session_get(&s2.token_hash).await.unwrap(), Some(s2.clone()), "new token");

    // Re-authentication records the new proof and its factor, and nothing else.
    let proved = seen + Duration::minutes(1);
    let reauth = |token_hash| Mutation::ReauthenticateSession { token_hash, at: proved, factor: "totp".into() };
    must_write(store, &[reauth(s2.token_hash)]).await;
    let s2 = SessionRow { authenticated_at: proved, factor: Some("totp".into()), ..s2 };
    assert_eq!(store.session_get(&s2.token_hash).await.unwrap(), Some(s2.clone()), "re-authenticated");
    assert_not_found(write(store, &[reauth(rand_bytes())]).await, "re-authenticating a missing session");

    must_write(store, &[Mutation::DeleteSession { token_hash: s2.token_hash }]).await;
    assert_eq!(store.session_get(&s2.token_hash).await.unwrap(), None, "deleted");
    must_write(store, &[Mutation::DeleteSession { token_hash: s2.token_hash }]).await;

    let s5 = SessionRow { created_at: s3.created_at + Duration::seconds(1), ..session(u.id, true) };
    must_write(store, &[Mutation::InsertSession(s5.clone())]).await;
    assert_eq!(store.session_by_id(s5.id).await.unwrap(), Some(s5.clone()), "by public id");
    assert_eq!(store.session_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.sessions_for_user(u.id).await.unwrap(), vec![s5.clone(), s3.clone()], "newest first");
    assert_eq!(store.sessions_for_user(Uuid::new_v4()).await.unwrap(), Vec::new());
    assert_conflict(
        write(store, &[Mutation::InsertSession(SessionRow { token_hash: rand_bytes(), ..s5.clone() })]).await,
        "duplicate public id",
    );

    // "End all my others": everything of the user's but the one kept.
    must_write(store, &[Mutation::DeleteUserSessions { user_id: u.id, keep: Some(s5.id) }]).await;
    assert_eq!(store.sessions_for_user(u.id).await.unwrap(), vec![s5.clone()], "only the kept one left");
    must_write(store, &[Mutation::DeleteUserSessions { user_id: u.id, keep: None }]).await;
    assert_eq!(store.session_get(&s3.token_hash).await.unwrap(), None, "all of the user's sessions gone");
    assert_eq!(store.session_get(&s5.token_hash).await.unwrap(), None, "all of the user's sessions gone");
    assert_eq!(store.session_get(&s4.token_hash).await.unwrap(), Some(s4.clone()), "other users' sessions kept");
    assert_eq!(store.sessions_for_user(other.id).await.unwrap(), vec![s4], "other users' sessions kept");
}

pub async fn api_tokens(store: &dyn Store) {
    let u = new_user(store, "tokens").await;
    let other = new_user(store, "tokens-other").await;
    let token = |user_id, name: &str, created_at, expires_at| ApiTokenRow {
        id: Uuid::new_v4(),
        user_id,
        name: name.to_owned(),
        token_hash: rand_bytes(),
        scopes: vec!["customers:read".into(), "customers:write".into()],
        created_at,
        expires_at,
        last_used_at: None,
        revoked_at: None,
        factor: Some("passkey".into()),
    };
    let t0 = now();
    let t1 = token(u.id, "import job", t0 - Duration::hours(1), None);
    let t2 = ApiTokenRow {
        scopes: Vec::new(),
        factor: None,
        ..token(u.id, "report 報表", t0, Some(t0 + Duration::days(90)))
    };
    let t3 = token(other.id, "other", t0, None);
    must_write(
        store,
        &[
            Mutation::InsertApiToken(t2.clone()),
            Mutation::InsertApiToken(t1.clone()),
            Mutation::InsertApiToken(t3.clone()),
        ],
    )
    .await;
    assert_eq!(store.api_token_by_hash(&t1.token_hash).await.unwrap(), Some(t1.clone()));
    assert_eq!(store.api_token_by_hash(&rand_bytes()).await.unwrap(), None);
    assert_eq!(store.api_token_by_id(t2.id).await.unwrap(), Some(t2.clone()));
    assert_eq!(store.api_token_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.api_tokens_for_user(u.id).await.unwrap(), vec![t1.clone(), t2.clone()], "by creation");
    assert_eq!(store.api_tokens_for_user(Uuid::new_v4()).await.unwrap(), Vec::new());

    let dup_hash = ApiTokenRow { token_hash: t1.token_hash, ..token(u.id, "dup", t0, None) };
    assert_conflict(write(store, &[Mutation::InsertApiToken(dup_hash)]).await, "duplicate token hash");
    assert_conflict(
        write(store, &[Mutation::InsertApiToken(token(Uuid::new_v4(), "orphan", t0, None))]).await,
        "token of a missing user",
    );

    let at = now() + Duration::seconds(3);
    must_write(store, &[Mutation::RevokeApiToken { id: t1.id, at }]).await;
    assert_eq!(
        store.api_token_by_hash(&t1.token_hash).await.unwrap(),
        Some(ApiTokenRow { revoked_at: Some(at), ..t1.clone() })
    );
    let later = at + Duration::seconds(1);
    assert_not_found(write(store, &[Mutation::RevokeApiToken { id: t1.id, at: later }]).await, "revoking twice");
    assert_eq!(
        store.api_token_by_hash(&t1.token_hash).await.unwrap().unwrap().revoked_at,
        Some(at),
        "first revocation kept"
    );
    assert_not_found(
        write(store, &[Mutation::RevokeApiToken { id: Uuid::new_v4(), at }]).await,
        "revoking a missing token",
    );
    assert_eq!(store.api_tokens_for_user(other.id).await.unwrap(), vec![t3.clone()], "other users' tokens untouched");

    // All of a user's tokens at once: a revoked one keeps its time, the others get this one.
    let all_at = later + Duration::seconds(1);
    must_write(store, &[Mutation::RevokeUserApiTokens { user_id: u.id, at: all_at }]).await;
    let revoked: Vec<_> = store.api_tokens_for_user(u.id).await.unwrap().iter().map(|t| t.revoked_at).collect();
    assert_eq!(revoked, vec![Some(at), Some(all_at)], "each token revoked once");
    must_write(store, &[Mutation::RevokeUserApiTokens { user_id: u.id, at: all_at + Duration::seconds(1) }]).await;
    let again: Vec<_> = store.api_tokens_for_user(u.id).await.unwrap().iter().map(|t| t.revoked_at).collect();
    assert_eq!(again, revoked, "revoking all again changes nothing and is no error");
    assert_eq!(store.api_tokens_for_user(other.id).await.unwrap(), vec![t3], "other users' tokens untouched");
}

pub async fn passkeys(store: &dyn Store) {
    let u = new_user(store, "passkeys").await;
    let other = new_user(store, "passkeys-other").await;
    let passkey = |user_id, name: &str, created_at| PasskeyRow {
        id: Uuid::new_v4(),
        user_id,
        credential_id: rand_bytes::<32>().to_vec(),
        name: name.to_owned(),
        passkey: format!(r#"{{"cred":{{"counter":0}},"name":"{name}"}}"#),
        sign_count: 0,
        created_at,
        last_used_at: None,
        suspended_at: None,
    };
    let t0 = now();
    let p1 = passkey(u.id, "YubiKey 5", t0 - Duration::hours(1));
    let p2 = PasskeyRow { sign_count: 7, ..passkey(u.id, "工作电脑", t0) };
    let p3 = passkey(other.id, "other", t0);
    must_write(
        store,
        &[
            Mutation::InsertPasskey(p2.clone()),
            Mutation::InsertPasskey(p1.clone()),
            Mutation::InsertPasskey(p3.clone()),
        ],
    )
    .await;
    assert_eq!(store.passkey_get(p1.id).await.unwrap(), Some(p1.clone()));
    assert_eq!(store.passkey_get(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.passkey_by_credential(&p2.credential_id).await.unwrap(), Some(p2.clone()));
    assert_eq!(store.passkey_by_credential(&rand_bytes::<32>()).await.unwrap(), None);
    assert_eq!(store.passkeys_for_user(u.id).await.unwrap(), vec![p1.clone(), p2.clone()], "oldest first");
    assert_eq!(store.passkeys_for_user(Uuid::new_v4()).await.unwrap(), Vec::new());

    let dup = PasskeyRow { credential_id: p1.credential_id.clone(), ..passkey(other.id, "dup", t0) };
    assert_conflict(write(store, &[Mutation::InsertPasskey(dup)]).await, "a credential id registered twice");
    assert_conflict(
        write(store, &[Mutation::InsertPasskey(passkey(Uuid::new_v4(), "orphan", t0))]).await,
        "passkey of a missing user",
    );

    // A use is a compare-and-swap on the counter.
    let at = now() + Duration::seconds(5);
    let used = |expected_sign_count, sign_count, at| Mutation::UsePasskey {
        id: p2.id,
        expected_sign_count,
        sign_count,
        passkey: format!(r#"{{"cred":{{"counter":{sign_count}}}}}"#),
        at,
    };
    must_write(store, &[used(7, 8, at)]).await;
    let p2_used = PasskeyRow {
        sign_count: 8,
        passkey: r#"{"cred":{"counter":8}}"#.to_owned(),
        last_used_at: Some(at),
        ..p2.clone()
    };
    assert_eq!(store.passkey_get(p2.id).await.unwrap(), Some(p2_used.clone()), "counter, credential and time");
    assert_conflict(write(store, &[used(7, 9, at)]).await, "a use checked against the old counter");
    assert_eq!(store.passkey_get(p2.id).await.unwrap(), Some(p2_used.clone()), "unchanged by a stale use");
    assert_conflict(
        write(
            store,
            &[Mutation::UsePasskey {
                id: Uuid::new_v4(),
                expected_sign_count: 0,
                sign_count: 1,
                passkey: "{}".into(),
                at,
            }],
        )
        .await,
        "a use of a missing passkey",
    );
    // Authenticators without a counter stay at 0 and are used again and again.
    let p1_use =
        |at| Mutation::UsePasskey { id: p1.id, expected_sign_count: 0, sign_count: 0, passkey: p1.passkey.clone(), at };
    must_write(store, &[p1_use(at)]).await;
    must_write(store, &[p1_use(at + Duration::seconds(1))]).await;
    assert_eq!(store.passkey_get(p1.id).await.unwrap().unwrap().last_used_at, Some(at + Duration::seconds(1)));

    // Suspended: refused from then on, and suspended once.
    let suspended_at = at + Duration::seconds(2);
    must_write(store, &[Mutation::SuspendPasskey { id: p2.id, at: suspended_at }]).await;
    assert_eq!(
        store.passkey_get(p2.id).await.unwrap(),
        Some(PasskeyRow { suspended_at: Some(suspended_at), ..p2_used.clone() })
    );
    assert_conflict(write(store, &[used(8, 9, suspended_at)]).await, "a use of a suspended passkey");
    assert_not_found(
        write(store, &[Mutation::SuspendPasskey { id: p2.id, at: suspended_at }]).await,
        "suspending twice",
    );
    assert_not_found(
        write(store, &[Mutation::SuspendPasskey { id: Uuid::new_v4(), at }]).await,
        "suspending a missing passkey",
    );

    // Deleting takes the owner: another user's passkey is not found.
    assert_not_found(
        write(store, &[Mutation::DeletePasskey { id: p3.id, user_id: u.id }]).await,
        "deleting another user's passkey",
    );
    assert_eq!(store.passkey_get(p3.id).await.unwrap(), Some(p3.clone()), "another user's passkey kept");
    must_write(store, &[Mutation::DeletePasskey { id: p2.id, user_id: u.id }]).await;
    assert_eq!(store.passkey_get(p2.id).await.unwrap(), None, "deleted");
    assert_eq!(store.passkey_by_credential(&p2.credential_id).await.unwrap(), None, "its credential id released");
    assert_not_found(write(store, &[Mutation::DeletePasskey { id: p2.id, user_id: u.id }]).await, "deleting twice");
    assert_eq!(store.passkeys_for_user(u.id).await.unwrap().len(), 1);
    assert_eq!(store.passkeys_for_user(other.id).await.unwrap(), vec![p3]);
}
