//! Customer rows: insert, get, optimistic update, blind index, erasure, key rotation.

use std::collections::BTreeMap;

use tutela_store::{BlindEntry, ErasureRecord, KeyRewrap, Mutation, RowScope, Store, WrappedKeyRef};
use uuid::Uuid;

use crate::support::{
    assert_conflict, assert_not_found, customer, must_write, new_user, now, rand_bytes, rand_u32, tag,
    unique_kek_version, user, write,
};

fn blind(field_id: &str, hash: u32) -> BlindEntry {
    BlindEntry { field_id: field_id.to_owned(), hash }
}

pub async fn crud(store: &dyn Store) {
    let count_before = store.customers_count(&RowScope::All).await.unwrap();
    let mut row = customer(&[("name", "Ada Lovelace"), ("city", "台北"), ("quote", "it's \"quoted\" \\ here")], 1);
    row.sealed.insert("email".into(), Vec::new());
    let empty = customer(&[], 1);
    let empty = tutela_store::CustomerRow { sealed: BTreeMap::new(), ..empty };
    must_write(
        store,
        &[
            Mutation::InsertCustomer { row: row.clone(), blind: Vec::new() },
            Mutation::InsertCustomer { row: empty.clone(), blind: Vec::new() },
        ],
    )
    .await;
    assert_eq!(store.customer_get(row.id).await.unwrap(), Some(row.clone()), "round trip");
    assert_eq!(store.customer_get(empty.id).await.unwrap(), Some(empty.clone()), "round trip without fields");
    assert_eq!(store.customer_get(Uuid::new_v4()).await.unwrap(), None, "missing customer");
    assert_eq!(store.customers_count(&RowScope::All).await.unwrap(), count_before + 2);

    let dup = customer(&[("name", "Impostor")], 1);
    let dup = tutela_store::CustomerRow { id: row.id, ..dup };
    assert_conflict(write(store, &[Mutation::InsertCustomer { row: dup, blind: Vec::new() }]).await, "duplicate id");
    assert_eq!(store.customer_get(row.id).await.unwrap(), Some(row.clone()), "unchanged by a duplicate insert");

    // An update names the version it read plus one.
    let mut v2 = row.clone();
    v2.version = 2;
    v2.plain.insert("name".into(), "Ada King".into());
    v2.plain.remove("quote");
    v2.sealed.insert("email".into(), rand_bytes::<30>().to_vec());
    v2.kek_version = 2;
    v2.wrapped_dek = rand_bytes::<60>().to_vec();
    v2.updated_at = now() + time::Duration::seconds(1);
    must_write(store, &[Mutation::UpdateCustomer { row: v2.clone(), blind: Vec::new() }]).await;
    assert_eq!(store.customer_get(row.id).await.unwrap(), Some(v2.clone()), "after update");

    // A stale (or skipped) version conflicts and changes nothing.
    for version in [2, 4, 1] {
        let mut stale = v2.clone();
        stale.version = version;
        stale.plain.insert("name".into(), "Lost update".into());
        assert_conflict(
            write(store, &[Mutation::UpdateCustomer { row: stale, blind: Vec::new() }]).await,
            &format!("update naming version {version} over version 2"),
        );
    }
    assert_eq!(store.customer_get(row.id).await.unwrap(), Some(v2.clone()), "unchanged by stale updates");

    // Updating a record that does not exist is a conflict too (it was erased meanwhile).
    let ghost = tutela_store::CustomerRow { version: 2, ..customer(&[], 1) };
    assert_conflict(
        write(store, &[Mutation::UpdateCustomer { row: ghost, blind: Vec::new() }]).await,
        "update of a missing record",
    );
    assert_eq!(store.customers_count(&RowScope::All).await.unwrap(), count_before + 2);
}

pub async fn blind_index(store: &dyn Store) {
    let email = format!("email_{}", &tag()[..8]);
    let phone = format!("phone_{}", &tag()[..8]);
    // Hashes above i32::MAX must survive storage as integers.
    let (h1, h2, h3) = (rand_u32() | 0x8000_0000, u32::MAX, rand_u32() & 0x7fff_ffff);
    let a = customer(&[("name", "A")], 1);
    let b = customer(&[("name", "B")], 1);
    must_write(
        store,
        &[
            // A duplicate entry is kept once.
            Mutation::InsertCustomer {
                row: a.clone(),
                blind: vec![blind(&email, h1), blind(&phone, h2), blind(&email, h1)],
            },
            Mutation::InsertCustomer { row: b.clone(), blind: vec![blind(&email, h1)] },
        ],
    )
    .await;
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    assert_eq!(sorted(store.blind_lookup(&email, h1).await.unwrap()), sorted(vec![a.id, b.id]), "shared hash");
    assert_eq!(store.blind_lookup(&phone, h2).await.unwrap(), vec![a.id]);
    assert_eq!(store.blind_lookup(&phone, h1).await.unwrap(), Vec::<Uuid>::new(), "hash of another field");
    assert_eq!(store.blind_lookup(&email, h3).await.unwrap(), Vec::<Uuid>::new(), "unknown hash");

    // An update replaces the record's entries.
    let a2 = tutela_store::CustomerRow { version: 2, ..a.clone() };
    must_write(store, &[Mutation::UpdateCustomer { row: a2.clone(), blind: vec![blind(&email, h3)] }]).await;
    assert_eq!(store.blind_lookup(&email, h1).await.unwrap(), vec![b.id], "old entry gone after update");
    assert_eq!(store.blind_lookup(&phone, h2).await.unwrap(), Vec::<Uuid>::new(), "old entry gone after update");
    assert_eq!(store.blind_lookup(&email, h3).await.unwrap(), vec![a.id], "new entry after update");

    // A rejected update leaves the entries alone.
    assert_conflict(
        write(store, &[Mutation::UpdateCustomer { row: a2, blind: vec![blind(&phone, h1)] }]).await,
        "stale update",
    );
    assert_eq!(store.blind_lookup(&email, h3).await.unwrap(), vec![a.id], "entries kept after a rejected update");
    assert_eq!(store.blind_lookup(&phone, h1).await.unwrap(), Vec::<Uuid>::new());
}

pub async fn erase(store: &dyn Store) {
    let field = format!("email_{}", &tag()[..8]);
    let hash = rand_u32();
    let a = customer(&[("name", "Erase me")], 1);
    let b = customer(&[("name", "Erase me too")], 1);
    let keep = customer(&[("name", "Keep me")], 1);
    must_write(
        store,
        &[
            Mutation::InsertCustomer { row: a.clone(), blind: vec![blind(&field, hash)] },
            Mutation::InsertCustomer { row: b.clone(), blind: vec![blind(&field, hash)] },
            Mutation::InsertCustomer { row: keep.clone(), blind: vec![blind(&field, hash)] },
        ],
    )
    .await;
    let last_seq = store.erasures_since(0).await.unwrap().last().map_or(0, |e| e.seq);
    let count = store.customers_count(&RowScope::All).await.unwrap();
    let actor = new_user(store, "eraser").await.id;

    let ea = ErasureRecord {
        seq: 0,
        customer_id: a.id,
        erased_at: now(),
        actor_id: Some(actor),
        reason: "GDPR art. 17 請求".into(),
    };
    let eb = ErasureRecord { seq: 0, customer_id: b.id, erased_at: now(), actor_id: None, reason: String::new() };
    must_write(store, &[Mutation::EraseCustomer(ea.clone())]).await;
    must_write(store, &[Mutation::EraseCustomer(eb.clone())]).await;

    assert_eq!(store.customer_get(a.id).await.unwrap(), None, "erased record");
    assert_eq!(store.customer_get(b.id).await.unwrap(), None, "erased record");
    assert_eq!(store.customer_get(keep.id).await.unwrap(), Some(keep.clone()), "other record untouched");
    assert_eq!(store.blind_lookup(&field, hash).await.unwrap(), vec![keep.id], "blind entries of erased records gone");
    assert_eq!(store.customers_count(&RowScope::All).await.unwrap(), count - 2);

    // The ledger keeps both, in order, with increasing sequence numbers past the previous last.
    let ledger = store.erasures_since(last_seq).await.unwrap();
    assert!(ledger.windows(2).all(|w| w[0].seq < w[1].seq), "erasures ordered by seq");
    assert!(ledger.iter().all(|e| e.seq > last_seq), "erasures_since returns only later entries");
    let ours: Vec<_> = ledger.iter().filter(|e| e.customer_id == a.id || e.customer_id == b.id).cloned().collect();
    assert_eq!(ours.len(), 2, "both erasures in the ledger: {ledger:?}");
    assert!(last_seq < ours[0].seq && ours[0].seq < ours[1].seq, "erasure seqs increase");
    assert_eq!(ours[0], ErasureRecord { seq: ours[0].seq, ..ea.clone() });
    assert_eq!(ours[1], ErasureRecord { seq: ours[1].seq, ..eb });
    assert_eq!(store.erasures_since(ours[1].seq).await.unwrap().iter().filter(|e| e.customer_id == a.id).count(), 0);

    // Erasing again finds nothing and adds nothing to the ledger.
    assert_not_found(write(store, &[Mutation::EraseCustomer(ea)]).await, "second erasure");
    let after = store.erasures_since(last_seq).await.unwrap();
    assert_eq!(after.iter().filter(|e| e.customer_id == a.id).count(), 1, "no second ledger entry");
}

/// `customer_keys_below` / `user_keys_below`, their rewraps and `kek_usage`.
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
pub async fn key_rotation(store: &dyn Store) {
    let v = unique_kek_version();
    let c1 = customer(&[("name", "K1")], v);
    let c2 = customer(&[("name", "K2")], v);
    let c3 = customer(&[("name", "K3")], v + 1);
    let u1 = user("kek", v);
    must_write(
        store,
        &[
            Mutation::InsertCustomer { row: c1.clone(), blind: Vec::new() },
            Mutation::InsertCustomer { row: c2.clone(), blind: Vec::new() },
            Mutation::InsertCustomer { row: c3.clone(), blind: Vec::new() },
            Mutation::InsertUser(u1.clone()),
        ],
    )
    .await;
    let usage = |usage: Vec<(u32, u64)>| usage.into_iter().filter(|(k, _)| *k >= v && *k <= v + 2).collect::<Vec<_>>();
    let all = store.kek_usage().await.unwrap();
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "kek_usage ordered by version: {all:?}");
    assert_eq!(usage(all), vec![(v, 3), (v + 1, 1)], "records and users per key version");

    // The work list: ours below v + 1, in id order, over pages of one.
    let mut expected: Vec<WrappedKeyRef> = [&c1, &c2]
        .iter()
        .map(|c| WrappedKeyRef { id: c.id, kek_version: c.kek_version, wrapped_dek: c.wrapped_dek.clone() })
        .collect();
    expected.sort_by_key(|k| k.id);
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = store.customer_keys_below(v + 1, after, 1).await.unwrap();
        assert!(page.len() <= 1, "limit respected");
        let Some(k) = page.into_iter().next() else {
            break;
        };
        assert!(k.kek_version < v + 1, "only older key versions");
        assert!(after.is_none_or(|a| a < k.id), "id order after the cursor");
        after = Some(k.id);
        seen.push(k);
    }
    seen.retain(|k| k.id == c1.id || k.id == c2.id || k.id == c3.id);
    assert_eq!(seen, expected, "customer_keys_below pages");
    let users: Vec<_> =
        store.user_keys_below(v + 1, None, u32::MAX).await.unwrap().into_iter().filter(|k| k.id == u1.id).collect();
    assert_eq!(users, vec![WrappedKeyRef { id: u1.id, kek_version: v, wrapped_dek: u1.wrapped_dek.clone() }]);
    assert!(store.user_keys_below(v, None, u32::MAX).await.unwrap().iter().all(|k| k.id != u1.id), "strictly below");

    // A rewrap applies only over the wrap it was computed from.
    let rewrap = |id, from_version, wrapped_dek: &[u8]| KeyRewrap {
        id,
        from_version,
        to_version: v + 2,
        wrapped_dek: wrapped_dek.to_vec(),
    };
    let new1 = rand_bytes::<60>();
    let new_user_dek = rand_bytes::<60>();
    must_write(
        store,
        &[
            Mutation::RewrapCustomerKey(rewrap(c1.id, v, &new1)),
            // c2 was rewrapped (or changed) meanwhile: its stored version is no longer v + 1.
            Mutation::RewrapCustomerKey(rewrap(c2.id, v + 1, &[7; 60])),
            // A record erased meanwhile: nothing to do, not an error.
            Mutation::RewrapCustomerKey(rewrap(Uuid::new_v4(), v, &[7; 60])),
            Mutation::RewrapUserKey(rewrap(u1.id, v, &new_user_dek)),
            Mutation::RewrapUserKey(rewrap(Uuid::new_v4(), v, &[7; 60])),
        ],
    )
    .await;
    let got1 = store.customer_get(c1.id).await.unwrap().unwrap();
    assert_eq!((got1.kek_version, got1.wrapped_dek.as_slice()), (v + 2, &new1[..]), "rewrap applied");
    assert_eq!(got1.version, c1.version, "a rewrap is not an update");
    assert_eq!(store.customer_get(c2.id).await.unwrap(), Some(c2.clone()), "stale rewrap skipped");
    let rewrapped_user = store.user_get(u1.id).await.unwrap().unwrap();
    assert_eq!(
        (rewrapped_user.kek_version, rewrapped_user.wrapped_dek.as_slice()),
        (v + 2, &new_user_dek[..]),
        "user rewrap applied"
    );
    assert_eq!(usage(store.kek_usage().await.unwrap()), vec![(v, 1), (v + 1, 1), (v + 2, 2)]);
    let below: Vec<_> =
        store.customer_keys_below(v + 1, None, u32::MAX).await.unwrap().into_iter().map(|k| k.id).collect();
    assert!(below.contains(&c2.id) && !below.contains(&c1.id) && !below.contains(&c3.id));
}
