//! The audit log: append, head, scan, search and checkpoints.
//!
//! Sequence numbers are the domain's: each check appends after the current head, in a
//! transaction, as the domain does.

use time::{Duration, OffsetDateTime};
use tutela_store::{AuditCheckpoint, AuditFilter, AuditRecord, Store};
use uuid::Uuid;

use crate::support::{assert_conflict, micros, now, rand_bytes, rand_u32, tag};

/// Appends `records` after the current head, renumbering them; returns them as stored.
pub async fn append_after_head(store: &dyn Store, mut records: Vec<AuditRecord>) -> Vec<AuditRecord> {
    let mut tx = store.begin_write().await.unwrap();
    let head = tx.audit_head().await.unwrap().map_or(0, |(seq, _)| seq);
    for (seq, r) in (head + 1..).zip(records.iter_mut()) {
        r.seq = seq;
    }
    tx.append_audit(&records).await.unwrap();
    tx.commit().await.unwrap();
    records
}

fn record(actor_id: Option<Uuid>, action: &str, customer_id: Option<Uuid>, at: OffsetDateTime) -> AuditRecord {
    AuditRecord {
        seq: 0,
        at,
        actor_id,
        actor: actor_id.map_or_else(|| "system".to_owned(), |id| format!("user:{id}")),
        action: action.to_owned(),
        outcome: "ok".to_owned(),
        customer_id,
        fields: Vec::new(),
        purpose: None,
        source: None,
        detail: None,
        hash: rand_bytes(),
    }
}

pub async fn append_scan_head(store: &dyn Store) {
    let before = store.audit_head().await.unwrap();
    let base = before.map_or(0, |(seq, _)| seq);
    let action = format!("test.{}", tag());
    let mut records: Vec<AuditRecord> =
        (0..7).map(|i| record(None, &action, None, now() + Duration::milliseconds(i))).collect();
    records[1] = AuditRecord {
        actor_id: Some(Uuid::new_v4()),
        customer_id: Some(Uuid::new_v4()),
        outcome: "denied".into(),
        fields: vec!["email".into(), "national_id".into(), "名前".into()],
        purpose: Some("support ticket #42".into()),
        source: Some("203.0.113.9".into()),
        detail: Some(r#"{"count":3,"note":"\"quoted\""}"#.into()),
        ..records[1].clone()
    };

    // Inside the transaction the head moves with the appends; outside, only after commit.
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(tx.audit_head().await.unwrap(), before, "head inside a transaction");
    for (seq, r) in (base + 1..).zip(records.iter_mut()) {
        r.seq = seq;
    }
    tx.append_audit(&records[..3]).await.unwrap();
    tx.append_audit(&[]).await.unwrap();
    tx.append_audit(&records[3..]).await.unwrap();
    let last = records.last().unwrap();
    assert_eq!(tx.audit_head().await.unwrap(), Some((last.seq, last.hash)), "head sees the transaction's appends");
    tx.commit().await.unwrap();
    assert_eq!(store.audit_head().await.unwrap(), Some((last.seq, last.hash)), "head after commit");

    // Scan pages through everything after a sequence number.
    assert_eq!(store.audit_scan(base, 100).await.unwrap(), records, "scan returns the records as written");
    let mut seen = Vec::new();
    let mut after = base;
    loop {
        let page = store.audit_scan(after, 3).await.unwrap();
        assert!(page.len() <= 3, "scan limit");
        let Some(tail) = page.last() else { break };
        after = tail.seq;
        seen.extend(page);
    }
    assert_eq!(seen, records, "scan in pages of three");
    assert_eq!(store.audit_scan(base + 4, 2).await.unwrap(), records[4..6], "scan from the middle");
    assert!(store.audit_scan(last.seq, 10).await.unwrap().is_empty(), "nothing after the head");

    // A sequence number is used once.
    let mut tx = store.begin_write().await.unwrap();
    let dup = AuditRecord { hash: rand_bytes(), ..records[0].clone() };
    assert_conflict(tx.append_audit(&[dup]).await, "a duplicate sequence number");
    drop(tx);
    assert_eq!(store.audit_scan(base, 1).await.unwrap(), records[..1], "original kept");
}

pub async fn search(store: &dyn Store) {
    let (alice, bob) = (Some(Uuid::new_v4()), Some(Uuid::new_v4()));
    let customer = Some(Uuid::new_v4());
    let (view, edit) = (format!("test.view.{}", tag()), format!("test.edit.{}", tag()));
    // A window of time of its own, in the past, one minute per event.
    let t0 = micros(
        OffsetDateTime::UNIX_EPOCH + Duration::days(9000) + Duration::seconds(i64::from(rand_u32() % 1_000_000) * 100),
    );
    let at = |minutes| t0 + Duration::minutes(minutes) + Duration::microseconds(7);
    let records = append_after_head(
        store,
        vec![
            record(alice, &view, customer, at(0)),
            record(bob, &view, None, at(1)),
            record(alice, &edit, customer, at(2)),
            record(None, &view, customer, at(3)),
            record(alice, &view, None, at(4)),
            record(bob, &edit, customer, at(5)),
        ],
    )
    .await;
    let pick = |idx: &[usize]| idx.iter().rev().map(|&i| records[i].clone()).collect::<Vec<_>>();
    let search =
        |filter: AuditFilter| async move { store.audit_search(&AuditFilter { limit: 100, ..filter }).await.unwrap() };

    assert_eq!(
        search(AuditFilter { actor_id: alice, ..AuditFilter::default() }).await,
        pick(&[0, 2, 4]),
        "by actor, newest first"
    );
    assert_eq!(
        search(AuditFilter { action: Some(edit.clone()), ..AuditFilter::default() }).await,
        pick(&[2, 5]),
        "by action"
    );
    assert_eq!(
        search(AuditFilter { customer_id: customer, ..AuditFilter::default() }).await,
        pick(&[0, 2, 3, 5]),
        "by customer"
    );
    // From is inclusive, to exclusive.
    let window = AuditFilter { from: Some(at(1)), to: Some(at(4)), ..AuditFilter::default() };
    assert_eq!(search(window.clone()).await, pick(&[1, 2, 3]), "by time");
    assert_eq!(
        search(AuditFilter {
            from: Some(at(5)),
            to: Some(at(5) + Duration::microseconds(1)),
            ..AuditFilter::default()
        })
        .await,
        pick(&[5])
    );
    assert_eq!(
        search(AuditFilter {
            actor_id: alice,
            action: Some(view.clone()),
            customer_id: customer,
            ..AuditFilter::default()
        })
        .await,
        pick(&[0]),
        "filters combine"
    );
    assert_eq!(
        search(AuditFilter { actor_id: Some(Uuid::new_v4()), ..AuditFilter::default() }).await,
        Vec::new(),
        "unknown actor"
    );

    // Newest first, paged with before_seq.
    let mut pages = Vec::new();
    let mut cursor = AuditFilter { action: Some(view.clone()), limit: 2, ..AuditFilter::default() };
    loop {
        let page = store.audit_search(&cursor).await.unwrap();
        assert!(page.len() <= 2, "search limit");
        let Some(tail) = page.last() else { break };
        cursor.before_seq = Some(tail.seq);
        pages.extend(page);
    }
    assert_eq!(pages, pick(&[0, 1, 3, 4]), "search in pages of two");
    let before = AuditFilter { before_seq: Some(records[3].seq), ..window };
    assert_eq!(search(before).await, pick(&[1, 2]), "before_seq with a time window");
}

pub async fn checkpoints(store: &dyn Store) {
    let before = store.audit_checkpoints().await.unwrap();
    let records = append_after_head(store, vec![record(None, "test.checkpoint", None, now()); 3]).await;
    let checkpoint = |r: &AuditRecord, key_version| AuditCheckpoint {
        seq: r.seq,
        hash: r.hash,
        at: now(),
        key_version,
        signature: rand_bytes::<64>().to_vec(),
    };
    let c1 = checkpoint(&records[0], 1);
    let c3 = checkpoint(&records[2], u32::MAX);
    let mut tx = store.begin_write().await.unwrap();
    tx.put_checkpoint(&c3).await.unwrap();
    tx.put_checkpoint(&c1).await.unwrap();
    tx.commit().await.unwrap();
    let ours = |all: Vec<AuditCheckpoint>| all.into_iter().filter(|c| c.seq >= records[0].seq).collect::<Vec<_>>();
    let all = store.audit_checkpoints().await.unwrap();
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "checkpoints ordered by seq");
    assert_eq!(ours(all), vec![c1.clone(), c3.clone()]);

    // Putting a checkpoint at the same seq replaces it.
    let c1b =
        AuditCheckpoint { at: now() + Duration::seconds(1), key_version: 2, signature: vec![1, 2, 3], ..c1.clone() };
    let mut tx = store.begin_write().await.unwrap();
    tx.put_checkpoint(&c1b).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ours(store.audit_checkpoints().await.unwrap()), vec![c1b.clone(), c3.clone()]);
    assert_eq!(store.audit_checkpoints().await.unwrap().len(), before.len() + 2, "replaced, not added");

    // Deleting one leaves the others; deleting one that is not there is no error.
    let mut tx = store.begin_write().await.unwrap();
    tx.delete_checkpoint(c1b.seq).await.unwrap();
    tx.delete_checkpoint(records[1].seq).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ours(store.audit_checkpoints().await.unwrap()), vec![c3]);
}

/// Search by customer, actor, action and time over a log longer than what a store may index
/// at a time (the `SQLite` store files events in batches of 10,000): events filed and not yet
/// filed are found alike, newest first, page by page, and nothing else. One stretch of the log
/// has times that step back, as after a clock correction.
pub async fn search_in_a_long_log(store: &dyn Store) {
    let customers: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
    let actors: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let actions: Vec<String> = (0..4).map(|_| tag()).collect();
    // Far from now, so that no other test's events fall in the windows searched.
    let base = micros(OffsetDateTime::UNIX_EPOCH + Duration::days(i64::from(30_000 + rand_u32() % 1_000)));
    let minute = |m: i64| base + Duration::minutes(m);
    let mut log = Vec::new();
    for chunk in 0..25_i64 {
        let records = (0..1_000_i64).map(|i| {
            let n = chunk * 1_000 + i;
            let k = usize::try_from(n).unwrap();
            // Minutes 0..25,000 in order, but the twelfth thousand events at minutes 2,000..3,000.
            let at = if chunk == 11 { minute(2_000 + i) } else { minute(n) };
            // Every ninth event names no customer, every fifth no actor.
            let actor = if n % 5 == 4 { None } else { Some(actors[k % 3]) };
            record(actor, &actions[k % 4], customers.get(k % 9).copied(), at)
        });
        log.extend(append_after_head(store, records.collect()).await);
    }
    let windows = [(minute(2_500), minute(2_600)), (minute(10_000), minute(10_001)), (minute(24_990), minute(30_000))];
    let mut filters: Vec<AuditFilter> = Vec::new();
    filters.extend(customers.iter().map(|c| AuditFilter { customer_id: Some(*c), ..AuditFilter::default() }));
    filters.extend(actors.iter().map(|a| AuditFilter { actor_id: Some(*a), ..AuditFilter::default() }));
    filters.extend(actions.iter().map(|a| AuditFilter { action: Some(a.clone()), ..AuditFilter::default() }));
    filters.extend(windows.iter().map(|(from, to)| AuditFilter {
        from: Some(*from),
        to: Some(*to),
        ..AuditFilter::default()
    }));
    filters.push(AuditFilter { from: Some(minute(24_500)), ..AuditFilter::default() });
    filters.push(AuditFilter {
        actor_id: Some(actors[1]),
        action: Some(actions[2].clone()),
        to: Some(minute(15_000)),
        from: Some(minute(1_000)),
        ..AuditFilter::default()
    });
    for filter in filters {
        let matches = |r: &AuditRecord| {
            filter.customer_id.is_none_or(|c| r.customer_id == Some(c))
                && filter.actor_id.is_none_or(|a| r.actor_id == Some(a))
                && filter.action.as_ref().is_none_or(|a| &r.action == a)
                && filter.from.is_none_or(|from| r.at >= from)
                && filter.to.is_none_or(|to| r.at < to)
        };
        let expected: Vec<i64> = log.iter().rev().filter(|r| matches(r)).map(|r| r.seq).collect();
        assert!(!expected.is_empty(), "the test searches for something: {filter:?}");
        let mut found = Vec::new();
        let mut before_seq = None;
        loop {
            let page = store.audit_search(&AuditFilter { before_seq, limit: 700, ..filter.clone() }).await.unwrap();
            let Some(last) = page.last() else { break };
            before_seq = Some(last.seq);
            found.extend(page.iter().map(|r| r.seq));
        }
        assert_eq!(found, expected, "every event matching {filter:?}, newest first, and no other");
    }
}
