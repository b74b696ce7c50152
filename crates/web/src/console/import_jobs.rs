//! Imports started from the console run in the background; this registry holds their
//! progress and outcome in memory for the page that polls them. Only the user who started an
//! import sees it. Finished jobs are forgotten after an hour, and only a few run at once:
//! sealing is CPU work, and the machine serves everyone else too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use tutela_core::vault::import::{ImportProgress, ImportReport};
use uuid::Uuid;

const KEEP_FINISHED: time::Duration = time::Duration::hours(1);
const MAX_RUNNING: usize = 2;

#[derive(Debug, Clone)]
pub enum JobState {
    /// Reading the file's header row and settling the mapping.
    Preparing,
    Running(ImportProgress),
    Done(ImportReport),
    /// The file could not be imported at all; `field` names the form field at fault.
    Failed {
        field: Option<String>,
        message: String,
    },
}

impl JobState {
    fn finished(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Failed { .. })
    }
}

#[derive(Debug)]
pub struct ImportJob {
    pub id: Uuid,
    pub owner: Uuid,
    pub file_name: String,
    pub started_at: OffsetDateTime,
    state: Mutex<(JobState, Option<OffsetDateTime>)>,
}

impl ImportJob {
    pub fn state(&self) -> JobState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0.clone()
    }

    pub fn set(&self, state: JobState) {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.finished() {
            guard.1 = Some(OffsetDateTime::now_utc());
        }
        guard.0 = state;
    }
}

#[derive(Debug, Default, Clone)]
pub struct ImportJobs {
    jobs: Arc<Mutex<HashMap<Uuid, Arc<ImportJob>>>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

impl ImportJobs {
    /// Registers a new job, or refuses while too many run.
    pub fn start(&self, owner: Uuid, file_name: String) -> Result<Arc<ImportJob>, Busy> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let now = OffsetDateTime::now_utc();
        jobs.retain(|_, j| {
            let finished_at = j.state.lock().unwrap_or_else(PoisonError::into_inner).1;
            finished_at.is_none_or(|t| now - t < KEEP_FINISHED)
        });
        let running = jobs.values().filter(|j| !j.state().finished()).count();
        if running >= MAX_RUNNING {
            return Err(Busy);
        }
        let job = Arc::new(ImportJob {
            id: Uuid::now_v7(),
            owner,
            file_name,
            started_at: now,
            state: Mutex::new((JobState::Preparing, None)),
        });
        jobs.insert(job.id, job.clone());
        Ok(job)
    }

    /// The job, if it exists and belongs to `owner`.
    pub fn get(&self, id: Uuid, owner: Uuid) -> Option<Arc<ImportJob>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner).get(&id).filter(|j| j.owner == owner).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_private_and_limited() {
        let jobs = ImportJobs::default();
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let a = jobs.start(alice, "a.csv".into()).unwrap();
        assert!(jobs.get(a.id, alice).is_some());
        assert!(jobs.get(a.id, bob).is_none(), "another user's import is not visible");
        let b = jobs.start(bob, "b.csv".into()).unwrap();
        assert_eq!(jobs.start(bob, "c.csv".into()).unwrap_err(), Busy);
        b.set(JobState::Failed { field: None, message: "x".into() });
        assert!(jobs.start(bob, "c.csv".into()).is_ok(), "a finished job frees its slot");
    }
}
