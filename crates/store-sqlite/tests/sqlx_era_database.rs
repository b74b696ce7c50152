//! A database made by the store when it was built on sqlx (schema version kept in sqlx's
//! `_sqlx_migrations`, `user_version` 0) opens and is brought up to date, data kept.

use tutela_store::Store;
use tutela_store_sqlite::SqliteStore;

#[tokio::test]
async fn a_database_made_through_sqlx_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tutela.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_foundation.sql")).unwrap();
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
               installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
               checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
             INSERT INTO _sqlx_migrations VALUES (1, 'foundation', CURRENT_TIMESTAMP, TRUE, x'00', 1);
             INSERT INTO meta (key, value) VALUES ('made-by', x'73716c78');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).await.expect("the sqlx-era database opens");
    assert_eq!(store.meta_get("made-by").await.unwrap(), Some(b"sqlx".to_vec()), "its data is kept");
    assert!(store.sessions_for_user(uuid::Uuid::now_v7()).await.unwrap().is_empty(), "later migrations ran");
    store.close().await;
}
