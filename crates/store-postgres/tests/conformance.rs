//! The store conformance suite (`tutela-store-tests`) against a fresh `PostgreSQL` database,
//! and what only `PostgreSQL` has: several nodes writing to one database.
//!
//! Needs `TUTELA_TEST_PG_URL` (run `scripts/test`); without it these tests fail.

use std::time::Duration;

use tutela_store::{AuditRecord, Mutation, Store, StoreError};
use tutela_store_postgres::PgStore;
use tutela_store_tests::fresh_pg_database;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let (url, db) = fresh_pg_database().await;
    let store = PgStore::connect(&url).await.expect("connect to a fresh PostgreSQL database");
    tutela_store_tests::run_all(&store).await;
    store.close().await;
    db.drop_database().await;
}

/// Connecting again runs no migration twice and keeps the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_keeps_data() {
    let (url, db) = fresh_pg_database().await;
    let store = PgStore::connect(&url).await.unwrap();
    let key = "test.reconnect".to_owned();
    tutela_store_tests::support::must_write(&store, &[Mutation::PutMeta { key: key.clone(), value: vec![42] }]).await;
    store.close().await;
    let store = PgStore::connect(&url).await.expect("connect again");
    assert_eq!(store.meta_get(&key).await.unwrap(), Some(vec![42]));
    store.close().await;
    db.drop_database().await;
}

/// A write transaction holds the audit-chain lock until it ends: a second node's
/// `begin_write` waits for the first one's commit, then sees its head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_take_turns_across_nodes() {
    let (url, db) = fresh_pg_database().await;
    let (a, b) = (PgStore::connect(&url).await.unwrap(), PgStore::connect(&url).await.unwrap());

    let mut first = a.begin_write().await.unwrap();
    assert_eq!(first.audit_head().await.unwrap(), None);
    let b2 = b.clone();
    let second = tokio::spawn(async move {
        let mut tx = b2.begin_write().await.unwrap();
        let head = tx.audit_head().await.unwrap();
        (tx, head)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!second.is_finished(), "a second writer got in while the first held the lock");
    let record = event(1, [1; 32]);
    first.append_audit(std::slice::from_ref(&record)).await.unwrap();
    first.commit().await.unwrap();
    let (second_tx, head) =
        tokio::time::timeout(Duration::from_secs(10), second).await.expect("second writer proceeds").unwrap();
    assert_eq!(head, Some((1, [1; 32])), "the second writer sees the first one's head");
    drop(second_tx);

    // A transaction dropped without commit releases the lock too.
    let dropped = b.begin_write().await.unwrap();
    drop(dropped);
    let tx = tokio::time::timeout(Duration::from_secs(10), a.begin_write())
        .await
        .expect("lock released by rollback")
        .unwrap();
    tx.commit().await.unwrap();

    a.close().await;
    b.close().await;
    db.drop_database().await;
}

/// Many writers on two nodes extend one chain: every append reads the head and links to
/// it, and none of them collides or forks the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_form_one_chain() {
    const TASKS_PER_NODE: usize = 4;
    const APPENDS: usize = 10;
    let (url, db) = fresh_pg_database().await;
    let nodes = [PgStore::connect(&url).await.unwrap(), PgStore::connect(&url).await.unwrap()];
    let mut tasks = Vec::new();
    for node in &nodes {
        for _ in 0..TASKS_PER_NODE {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..APPENDS {
                    let mut tx = node.begin_write().await.unwrap();
                    let (seq, prev) = tx.audit_head().await.unwrap().unwrap_or((0, [0; 32]));
                    tx.append_audit(&[event(seq + 1, link(&prev))]).await.unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let chain = nodes[0].audit_scan(0, 1000).await.unwrap();
    let total = nodes.len() * TASKS_PER_NODE * APPENDS;
    assert_eq!(chain.len(), total);
    let mut prev = [0; 32];
    for (i, r) in chain.iter().enumerate() {
        assert_eq!(r.seq, i64::try_from(i).unwrap() + 1, "contiguous sequence numbers");
        assert_eq!(r.hash, link(&prev), "event {} links to its predecessor", r.seq);
        prev = r.hash;
    }
    for node in &nodes {
        node.close().await;
    }
    db.drop_database().await;
}

/// A failed statement aborts a `PostgreSQL` transaction; committing it must not report success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_after_a_failed_statement_is_refused() {
    let (url, db) = fresh_pg_database().await;
    let store = PgStore::connect(&url).await.unwrap();
    let user = tutela_store_tests::support::new_user(&store, "refused").await;
    let key = "test.refused".to_owned();
    let mut tx = store.begin_write().await.unwrap();
    tx.apply(&Mutation::PutMeta { key: key.clone(), value: vec![1] }).await.unwrap();
    let dup = tx.apply(&Mutation::InsertUser(user)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert!(matches!(tx.commit().await, Err(StoreError::Backend(_))), "commit of an aborted transaction");
    assert_eq!(store.meta_get(&key).await.unwrap(), None);
    // The connection and the lock are released: the next writer proceeds.
    let next =
        tokio::time::timeout(Duration::from_secs(10), store.begin_write()).await.expect("lock released").unwrap();
    next.commit().await.unwrap();
    store.close().await;
    db.drop_database().await;
}

/// A stand-in for the chain hash: anything that depends on the previous one.
fn link(prev: &[u8; 32]) -> [u8; 32] {
    let mut next = *prev;
    let carry = next.iter_mut().rev().try_for_each(|b| {
        *b = b.wrapping_add(1);
        if *b == 0 { Ok(()) } else { Err(()) }
    });
    let _ = carry;
    next[0] ^= 0x5a;
    next
}

fn event(seq: i64, hash: [u8; 32]) -> AuditRecord {
    AuditRecord {
        seq,
        at: tutela_store_tests::support::now(),
        actor_id: None,
        actor: "system".into(),
        action: "test.chain".into(),
        outcome: "ok".into(),
        customer_id: None,
        fields: Vec::new(),
        purpose: None,
        source: None,
        detail: None,
        hash,
    }
}
