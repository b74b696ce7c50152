//! Access reviews run by the scheduler: a campaign runs to its deadline and revokes what
//! nobody certified, keeping what was certified, and its report is kept; the flag policy;
//! self-review needs a justification; only the reviewer decides; nothing after the close;
//! reminders at most once a day; one node at a time runs each job kind.

use std::sync::Arc;

use time::Duration;
use tutela_core::access::reviews::{CampaignInput, CampaignState, DecisionInput, ReviewReport};
use tutela_core::access::{DepartmentInput, MembershipInput, ShareInput};
use tutela_core::clock::Clock as _;
use tutela_core::identity::NewUser;
use tutela_core::jobs::Scheduler;
use tutela_core::notify::Language;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, steward, values};
use tutela_core::{CoreError, Tutela};
use tutela_store::AuditFilter;
use uuid::Uuid;

fn admin() -> Principal {
    tutela_core::testing::principal(
        "admin@example.com",
        &[Permission::UserManage, Permission::RoleManage, Permission::AccessReview],
    )
}

async fn user(t: &Tutela, email: &str, roles: &[&str]) -> Principal {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let id = t.create_user(&admin(), new).await.unwrap().id;
    Principal::direct(Some(id), email, std::collections::BTreeSet::new(), Credential::Session, None)
}

struct World {
    boss: Principal,
    alice: Principal,
    bob: Principal,
    sales: Uuid,
    share: Uuid,
}

/// HQ above Sales; Sales managed by the boss (who sits in HQ); Alice (sales, support) and
/// Bob (sales, and a share of one record) in Sales.
async fn world(t: &Tutela) -> World {
    let boss = user(t, "boss@example.com", &["auditor"]).await;
    let alice = user(t, "alice@example.com", &["sales", "support"]).await;
    let bob = user(t, "bob@example.com", &["sales"]).await;
    let hq = t.put_department(&admin(), None, DepartmentInput { name: "总部".into(), parent_id: None }).await.unwrap();
    let sales = t
        .put_department(&admin(), None, DepartmentInput { name: "销售部".into(), parent_id: Some(hq.id) })
        .await
        .unwrap();
    t.set_department_manager(&admin(), sales.id, boss.user_id).await.unwrap();
    let member = |d: Uuid| MembershipInput { department_id: Some(d), team_id: None };
    t.set_membership(&admin(), boss.user_id.unwrap(), member(hq.id)).await.unwrap();
    for p in [&alice, &bob] {
        t.set_membership(&admin(), p.user_id.unwrap(), member(sales.id)).await.unwrap();
    }
    let customer = t.create_customer(&steward(), values(&[("name", "客户甲")])).await.unwrap().id;
    let share = ShareInput {
        user_id: bob.user_id.unwrap(),
        access: "read".into(),
        expires_at: t.clock().now() + Duration::days(60),
        reason: "回访".into(),
    };
    let share = t.share_customer(&steward(), customer, share).await.unwrap().id;
    World { boss, alice, bob, sales: sales.id, share }
}

fn campaign(name: &str, t: &Tutela, days: i64) -> CampaignInput {
    CampaignInput {
        name: name.into(),
        department_id: None,
        routing: "manager".into(),
        reviewer_id: None,
        policy: "revoke".into(),
        deadline: t.clock().now() + Duration::days(days),
        recur_days: None,
    }
}

fn decision(d: &str, justification: Option<&str>) -> DecisionInput {
    DecisionInput { decision: d.into(), note: None, justification: justification.map(Into::into) }
}

async fn roles_of(t: &Tutela, p: &Principal) -> Vec<String> {
    let mut roles: Vec<String> =
        t.store().user_roles(p.user_id.unwrap()).await.unwrap().into_iter().map(|r| r.name).collect();
    roles.sort();
    roles
}

async fn audited(t: &Tutela, action: &str) -> Vec<tutela_store::AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..Default::default() };
    t.store().audit_search(&filter).await.unwrap()
}

fn invalid_field<T: std::fmt::Debug>(r: Result<T, CoreError>) -> String {
    match r {
        Err(CoreError::Invalid { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn deadline_revokes_what_nobody_certified(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let w = world(t).await;
    let input = CampaignInput { department_id: Some(w.sales), ..campaign("2026 Q1 销售部", t, 14) };
    let c = t.create_review_campaign(&admin(), input).await.unwrap();
    assert_eq!(c.counts.items, 4, "alice: sales, support; bob: sales, a share");
    let detail = t.review_campaign(&w.boss, c.id).await.unwrap();
    assert!(detail.items.iter().all(|i| i.reviewer_email.as_deref() == Some("boss@example.com")), "the manager");
    let item = |user: &Principal, label: &str| {
        detail.items.iter().find(|i| Some(i.user_id) == user.user_id && i.label.starts_with(label)).unwrap().id
    };

    let kept = t.decide_review_item(&w.boss, c.id, item(&w.alice, "sales"), decision("certify", None)).await.unwrap();
    assert_eq!(kept.outcome.as_deref(), Some("kept"));
    let revoked =
        t.decide_review_item(&w.boss, c.id, item(&w.bob, "customer"), decision("revoke", None)).await.unwrap();
    assert_eq!(revoked.outcome.as_deref(), Some("revoked"));
    let shares = t.store().record_shares_for_user(w.bob.user_id.unwrap()).await.unwrap();
    assert!(shares.iter().all(|s| s.id != w.share), "a revoked share ends at once");
    assert_eq!(t.my_reviews(&w.boss).await.unwrap().len(), 2, "two left for the boss");

    // The scheduler runs both kinds; nothing is due to close yet, the boss is reminded.
    let scheduler = Scheduler::new(h.tutela.clone(), "node-a");
    let runs = scheduler.run_due().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == "succeeded"), "{runs:?}");
    assert_eq!(t.review_campaign(&admin(), c.id).await.unwrap().campaign.state, CampaignState::Open);
    assert!(scheduler.run_due().await.unwrap().is_empty(), "nothing is due again at once");

    h.clock.advance(Duration::days(15));
    let runs = scheduler.run_due().await.unwrap();
    let deadlines = runs.iter().find(|r| r.kind == "access.review.deadlines").unwrap();
    assert_eq!(deadlines.summary.as_deref(), Some("1 campaign(s) closed; 2 unreviewed item(s) revoked, 0 flagged"));

    assert_eq!(roles_of(t, &w.alice).await, ["sales"], "certified kept, unreviewed revoked");
    assert!(roles_of(t, &w.bob).await.is_empty(), "unreviewed revoked");
    let closed = t.review_campaign(&admin(), c.id).await.unwrap();
    assert_eq!(closed.campaign.state, CampaignState::Closed);
    assert_eq!((closed.campaign.counts.certified, closed.campaign.counts.revoked), (1, 1));
    assert_eq!(closed.campaign.counts.revoked_at_deadline, 2);

    // Nothing more is decided; the report is kept, and says who did what.
    let late = t.decide_review_item(&w.boss, c.id, item(&w.bob, "sales"), decision("certify", None)).await;
    assert!(matches!(late, Err(CoreError::Conflict(_))), "{late:?}");
    let stored = t.review_report(&admin(), c.id).await.unwrap();
    assert_eq!(t.review_report(&admin(), c.id).await.unwrap(), stored, "written once");
    let report = ReviewReport::from_json(&stored).unwrap();
    assert_eq!(report.closed_by, "deadline");
    assert_eq!(report.items.len(), 4);
    let outcomes: Vec<(&str, Option<&str>, Option<&str>)> =
        report.items.iter().map(|i| (i.user_email.as_str(), i.decided_by.as_deref(), i.outcome.as_deref())).collect();
    assert!(outcomes.contains(&("alice@example.com", Some("boss@example.com"), Some("kept"))), "{outcomes:?}");
    assert!(outcomes.contains(&("bob@example.com", Some("boss@example.com"), Some("revoked"))), "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| o.1.is_none() && o.2 == Some("revoked")).count(), 2, "{outcomes:?}");
    assert_eq!(report.to_csv().unwrap().lines().count(), 5);

    let close = audited(t, "access.review.close").await;
    assert_eq!(close.len(), 1);
    assert_eq!(close[0].actor, "system");
    let set_roles = audited(t, "user.set_roles").await;
    assert_eq!(set_roles.iter().filter(|e| e.detail.as_deref().unwrap().contains("access_review")).count(), 2);
    assert_eq!(audited(t, "access.review.decide").await.len(), 2);
    assert_eq!(audited(t, "customer.unshare").await.len(), 1);
    assert!(t.verify_audit(|_| {}).await.unwrap().problem.is_none());
    h.close().await;
}

async fn flag_policy_self_review_and_refusals(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let w = world(t).await;

    // Bad input names the field and starts nothing.
    let base = campaign("x", t, 10);
    let cases = [
        (CampaignInput { name: "n".repeat(101), ..base.clone() }, "name"),
        (CampaignInput { routing: "random".into(), ..base.clone() }, "routing"),
        (CampaignInput { policy: "delete".into(), ..base.clone() }, "policy"),
        (CampaignInput { deadline: base.deadline - Duration::days(11), ..base.clone() }, "deadline"),
        (CampaignInput { department_id: Some(Uuid::now_v7()), ..base.clone() }, "department_id"),
        (CampaignInput { routing: "reviewer".into(), ..base.clone() }, "reviewer_id"),
        (CampaignInput { recur_days: Some(2), ..base.clone() }, "recur_days"),
    ];
    for (input, field) in cases {
        assert_eq!(invalid_field(t.create_review_campaign(&admin(), input).await), field);
    }
    // Everyone in scope: the boss sits in HQ, which names no manager.
    assert_eq!(invalid_field(t.create_review_campaign(&admin(), campaign("all", t, 10)).await), "reviewer_id");
    assert!(t.review_campaigns(&admin()).await.unwrap().is_empty(), "nothing half-made");
    let no_permission = t.create_review_campaign(&w.alice, campaign("x", t, 10)).await;
    assert!(matches!(no_permission, Err(CoreError::Forbidden(_))));

    let input = CampaignInput {
        routing: "reviewer".into(),
        reviewer_id: w.alice.user_id,
        policy: "flag".into(),
        ..campaign("年度复核", t, 10)
    };
    let c = t.create_review_campaign(&admin(), input).await.unwrap();
    let items = t.review_campaign(&admin(), c.id).await.unwrap().items;
    assert_eq!(items.len(), 5, "boss: auditor; alice: 2 roles; bob: sales, a share");
    let own = items.iter().find(|i| Some(i.user_id) == w.alice.user_id).unwrap().id;
    let bobs = items.iter().find(|i| Some(i.user_id) == w.bob.user_id).unwrap().id;

    // Self-review needs a justification, of a limited length.
    let answer = t.decide_review_item(&w.alice, c.id, own, decision("certify", None)).await;
    assert_eq!(invalid_field(answer), "justification");
    let long = "理".repeat(1001);
    let answer = t.decide_review_item(&w.alice, c.id, own, decision("certify", Some(&long))).await;
    assert_eq!(invalid_field(answer), "justification");
    let answer = t.decide_review_item(&w.alice, c.id, own, decision("approve", Some("ok"))).await;
    assert_eq!(invalid_field(answer), "decision");
    let kept = t.decide_review_item(&w.alice, c.id, own, decision("certify", Some("我的日常工作需要"))).await.unwrap();
    assert_eq!(kept.justification.as_deref(), Some("我的日常工作需要"));
    let again = t.decide_review_item(&w.alice, c.id, own, decision("revoke", Some("x"))).await;
    assert!(matches!(again, Err(CoreError::Conflict(_))), "decided once");

    // Only the reviewer (or someone with access.review) decides; others do not see it.
    let answer = t.decide_review_item(&w.bob, c.id, bobs, decision("certify", Some("mine"))).await;
    assert!(matches!(answer, Err(CoreError::Forbidden(_))), "{answer:?}");
    assert_eq!(audited(t, "access.review.decide").await.iter().filter(|e| e.outcome == "denied").count(), 1);
    assert!(matches!(t.review_campaign(&w.bob, c.id).await, Err(CoreError::NotFound(_))));
    assert!(t.review_campaigns(&w.bob).await.unwrap().is_empty());
    assert_eq!(t.review_campaign(&w.alice, c.id).await.unwrap().items.len(), 5, "the reviewer sees hers");
    let answer = t.review_report(&admin(), c.id).await;
    assert!(matches!(answer, Err(CoreError::Conflict(_))), "no report while open");

    // Past the deadline: no more decisions; the job flags what is left, revoking nothing.
    h.clock.advance(Duration::days(11));
    let answer = t.decide_review_item(&w.alice, c.id, bobs, decision("certify", None)).await;
    assert!(matches!(answer, Err(CoreError::Conflict(_))), "{answer:?}");
    let runs = Scheduler::new(h.tutela.clone(), "node-a").run_now("access.review.deadlines", None).await.unwrap();
    assert_eq!(runs.summary.as_deref(), Some("1 campaign(s) closed; 0 unreviewed item(s) revoked, 4 flagged"));
    assert_eq!(roles_of(t, &w.bob).await, ["sales"]);
    assert_eq!(roles_of(t, &w.alice).await, ["sales", "support"]);
    let report = ReviewReport::from_json(&t.review_report(&admin(), c.id).await.unwrap()).unwrap();
    assert_eq!(report.items.iter().filter(|i| i.outcome.as_deref() == Some("flagged")).count(), 4);
    let answer = t.close_review_campaign(&admin(), c.id).await;
    assert!(matches!(answer, Err(CoreError::Conflict(_))), "closed once");
    h.close().await;
}

async fn reminders_at_most_once_a_day(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let w = world(t).await;
    let input = CampaignInput { department_id: Some(w.sales), ..campaign("提醒", t, 5) };
    let c = t.create_review_campaign(&admin(), input).await.unwrap();
    let due = t.take_due_review_reminders().await.unwrap();
    assert_eq!(due.len(), 1, "at the start");
    assert_eq!((due[0].reviewer_email.as_str(), due[0].open_items, due[0].campaign_id), ("boss@example.com", 4, c.id));
    assert!(t.take_due_review_reminders().await.unwrap().is_empty(), "not twice");
    h.clock.advance(Duration::days(1));
    assert!(t.take_due_review_reminders().await.unwrap().is_empty(), "not before the last days");
    h.clock.advance(Duration::days(1));
    assert_eq!(t.take_due_review_reminders().await.unwrap().len(), 1, "the last days: daily");
    assert!(t.take_due_review_reminders().await.unwrap().is_empty(), "once that day");
    h.clock.advance(Duration::days(1));
    let due = t.take_due_review_reminders().await.unwrap();
    assert_eq!(due.len(), 1, "and the next");
    assert_eq!(audited(t, "access.review.remind").await.len(), 3);
    // Each reminder reached the reviewer's inbox (and would go out by e-mail with `[smtp]`).
    let inbox = t.notifications(&w.boss, None, 10, Some(Language::En)).await.unwrap();
    assert_eq!(inbox.items.len(), 3, "{:?}", inbox.items);
    assert!(inbox.items[0].subject.contains("\"提醒\": 4 decision(s) waiting for you"), "{}", inbox.items[0].subject);
    assert_eq!(inbox.items[0].link.as_deref(), Some("/access/reviews/mine"));
    h.close().await;
}

async fn one_node_at_a_time_runs_a_job(backend: Backend) {
    let h = Harness::new(backend).await;
    let b = h.second_node().await;
    let (sa, sb) = (Scheduler::new(h.tutela.clone(), "node-a"), Scheduler::new(b.clone(), "node-b"));

    // Ticking together, each kind runs once, on one node or the other.
    let (ra, rb) = tokio::join!(sa.run_due(), sb.run_due());
    let mut ran: Vec<String> = ra.unwrap().into_iter().chain(rb.unwrap()).map(|r| r.kind).collect();
    ran.sort();
    assert_eq!(ran, ["access.review.deadlines", "access.review.reminders"]);

    // Node A takes a lease and dies while running: B cannot run the kind until it lapses.
    let store = h.tutela.store();
    let now = h.clock.now();
    let kind = "access.review.deadlines";
    assert!(store.job_lease_acquire(kind, "node-a", now, now + Duration::seconds(60)).await.unwrap());
    assert!(!store.job_lease_acquire(kind, "node-b", now, now + Duration::seconds(60)).await.unwrap());
    let crashed = tutela_store::JobRunRow {
        id: Uuid::now_v7(),
        kind: kind.into(),
        node: "node-a".into(),
        started_at: now,
        finished_at: None,
        status: "running".into(),
        done: 0,
        total: None,
        summary: None,
    };
    store.job_run_put(&crashed).await.unwrap();
    assert!(matches!(sb.run_now(kind, None).await, Err(CoreError::Conflict(_))));
    // A renews while it runs; its lease outlasts the first 60 seconds.
    h.clock.advance(Duration::seconds(30));
    let renewed = h.clock.now() + Duration::seconds(60);
    assert!(store.job_lease_acquire(kind, "node-a", h.clock.now(), renewed).await.unwrap(), "renewed");
    h.clock.advance(Duration::seconds(45));
    assert!(matches!(sb.run_now(kind, None).await, Err(CoreError::Conflict(_))), "the renewal holds");
    // A stops renewing (it crashed): once its lease lapses, B runs the kind.
    h.clock.advance(Duration::seconds(20));
    let ran = sb.run_now(kind, None).await.unwrap();
    assert_eq!((ran.node.as_str(), ran.status.as_str()), ("node-b", "succeeded"));
    let runs = b.store().job_runs(Some(kind), 10).await.unwrap();
    let stale = runs.iter().find(|r| r.id == crashed.id).unwrap();
    assert_eq!(
        (stale.status.as_str(), stale.summary.as_deref()),
        ("failed", Some("abandoned: its node stopped before it finished"))
    );
    assert!(b.store().job_leases().await.unwrap().iter().all(|l| l.kind != kind), "released after the run");

    // The overview is for auditors.
    let auditor = tutela_core::testing::principal("auditor@example.com", &[Permission::AuditRead]);
    let overview = b.jobs_overview(&auditor).await.unwrap();
    assert_eq!(overview.len(), 2);
    assert!(overview.iter().all(|k| !k.runs.is_empty()));
    let nobody = tutela_core::testing::principal("x@example.com", &[Permission::CustomerRead]);
    assert!(matches!(b.jobs_overview(&nobody).await, Err(CoreError::Forbidden(_))));
    b.close().await;
    h.close().await;
}

/// Stopping the background loop between ticks ends it promptly, holding no lease.
async fn background_loop_stops_cleanly(backend: Backend) {
    let h = Harness::new(backend).await;
    let scheduler = Arc::new(Scheduler::new(h.tutela.clone(), "node-a"));
    let handle = scheduler.start(std::time::Duration::from_hours(1), std::time::Duration::from_secs(5));
    // The first tick runs at once; wait for its runs without sleeping a fixed time.
    let store = h.tutela.store().clone();
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while store.job_runs(None, 10).await.unwrap().iter().filter(|r| r.status != "running").count() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first tick ran");
    handle.stop().await;
    assert!(store.job_leases().await.unwrap().is_empty());
    h.close().await;
}

tutela_core::on_both_stores! {
    deadline_revokes_what_nobody_certified_ => deadline_revokes_what_nobody_certified;
    flag_policy_self_review_and_refusals_ => flag_policy_self_review_and_refusals;
    reminders_at_most_once_a_day_ => reminders_at_most_once_a_day;
    one_node_at_a_time_runs_a_job_ => one_node_at_a_time_runs_a_job;
    background_loop_stops_cleanly_ => background_loop_stops_cleanly;
}
