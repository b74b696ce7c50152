//! Time as a dependency, so that expiry, TOTP and schedules can be tested without waiting.

use std::sync::Mutex;

use time::OffsetDateTime;

/// A time as RFC 3339 text, for messages and audit details.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, truncated to microseconds (what the stores keep).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that tests move by hand.
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Mutex::new(truncate_to_micros(start)))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.nanosecond() / 1000 * 1000;
    t.replace_nanosecond(micros).expect("a truncated nanosecond is valid")
}
