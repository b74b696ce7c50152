//! The failures and lock of one key (an account, an address, or the two together), in the
//! manner of fail2ban: `max_failures` within `window` lock the key; each lock lasts twice the
//! one before, up to `max_lock`; a quiet day forgets the past locks.

use std::collections::VecDeque;

use time::{Duration, OffsetDateTime};

use super::bounded::Aged;

/// When failures lock a key, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    pub max_failures: u32,
    /// Failures older than this no longer count.
    pub window: Duration,
    /// The first lock; each further one doubles.
    pub first_lock: Duration,
    /// No single lock is longer, however many came before.
    pub max_lock: Duration,
}

impl LockoutRule {
    /// The length of the lock after `earlier` locks.
    pub fn lock_length(&self, earlier: u32) -> Duration {
        // 2^20 first locks is far beyond any sensible cap; stopping there avoids overflow.
        let factor = 1_i32 << earlier.min(20);
        self.first_lock.checked_mul(factor).map_or(self.max_lock, |d| d.min(self.max_lock))
    }
}

/// A lock that has just begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    pub until: OffsetDateTime,
    pub length: Duration,
    /// How many locks in a row this key has had, this one included.
    pub count: u32,
}

#[derive(Debug, Clone)]
pub struct Tracker {
    /// Failures within the window, oldest first; never more than `max_failures`.
    failures: VecDeque<OffsetDateTime>,
    locked_until: Option<OffsetDateTime>,
    /// Locks so far, for the back-off; forgotten `forget_after` the last one ended.
    locks: u32,
    /// The last failure, for evicting the stalest keys first.
    touched: OffsetDateTime,
    /// From then on there is nothing to remember: no failure that still counts, no lock, no
    /// back-off.
    idle_from: OffsetDateTime,
}

impl Aged for Tracker {
    fn touched(&self) -> OffsetDateTime {
        self.touched
    }

    fn forgettable(&self, now: OffsetDateTime) -> bool {
        now >= self.idle_from
    }
}

impl Tracker {
    pub fn new(now: OffsetDateTime) -> Self {
        Self { failures: VecDeque::new(), locked_until: None, locks: 0, touched: now, idle_from: now }
    }

    /// The end of the current lock, if one holds at `now`.
    pub fn locked_at(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.locked_until.filter(|&until| now < until)
    }

    /// Counts a failure; returns the lock it starts, if it reaches the limit.
    pub fn fail(&mut self, rule: &LockoutRule, forget_after: Duration, now: OffsetDateTime) -> Option<Lock> {
        self.touched = now;
        if self.locked_until.is_some_and(|until| now >= until + forget_after) {
            self.locks = 0;
            self.locked_until = None;
        }
        while self.failures.front().is_some_and(|&t| now - t >= rule.window) {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        self.idle_from = self.idle_from.max(now + rule.window);
        if self.failures.len() < rule.max_failures as usize {
            return None;
        }
        self.failures.clear();
        let length = rule.lock_length(self.locks);
        self.locks += 1;
        let until = now + length;
        self.locked_until = Some(until);
        self.idle_from = self.idle_from.max(until + forget_after);
        Some(Lock { until, length, count: self.locks })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const RULE: LockoutRule = LockoutRule {
        max_failures: 5,
        window: Duration::minutes(10),
        first_lock: Duration::minutes(10),
        max_lock: Duration::hours(24),
    };
    const FORGET: Duration = Duration::hours(24);

    #[test]
    fn lock_lengths_double_up_to_the_cap() {
        let minutes: Vec<i64> = (0..10).map(|n| RULE.lock_length(n).whole_minutes()).collect();
        assert_eq!(minutes, [10, 20, 40, 80, 160, 320, 640, 1280, 1440, 1440]);
        assert_eq!(RULE.lock_length(u32::MAX), Duration::hours(24));
    }

    #[test]
    fn five_failures_within_the_window_lock() {
        let t0 = datetime!(2025-01-01 0:00 UTC);
        let mut t = Tracker::new(t0);
        for i in 0..4 {
            assert_eq!(t.fail(&RULE, FORGET, t0 + Duration::minutes(i * 2)), None);
        }
        let lock = t.fail(&RULE, FORGET, t0 + Duration::minutes(9)).unwrap();
        assert_eq!(lock, Lock { until: t0 + Duration::minutes(19), length: Duration::minutes(10), count: 1 });
        assert_eq!(t.locked_at(t0 + Duration::minutes(18)), Some(lock.until));
        assert_eq!(t.locked_at(lock.until), None);
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let t0 = datetime!(2025-01-01 0:00 UTC);
        let mut t = Tracker::new(t0);
        for i in 0..20 {
            assert_eq!(t.fail(&RULE, FORGET, t0 + Duration::minutes(i * 3)), None, "failure {i}");
        }
    }

    #[test]
    fn the_back_off_is_forgotten_after_a_quiet_day() {
        let t0 = datetime!(2025-01-01 0:00 UTC);
        let mut t = Tracker::new(t0);
        let mut now = t0;
        let lock_five = |t: &mut Tracker, now: OffsetDateTime| {
            for _ in 0..4 {
                assert_eq!(t.fail(&RULE, FORGET, now), None);
            }
            t.fail(&RULE, FORGET, now).expect("the fifth failure locks")
        };
        assert_eq!(lock_five(&mut t, now).length, Duration::minutes(10));
        now += Duration::minutes(10);
        assert_eq!(lock_five(&mut t, now).length, Duration::minutes(20));
        now += Duration::minutes(20);
        assert!(!t.forgettable(now), "the back-off is still remembered");
        now += FORGET;
        assert!(t.forgettable(now));
        assert_eq!(
            lock_five(&mut t, now),
            Lock { until: now + Duration::minutes(10), length: Duration::minutes(10), count: 1 }
        );
    }
}
