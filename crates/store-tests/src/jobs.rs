//! The scheduler's leases (one holder at a time, renewal, expiry, release) and run history,
//! and access-review campaigns (a decision once, a close once, reminders).

use time::Duration;
use tutela_store::{JobRunRow, Mutation, ReviewCampaignRow, ReviewChange, ReviewItemRow, Store};
use uuid::Uuid;

use crate::support::{assert_conflict, must_write, new_user, now, tag, write};

pub async fn leases(store: &dyn Store) {
    let kind = format!("test.{}", tag());
    let t0 = now();
    let lease = Duration::seconds(60);
    assert!(store.job_lease_acquire(&kind, "node-a", t0, t0 + lease).await.unwrap(), "a free kind is taken");
    assert!(!store.job_lease_acquire(&kind, "node-b", t0, t0 + lease).await.unwrap(), "held by another");
    // Renewal by the holder moves the end on; the other node stays out past the first end.
    let t1 = t0 + Duration::seconds(30);
    assert!(store.job_lease_acquire(&kind, "node-a", t1, t1 + lease).await.unwrap(), "renewed");
    let t2 = t0 + Duration::seconds(75);
    assert!(!store.job_lease_acquire(&kind, "node-b", t2, t2 + lease).await.unwrap(), "the renewal holds");
    let held = store.job_leases().await.unwrap().into_iter().find(|l| l.kind == kind).unwrap();
    assert_eq!((held.holder.as_str(), held.lease_until), ("node-a", t1 + lease));
    // A lapsed lease goes to whoever asks; the old holder no longer has it.
    let t3 = t1 + lease;
    assert!(store.job_lease_acquire(&kind, "node-b", t3, t3 + lease).await.unwrap(), "lapsed, taken over");
    assert!(!store.job_lease_acquire(&kind, "node-a", t3, t3 + lease).await.unwrap());
    // Only the holder releases it.
    store.job_lease_release(&kind, "node-a").await.unwrap();
    assert!(!store.job_lease_acquire(&kind, "node-c", t3, t3 + lease).await.unwrap(), "not A's to release");
    store.job_lease_release(&kind, "node-b").await.unwrap();
    assert!(store.job_lease_acquire(&kind, "node-c", t3, t3 + lease).await.unwrap(), "released");
    store.job_lease_release(&kind, "node-c").await.unwrap();

    // Of many asking at once, exactly one gets it.
    let other = format!("test.{}", tag());
    let ask = |node: &'static str| store.job_lease_acquire(&other, node, t0, t0 + lease);
    let (a, b, c, d) = tokio::join!(ask("node-1"), ask("node-2"), ask("node-3"), ask("node-4"));
    let won = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()].into_iter().filter(|w| *w).count();
    assert_eq!(won, 1);
}

pub async fn runs(store: &dyn Store) {
    let kind = format!("test.{}", tag());
    let mut first = JobRunRow {
        id: Uuid::now_v7(),
        kind: kind.clone(),
        node: "node-a".into(),
        started_at: now(),
        finished_at: None,
        status: "running".into(),
        done: 0,
        total: Some(3),
        summary: None,
    };
    store.job_run_put(&first).await.unwrap();
    first.done = 3;
    first.status = "succeeded".into();
    first.finished_at = Some(now() + Duration::seconds(2));
    first.summary = Some("3 done".into());
    first.node = "changed".into();
    store.job_run_put(&first).await.unwrap();
    let second = JobRunRow { id: Uuid::now_v7(), started_at: now() + Duration::minutes(5), ..first.clone() };
    store.job_run_put(&second).await.unwrap();
    let listed = store.job_runs(Some(&kind), 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], second, "newest first");
    assert_eq!(listed[1], JobRunRow { node: "node-a".into(), ..first }, "the node is kept from the start");
    assert_eq!(store.job_runs(Some(&kind), 1).await.unwrap().len(), 1);
    assert!(store.job_runs(None, 1000).await.unwrap().len() >= 2);
}

pub async fn reviews(store: &dyn Store) {
    let user = new_user(store, "reviewed").await;
    let reviewer = new_user(store, "reviewer").await;
    let campaign = ReviewCampaignRow {
        id: Uuid::now_v7(),
        name: format!("{} 季度复核", tag()),
        department_id: None,
        routing: "reviewer".into(),
        reviewer_id: Some(reviewer.id),
        policy: "revoke".into(),
        recur_days: Some(91),
        created_by: None,
        created_at: now(),
        deadline: now() + Duration::days(14),
        status: "open".into(),
        closed_at: None,
        report: None,
    };
    let item = |kind: &str, label: &str| ReviewItemRow {
        id: Uuid::now_v7(),
        campaign_id: campaign.id,
        user_id: user.id,
        kind: kind.into(),
        subject_id: Uuid::now_v7(),
        label: label.into(),
        reviewer_id: Some(reviewer.id),
        decision: None,
        note: None,
        justification: None,
        decided_by: None,
        decided_at: None,
        outcome: None,
    };
    let items = vec![item("role", "sales"), item("share", "customer x (read)"), item("role", "support")];
    let insert = ReviewChange::InsertCampaign { campaign: campaign.clone(), items: items.clone() };
    must_write(store, &[Mutation::Review(insert)]).await;
    assert_eq!(store.review_campaign_get(campaign.id).await.unwrap(), Some(campaign.clone()));
    assert!(store.review_campaigns().await.unwrap().contains(&campaign));
    assert_eq!(store.review_items(campaign.id).await.unwrap(), items, "in snapshot order");
    assert_eq!(store.review_items_open_for(reviewer.id).await.unwrap().len(), 3);

    let decided = ReviewItemRow {
        decision: Some("certify".into()),
        note: Some("需要".into()),
        justification: None,
        decided_by: Some(reviewer.id),
        decided_at: Some(now()),
        outcome: Some("kept".into()),
        // What was snapshotted is not changed by a decision.
        label: "changed".into(),
        ..items[0].clone()
    };
    must_write(store, &[Mutation::Review(ReviewChange::DecideItem(decided.clone()))]).await;
    let stored = store.review_items(campaign.id).await.unwrap();
    assert_eq!(stored[0], ReviewItemRow { label: "sales".into(), ..decided.clone() });
    let twice = write(store, &[Mutation::Review(ReviewChange::DecideItem(decided))]).await;
    assert_conflict(twice, "a second decision");
    assert_eq!(store.review_items_open_for(reviewer.id).await.unwrap().len(), 2);

    let at = now() + Duration::minutes(1);
    must_write(
        store,
        &[Mutation::Review(ReviewChange::Remind { campaign_id: campaign.id, reviewer_id: reviewer.id, at })],
    )
    .await;
    let later = at + Duration::days(1);
    let remind = ReviewChange::Remind { campaign_id: campaign.id, reviewer_id: reviewer.id, at: later };
    must_write(store, &[Mutation::Review(remind)]).await;
    assert_eq!(store.review_reminders(campaign.id).await.unwrap(), vec![(reviewer.id, later)]);

    let close = |report: &str| ReviewChange::CloseCampaign {
        id: campaign.id,
        closed_at: now() + Duration::days(15),
        report: report.into(),
        settled: vec![(items[1].id, "revoked".into()), (items[2].id, "revoked".into())],
    };
    must_write(store, &[Mutation::Review(close(r#"{"report":1}"#))]).await;
    let closed = store.review_campaign_get(campaign.id).await.unwrap().unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.report.as_deref(), Some(r#"{"report":1}"#));
    assert_conflict(write(store, &[Mutation::Review(close("{}"))]).await, "a second close");
    assert_eq!(
        store.review_campaign_get(campaign.id).await.unwrap().unwrap().report.as_deref(),
        Some(r#"{"report":1}"#)
    );
    let outcomes: Vec<_> = store.review_items(campaign.id).await.unwrap().into_iter().map(|i| i.outcome).collect();
    assert_eq!(outcomes, [Some("kept".into()), Some("revoked".into()), Some("revoked".into())]);
    assert!(store.review_items_open_for(reviewer.id).await.unwrap().is_empty(), "closed: nothing open");
    let late = ReviewItemRow { decision: Some("revoke".into()), outcome: Some("revoked".into()), ..items[1].clone() };
    assert_conflict(
        write(store, &[Mutation::Review(ReviewChange::DecideItem(late))]).await,
        "a decision after the close",
    );
}
