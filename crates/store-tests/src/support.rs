//! Helpers shared by the checks: unique values, times at microsecond precision, writes.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use tutela_store::{CustomerRow, Mutation, RoleRow, SessionRow, Store, StoreError, StoreResult, UserRow, UserStatus};
use uuid::Uuid;

/// A value unique to this run, for names, emails and field ids.
pub fn tag() -> String {
    Uuid::new_v4().simple().to_string()
}

pub fn rand_u32() -> u32 {
    let b = Uuid::new_v4().into_bytes();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let b = Uuid::new_v4().into_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
    out
}

/// A key version no other run uses: high, random, with room for a few versions above it.
pub fn unique_kek_version() -> u32 {
    (1 << 30) + (rand_u32() >> 3)
}

/// Truncates to whole microseconds, the precision both backends store.
pub fn micros(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).expect("a valid nanosecond")
}

/// Now, in UTC, at whole microseconds.
pub fn now() -> OffsetDateTime {
    micros(OffsetDateTime::now_utc())
}

/// Applies the mutations in one transaction and commits; the first error drops it.
pub async fn write(store: &dyn Store, mutations: &[Mutation]) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    for m in mutations {
        tx.apply(m).await?;
    }
    tx.commit().await
}

/// Like [`write`], panicking on any error.
pub async fn must_write(store: &dyn Store, mutations: &[Mutation]) {
    if let Err(e) = write(store, mutations).await {
        panic!("writing {mutations:?} failed: {e}");
    }
}

#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// A custom role with the given permissions, a department scope and one field rule.
pub fn role(name: &str, permissions: &[&str]) -> RoleRow {
    RoleRow {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        description: format!("{name} 角色"),
        builtin: false,
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        data_scope: "department".to_owned(),
        field_rules: BTreeMap::from([("phone".to_owned(), "masked".to_owned())]),
    }
}

/// A customer with the given plaintext fields, one sealed field and a wrapped key.
pub fn customer(plain: &[(&str, &str)], kek_version: u32) -> CustomerRow {
    let at = now();
    let mut sealed = BTreeMap::new();
    sealed.insert("national_id".to_owned(), rand_bytes::<40>().to_vec());
    CustomerRow {
        id: Uuid::new_v4(),
        version: 1,
        kek_version,
        wrapped_dek: rand_bytes::<60>().to_vec(),
        owner_id: None,
        plain: plain.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        sealed,
        created_at: at,
        updated_at: at,
    }
}

/// An active user with a unique email starting with `prefix`.
pub fn user(prefix: &str, kek_version: u32) -> UserRow {
    let at = now();
    UserRow {
        id: Uuid::new_v4(),
        email: format!("{prefix}-{}@example.test", tag()),
        display_name: "Test User 測試".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        status: UserStatus::Active,
        kek_version,
        wrapped_dek: rand_bytes::<60>().to_vec(),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        locale: "en".to_owned(),
        created_at: at,
        updated_at: at,
    }
}

/// A fresh user, committed.
pub async fn new_user(store: &dyn Store, prefix: &str) -> UserRow {
    let u = user(prefix, 1);
    must_write(store, &[Mutation::InsertUser(u.clone())]).await;
    u
}

pub fn session(user_id: Uuid, mfa_done: bool) -> SessionRow {
    let at = now();
    SessionRow {
        id: Uuid::new_v4(),
        token_hash: rand_bytes(),
        user_id,
        created_at: at,
        last_seen_at: at,
        expires_at: at + time::Duration::hours(8),
        mfa_done,
        source: Some("127.0.0.1".to_owned()),
        user_agent: None,
        factor: mfa_done.then(|| "totp".to_owned()),
        authenticated_at: at,
    }
}
