//! The "Jobs" page for those who oversee what runs unattended (`audit.read`): each job kind
//! with its schedule, the node running it now, and its latest runs with status, progress and
//! summary, from the domain's jobs overview. There is no "run now" button: running a kind on
//! demand is the scheduler's (`tutela jobs run`, the local operator), not a web user's.

use askama::Template;
use axum::extract::State;
use tutela_core::jobs::{JobKindView, JobRunView};
use tutela_core::policy::Permission;

use super::error::{ConsoleResult, ok};
use super::layout::{Chrome, Nav};
use super::session::Console;
use super::stamp::Stamp;
use crate::AppState;

pub struct RunLine {
    pub status: String,
    pub status_class: &'static str,
    pub node: String,
    pub started: Stamp,
    pub finished: Option<Stamp>,
    /// `done` or `done / total`.
    pub progress: String,
    pub summary: String,
}

pub struct KindLine {
    pub name: &'static str,
    pub description: String,
    pub every: String,
    pub held_by: Option<String>,
    pub lease_until: Option<Stamp>,
    pub runs: Vec<RunLine>,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    chrome: Chrome,
    kinds: Vec<KindLine>,
}

/// A period in the largest whole unit: "every 5 minutes", "every hour".
fn every(chrome: &Chrome, seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    match s {
        _ if s >= 86_400 && s.is_multiple_of(86_400) => chrome.t1("jobs-every-days", "n", s / 86_400),
        _ if s >= 3_600 && s.is_multiple_of(3_600) => chrome.t1("jobs-every-hours", "n", s / 3_600),
        _ if s >= 60 && s.is_multiple_of(60) => chrome.t1("jobs-every-minutes", "n", s / 60),
        _ => chrome.t1("jobs-every-seconds", "n", s),
    }
}

/// A status in words and its badge; one the console does not know is shown as it is.
fn status_label(chrome: &Chrome, status: String) -> (String, &'static str) {
    let (key, class) = match status.as_str() {
        "running" => ("jobs-status-running", "warn"),
        "succeeded" => ("jobs-status-succeeded", "ok"),
        "failed" => ("jobs-status-failed", "danger"),
        _ => return (status, ""),
    };
    (chrome.t(key), class)
}

fn run_line(chrome: &Chrome, r: JobRunView) -> RunLine {
    let (status, status_class) = status_label(chrome, r.status);
    RunLine {
        status,
        status_class,
        node: r.node,
        started: Stamp::of(r.started_at),
        finished: r.finished_at.map(Stamp::of),
        progress: match r.total {
            Some(total) => format!("{} / {total}", r.done),
            None => r.done.to_string(),
        },
        summary: r.summary.unwrap_or_default(),
    }
}

fn kind_line(chrome: &Chrome, k: JobKindView) -> KindLine {
    // The domain describes its kinds in English; the known ones have the console's words.
    let key = format!("jobs-kind-{}", k.name.replace('.', "-"));
    let description = if chrome.i18n.has(&key) { chrome.t(&key) } else { k.description.to_owned() };
    KindLine {
        name: k.name,
        description,
        every: every(chrome, k.every_seconds),
        held_by: k.held_by,
        lease_until: k.lease_until.map(Stamp::of),
        runs: k.runs.into_iter().map(|r| run_line(chrome, r)).collect(),
    }
}

pub async fn page(State(state): State<AppState>, console: Console) -> ConsoleResult {
    console.require(Permission::AuditRead)?;
    let chrome = console.chrome(Some(Nav::Jobs));
    let kinds = state.tutela.jobs_overview(&console.principal).await.map_err(|e| console.core_error(e))?;
    let kinds = kinds.into_iter().map(|k| kind_line(&chrome, k)).collect();
    Ok(ok(&JobsPage { chrome, kinds }))
}
