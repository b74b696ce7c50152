//! The audit log: filters, "older" paging, and verification of the hash chain.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Query;
use serde::Deserialize;
use time::{Date, OffsetDateTime, Time};
use tutela_core::policy::Permission;
use tutela_store::{AuditFilter, AuditRecord};
use uuid::Uuid;

use super::error::{ConsoleResult, ok, render};
use super::forms::{Errors, Nothing};
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

const PAGE: u32 = 50;
const FILTERS: [&str; 5] = ["action", "actor_id", "customer_id", "from", "to"];

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor_id: String,
    #[serde(default)]
    customer_id: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    #[serde(default)]
    to: String,
    before: Option<i64>,
}

pub struct EventLine {
    pub seq: i64,
    pub at: Stamp,
    pub actor: String,
    pub actor_id: String,
    pub action: String,
    pub outcome: String,
    pub customer_id: Option<Uuid>,
    pub fields: String,
    pub purpose: String,
    pub source: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    events: Vec<EventLine>,
    older_href: Option<String>,
    newest_href: Option<String>,
    can_open_customers: bool,
    errors: Errors,
}

fn date_bound(raw: &str, field: &'static str, errors: &mut Errors, chrome: &Chrome) -> Option<Date> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).map_err(|_| errors.add(Some(field), chrome.t("audit-date-invalid"))).ok()
}

fn uuid_filter(raw: &str, field: &'static str, errors: &mut Errors, chrome: &Chrome) -> Option<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    raw.parse().map_err(|_| errors.add(Some(field), chrome.t("audit-id-invalid"))).ok()
}

fn line(r: AuditRecord) -> EventLine {
    EventLine {
        seq: r.seq,
        at: Stamp::of(r.at),
        actor: r.actor,
        actor_id: r.actor_id.map(|u| u.to_string()).unwrap_or_default(),
        action: r.action,
        outcome: r.outcome,
        customer_id: r.customer_id,
        fields: r.fields.join(", "),
        purpose: r.purpose.unwrap_or_default(),
        source: r.source.unwrap_or_default(),
        detail: r.detail.unwrap_or_default(),
    }
}

fn href(q: &AuditQuery, before: Option<i64>) -> String {
    let before = before.map(|b| b.to_string());
    let mut pairs: Vec<(&str, &str)> = [
        ("action", &q.action),
        ("actor_id", &q.actor_id),
        ("customer_id", &q.customer_id),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k, v.as_str()))
    .collect();
    if let Some(b) = &before {
        pairs.push(("before", b));
    }
    format!("/audit?{}", serde_html_form::to_string(&pairs).unwrap_or_default())
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<AuditQuery>,
) -> ConsoleResult<Response> {
    console.require(Permission::AuditRead)?;
    let chrome = console.chrome(Some(Nav::Audit));
    let mut errors = Errors::for_fields(FILTERS);
    let from = date_bound(&q.from, "from", &mut errors, &chrome).map(|d| OffsetDateTime::new_utc(d, Time::MIDNIGHT));
    let to = date_bound(&q.to, "to", &mut errors, &chrome)
        .and_then(Date::next_day)
        .map(|d| OffsetDateTime::new_utc(d, Time::MIDNIGHT));
    let filter = AuditFilter {
        actor_id: uuid_filter(&q.actor_id, "actor_id", &mut errors, &chrome),
        action: Some(q.action.trim().to_owned()).filter(|a| !a.is_empty()),
        customer_id: uuid_filter(&q.customer_id, "customer_id", &mut errors, &chrome),
        from,
        to,
        before_seq: q.before,
        limit: PAGE,
    };
    let mut events = Vec::new();
    if errors.is_empty() {
        match state.tutela.audit_events(&console.principal, &filter).await {
            Ok(found) => events = found.into_iter().map(line).collect(),
            Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
        }
    }
    let full_page = events.len() == PAGE as usize;
    let page = AuditPage {
        older_href: events.last().filter(|_| full_page).map(|e| href(&q, Some(e.seq))),
        newest_href: q.before.map(|_| href(&q, None)),
        can_open_customers: console.can(Permission::CustomerRead),
        chrome,
        events,
        errors,
        q,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &page))
}

#[derive(Template)]
#[template(path = "audit_verify.html")]
struct VerifyResult {
    chrome: Chrome,
    intact: bool,
    events: u64,
    checkpoints: u64,
    head_seq: Option<i64>,
    problem: Option<String>,
}

/// Walks the whole chain; the answer replaces the button's result box.
pub async fn verify(
    State(state): State<AppState>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    console.require(Permission::AuditRead)?;
    let report = state.tutela.verify_audit_as(&console.principal).await.map_err(|e| console.core_error(e))?;
    Ok(ok(&VerifyResult {
        chrome: console.chrome(None),
        intact: report.problem.is_none(),
        events: report.events,
        checkpoints: report.checkpoints,
        head_seq: report.head.map(|h| h.0),
        problem: report.problem.map(|p| p.to_string()),
    }))
}
