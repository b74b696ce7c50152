//! The import page: upload a CSV or .xlsx file, pick a CRM preset (or let it be recognised),
//! the encoding and whether to skip bad rows; then watch the background import's progress.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tutela_core::policy::Permission;
use tutela_core::vault::import::ImportPass;
use tutela_import::{Encoding, Preset};
use uuid::Uuid;

use super::error::{ConsoleError, ConsoleResult, ok, render};
use super::forms::Errors;
use super::i18n::Lang;
use super::import_jobs::{ImportJob, ImportJobs, JobState};
use super::import_run::{ImportRequest, run};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleUpload};
use super::stamp::Stamp;
use crate::AppState;

/// Uploads may be this large; the rest of the console keeps the global 1 MiB limit.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
const SHOWN_ERRORS: usize = 20;
const FORM_FIELDS: [&str; 5] = ["file", "preset", "encoding", "mapping", "skip_bad"];

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "import/form.html")]
struct FormPage {
    chrome: Chrome,
    presets: Vec<Choice>,
    encodings: Vec<Choice>,
    mapping: String,
    skip_bad: bool,
    errors: Errors,
}

fn presets(chrome: &Chrome, lang: Lang, selected: &str) -> Vec<Choice> {
    let mut out = vec![
        Choice { value: "auto".into(), label: chrome.t("import-preset-auto"), selected: selected == "auto" },
        Choice { value: "fields".into(), label: chrome.t("import-preset-fields"), selected: selected == "fields" },
    ];
    out.extend(Preset::all().iter().map(|p| Choice {
        value: p.id().into(),
        label: if lang == Lang::ZhCn { p.label_zh() } else { p.label_en() }.into(),
        selected: selected == p.id(),
    }));
    out
}

fn encodings(chrome: &Chrome, selected: &str) -> Vec<Choice> {
    [("auto", "import-encoding-auto"), ("utf-8", "import-encoding-utf8"), ("gb18030", "import-encoding-gb18030")]
        .into_iter()
        .map(|(v, k)| Choice { value: v.into(), label: chrome.t(k), selected: selected == v })
        .collect()
}

fn form_page(
    console: &Console,
    preset: &str,
    encoding: &str,
    mapping: String,
    skip_bad: bool,
    errors: Errors,
) -> FormPage {
    let chrome = console.chrome(Some(Nav::Import));
    FormPage {
        presets: presets(&chrome, console.lang, preset),
        encodings: encodings(&chrome, encoding),
        chrome,
        mapping,
        skip_bad,
        errors,
    }
}

pub async fn page(console: Console) -> ConsoleResult<Response> {
    console.require(Permission::CustomerImport)?;
    Ok(ok(&form_page(&console, "auto", "auto", String::new(), false, Errors::for_fields(FORM_FIELDS))))
}

pub async fn start(
    State(state): State<AppState>,
    Extension(jobs): Extension<ImportJobs>,
    upload: ConsoleUpload,
) -> ConsoleResult<Response> {
    let console = &upload.console;
    console.require(Permission::CustomerImport)?;
    let chrome = console.chrome(None);
    let preset = upload.field("preset").unwrap_or("auto").to_owned();
    let encoding_raw = upload.field("encoding").unwrap_or("auto").to_owned();
    let mapping = upload.field("mapping").unwrap_or_default().to_owned();
    let skip_bad = upload.field("skip_bad").is_some_and(|v| !v.is_empty());
    let mut errors = Errors::for_fields(FORM_FIELDS);
    let file = upload.file.as_ref().filter(|(_, bytes)| !bytes.is_empty());
    if file.is_none() {
        errors.add(Some("file"), chrome.t("import-file-required"));
    }
    if preset != "auto" && preset != "fields" && Preset::from_id(&preset).is_none() {
        errors.add(Some("preset"), chrome.t("import-preset-unknown"));
    }
    let encoding = encoding_raw.parse::<Encoding>().map_err(|e| errors.add(Some("encoding"), e.to_string())).ok();
    let (Some((file_name, bytes)), Some(encoding), true) = (file, encoding, errors.is_empty()) else {
        let page = form_page(console, &preset, &encoding_raw, mapping, skip_bad, errors);
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let owner = console.principal.user_id.ok_or_else(|| ConsoleError::forbidden(console.lang, "only users import"))?;
    let Ok(job) = jobs.start(owner, file_name.clone()) else {
        errors.add(None, chrome.t("import-busy"));
        let page = form_page(console, &preset, &encoding_raw, mapping, skip_bad, errors);
        return Ok(render(StatusCode::SERVICE_UNAVAILABLE, &page));
    };
    let request = ImportRequest {
        file_name: file_name.clone(),
        bytes: Arc::new(bytes.clone()),
        preset,
        encoding,
        mapping,
        skip_bad,
    };
    tokio::spawn(run(state.tutela.clone(), console.principal.clone(), request, job.clone()));
    Ok(Redirect::to(&format!("/import/{}", job.id)).into_response())
}

pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// The progress box, shown in the job page and polled on its own.
struct Progress {
    chrome: Chrome,
    id: Uuid,
    running: bool,
    pass: String,
    rows: u64,
    percent: u64,
    done: Option<Outcome>,
    failure: Option<String>,
}

#[derive(Template)]
#[template(path = "import/progress_fragment.html")]
struct ProgressFragment {
    progress: Progress,
}

pub struct Outcome {
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    pub refused: bool,
    pub problems: Vec<RowProblem>,
    pub more_problems: u64,
}

#[derive(Template)]
#[template(path = "import/job.html")]
struct JobPage {
    chrome: Chrome,
    file_name: String,
    started: Stamp,
    progress: Progress,
}

fn progress(job: &ImportJob, chrome: Chrome) -> Progress {
    let mut p = Progress {
        chrome,
        id: job.id,
        running: true,
        pass: String::new(),
        rows: 0,
        percent: 0,
        done: None,
        failure: None,
    };
    match job.state() {
        JobState::Preparing => p.pass = p.chrome.t("import-pass-preparing"),
        JobState::Running(r) => {
            p.pass = p.chrome.t(if r.pass == ImportPass::Validating {
                "import-pass-validating"
            } else {
                "import-pass-writing"
            });
            p.rows = r.rows;
            p.percent = (r.bytes_read.saturating_mul(100)).checked_div(r.total_bytes).unwrap_or(0).min(100);
        }
        JobState::Done(report) => {
            p.running = false;
            p.done = Some(Outcome {
                rows: report.rows,
                imported: report.imported,
                rejected: report.rejected,
                refused: report.refused,
                more_problems: report.rejected.saturating_sub(SHOWN_ERRORS as u64),
                problems: report
                    .errors
                    .iter()
                    .take(SHOWN_ERRORS)
                    .map(|e| RowProblem {
                        line: e.line,
                        column: e.column.clone().unwrap_or_default(),
                        message: e.message.clone(),
                    })
                    .collect(),
            });
        }
        JobState::Failed { field, message } => {
            p.running = false;
            p.failure = Some(match field {
                Some(f) => format!("{f}: {message}"),
                None => message,
            });
        }
    }
    p
}

fn find_job(jobs: &ImportJobs, console: &Console, id: &str) -> ConsoleResult<Arc<ImportJob>> {
    console.require(Permission::CustomerImport)?;
    let owner = console.principal.user_id.unwrap_or_default();
    id.parse::<Uuid>()
        .ok()
        .and_then(|id| jobs.get(id, owner))
        .ok_or_else(|| ConsoleError::not_found(console.lang).for_htmx(console.htmx))
}

pub async fn job_page(
    Extension(jobs): Extension<ImportJobs>,
    console: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let job = find_job(&jobs, &console, &id)?;
    let chrome = console.chrome(Some(Nav::Import));
    let progress = progress(&job, chrome.clone());
    Ok(ok(&JobPage { chrome, file_name: job.file_name.clone(), started: Stamp::of(job.started_at), progress }))
}

/// Polled every second by the job page while the import runs.
pub async fn progress_fragment(
    Extension(jobs): Extension<ImportJobs>,
    console: Console,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let job = find_job(&jobs, &console, &id)?;
    Ok(ok(&ProgressFragment { progress: progress(&job, console.chrome(None)) }))
}
