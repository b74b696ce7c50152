//! The audit log is tamper-evident: any change, deletion, insertion or swap made directly in
//! the database makes verification fail and name the first bad event — on both stores.

use tutela_core::audit::{AuditEvent, VerifyProblem};
use tutela_core::testing::{Backend, Harness, steward, values};

/// A log with a known number of events in several commits; each commit signed a checkpoint,
/// and each replaced the one before (they are all in the first block of 10,000 events).
async fn populated(backend: Backend) -> (Harness, i64) {
    let h = Harness::new(backend).await;
    let p = steward();
    for i in 0..6 {
        let c = h
            .tutela
            .create_customer(&p, values(&[("name", &format!("C{i}")), ("email", &format!("c{i}@example.com"))]))
            .await
            .unwrap();
        h.tutela.customer(&p, c.id).await.unwrap();
    }
    let report = h.tutela.verify_audit(|_| {}).await.unwrap();
    assert_eq!(report.problem, None, "fresh log verifies");
    let (head, _) = report.head.unwrap();
    assert!(head >= 13, "system.init plus 12 events, got {head}");
    assert_eq!(report.checkpoints, 1, "the newest checkpoint vouches for the block so far");
    (h, head)
}

async fn problem(h: &Harness) -> VerifyProblem {
    h.tutela.verify_audit(|_| {}).await.unwrap().problem.expect("tampering must be detected")
}

async fn intact_log_verifies(backend: Backend) {
    let (mut h, head) = populated(backend).await;
    h.restart().await;
    let report = h.tutela.verify_audit(|_| {}).await.unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.events, u64::try_from(head).unwrap());
    h.close().await;
}

async fn changed_event_is_named(backend: Backend) {
    let (h, _) = populated(backend).await;
    h.raw_sql("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 5").await;
    let p = problem(&h).await;
    assert_eq!(p, VerifyProblem::Altered { seq: 5 });
    assert_eq!(p.seq(), 5);
    h.close().await;
}

async fn changed_newest_event_is_named(backend: Backend) {
    let (h, head) = populated(backend).await;
    h.raw_sql(&format!("UPDATE audit_events SET outcome = 'denied' WHERE seq = {head}")).await;
    assert_eq!(problem(&h).await.seq(), head);
    h.close().await;
}

async fn deleted_event_is_named(backend: Backend) {
    let (h, _) = populated(backend).await;
    h.raw_sql("DELETE FROM audit_events WHERE seq = 7").await;
    assert_eq!(problem(&h).await, VerifyProblem::Gap { expected: 7, found: 8 });
    h.close().await;
}

async fn deleted_newest_events_are_named(backend: Backend) {
    let (h, head) = populated(backend).await;
    h.raw_sql(&format!("DELETE FROM audit_events WHERE seq >= {}", head - 1)).await;
    let p = problem(&h).await;
    assert!(matches!(p, VerifyProblem::Truncated { .. }), "{p:?}");
    assert_eq!(p.seq(), head - 1);
    h.close().await;
}

async fn deleted_newest_commit_with_its_checkpoint_is_named(backend: Backend) {
    let (h, head) = populated(backend).await;
    // The newest commit held one event (a read). Without its checkpoint, the events before
    // it are vouched for by no signature: the one that did so was replaced by the newest.
    h.raw_sql(&format!("DELETE FROM audit_events WHERE seq = {head}")).await;
    h.raw_sql(&format!("DELETE FROM audit_checkpoints WHERE seq = {head}")).await;
    assert_eq!(problem(&h).await, VerifyProblem::Unsigned { seq: 1 });
    h.close().await;
}

async fn inserted_event_is_named(backend: Backend) {
    let (h, head) = populated(backend).await;
    // A forged event appended after the head, with a hash computed like Tutela's own
    // would need the signing key for a checkpoint: without one it is named.
    h.raw_sql(&format!(
        "INSERT INTO audit_events (seq, at, actor_id, actor, action, outcome, customer_id, fields, purpose, source, detail, hash)
         SELECT seq + 1, at, actor_id, actor, action, outcome, customer_id, fields, purpose, source, detail, hash
         FROM audit_events WHERE seq = {head}"
    ))
    .await;
    assert_eq!(problem(&h).await.seq(), head + 1);
    h.close().await;
}

async fn swapped_events_are_named(backend: Backend) {
    let (h, _) = populated(backend).await;
    // Exchange the content of events 3 and 4, keeping their sequence numbers.
    h.raw_sql("UPDATE audit_events SET seq = -3 WHERE seq = 3").await;
    h.raw_sql("UPDATE audit_events SET seq = 3 WHERE seq = 4").await;
    h.raw_sql("UPDATE audit_events SET seq = 4 WHERE seq = -3").await;
    assert_eq!(problem(&h).await, VerifyProblem::Altered { seq: 3 });
    h.close().await;
}

async fn forged_checkpoint_is_named(backend: Backend) {
    let (h, _) = populated(backend).await;
    let later = match h.backend {
        Backend::Sqlite => "at + 1",
        Backend::Postgres => "at + interval '1 microsecond'",
    };
    h.raw_sql(&format!(
        "UPDATE audit_checkpoints SET at = {later} WHERE seq = (SELECT MIN(seq) FROM audit_checkpoints WHERE seq > 3)"
    ))
    .await;
    let p = problem(&h).await;
    assert!(matches!(p, VerifyProblem::BadCheckpoint { .. }), "{p:?}");
    h.close().await;
}

/// Past the first pages verification reads ahead two pages at a time, and a log of more
/// than 80,000 events is walked in two halves at once: problems there are named as in the
/// first pages, and the earlier of two problems is the one named.
async fn problems_beyond_the_first_pages_are_named(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    for _ in 0..10 {
        let events = (0..10_000).map(|_| AuditEvent::by(&p, "test.bulk")).collect();
        h.tutela.audit_log().commit(Vec::new(), events).await.unwrap();
    }
    let report = h.tutela.verify_audit(|_| {}).await.unwrap();
    assert_eq!((report.problem, report.events), (None, 100_001), "system.init plus 100,000, each once");
    // Each commit crossed into a new block of 10,000, so each kept its predecessor.
    assert_eq!(report.checkpoints, 11, "events 1, 10,001, ..., 100,001");

    // In the second half (after event 50,000), then also in the first: the first is named.
    h.raw_sql("UPDATE audit_events SET outcome = 'denied' WHERE seq = 77777").await;
    assert_eq!(problem(&h).await, VerifyProblem::Altered { seq: 77_777 });
    h.raw_sql("DELETE FROM audit_events WHERE seq = 30000").await;
    assert_eq!(problem(&h).await, VerifyProblem::Gap { expected: 30_000, found: 30_001 });
    h.close().await;
}

tutela_core::on_both_stores! {
    problems_beyond_the_first_pages_are_named_ => problems_beyond_the_first_pages_are_named;
    intact_log_verifies_ => intact_log_verifies;
    changed_event_is_named_ => changed_event_is_named;
    changed_newest_event_is_named_ => changed_newest_event_is_named;
    deleted_event_is_named_ => deleted_event_is_named;
    deleted_newest_events_are_named_ => deleted_newest_events_are_named;
    deleted_newest_commit_with_its_checkpoint_is_named_ => deleted_newest_commit_with_its_checkpoint_is_named;
    inserted_event_is_named_ => inserted_event_is_named;
    swapped_events_are_named_ => swapped_events_are_named;
    forged_checkpoint_is_named_ => forged_checkpoint_is_named;
}
