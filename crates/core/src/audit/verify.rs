//! Walking the chain: recompute every hash, check every checkpoint signature, and name the
//! first event that does not fit.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tutela_crypto::chain;
use tutela_store::{AuditCheckpoint, AuditRecord, Store};

use super::canonical;
use crate::CoreResult;

/// Events read per round trip.
const PAGE: u32 = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyProblem {
    /// The event's content does not match its hash (changed, or swapped with another).
    Altered { seq: i64 },
    /// A sequence number is missing (deleted) or out of place (inserted).
    Gap { expected: i64, found: i64 },
    /// A checkpoint's signature fails, or it vouches for a different hash than the chain has.
    BadCheckpoint { seq: i64 },
    /// Checkpoints vouch for events that are no longer there (the newest were deleted).
    Truncated { last_present: i64, checkpoint: i64 },
    /// Events after the last signed checkpoint (appended by something other than Tutela).
    Unsigned { seq: i64 },
}

impl VerifyProblem {
    /// The first event at fault.
    pub fn seq(&self) -> i64 {
        match self {
            Self::Altered { seq } | Self::BadCheckpoint { seq } | Self::Unsigned { seq } => *seq,
            Self::Gap { expected, .. } => *expected,
            Self::Truncated { last_present, .. } => last_present + 1,
        }
    }
}

impl fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered { seq } => write!(f, "event {seq} has been altered: its content does not match its hash"),
            Self::Gap { expected, found } => {
                write!(f, "event {expected} is missing or out of place: the next event found is {found}")
            }
            Self::BadCheckpoint { seq } => {
                write!(f, "the signed checkpoint at event {seq} does not verify")
            }
            Self::Truncated { last_present, checkpoint } => write!(
                f,
                "events {} to {checkpoint} have been deleted: a signed checkpoint vouches for them",
                last_present + 1
            ),
            Self::Unsigned { seq } => {
                write!(f, "event {seq} is not covered by any signed checkpoint")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub checkpoints: u64,
    pub head: Option<(i64, [u8; 32])>,
    /// The first problem, if any; verification stops there.
    pub problem: Option<VerifyProblem>,
}

/// Verifies the whole log against the checkpoint public keys (by key version).
/// `progress` is called with the number of events checked so far.
pub async fn verify<S: std::hash::BuildHasher + Sync>(
    store: &dyn Store,
    public_keys: &HashMap<u32, [u8; 32], S>,
    mut progress: impl FnMut(u64),
) -> CoreResult<VerifyReport> {
    let checkpoints: BTreeMap<i64, AuditCheckpoint> =
        store.audit_checkpoints().await?.into_iter().map(|c| (c.seq, c)).collect();
    let keys = Keys { checkpoints: &checkpoints, public_keys };
    let head = store.audit_head().await?.map_or(0, |(seq, _)| seq);
    let mut first = Lane::new(0, chain::GENESIS);
    // A long log is walked in two halves at once. Each event's check needs only the stored
    // hash of the one before, so the second half starts from the stored hash of the middle
    // event; the first half ends by checking that very event, so when the first half is
    // sound the second half's start is too, and when it is not, its problem comes first.
    let mut second = None;
    let mid = head / 2;
    if mid > 2 * i64::from(PAGE) {
        match store.audit_scan(mid - 1, 1).await?.pop() {
            Some(middle) if middle.seq == mid => {
                first.upto = Some(mid);
                second = Some(Lane::new(mid, middle.hash));
            }
            // Something is amiss around the middle: one walk from the start will name it.
            _ => {}
        }
    }
    loop {
        let (a, b) = tokio::join!(first.step(store, &keys), async {
            match second.as_mut() {
                Some(lane) => lane.step(store, &keys).await,
                None => Ok(()),
            }
        });
        a?;
        b?;
        progress(first.walk.report.events + second.as_ref().map_or(0, |l| l.walk.report.events));
        if first.done && second.as_ref().is_none_or(|l| l.done) {
            break;
        }
    }
    // The first problem in sequence order: the first half's, else the second's.
    let (mut report, last) = match second {
        Some(second) if first.walk.report.problem.is_none() => {
            let mut report = second.walk.report;
            report.events += first.walk.report.events;
            report.checkpoints += first.walk.report.checkpoints;
            (report, (second.walk.last_seq, second.walk.prev))
        }
        _ => (first.walk.report, (first.walk.last_seq, first.walk.prev)),
    };
    if report.events > 0 {
        report.head = Some(last);
    }
    if report.problem.is_none() {
        report.problem = tail_problem(&checkpoints, last.0);
    }
    Ok(report)
}

/// What every event is checked against.
struct Keys<'a, S> {
    checkpoints: &'a BTreeMap<i64, AuditCheckpoint>,
    public_keys: &'a HashMap<u32, [u8; 32], S>,
}

/// One walk along a stretch of the chain, reading ahead while it hashes.
struct Lane {
    walk: Walk,
    /// The last event of this stretch (`None`: to the end of the log).
    upto: Option<i64>,
    /// The next two pages, already read.
    pages: Option<(Vec<AuditRecord>, Vec<AuditRecord>)>,
    done: bool,
}

impl Lane {
    /// A walk of the events after `after_seq`, whose stored hash is `prev`.
    fn new(after_seq: i64, prev: [u8; 32]) -> Self {
        let report = VerifyReport { events: 0, checkpoints: 0, head: None, problem: None };
        let walk = Walk { report, prev, last_seq: after_seq, buffer: Vec::with_capacity(256) };
        Self { walk, upto: None, pages: None, done: false }
    }

    /// Checks the next two pages while the two after them are read (each on a blocking
    /// thread, or over the network). The second read assumes the first page is dense (PAGE
    /// events with consecutive numbers); it is only walked when the first page was, since a
    /// gap stops the walk, so the assumption is checked before it is relied on.
    async fn step<S: std::hash::BuildHasher + Sync>(
        &mut self,
        store: &dyn Store,
        keys: &Keys<'_, S>,
    ) -> CoreResult<()> {
        if self.done {
            return Ok(());
        }
        let (mut first, mut second) = if let Some(pages) = self.pages.take() {
            pages
        } else {
            let after = self.walk.last_seq;
            let (first, second) =
                tokio::join!(store.audit_scan(after, PAGE), store.audit_scan(after + i64::from(PAGE), PAGE));
            (first?, second?)
        };
        if let Some(upto) = self.upto {
            first.retain(|r| r.seq <= upto);
            second.retain(|r| r.seq <= upto);
        }
        let Some(last) = second.last().or(first.last()).map(|r| r.seq) else {
            self.done = true;
            return Ok(());
        };
        let reached_end = self.upto.is_some_and(|upto| last >= upto);
        let walk = &mut self.walk;
        let (next_first, next_second, walked_on) =
            tokio::join!(store.audit_scan(last, PAGE), store.audit_scan(last + i64::from(PAGE), PAGE), async {
                walk.page(&first, keys.checkpoints, keys.public_keys)
                    && walk.page(&second, keys.checkpoints, keys.public_keys)
            });
        if walked_on && !reached_end {
            self.pages = Some((next_first?, next_second?));
        } else {
            self.done = true;
        }
        Ok(())
    }
}

/// Where the walk along the chain is.
struct Walk {
    report: VerifyReport,
    prev: [u8; 32],
    last_seq: i64,
    buffer: Vec<u8>,
}

impl Walk {
    /// Checks the next page of events; false once a problem is found.
    fn page<S: std::hash::BuildHasher>(
        &mut self,
        page: &[AuditRecord],
        checkpoints: &BTreeMap<i64, AuditCheckpoint>,
        public_keys: &HashMap<u32, [u8; 32], S>,
    ) -> bool {
        for record in page {
            let problem = if record.seq == self.last_seq + 1 {
                canonical::encode_into(record, &mut self.buffer);
                let hash = chain::link(&self.prev, &self.buffer);
                match checkpoints.get(&record.seq) {
                    _ if hash != record.hash => Some(VerifyProblem::Altered { seq: record.seq }),
                    Some(cp) if !checkpoint_holds(cp, &hash, public_keys) => {
                        Some(VerifyProblem::BadCheckpoint { seq: cp.seq })
                    }
                    found => {
                        self.report.checkpoints += u64::from(found.is_some());
                        self.prev = hash;
                        self.last_seq = record.seq;
                        self.report.events += 1;
                        None
                    }
                }
            } else {
                Some(VerifyProblem::Gap { expected: self.last_seq + 1, found: record.seq })
            };
            if problem.is_some() {
                self.report.problem = problem;
                return false;
            }
        }
        true
    }
}

fn checkpoint_holds<S: std::hash::BuildHasher>(
    cp: &AuditCheckpoint,
    hash: &[u8; 32],
    public_keys: &HashMap<u32, [u8; 32], S>,
) -> bool {
    let Some(key) = public_keys.get(&cp.key_version) else {
        return false;
    };
    let message = canonical::checkpoint_message(cp.seq, &cp.hash, cp.at.unix_timestamp_nanos() / 1000);
    cp.hash == *hash && chain::verify_signature(key, &message, &cp.signature)
}

/// After a clean walk: a checkpoint beyond the last event means deleted events; events
/// beyond the last checkpoint were not written by Tutela's writer, which signs every commit.
fn tail_problem(checkpoints: &BTreeMap<i64, AuditCheckpoint>, last_seq: i64) -> Option<VerifyProblem> {
    let newest = checkpoints.keys().next_back().copied().unwrap_or(0);
    match newest.cmp(&last_seq) {
        std::cmp::Ordering::Greater => Some(VerifyProblem::Truncated { last_present: last_seq, checkpoint: newest }),
        std::cmp::Ordering::Less => Some(VerifyProblem::Unsigned { seq: newest + 1 }),
        std::cmp::Ordering::Equal => None,
    }
}
