//! The scheduler: [`Scheduler::run_due`] is one tick — every kind that is due and whose lease
//! this node gets runs once — and [`Scheduler::start`] calls it periodically in the background
//! until stopped. Due-ness and leases are reckoned by the Tutela clock, so tests drive the
//! scheduler by moving a manual clock and calling `run_due`, without waiting.

use std::sync::{Arc, Mutex, PoisonError};

use time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tutela_store::JobRunRow;
use uuid::Uuid;

use super::{JobKind, JobRunView, Progress, Watcher, kinds};
use crate::{CoreError, CoreResult, Tutela};

/// How long a lease lasts unless renewed: a node that dies holds its kinds this long at most.
pub const LEASE: Duration = Duration::seconds(60);
/// How often a running job's lease is renewed (wall-clock time), well within [`LEASE`].
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(20);
/// Runs looked at for the last start and for runs left behind by a node that stopped.
const RECENT: u32 = 20;

pub struct Scheduler {
    tutela: Arc<Tutela>,
    node: String,
    kinds: Vec<JobKind>,
    /// The run in progress, so that a stop which abandons it can say so and free its lease.
    current: Mutex<Option<JobRunRow>>,
}

/// The background loop; [`SchedulerHandle::stop`] ends it.
pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SchedulerHandle {
    /// Stops picking up work, lets a run in progress finish within the grace given to
    /// [`Scheduler::start`] (else records it abandoned and frees its lease), and waits.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Scheduler {
    /// A scheduler of every job kind for the node named `node` (unique among the nodes
    /// sharing the database).
    pub fn new(tutela: Arc<Tutela>, node: impl Into<String>) -> Self {
        Self { tutela, node: node.into(), kinds: kinds(), current: Mutex::new(None) }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// One tick: runs each kind that is due, if this node gets its lease. Returns the runs.
    pub async fn run_due(&self) -> CoreResult<Vec<JobRunView>> {
        let mut ran = Vec::new();
        for kind in &self.kinds {
            if let Some(run) = self.run_kind(kind, true, None).await? {
                ran.push(run);
            }
        }
        Ok(ran)
    }

    /// Runs one kind now, due or not, reporting progress to `watcher`. A conflict when
    /// another node is running it.
    pub async fn run_now(&self, name: &str, watcher: Option<Watcher>) -> CoreResult<JobRunView> {
        let Some(kind) = self.kinds.iter().find(|k| k.name == name) else {
            let known: Vec<&str> = self.kinds.iter().map(|k| k.name).collect();
            return Err(CoreError::invalid("kind", format!("unknown job kind {name:?}; known: {}", known.join(", "))));
        };
        self.run_kind(kind, false, watcher)
            .await?
            .ok_or_else(|| CoreError::Conflict(format!("{name} is being run by another node")))
    }

    async fn run_kind(
        &self,
        kind: &JobKind,
        only_if_due: bool,
        watcher: Option<Watcher>,
    ) -> CoreResult<Option<JobRunView>> {
        let store = self.tutela.store();
        let now = self.tutela.clock.now();
        if !store.job_lease_acquire(kind.name, &self.node, now, now + LEASE).await? {
            return Ok(None);
        }
        let result = self.run_leased(kind, only_if_due, watcher).await;
        if let Err(e) = store.job_lease_release(kind.name, &self.node).await {
            // It lapses on its own within LEASE.
            tracing::warn!(kind = kind.name, error = %e, "releasing a job lease failed");
        }
        result
    }

    async fn run_leased(
        &self,
        kind: &JobKind,
        only_if_due: bool,
        watcher: Option<Watcher>,
    ) -> CoreResult<Option<JobRunView>> {
        let store = self.tutela.store();
        let now = self.tutela.clock.now();
        let recent = store.job_runs(Some(kind.name), RECENT).await?;
        if only_if_due && recent.first().is_some_and(|last| last.started_at + kind.every > now) {
            return Ok(None);
        }
        // Holding the lease, this node is the only one running the kind: a run still marked
        // running was left by a node that stopped or lost its lease.
        for mut stale in recent.into_iter().filter(|r| r.status == "running") {
            "failed".clone_into(&mut stale.status);
            stale.finished_at = Some(now);
            stale.summary = Some("abandoned: its node stopped before it finished".into());
            store.job_run_put(&stale).await?;
        }
        let run = JobRunRow {
            id: Uuid::now_v7(),
            kind: kind.name.to_owned(),
            node: self.node.clone(),
            started_at: now,
            finished_at: None,
            status: "running".into(),
            done: 0,
            total: None,
            summary: None,
        };
        store.job_run_put(&run).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(run.clone());
        let shared = Arc::new(tokio::sync::Mutex::new(run));
        let progress = Progress { store: store.clone(), run: shared.clone(), watcher };
        let outcome = tokio::select! {
            outcome = (kind.run)(self.tutela.clone(), progress) => Some(outcome),
            () = self.keep_lease(kind.name) => None,
        };
        let mut run = shared.lock().await.clone();
        run.finished_at = Some(self.tutela.clock.now());
        let (status, summary) = match outcome {
            Some(Ok(outcome)) => ("succeeded", outcome.summary),
            Some(Err(e)) => {
                tracing::warn!(kind = kind.name, error = %e, "job failed");
                ("failed", e.to_string())
            }
            None => ("failed", "abandoned: the node lost its lease".to_owned()),
        };
        status.clone_into(&mut run.status);
        run.summary = Some(summary);
        store.job_run_put(&run).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(Some(run.into()))
    }

    /// Renews the lease while the job runs; returns only once the lease is lost (another
    /// node took it after it lapsed, or it could not be renewed before it lapsed).
    async fn keep_lease(&self, kind: &str) {
        let store = self.tutela.store();
        let mut held_until = self.tutela.clock.now() + LEASE;
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let now = self.tutela.clock.now();
            match store.job_lease_acquire(kind, &self.node, now, now + LEASE).await {
                Ok(true) => held_until = now + LEASE,
                Ok(false) => {
                    tracing::warn!(kind, node = %self.node, "another node took the job's lease");
                    return;
                }
                Err(e) if now >= held_until => {
                    tracing::warn!(kind, error = %e, "the job's lease lapsed: it could not be renewed");
                    return;
                }
                Err(e) => tracing::warn!(kind, error = %e, "renewing the job's lease failed; trying again"),
            }
        }
    }

    /// Records the run in progress as abandoned and frees its lease (at shutdown).
    async fn abandon(&self) {
        let Some(mut run) = self.current.lock().unwrap_or_else(PoisonError::into_inner).take() else { return };
        let store = self.tutela.store();
        "failed".clone_into(&mut run.status);
        run.finished_at = Some(self.tutela.clock.now());
        run.summary = Some("abandoned: the node shut down before it finished".into());
        if let Err(e) = store.job_run_put(&run).await {
            tracing::warn!(kind = %run.kind, error = %e, "recording an abandoned job failed");
        }
        if let Err(e) = store.job_lease_release(&run.kind, &self.node).await {
            tracing::warn!(kind = %run.kind, error = %e, "releasing a job lease failed");
        }
    }

    /// Runs [`Self::run_due`] every `tick` (wall-clock time) in the background. When
    /// stopped, a run in progress may finish within `grace`; after that it is abandoned.
    pub fn start(self: Arc<Self>, tick: std::time::Duration, grace: std::time::Duration) -> SchedulerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let work = self.run_due();
                tokio::pin!(work);
                tokio::select! {
                    result = &mut work => {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "the scheduler's tick failed");
                        }
                    }
                    _ = stopped.changed() => {
                        if tokio::time::timeout(grace, &mut work).await.is_err() {
                            self.abandon().await;
                        }
                        return;
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(tick) => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        SchedulerHandle { stop, task }
    }
}
