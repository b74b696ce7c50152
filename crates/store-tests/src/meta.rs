//! Readiness, metadata, wrapped keys and the schema's fields.

use time::macros::datetime;
use tutela_store::{Classification, FieldDef, FieldKind, Mutation, Store, StoredKey};

use crate::support::{assert_conflict, assert_not_found, must_write, now, rand_bytes, rand_u32, tag, write};

pub async fn ping(store: &dyn Store) {
    store.ping().await.expect("ping");
    assert!(matches!(store.backend(), "sqlite" | "postgres"), "unknown backend name {}", store.backend());
}

pub async fn meta(store: &dyn Store) {
    let key = format!("test.{}", tag());
    assert_eq!(store.meta_get(&key).await.unwrap(), None);
    must_write(store, &[Mutation::PutMeta { key: key.clone(), value: vec![0, 1, 2, 255] }]).await;
    assert_eq!(store.meta_get(&key).await.unwrap(), Some(vec![0, 1, 2, 255]));
    // Put replaces, including with an empty value.
    must_write(store, &[Mutation::PutMeta { key: key.clone(), value: Vec::new() }]).await;
    assert_eq!(store.meta_get(&key).await.unwrap(), Some(Vec::new()));
}

pub async fn keys(store: &dyn Store) {
    let purpose = format!("test-{}", tag());
    let key = |version, created_at| StoredKey {
        purpose: purpose.clone(),
        version,
        wrapped: rand_bytes::<48>().to_vec(),
        created_at,
    };
    let v2 = key(2, now());
    let v1 = key(1, datetime!(2001-02-03 04:05:06.123456 UTC));
    let high = key(u32::MAX, now());
    must_write(store, &[Mutation::InsertKey(v2.clone()), Mutation::InsertKey(v1.clone())]).await;
    must_write(store, &[Mutation::InsertKey(high.clone())]).await;

    let ours = |keys: Vec<StoredKey>| keys.into_iter().filter(|k| k.purpose == purpose).collect::<Vec<_>>();
    assert_eq!(ours(store.keys_list().await.unwrap()), vec![v1.clone(), v2.clone(), high.clone()], "keys by version");

    // (purpose, version) is unique and a key is never replaced.
    let dup = StoredKey { wrapped: vec![9; 48], ..v1.clone() };
    assert_conflict(write(store, &[Mutation::InsertKey(dup)]).await, "duplicate key version");
    assert_eq!(ours(store.keys_list().await.unwrap()), vec![v1, v2, high], "keys after a rejected duplicate");

    // The listing is ordered by purpose, then version.
    let all = store.keys_list().await.unwrap();
    assert!(
        all.windows(2).all(|w| (w[0].purpose.as_str(), w[0].version) < (w[1].purpose.as_str(), w[1].version)),
        "keys_list not ordered by (purpose, version)"
    );
}

pub async fn fields(store: &dyn Store) {
    let run = &tag()[..12];
    let field = |id: &str, position| FieldDef {
        id: format!("f{run}_{id}"),
        label_en: format!("Label {id}"),
        label_zh: format!("標籤 {id}"),
        kind: FieldKind::Text,
        classification: Classification::Public,
        required: false,
        position,
    };
    let a = field("a", 2);
    let b = field("b", 1);
    let c = field("c", 1);
    must_write(store, &[Mutation::PutField(a.clone()), Mutation::PutField(c.clone()), Mutation::PutField(b.clone())])
        .await;
    let prefix = format!("f{run}_");
    let ours = |fields: Vec<FieldDef>| fields.into_iter().filter(|f| f.id.starts_with(&prefix)).collect::<Vec<_>>();
    assert_eq!(
        ours(store.fields_list().await.unwrap()),
        vec![b.clone(), c.clone(), a.clone()],
        "fields by (position, id)"
    );

    // Put is an upsert: every column changes, the field stays one row.
    let a2 = FieldDef {
        label_en: "Changed".into(),
        label_zh: "已改".into(),
        kind: FieldKind::NationalId,
        classification: Classification::Restricted,
        required: true,
        position: 0,
        ..a.clone()
    };
    must_write(store, &[Mutation::PutField(a2.clone())]).await;
    assert_eq!(ours(store.fields_list().await.unwrap()), vec![a2.clone(), b.clone(), c.clone()], "fields after upsert");

    must_write(store, &[Mutation::DeleteField { id: a2.id.clone() }]).await;
    assert_eq!(ours(store.fields_list().await.unwrap()), vec![b, c], "fields after delete");
    assert_not_found(write(store, &[Mutation::DeleteField { id: a2.id }]).await, "deleting a deleted field");
    let missing = format!("missing_{}", rand_u32());
    assert_not_found(write(store, &[Mutation::DeleteField { id: missing }]).await, "deleting a missing field");
}
