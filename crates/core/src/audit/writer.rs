//! The single writer: group commit of mutations and their audit events.
//!
//! Requests queue on a channel; the writer takes whatever is waiting (up to a bound), links
//! the events into the chain, applies the mutations, signs one checkpoint for the new head
//! and commits once. Each caller is answered only after that commit, so an acknowledged
//! change or read is always in the log, at the cost of one sync per batch, not per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tutela_crypto::chain::{self, CheckpointSigner};
use tutela_store::{AuditCheckpoint, AuditRecord, Mutation, Store};

use super::canonical;
use super::event::AuditEvent;
use crate::clock::Clock;
use crate::stamp_cache;
use crate::{CoreError, CoreResult};

/// Every commit signs a checkpoint of the new head, and the previous head's checkpoint is
/// dropped unless it was the last in its block of this many events. The newest checkpoint
/// vouches for every event before it through the chain, so what is kept is one signature per
/// block to verify, plus the newest; and deleting the newest commit with its checkpoint
/// leaves the events since the last kept checkpoint unsigned, which verification names.
pub const CHECKPOINT_BLOCK: i64 = 10_000;

/// Requests merged into one transaction at most.
const MAX_BATCH: usize = 512;
const QUEUE: usize = 8192;

/// The current checkpoint-signing key and its version.
pub struct Signer {
    pub version: u32,
    pub key: CheckpointSigner,
}

struct Request {
    mutations: Vec<Mutation>,
    events: Vec<AuditEvent>,
    reply: oneshot::Sender<CoreResult<()>>,
}

enum Message {
    Write(Request),
    Close(oneshot::Sender<()>),
}

/// Handle to the audit writer. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    sender: mpsc::Sender<Message>,
    /// Woken after a commit that enqueued notices (see `notify`).
    notices: Arc<Notify>,
    depth: Arc<AtomicUsize>,
    commits: Arc<AtomicU64>,
}

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>, signer: Signer, clock: Arc<dyn Clock>) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let depth = Arc::new(AtomicUsize::new(0));
        let commits = Arc::new(AtomicU64::new(0));
        let notices = Arc::new(Notify::new());
        let writer =
            Writer { store, signer, clock, depth: depth.clone(), commits: commits.clone(), notices: notices.clone() };
        let handle = tokio::spawn(writer.run(receiver));
        (Self { sender, notices, depth, commits }, handle)
    }

    /// Appends one event and waits until it is committed.
    pub async fn record(&self, event: AuditEvent) -> CoreResult<()> {
        self.commit(Vec::new(), vec![event]).await
    }

    /// Applies the mutations and appends the events atomically; returns after the commit.
    pub async fn commit(&self, mutations: Vec<Mutation>, events: Vec<AuditEvent>) -> CoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.sender.send(Message::Write(Request { mutations, events, reply })).await.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(CoreError::Internal("the audit writer has stopped".into()));
        }
        answer.await.map_err(|_| CoreError::Internal("the audit writer has stopped".into()))?
    }

    /// Notified after each commit that enqueued notices: the delivery loop waits on it.
    pub fn notices_enqueued(&self) -> Arc<Notify> {
        self.notices.clone()
    }

    /// Requests waiting to be committed (a metric).
    pub fn queue_depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Transactions committed since start (a metric: requests per commit shows the grouping).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Commits everything queued so far, then stops the writer.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

struct Writer {
    store: Arc<dyn Store>,
    signer: Signer,
    clock: Arc<dyn Clock>,
    depth: Arc<AtomicUsize>,
    commits: Arc<AtomicU64>,
    notices: Arc<Notify>,
}

impl Writer {
    async fn run(self, mut receiver: mpsc::Receiver<Message>) {
        let mut closing = None;
        while let Some(message) = receiver.recv().await {
            let mut batch = Vec::new();
            match message {
                Message::Write(r) => batch.push(r),
                Message::Close(done) => closing = Some(done),
            }
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(Message::Write(r)) => batch.push(r),
                    Ok(Message::Close(done)) => closing = Some(done),
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.write(batch).await;
            }
            if let Some(done) = closing.take() {
                receiver.close();
                // Drain what was sent before the close took effect.
                let mut rest = Vec::new();
                while let Ok(Message::Write(r)) = receiver.try_recv() {
                    rest.push(r);
                }
                if !rest.is_empty() {
                    self.write(rest).await;
                }
                let _ = done.send(());
                return;
            }
        }
    }

    async fn write(&self, batch: Vec<Request>) {
        let n = batch.len();
        let result = self.commit(&batch).await;
        match result {
            Ok(()) => {
                for r in batch {
                    let _ = r.reply.send(Ok(()));
                }
            }
            // One request's conflict must not fail its neighbours: retry each on its own.
            Err(_) if n > 1 => {
                for r in batch {
                    let one = self.commit(std::slice::from_ref(&r)).await;
                    let _ = r.reply.send(one);
                }
            }
            Err(e) => {
                for r in batch {
                    let _ = r.reply.send(Err(CoreError::from_ref(&e)));
                }
            }
        }
        self.depth.fetch_sub(n, Ordering::Relaxed);
    }

    async fn commit(&self, batch: &[Request]) -> CoreResult<()> {
        let mut tx = self.store.begin_write().await?;
        let (mut seq, mut prev) = tx.audit_head().await?.unwrap_or((0, chain::GENESIS));
        let previous_head = seq;
        let mut records = Vec::new();
        let mut buffer = Vec::with_capacity(256);
        let mut restamp = false;
        let mut notices = false;
        for request in batch {
            for mutation in &request.mutations {
                tx.apply(mutation).await?;
                restamp |= stamp_cache::invalidates(mutation);
                notices |= crate::notify::enqueues(mutation);
            }
            for event in &request.events {
                seq += 1;
                let mut record = AuditRecord {
                    seq,
                    at: self.clock.now(),
                    actor_id: event.actor_id,
                    actor: event.actor.clone(),
                    action: event.action.to_owned(),
                    outcome: event.outcome.as_str().to_owned(),
                    customer_id: event.customer_id,
                    fields: event.fields.clone(),
                    purpose: event.purpose.clone(),
                    source: event.source.clone(),
                    detail: event.detail.as_ref().map(ToString::to_string),
                    hash: [0; 32],
                };
                canonical::encode_into(&record, &mut buffer);
                record.hash = chain::link(&prev, &buffer);
                prev = record.hash;
                records.push(record);
            }
        }
        if restamp {
            tx.apply(&stamp_cache::new_stamp()).await?;
        }
        if !records.is_empty() {
            tx.append_audit(&records).await?;
            let at = self.clock.now();
            let message = canonical::checkpoint_message(seq, &prev, at.unix_timestamp_nanos() / 1000);
            tx.put_checkpoint(&AuditCheckpoint {
                seq,
                hash: prev,
                at,
                key_version: self.signer.version,
                signature: self.signer.key.sign(&message).to_vec(),
            })
            .await?;
            if superseded(previous_head, seq) {
                tx.delete_checkpoint(previous_head).await?;
            }
        }
        tx.commit().await?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        if notices {
            self.notices.notify_one();
        }
        Ok(())
    }
}

/// Whether the checkpoint at the previous head goes once the new head is signed: it stays
/// only as the last of its block (or when there was none).
fn superseded(previous_head: i64, new_head: i64) -> bool {
    previous_head > 0 && previous_head / CHECKPOINT_BLOCK == new_head / CHECKPOINT_BLOCK
}

impl CoreError {
    /// A copy for fanning one failure out to several waiting callers.
    fn from_ref(e: &CoreError) -> CoreError {
        match e {
            CoreError::Invalid { field, message } => {
                CoreError::Invalid { field: field.clone(), message: message.clone() }
            }
            CoreError::NotFound(what) => CoreError::NotFound(what),
            CoreError::Conflict(m) => CoreError::Conflict(m.clone()),
            CoreError::Unauthenticated(m) => CoreError::Unauthenticated(m.clone()),
            CoreError::SecondFactorRequired => CoreError::SecondFactorRequired,
            CoreError::ReauthRequired => CoreError::ReauthRequired,
            CoreError::Forbidden(m) => CoreError::Forbidden(m.clone()),
            CoreError::ApprovalRequired(m) => CoreError::ApprovalRequired(m.clone()),
            CoreError::Internal(m) => CoreError::Internal(m.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CHECKPOINT_BLOCK, superseded};

    #[test]
    fn one_checkpoint_kept_per_block() {
        assert!(!superseded(0, 5), "no previous checkpoint");
        assert!(superseded(5, 9));
        assert!(superseded(CHECKPOINT_BLOCK - 2, CHECKPOINT_BLOCK - 1));
        assert!(!superseded(CHECKPOINT_BLOCK - 1, CHECKPOINT_BLOCK), "last of its block");
        assert!(!superseded(CHECKPOINT_BLOCK - 3, CHECKPOINT_BLOCK + 40), "the commit crossed the boundary");
        assert!(superseded(CHECKPOINT_BLOCK, CHECKPOINT_BLOCK + 1), "first of a block, not the last");
    }
}
