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
    let mut walk = Walk {
        report: VerifyReport { events: 0, checkpoints: 0, head: None, problem: None },
        prev: chain::GENESIS,
        last_seq: 0,
        buffer: Vec::with_capacity(256),
    };
    // Two pages are read at once (each on a blocking thread, or over the network) while the
    // two before them are hashed here. The second read assumes the first page is dense
    // (PAGE events with consecutive numbers); it is only walked when the first page was,
    // since a gap stops the walk, so the assumption is checked before it is relied on.
    let (first, second) = tokio::join!(store.audit_scan(0, PAGE), store.audit_scan(i64::from(PAGE), PAGE));
    let (mut first, mut second) = (first?, second?);
    while let Some(last) = second.last().or(first.last()).map(|r| r.seq) {
        let (next_first, next_second, walked_on) =
            tokio::join!(store.audit_scan(last, PAGE), store.audit_scan(last + i64::from(PAGE), PAGE), async {
                walk.page(&first, &checkpoints, public_keys) && walk.page(&second, &checkpoints, public_keys)
            });
        progress(walk.report.events);
        if !walked_on {
            break;
        }
        (first, second) = (next_first?, next_second?);
    }
    let mut report = walk.report;
    if report.events > 0 {
        report.head = Some((walk.last_seq, walk.prev));
    }
    if report.problem.is_none() {
        report.problem = tail_problem(&checkpoints, walk.last_seq);
    }
    Ok(report)
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
