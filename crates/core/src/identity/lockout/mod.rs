//! Sign-in protection: throttling and temporary lockout after repeated failures, in the manner
//! of fail2ban (5 failures in 10 minutes lock for 10 minutes, each further lock twice as long),
//! without handing an attacker a way to lock a user out for good.
//!
//! Three counters, one rule each ([`SignInLimits::default`]):
//!
//! * **account and address together** — strict: 5 failures in 10 minutes, locks of 10
//!   minutes doubling up to 24 hours. It stops guessing one account from one place, and it
//!   is the only lock that touches a user at an address they have signed in from before.
//! * **account** (from any address) — 20 failures in 10 minutes, locks of 10 minutes
//!   doubling up to 1 hour. It slows guessing one account from many addresses (a botnet).
//! * **address** (on any account) — 20 failures in 10 minutes, locks of 10 minutes doubling
//!   up to 24 hours. It slows trying one password on many accounts (spraying).
//!
//! The account and address locks do not apply where this account signed in with its password
//! during the last 30 days ("trusted" pairs). So an attacker elsewhere can lock a user out only
//! of addresses the user has never used, and for an hour at most per lock; to lock a user out
//! of their usual address the attacker must fail from that very address, and even then each
//! lock ends, the back-off is forgotten after a quiet day, and an administrator can clear it.
//! Attempts refused during a lock are not counted, so they do not prolong it.
//!
//! Unknown accounts are counted and locked exactly like real ones (by the e-mail as typed),
//! and a refusal for a lock gets the same answer, the same audit event and the same password
//! hashing work as a wrong password: a lock tells nothing about whether the account exists.
//!
//! The state lives in memory, per node, bounded in size (see [`bounded`]); it is lost on
//! restart, and nodes sharing one PostgreSQL database count separately.

mod bounded;
mod keys;
mod tracker;

pub(crate) use keys::account as account_key;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::{Duration, OffsetDateTime};

use bounded::{Aged, Bounded};
pub use tracker::LockoutRule;
use tracker::Tracker;

/// How failed sign-ins are counted and locked; see the module notes for why these values.
#[derive(Debug, Clone)]
pub struct SignInLimits {
    pub per_account_and_address: LockoutRule,
    pub per_account: LockoutRule,
    pub per_address: LockoutRule,
    /// A quiet period this long after a lock ends resets the back-off to the first length.
    pub forget_after: Duration,
    /// How long a password sign-in from an address exempts that account there from the
    /// account-wide and address-wide locks.
    pub trust_for: Duration,
    /// The most keys each kind of counter holds.
    pub max_entries: usize,
}

impl Default for SignInLimits {
    fn default() -> Self {
        let rule = |max_failures, max_lock| LockoutRule {
            max_failures,
            window: Duration::minutes(10),
            first_lock: Duration::minutes(10),
            max_lock,
        };
        Self {
            per_account_and_address: rule(5, Duration::hours(24)),
            per_account: rule(20, Duration::hours(1)),
            per_address: rule(20, Duration::hours(24)),
            forget_after: Duration::hours(24),
            trust_for: Duration::days(30),
            max_entries: 50_000,
        }
    }
}

/// Which counter a lock belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockScope {
    AccountAndAddress,
    Account,
    Address,
}

impl LockScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountAndAddress => "account-address",
            Self::Account => "account",
            Self::Address => "address",
        }
    }
}

/// A lock that holds, or that has just begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveLock {
    pub scope: LockScope,
    pub until: OffsetDateTime,
    /// Locks in a row on this counter, this one included (0 when only checked, not begun).
    pub count: u32,
}

/// An address where an account signed in, and until when that exempts it.
#[derive(Debug)]
struct Trust {
    at: OffsetDateTime,
    until: OffsetDateTime,
}

impl Aged for Trust {
    fn touched(&self) -> OffsetDateTime {
        self.at
    }

    fn forgettable(&self, now: OffsetDateTime) -> bool {
        now >= self.until
    }
}

struct State {
    pairs: Bounded<(String, String), Tracker>,
    accounts: Bounded<String, Tracker>,
    addresses: Bounded<String, Tracker>,
    trusted: Bounded<(String, String), Trust>,
}

/// The sign-in counters of one node.
pub struct Lockouts {
    limits: SignInLimits,
    state: Mutex<State>,
}

impl std::fmt::Debug for Lockouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockouts").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Lockouts {
    pub fn new(limits: SignInLimits) -> Self {
        let n = limits.max_entries;
        let state = State {
            pairs: Bounded::new(n),
            accounts: Bounded::new(n),
            addresses: Bounded::new(n),
            trusted: Bounded::new(n),
        };
        Self { limits, state: Mutex::new(state) }
    }

    /// Every operation finishes its changes before it could panic, so the state behind a
    /// poisoned lock is still consistent: use it rather than fail every later sign-in.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lock that refuses a sign-in as `account` (as typed) from `source` now, if any.
    pub fn refusal(&self, account: &str, source: Option<&str>, now: OffsetDateTime) -> Option<ActiveLock> {
        let (account, address) = (keys::account(account), keys::address(source));
        let state = self.state();
        let held = |tracker: Option<&Tracker>, scope| {
            tracker.and_then(|t| t.locked_at(now)).map(|until| ActiveLock { scope, until, count: 0 })
        };
        let pair = (account, address);
        if let Some(lock) = held(state.pairs.get(&pair), LockScope::AccountAndAddress) {
            return Some(lock);
        }
        if state.trusted.get(&pair).is_some_and(|t| !t.forgettable(now)) {
            return None;
        }
        let (account, address) = pair;
        held(state.accounts.get(&account), LockScope::Account)
            .or_else(|| source.and_then(|_| held(state.addresses.get(&address), LockScope::Address)))
    }

    /// Counts a failed sign-in; returns the locks it starts.
    pub fn failed(&self, account: &str, source: Option<&str>, now: OffsetDateTime) -> Vec<ActiveLock> {
        let (account, address) = (keys::account(account), keys::address(source));
        let limits = &self.limits;
        let forget = limits.forget_after;
        let mut state = self.state();
        let mut started = Vec::new();
        let mut count = |tracker: &mut Tracker, rule: &LockoutRule, scope| {
            if let Some(lock) = tracker.fail(rule, forget, now) {
                started.push(ActiveLock { scope, until: lock.until, count: lock.count });
            }
        };
        let pair = state.pairs.entry((account.clone(), address.clone()), now, || Tracker::new(now));
        count(pair, &limits.per_account_and_address, LockScope::AccountAndAddress);
        let overall = state.accounts.entry(account, now, || Tracker::new(now));
        count(overall, &limits.per_account, LockScope::Account);
        // Callers inside the process have no address to blame.
        if source.is_some() {
            let place = state.addresses.entry(address, now, || Tracker::new(now));
            count(place, &limits.per_address, LockScope::Address);
        }
        started
    }

    /// A correct password: the pair's failures are forgiven (the user mistyped) and the
    /// address becomes trusted for this account. The account and address counters keep
    /// counting, or one valid account would let an attacker reset them.
    pub fn succeeded(&self, account: &str, source: Option<&str>, now: OffsetDateTime) {
        let pair = (keys::account(account), keys::address(source));
        let mut state = self.state();
        state.pairs.remove(&pair);
        state.trusted.insert(pair, Trust { at: now, until: now + self.limits.trust_for }, now);
    }

    /// Forgets every counter of `account`, account-wide and from every address (an
    /// administrator's unlock). Address-wide counters stay: they are about the address.
    pub fn clear_account(&self, account: &str) {
        let account = keys::account(account);
        let mut state = self.state();
        state.accounts.remove(&account);
        state.pairs.retain(|(a, _), _| *a != account);
    }

    /// The accounts with a lock at `now` (account-wide or from some address), each with the
    /// end of its latest lock.
    pub fn locked_accounts(&self, now: OffsetDateTime) -> HashMap<String, OffsetDateTime> {
        let state = self.state();
        let mut locked: HashMap<String, OffsetDateTime> = HashMap::new();
        let held = state.accounts.iter().chain(state.pairs.iter().map(|((a, _), t)| (a, t)));
        for (account, tracker) in held {
            if let Some(until) = tracker.locked_at(now) {
                let latest = locked.entry(account.clone()).or_insert(until);
                *latest = (*latest).max(until);
            }
        }
        locked
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2025-01-01 0:00 UTC);

    fn fail_times(l: &Lockouts, account: &str, source: &str, times: u32, now: OffsetDateTime) -> Vec<ActiveLock> {
        (0..times).flat_map(|_| l.failed(account, Some(source), now)).collect()
    }

    #[test]
    fn the_pair_locks_first_and_only_where_the_failures_came_from() {
        let l = Lockouts::new(SignInLimits::default());
        let locks = fail_times(&l, "a@x.cn", "192.0.2.1", 5, T0);
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].scope, LockScope::AccountAndAddress);
        assert_eq!(l.refusal("A@X.cn", Some("192.0.2.1"), T0).map(|r| r.scope), Some(LockScope::AccountAndAddress));
        assert_eq!(l.refusal("a@x.cn", Some("192.0.2.2"), T0), None, "another address is not locked");
        assert_eq!(l.refusal("b@x.cn", Some("192.0.2.1"), T0), None, "another account is not locked");
        assert_eq!(l.refusal("a@x.cn", Some("192.0.2.1"), T0 + Duration::minutes(10)), None, "the lock ends");
    }

    #[test]
    fn trusted_addresses_escape_account_and_address_locks_but_not_their_own() {
        let l = Lockouts::new(SignInLimits::default());
        l.succeeded("a@x.cn", Some("192.0.2.1"), T0);
        // A botnet: 20 addresses, one failure each, lock the account everywhere else.
        let locks: Vec<_> = (0..20).flat_map(|i| l.failed("a@x.cn", Some(&format!("198.51.100.{i}")), T0)).collect();
        assert_eq!(locks.iter().map(|l| l.scope).collect::<Vec<_>>(), [LockScope::Account]);
        assert_eq!(l.refusal("a@x.cn", Some("203.0.113.9"), T0).map(|r| r.scope), Some(LockScope::Account));
        assert_eq!(l.refusal("a@x.cn", Some("192.0.2.1"), T0), None, "the user's own address still works");
        // Failures from the trusted address itself still lock that pair.
        fail_times(&l, "a@x.cn", "192.0.2.1", 5, T0);
        assert!(l.refusal("a@x.cn", Some("192.0.2.1"), T0).is_some());
        // Trust expires.
        let later = T0 + Duration::days(31);
        fail_times(&l, "a@x.cn", "198.51.100.1", 20, later);
        assert!(l.refusal("a@x.cn", Some("192.0.2.1"), later).is_some());
    }

    #[test]
    fn spraying_from_one_address_locks_the_address() {
        let l = Lockouts::new(SignInLimits::default());
        let locks: Vec<_> = (0..20).flat_map(|i| l.failed(&format!("u{i}@x.cn"), Some("192.0.2.66"), T0)).collect();
        assert_eq!(locks.iter().map(|l| l.scope).collect::<Vec<_>>(), [LockScope::Address]);
        assert_eq!(l.refusal("new@x.cn", Some("192.0.2.66"), T0).map(|r| r.scope), Some(LockScope::Address));
        assert_eq!(l.refusal("new@x.cn", Some("192.0.2.67"), T0), None);
    }

    #[test]
    fn account_locks_are_capped_at_an_hour() {
        let l = Lockouts::new(SignInLimits::default());
        let mut now = T0;
        let mut lengths = Vec::new();
        for round in 0..5 {
            let locks: Vec<_> =
                (0..20).flat_map(|i| l.failed("a@x.cn", Some(&format!("10.{round}.0.{i}")), now)).collect();
            let lock = locks.iter().find(|l| l.scope == LockScope::Account).expect("an account lock");
            lengths.push((lock.until - now).whole_minutes());
            now = lock.until;
        }
        assert_eq!(lengths, [10, 20, 40, 60, 60]);
    }

    #[test]
    fn success_forgives_the_pair_and_clearing_forgets_the_account() {
        let l = Lockouts::new(SignInLimits::default());
        fail_times(&l, "a@x.cn", "192.0.2.1", 4, T0);
        l.succeeded("a@x.cn", Some("192.0.2.1"), T0);
        assert!(fail_times(&l, "a@x.cn", "192.0.2.1", 4, T0).is_empty(), "the count started again");
        fail_times(&l, "a@x.cn", "192.0.2.1", 1, T0);
        fail_times(&l, "a@x.cn", "192.0.2.2", 5, T0);
        assert_eq!(l.locked_accounts(T0).len(), 1);
        l.clear_account("A@x.cn");
        assert!(l.refusal("a@x.cn", Some("192.0.2.1"), T0).is_none());
        assert!(l.refusal("a@x.cn", Some("192.0.2.2"), T0).is_none());
        assert!(l.locked_accounts(T0).is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_made_up_accounts() {
        let limits = SignInLimits { max_entries: 100, ..SignInLimits::default() };
        let l = Lockouts::new(limits);
        for i in 0..5_000 {
            l.failed(&format!("nobody{i}@x.cn"), Some(&format!("10.0.{}.{}", i / 256, i % 256)), T0);
        }
        let state = l.state();
        assert!(state.pairs.len() <= 100 && state.accounts.len() <= 100 && state.addresses.len() <= 100);
    }
}
