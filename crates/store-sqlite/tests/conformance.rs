//! The store conformance suite (`tutela-store-tests`) against a fresh `SQLite` database file.

use tutela_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let (path, _dir) = tutela_store_tests::fresh_sqlite_path();
    let store = SqliteStore::open(&path).await.expect("open a fresh SQLite store");
    tutela_store_tests::run_all(&store).await;
    store.close().await;
}
