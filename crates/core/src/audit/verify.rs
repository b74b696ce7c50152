//! Walking the chain: recompute every hash, check every checkpoint signature, and name the
//! first event that does not fit.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use tutela_crypto::chain;
use tutela_store::{AuditCheckpoint, Store};

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
    let mut report = VerifyReport { events: 0, checkpoints: 0, head: None, problem: None };
    let mut prev = chain::GENESIS;
    let mut last_seq = 0_i64;
    let mut buffer = Vec::with_capacity(256);
    'pages: loop {
        let page = store.audit_scan(last_seq, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for record in &page {
            if record.seq != last_seq + 1 {
                report.problem = Some(VerifyProblem::Gap { expected: last_seq + 1, found: record.seq });
                break 'pages;
            }
            canonical::encode_into(record, &mut buffer);
            let hash = chain::link(&prev, &buffer);
            if hash != record.hash {
                report.problem = Some(VerifyProblem::Altered { seq: record.seq });
                break 'pages;
            }
            if let Some(cp) = checkpoints.get(&record.seq) {
                if !checkpoint_holds(cp, &hash, public_keys) {
                    report.problem = Some(VerifyProblem::BadCheckpoint { seq: cp.seq });
                    break 'pages;
                }
                report.checkpoints += 1;
            }
            prev = hash;
            last_seq = record.seq;
            report.events += 1;
        }
        progress(report.events);
    }
    if report.events > 0 {
        report.head = Some((last_seq, prev));
    }
    if report.problem.is_none() {
        report.problem = tail_problem(&checkpoints, last_seq);
    }
    Ok(report)
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
