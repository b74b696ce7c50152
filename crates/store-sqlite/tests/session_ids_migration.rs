//! Migration 0002 gives sessions signed in before the upgrade a public id of their own and
//! keeps them working.

use tutela_store::Store;
use tutela_store_sqlite::SqliteStore;
use uuid::Uuid;

#[tokio::test]
async fn sessions_from_before_the_upgrade_keep_working_with_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tutela.db");
    let user = Uuid::new_v4();
    let hashes: [[u8; 32]; 2] = [[1; 32], [2; 32]];
    {
        // A database as the first schema version left it, with two sessions in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_foundation.sql")).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO users (id, email, display_name, password_hash, status, kek_version, wrapped_dek,
             totp_enabled, locale, created_at, updated_at)
             VALUES (?1, 'old@example.test', 'Old', 'x', 'active', 1, x'00', 1, 'en', 0, 0)",
            [user],
        )
        .unwrap();
        for (i, hash) in hashes.iter().enumerate() {
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source,
                 user_agent) VALUES (?1, ?2, ?3, ?3, 9000000000000000, 1, '192.0.2.1', 'Firefox')",
                rusqlite::params![&hash[..], user, i64::try_from(i).unwrap()],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let listed = store.sessions_for_user(user).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_ne!(listed[0].id, listed[1].id, "each session its own id");
    for hash in &hashes {
        let row = store.session_get(hash).await.unwrap().expect("still found by its token hash");
        assert_eq!((row.user_id, row.user_agent.as_deref()), (user, Some("Firefox")));
        assert_eq!(store.session_by_id(row.id).await.unwrap(), Some(row), "and by its new id");
    }
}
