//! Another process (a CLI command beside the server) holding the database's write lock: the
//! store's next write transaction waits for it instead of failing, and then proceeds.

use std::time::Duration;

use tutela_store::{Mutation, Store};
use tutela_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_a_lock_held_elsewhere() {
    let (path, _dir) = tutela_store_tests::fresh_sqlite_path();
    let store = SqliteStore::open(&path).await.unwrap();

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('other', x'01');").unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin_write().await?;
            tx.apply(&Mutation::PutMeta { key: "ours".into(), value: vec![2] }).await?;
            tx.commit().await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writer.is_finished(), "the store waits while the other process holds the lock");
    other.execute_batch("COMMIT").unwrap();

    writer.await.unwrap().expect("the write proceeds once the lock is free");
    assert_eq!(store.meta_get("other").await.unwrap(), Some(vec![1]));
    assert_eq!(store.meta_get("ours").await.unwrap(), Some(vec![2]));
    store.close().await;
}
