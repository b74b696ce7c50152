//! Transaction semantics: nothing lands without a commit; a transaction that met an error is
//! dropped and leaves nothing behind.

use tutela_store::{AuditRecord, CustomerRow, Mutation, RowScope, Store};
use uuid::Uuid;

use crate::support::{
    assert_conflict, assert_not_found, customer, must_write, new_user, now, rand_bytes, role, session, tag, user, write,
};

fn audit_record(seq: i64) -> AuditRecord {
    AuditRecord {
        seq,
        at: now(),
        actor_id: None,
        actor: "system".into(),
        action: "test.tx".into(),
        outcome: "ok".into(),
        customer_id: None,
        fields: Vec::new(),
        purpose: None,
        source: None,
        detail: None,
        hash: rand_bytes(),
    }
}

pub async fn dropped_tx_writes_nothing(store: &dyn Store) {
    let key = format!("test.{}", tag());
    let c = customer(&[("name", "Never")], 1);
    let u = user("never", 1);
    let head = store.audit_head().await.unwrap();
    let customers = store.customers_count(&RowScope::All).await.unwrap();
    {
        let mut tx = store.begin_write().await.unwrap();
        tx.apply(&Mutation::PutMeta { key: key.clone(), value: vec![1] }).await.unwrap();
        tx.apply(&Mutation::InsertCustomer { row: c.clone(), blind: Vec::new() }).await.unwrap();
        tx.apply(&Mutation::InsertUser(u.clone())).await.unwrap();
        tx.apply(&Mutation::InsertSession(session(u.id, true))).await.unwrap();
        let seq = head.map_or(0, |(s, _)| s) + 1;
        tx.append_audit(&[audit_record(seq)]).await.unwrap();
        // Dropped here without commit.
    }
    assert_eq!(store.meta_get(&key).await.unwrap(), None);
    assert_eq!(store.customer_get(c.id).await.unwrap(), None);
    assert_eq!(store.user_get(u.id).await.unwrap(), None);
    assert_eq!(store.customers_count(&RowScope::All).await.unwrap(), customers);
    assert_eq!(store.audit_head().await.unwrap(), head);

    // And the store takes the next writer as usual.
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(tx.audit_head().await.unwrap(), head);
    tx.apply(&Mutation::PutMeta { key: key.clone(), value: vec![2] }).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.meta_get(&key).await.unwrap(), Some(vec![2]));
}

/// A transaction whose mutation fails is dropped (as the domain does), and none of its
/// mutations land: not those before the failure, nor the failing one's first statements.
pub async fn failed_write_writes_nothing(store: &dyn Store) {
    let u = new_user(store, "atomic").await;
    let role = role(&format!("{}-atomic", tag()), &[]);
    let c = customer(&[("name", "Versioned")], 1);
    must_write(
        store,
        &[
            Mutation::PutRole(role.clone()),
            Mutation::SetUserRoles { user_id: u.id, role_ids: vec![role.id] },
            Mutation::InsertCustomer { row: c.clone(), blind: Vec::new() },
        ],
    )
    .await;
    let key = format!("test.{}", tag());
    let head = store.audit_head().await.unwrap();
    let seq = head.map_or(0, |(s, _)| s) + 1;

    // Fails after its first statement (the old assignments are deleted before the insert).
    let mut tx = store.begin_write().await.unwrap();
    tx.apply(&Mutation::PutMeta { key: key.clone(), value: vec![1] }).await.unwrap();
    tx.append_audit(&[audit_record(seq)]).await.unwrap();
    let result = tx.apply(&Mutation::SetUserRoles { user_id: u.id, role_ids: vec![Uuid::new_v4()] }).await;
    assert_conflict(result, "assigning an unknown role");
    drop(tx);

    let stale = CustomerRow { version: 5, ..c.clone() };
    let updated = CustomerRow { version: 2, ..c.clone() };
    let result = write(
        store,
        &[
            Mutation::PutMeta { key: key.clone(), value: vec![2] },
            Mutation::UpdateCustomer { row: updated, blind: Vec::new() },
            Mutation::UpdateCustomer { row: stale, blind: Vec::new() },
        ],
    )
    .await;
    assert_conflict(result, "a stale update after a good one");
    assert_not_found(
        write(
            store,
            &[Mutation::PutMeta { key: key.clone(), value: vec![3] }, Mutation::DeleteRole { id: Uuid::new_v4() }],
        )
        .await,
        "deleting a missing role",
    );

    assert_eq!(store.meta_get(&key).await.unwrap(), None, "no mutation of a failed transaction landed");
    assert_eq!(store.user_roles(u.id).await.unwrap(), vec![role], "the failed assignment left the old one");
    assert_eq!(store.customer_get(c.id).await.unwrap(), Some(c), "the update before the failure did not land");
    assert_eq!(store.audit_head().await.unwrap(), head, "the audit record before the failure did not land");
}
