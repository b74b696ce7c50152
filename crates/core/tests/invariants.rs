//! The security invariants of docs/THREAT-MODEL.md, proved on both stores:
//! no plaintext of a sealed field at rest; a ciphertext bound to its record, field and key
//! version; erasure recorded; the keys re-wrapped by rotation without losing a record.

use tutela_core::CoreError;
use tutela_core::testing::{Backend, Db, Harness, steward, values};
use tutela_store::{Mutation, Store};

/// Distinctive values planted in sealed fields; none may appear in plaintext at rest.
const CANARY_BANK: &str = "CANARY7731BANKZQ9042";
const CANARY_NOTE: &str = "canary-note-5f1e9c-机密备注";
const CANARY_EMAIL: &str = "canary.5f1e9c@example.org";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every byte Tutela put at rest: files under the data directory (database, WAL, journal,
/// keys) for SQLite; for PostgreSQL every row of every table as text.
async fn bytes_at_rest(h: &Harness) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in walk(h.dir.path()) {
        all.extend(std::fs::read(&entry).unwrap_or_default());
    }
    if let Db::Postgres(url) = &h.db {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t")).fetch_all(&pool).await.unwrap();
            for row in rows {
                all.extend(row.into_bytes());
            }
        }
        pool.close().await;
    }
    all
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

fn assert_no_canary(bytes: &[u8], when: &str) {
    assert!(!bytes.is_empty(), "nothing was read at rest ({when})");
    for canary in [CANARY_BANK, CANARY_NOTE, CANARY_EMAIL] {
        assert!(!contains(bytes, canary), "{canary} found in plaintext at rest after {when}");
        // PostgreSQL renders bytea as hex: plaintext inside a blob would show so.
        assert!(!contains(bytes, &hex::encode(canary)), "{canary} found hex-encoded at rest after {when}");
    }
}

async fn no_plaintext_at_rest(backend: Backend) {
    let mut h = Harness::new(backend).await;
    let p = steward();
    let c = h
        .tutela
        .create_customer(
            &p,
            values(&[
                ("name", "Canary"),
                ("bank_account", CANARY_BANK),
                ("notes", CANARY_NOTE),
                ("email", CANARY_EMAIL),
            ]),
        )
        .await
        .unwrap();
    // The canary is really stored: it reveals.
    let revealed = h.tutela.reveal(&p, c.id, &["bank_account".into()], "prove the canary is stored").await.unwrap();
    assert_eq!(revealed["bank_account"], CANARY_BANK);
    assert_no_canary(&bytes_at_rest(&h).await, "create and reveal");

    let mut changes = std::collections::BTreeMap::new();
    changes.insert("notes".to_owned(), Some(format!("{CANARY_NOTE} v2")));
    h.tutela.update_customer(&p, c.id, 1, changes).await.unwrap();
    h.tutela.lookup_customers(&p, "email", CANARY_EMAIL).await.unwrap();
    assert_no_canary(&bytes_at_rest(&h).await, "update and lookup");

    h.tutela.rotate_keys(&tutela_core::testing::operator(), |_, _| {}).await.unwrap();
    h.restart().await;
    let after = h.tutela.reveal(&p, c.id, &["bank_account".into()], "after rotation and restart").await.unwrap();
    assert_eq!(after["bank_account"], CANARY_BANK);
    assert_no_canary(&bytes_at_rest(&h).await, "rotation and restart");
    h.close().await;
}

async fn ciphertext_bound_to_record_and_field(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    let a = h
        .tutela
        .create_customer(&p, values(&[("name", "A"), ("email", "a@example.com"), ("phone", "13800000001")]))
        .await
        .unwrap();
    let b = h.tutela.create_customer(&p, values(&[("name", "B"), ("email", "b@example.com")])).await.unwrap();
    let store = h.tutela.store().clone();
    let row_a = store.customer_get(a.id).await.unwrap().unwrap();
    let mut row_b = store.customer_get(b.id).await.unwrap().unwrap();

    // A's email ciphertext moved into B's record does not open there.
    row_b.sealed.insert("email".into(), row_a.sealed["email"].clone());
    row_b.version += 1;
    apply(store.as_ref(), Mutation::UpdateCustomer { row: row_b.clone(), blind: vec![] }).await;
    let err = h.tutela.reveal(&p, b.id, &["email".into()], "moved ciphertext").await.unwrap_err();
    assert!(matches!(err, CoreError::Internal(_)), "{err:?}");

    // A's phone ciphertext moved into A's email field does not open either.
    let mut row_a2 = row_a.clone();
    row_a2.sealed.insert("email".into(), row_a.sealed["phone"].clone());
    row_a2.version += 1;
    apply(store.as_ref(), Mutation::UpdateCustomer { row: row_a2.clone(), blind: vec![] }).await;
    assert!(matches!(h.tutela.reveal(&p, a.id, &["email".into()], "swapped field").await, Err(CoreError::Internal(_))));

    // A's wrapped data key claimed under another key version does not unwrap.
    h.tutela.rotate_keys(&tutela_core::testing::operator(), |_, _| {}).await.unwrap();
    let mut row = store.customer_get(a.id).await.unwrap().unwrap();
    row.kek_version = 1;
    row.version += 1;
    apply(store.as_ref(), Mutation::UpdateCustomer { row, blind: vec![] }).await;
    assert!(matches!(
        h.tutela.reveal(&p, a.id, &["phone".into()], "wrong key version").await,
        Err(CoreError::Internal(_))
    ));
    h.close().await;
}

async fn apply(store: &dyn Store, mutation: Mutation) {
    let mut tx = store.begin_write().await.unwrap();
    tx.apply(&mutation).await.unwrap();
    tx.commit().await.unwrap();
}

async fn rotation_rewraps_everything(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            h.tutela
                .create_customer(&p, values(&[("name", &format!("R{i}")), ("phone", &format!("1380000{i:04}"))]))
                .await
                .unwrap()
                .id,
        );
    }
    let mut last = (0, 0);
    let report =
        h.tutela.rotate_keys(&tutela_core::testing::operator(), |done, total| last = (done, total)).await.unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(report.customers_rewrapped, 30);
    assert_eq!(last, (30, 30));
    let usage = h.tutela.store().kek_usage().await.unwrap();
    assert_eq!(usage, vec![(2, 30)]);
    for (i, id) in ids.iter().enumerate() {
        let r = h.tutela.reveal(&p, *id, &["phone".into()], "check after rotation").await.unwrap();
        assert_eq!(r["phone"], format!("1380000{i:04}"));
    }
    // Resuming with nothing left is a no-op, not an error.
    let again = h.tutela.resume_rotation(&tutela_core::testing::operator(), |_, _| {}).await.unwrap();
    assert_eq!(again.customers_rewrapped, 0);
    // Rotation needs key.manage.
    assert!(matches!(h.tutela.rotate_keys(&p, |_, _| {}).await, Err(CoreError::Forbidden(_))));
    h.close().await;
}

tutela_core::on_both_stores! {
    no_plaintext_at_rest_ => no_plaintext_at_rest;
    ciphertext_bound_to_record_and_field_ => ciphertext_bound_to_record_and_field;
    rotation_rewraps_everything_ => rotation_rewraps_everything;
}
