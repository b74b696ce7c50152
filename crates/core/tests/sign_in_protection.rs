//! Sign-in protection on both stores: lockout after 5 failures in 10 minutes, growing and
//! forgotten back-off, administrator unlock, per-address against per-account locks, and a
//! locked account that answers and costs exactly like a wrong password or an unknown user.

use secrecy::SecretString;
use time::Duration;
use tutela_core::CoreError;
use tutela_core::identity::{NewUser, UserView};
use tutela_core::testing::{Backend, Harness, operator, steward};
use tutela_store::{AuditFilter, AuditRecord};

const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "wrong horse battery staple";
const ALICE: &str = "alice@example.com";
const HOME: &str = "192.0.2.10";
const ATTACKER: &str = "198.51.100.66";

async fn with_alice(backend: Backend) -> (Harness, UserView) {
    let h = Harness::new(backend).await;
    let new = NewUser {
        email: ALICE.into(),
        display_name: "Alice".into(),
        password: SecretString::from(PASSWORD),
        roles: vec!["sales".into()],
    };
    let alice = h.tutela.create_user(&operator(), new).await.unwrap();
    (h, alice)
}

async fn login(h: &Harness, email: &str, password: &str, source: &str) -> Result<(), CoreError> {
    h.tutela.login(email, SecretString::from(password), Some(source.to_owned()), None).await.map(|_| ())
}

async fn fail_times(h: &Harness, email: &str, source: &str, times: usize) {
    for _ in 0..times {
        assert!(login(h, email, WRONG, source).await.is_err());
    }
}

async fn events(h: &Harness, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 1000, ..Default::default() };
    let mut events = h.tutela.store().audit_search(&filter).await.unwrap();
    events.sort_by_key(|e| e.seq);
    events
}

fn detail(event: &AuditRecord) -> serde_json::Value {
    serde_json::from_str(event.detail.as_deref().unwrap_or("null")).unwrap()
}

/// The lengths in minutes of the locks audited so far, with their scope.
async fn lock_minutes(h: &Harness) -> Vec<(String, i64)> {
    events(h, "auth.lockout")
        .await
        .iter()
        .map(detail)
        .map(|d| (d["scope"].as_str().unwrap().to_owned(), d["minutes"].as_i64().unwrap()))
        .collect()
}

async fn five_failures_in_ten_minutes_lock_for_ten_minutes(backend: Backend) {
    let (h, _) = with_alice(backend).await;
    // Failures spread wider than ten minutes do not lock.
    for _ in 0..6 {
        fail_times(&h, ALICE, HOME, 1).await;
        h.clock.advance(Duration::minutes(3));
    }
    login(&h, ALICE, PASSWORD, HOME).await.expect("six failures in 18 minutes do not lock");
    // Four failures, then the right password: a typo is forgiven.
    fail_times(&h, ALICE, HOME, 4).await;
    login(&h, ALICE, PASSWORD, HOME).await.expect("four failures do not lock");
    // Five within ten minutes lock, and the right password no longer works.
    fail_times(&h, ALICE, HOME, 4).await;
    h.clock.advance(Duration::minutes(9));
    fail_times(&h, ALICE, HOME, 1).await;
    let err = login(&h, ALICE, PASSWORD, HOME).await.unwrap_err();
    assert!(matches!(err, CoreError::Unauthenticated(_)), "{err:?}");
    assert_eq!(lock_minutes(&h).await, [("account-address".to_owned(), 10)]);
    let lockout = events(&h, "auth.lockout").await.remove(0);
    assert_eq!((lockout.actor.as_str(), lockout.source.as_deref()), (ALICE, Some(HOME)));
    let refused = events(&h, "auth.login").await.pop().unwrap();
    assert_eq!(refused.outcome, "failed");
    assert_eq!(detail(&refused)["locked"], "account-address", "the refusal says why, in the log only");
    // The lock ends after ten minutes; attempts during it do not prolong it.
    h.clock.advance(Duration::minutes(9));
    assert!(login(&h, ALICE, PASSWORD, HOME).await.is_err());
    fail_times(&h, ALICE, HOME, 10).await;
    h.clock.advance(Duration::minutes(1));
    login(&h, ALICE, PASSWORD, HOME).await.expect("unlocked once the time has passed");
    assert_eq!(lock_minutes(&h).await.len(), 1, "failures during a lock start no new lock");
    h.close().await;
}

async fn back_off_doubles_and_a_quiet_day_forgets_it(backend: Backend) {
    let (h, _) = with_alice(backend).await;
    for minutes in [10, 20, 40] {
        fail_times(&h, ALICE, ATTACKER, 5).await;
        h.clock.advance(Duration::minutes(minutes - 1));
        assert!(login(&h, ALICE, PASSWORD, ATTACKER).await.is_err(), "still locked after {} min", minutes - 1);
        h.clock.advance(Duration::minutes(1));
    }
    let pair = |m| ("account-address".to_owned(), m);
    assert_eq!(lock_minutes(&h).await, [pair(10), pair(20), pair(40)]);
    h.clock.advance(Duration::hours(24));
    fail_times(&h, ALICE, ATTACKER, 5).await;
    assert_eq!(lock_minutes(&h).await.last(), Some(&pair(10)), "back to the first length");
    h.close().await;
}

async fn an_administrator_clears_a_lockout(backend: Backend) {
    let (h, alice) = with_alice(backend).await;
    fail_times(&h, ALICE, HOME, 5).await;
    let listed = h.tutela.users(&operator()).await.unwrap();
    let until = listed.iter().find(|u| u.id == alice.id).unwrap().locked_until;
    assert_eq!(until, Some(h.tutela.clock().now() + Duration::minutes(10)), "the users list shows the lock");

    let err = h.tutela.clear_sign_in_lockout(&steward(), alice.id).await.unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
    assert!(login(&h, ALICE, PASSWORD, HOME).await.is_err(), "a refused unlock changes nothing");
    let err = h.tutela.clear_sign_in_lockout(&operator(), uuid::Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");

    h.tutela.clear_sign_in_lockout(&operator(), alice.id).await.unwrap();
    login(&h, ALICE, PASSWORD, HOME).await.expect("unlocked by the administrator");
    assert!(h.tutela.users(&operator()).await.unwrap().iter().all(|u| u.locked_until.is_none()));
    let unlocks = events(&h, "auth.unlock").await;
    let outcomes: Vec<&str> = unlocks.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["denied", "ok"]);
    assert_eq!(detail(&unlocks[1])["email"], ALICE);
    assert!(detail(&unlocks[1])["locked_until"].is_string(), "the lifted lock is recorded");
    h.close().await;
}

async fn an_attacker_elsewhere_cannot_lock_the_user_out(backend: Backend) {
    let (h, _) = with_alice(backend).await;
    login(&h, ALICE, PASSWORD, HOME).await.unwrap();
    // Guessing from one address locks that address out of the account, nothing more.
    fail_times(&h, ALICE, ATTACKER, 5).await;
    assert!(login(&h, ALICE, PASSWORD, ATTACKER).await.is_err());
    login(&h, ALICE, PASSWORD, HOME).await.expect("the user's own address is unaffected");
    // Guessing from many addresses locks the account, but only where the user never was.
    for i in 0..20 {
        fail_times(&h, ALICE, &format!("203.0.113.{i}"), 1).await;
    }
    assert!(lock_minutes(&h).await.contains(&("account".to_owned(), 10)));
    assert!(login(&h, ALICE, PASSWORD, "192.0.2.99").await.is_err(), "a new address is refused");
    login(&h, ALICE, PASSWORD, HOME).await.expect("an address the user signed in from is exempt");
    // The account-wide lock is short and ends by itself.
    h.clock.advance(Duration::minutes(10));
    login(&h, ALICE, PASSWORD, "192.0.2.99").await.expect("the account lock ended");
    h.close().await;
}

async fn spraying_one_address_locks_the_address(backend: Backend) {
    let (h, _) = with_alice(backend).await;
    let bob = NewUser {
        email: "bob@example.com".into(),
        display_name: "Bob".into(),
        password: SecretString::from(PASSWORD),
        roles: vec![],
    };
    h.tutela.create_user(&operator(), bob).await.unwrap();
    login(&h, ALICE, PASSWORD, HOME).await.unwrap();
    for i in 0..20 {
        fail_times(&h, &format!("guess{i}@example.com"), HOME, 1).await;
    }
    assert_eq!(lock_minutes(&h).await, [("address".to_owned(), 10)]);
    assert!(login(&h, "bob@example.com", PASSWORD, HOME).await.is_err(), "the address is locked");
    login(&h, "bob@example.com", PASSWORD, ATTACKER).await.expect("bob elsewhere is unaffected");
    login(&h, ALICE, PASSWORD, HOME).await.expect("alice signed in here before: exempt");
    h.close().await;
}

/// Every refusal: the same error, one failed `auth.login` event, one Argon2id verification
/// (real or dummy: counted, not timed). Unknown accounts lock like known ones.
async fn locked_unknown_and_wrong_answer_and_cost_the_same(backend: Backend) {
    let (h, _) = with_alice(backend).await;
    let hasher = h.tutela.password_hasher().clone();
    let mut answers = Vec::new();
    let mut attempt = async |email: &str, password: &str| {
        let (before_work, before_events) = (hasher.verifications(), events(&h, "auth.login").await.len());
        let err = login(&h, email, password, ATTACKER).await.unwrap_err();
        assert_eq!(hasher.verifications(), before_work + 1, "{email}: one verification");
        assert_eq!(events(&h, "auth.login").await.len(), before_events + 1, "{email}: one event");
        answers.push(err.to_string());
    };
    attempt(ALICE, WRONG).await;
    attempt("nobody@example.com", PASSWORD).await;
    attempt("not an address", PASSWORD).await;
    for _ in 0..4 {
        attempt(ALICE, WRONG).await;
        attempt("nobody@example.com", WRONG).await;
    }
    let locked: Vec<String> = events(&h, "auth.lockout").await.iter().map(|e| e.actor.clone()).collect();
    assert_eq!(locked, [ALICE, "nobody@example.com"], "both lock after the same failures");
    attempt(ALICE, PASSWORD).await;
    attempt("nobody@example.com", PASSWORD).await;
    answers.dedup();
    assert_eq!(answers.len(), 1, "one answer for all: {answers:?}");
    h.close().await;
}

tutela_core::on_both_stores! {
    five_failures_in_ten_minutes_lock_for_ten_minutes_ => five_failures_in_ten_minutes_lock_for_ten_minutes;
    back_off_doubles_and_a_quiet_day_forgets_it_ => back_off_doubles_and_a_quiet_day_forgets_it;
    an_administrator_clears_a_lockout_ => an_administrator_clears_a_lockout;
    an_attacker_elsewhere_cannot_lock_the_user_out_ => an_attacker_elsewhere_cannot_lock_the_user_out;
    spraying_one_address_locks_the_address_ => spraying_one_address_locks_the_address;
    locked_unknown_and_wrong_answer_and_cost_the_same_ => locked_unknown_and_wrong_answer_and_cost_the_same;
}
