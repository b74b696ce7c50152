//! Jobs: one scheduler for recurring and long-running work. A job kind is a name, how often
//! it is due and a handler over [`Tutela`]; every run is recorded (`job_runs`: node, times,
//! progress, summary or error) and, on a database shared by several nodes, a lease per kind
//! (`job_leases`) makes exactly one node run it at a time. See [`Scheduler`].
//!
//! Register a kind by adding it to [`kinds`]. A handler reports progress through
//! [`Progress`] and returns a [`JobOutcome`] whose summary is shown in the history; what it
//! changes goes through the audit log like any other change, as the domain's own events.

mod scheduler;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tutela_store::{JobRunRow, Store};
use uuid::Uuid;

pub use scheduler::{Scheduler, SchedulerHandle};

use crate::policy::{Permission, Principal};
use crate::{CoreResult, Tutela};

/// What a finished run reports: a line for the history (never a protected value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOutcome {
    pub summary: String,
}

/// Told of a run's progress: (done, total when known).
pub type Watcher = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

pub type JobFuture = Pin<Box<dyn Future<Output = CoreResult<JobOutcome>> + Send>>;

/// A kind of job: its name, how often it is due, and its handler.
#[derive(Clone, Copy)]
pub struct JobKind {
    pub name: &'static str,
    pub description: &'static str,
    /// Due again this long after its last run started.
    pub every: Duration,
    pub run: fn(Arc<Tutela>, Progress) -> JobFuture,
}

/// Every job kind the scheduler runs.
pub fn kinds() -> Vec<JobKind> {
    vec![
        JobKind {
            name: "access.review.deadlines",
            description: "Closes access-review campaigns whose deadline has passed: revokes or flags what nobody reviewed and keeps the report",
            every: Duration::minutes(5),
            run: |tutela, progress| Box::pin(review_deadlines(tutela, progress)),
        },
        JobKind {
            name: "access.review.reminders",
            description: "Works out which reviewers to remind of their open access-review items (at the start, then daily in the last days)",
            every: Duration::hours(1),
            run: |tutela, progress| Box::pin(review_reminders(tutela, progress)),
        },
    ]
}

async fn review_deadlines(tutela: Arc<Tutela>, progress: Progress) -> CoreResult<JobOutcome> {
    let closed = tutela.close_due_review_campaigns().await?;
    let n = closed.len() as u64;
    progress.set(n, Some(n)).await;
    let revoked: usize = closed.iter().map(|c| c.counts.revoked_at_deadline).sum();
    let flagged: usize = closed.iter().map(|c| c.counts.flagged).sum();
    Ok(JobOutcome {
        summary: format!("{n} campaign(s) closed; {revoked} unreviewed item(s) revoked, {flagged} flagged"),
    })
}

async fn review_reminders(tutela: Arc<Tutela>, progress: Progress) -> CoreResult<JobOutcome> {
    let due = tutela.take_due_review_reminders().await?;
    let n = due.len() as u64;
    progress.set(n, Some(n)).await;
    Ok(JobOutcome { summary: format!("{n} reminder(s) due") })
}

/// How a running job reports progress: recorded on its run (for `GET /api/v1/jobs`) and
/// handed to whoever watches (the CLI's progress bar).
#[derive(Clone)]
pub struct Progress {
    store: Arc<dyn Store>,
    run: Arc<tokio::sync::Mutex<JobRunRow>>,
    watcher: Option<Watcher>,
}

impl Progress {
    pub async fn set(&self, done: u64, total: Option<u64>) {
        if let Some(watch) = &self.watcher {
            watch(done, total);
        }
        let mut run = self.run.lock().await;
        run.done = i64::try_from(done).unwrap_or(i64::MAX);
        run.total = total.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        // Progress is a hint for people watching: a failed write must not fail the job.
        if let Err(e) = self.store.job_run_put(&run).await {
            tracing::warn!(kind = %run.kind, error = %e, "recording job progress failed");
        }
    }
}

/// A run as listed.
#[derive(Debug, Clone, Serialize)]
pub struct JobRunView {
    pub id: Uuid,
    pub kind: String,
    pub node: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub done: i64,
    pub total: Option<i64>,
    pub summary: Option<String>,
}

impl From<JobRunRow> for JobRunView {
    fn from(r: JobRunRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            node: r.node,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
            done: r.done,
            total: r.total,
            summary: r.summary,
        }
    }
}

/// A job kind with its schedule, who holds it now and its latest runs.
#[derive(Debug, Clone, Serialize)]
pub struct JobKindView {
    pub name: &'static str,
    pub description: &'static str,
    pub every_seconds: i64,
    /// The node running it now, and until when its lease lasts.
    pub held_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_until: Option<OffsetDateTime>,
    /// Newest first.
    pub runs: Vec<JobRunView>,
}

/// Runs listed per kind.
const RECENT_RUNS: u32 = 10;

impl Tutela {
    /// The job kinds, their schedules and latest runs: for auditors and administrators
    /// (`audit.read`), who oversee what runs unattended.
    pub async fn jobs_overview(&self, principal: &Principal) -> CoreResult<Vec<JobKindView>> {
        self.require(principal, Permission::AuditRead, "jobs.list").await?;
        let now = self.clock.now();
        let leases = self.store.job_leases().await?;
        let mut out = Vec::new();
        for kind in kinds() {
            let lease = leases.iter().find(|l| l.kind == kind.name && l.lease_until > now);
            let runs = self.store.job_runs(Some(kind.name), RECENT_RUNS).await?;
            out.push(JobKindView {
                name: kind.name,
                description: kind.description,
                every_seconds: kind.every.whole_seconds(),
                held_by: lease.map(|l| l.holder.clone()),
                lease_until: lease.map(|l| l.lease_until),
                runs: runs.into_iter().map(Into::into).collect(),
            });
        }
        Ok(out)
    }
}
