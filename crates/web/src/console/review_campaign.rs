//! One access-review campaign: its settings, every item with its reviewer, decision and
//! outcome, the button that closes it before the deadline, and once closed the kept report
//! as JSON or CSV (the same file as the API's). For those who run or audit reviews.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::reviews::{CampaignState, ReviewDecision, ReviewItemView, ReviewRouting};
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::error::{ConsoleError, ConsoleResult, render};
use super::forms::{Errors, Nothing};
use super::layout::{Chrome, Nav};
use super::reviews::{require_overseer, scope, state_label};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;
use crate::api::reviews::report_file;

pub struct ItemLine {
    pub id: Uuid,
    pub user: String,
    pub kind: String,
    pub label: String,
    pub reviewer: String,
    pub decision: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub decided_by: Option<String>,
    pub decided_at: Option<Stamp>,
    pub note: Option<String>,
    pub justification: Option<String>,
}

#[derive(Template)]
#[template(path = "review_campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    notice: Option<String>,
    general: Errors,
    id: Uuid,
    name: String,
    scope: String,
    state: String,
    state_class: &'static str,
    routing: String,
    reviewer: Option<String>,
    policy: String,
    recur_days: Option<i64>,
    created_by: Option<String>,
    created: Stamp,
    deadline: Stamp,
    closed: Option<Stamp>,
    items: Vec<ItemLine>,
    can_close: bool,
    has_report: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// A decision in words.
pub fn decision_label(chrome: &Chrome, d: Option<ReviewDecision>) -> String {
    match d {
        Some(ReviewDecision::Certify) => chrome.t("reviews-decision-certify"),
        Some(ReviewDecision::Revoke) => chrome.t("reviews-decision-revoke"),
        None => String::new(),
    }
}

/// What a review item is about: a role or a record share.
pub fn kind_label(chrome: &Chrome, kind: &str) -> String {
    match kind {
        "role" => chrome.t("reviews-kind-role"),
        "share" => chrome.t("reviews-kind-share"),
        other => other.to_owned(),
    }
}

fn outcome_label(chrome: &Chrome, outcome: Option<&str>) -> (String, &'static str) {
    let (key, class) = match outcome {
        None => ("reviews-outcome-open", "warn"),
        Some("kept") => ("reviews-outcome-kept", "ok"),
        Some("revoked") => ("reviews-outcome-revoked", "danger"),
        Some("flagged") => ("reviews-outcome-flagged", "warn"),
        Some("gone") => ("reviews-outcome-gone", ""),
        Some(other) => return (other.to_owned(), ""),
    };
    (chrome.t(key), class)
}

fn item_line(chrome: &Chrome, i: ReviewItemView) -> ItemLine {
    let (outcome, outcome_class) = outcome_label(chrome, i.outcome.as_deref());
    ItemLine {
        id: i.id,
        user: i.user_email,
        kind: kind_label(chrome, &i.kind),
        label: i.label,
        reviewer: i.reviewer_email.unwrap_or_default(),
        decision: decision_label(chrome, i.decision),
        outcome,
        outcome_class,
        decided_by: i.decided_by,
        decided_at: i.decided_at.map(Stamp::of),
        note: i.note,
        justification: i.justification,
    }
}

pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    console: Console,
    Query(q): Query<PageQuery>,
) -> ConsoleResult {
    let id = console.path_id(&id)?;
    require_overseer(&console)?;
    let notice = q.notice.as_deref().and_then(|n| match n {
        "started" => Some("reviews-notice-started"),
        "closed" => Some("reviews-notice-closed"),
        _ => None,
    });
    let notice = notice.map(|key| console.chrome(None).t(key));
    render_page(&state, &console, id, notice, Errors::default(), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    id: Uuid,
    notice: Option<String>,
    general: Errors,
    status: StatusCode,
) -> ConsoleResult {
    let chrome = console.chrome(Some(Nav::Reviews));
    let detail = state.tutela.review_campaign(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    let c = detail.campaign;
    let (state_key, state_class) = state_label(c.state);
    let page = CampaignPage {
        notice,
        general,
        id: c.id,
        scope: scope(&chrome, &c),
        name: c.name,
        state: chrome.t(state_key),
        state_class,
        routing: chrome.t(match c.routing {
            ReviewRouting::Manager => "reviews-routing-manager",
            ReviewRouting::Reviewer => "reviews-routing-reviewer",
        }),
        reviewer: c.reviewer_email,
        policy: chrome.t(&format!("reviews-policy-{}", c.policy.as_str())),
        recur_days: c.recur_days,
        created_by: c.created_by,
        created: Stamp::of(c.created_at),
        deadline: Stamp::of(c.deadline),
        closed: c.closed_at.map(Stamp::of),
        items: detail.items.into_iter().map(|i| item_line(&chrome, i)).collect(),
        can_close: c.state != CampaignState::Closed && console.can(Permission::AccessReview),
        has_report: c.state == CampaignState::Closed,
        chrome,
    };
    Ok(render(status, &page))
}

/// A refusal the page explains on top (closed already, no report yet) instead of an error
/// page.
async fn refused_on_page(state: &AppState, console: &Console, id: Uuid, e: CoreError) -> ConsoleResult<Response> {
    let CoreError::Conflict(message) = e else { return Err(console.core_error(e)) };
    let mut general = Errors::default();
    general.add(None, message);
    render_page(state, console, id, None, general, StatusCode::CONFLICT).await
}

/// Closes the campaign before its deadline; what nobody reviewed is settled by its policy.
pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    console.require(Permission::AccessReview)?;
    match state.tutela.close_review_campaign(&console.principal, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/access/reviews/{id}?notice=closed")).into_response()),
        Err(e) => refused_on_page(&state, &console, id, e).await,
    }
}

/// The kept report as a file, JSON or CSV; while the campaign is open the page says why
/// there is none.
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    console: Console,
    Query(q): Query<ReportQuery>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    require_overseer(&console)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            let detail = format!("format: {}", console.chrome(None).t("reviews-error-format"));
            return Err(ConsoleError::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                console.lang,
                "error-invalid",
                Some(detail),
            )
            .for_htmx(console.htmx));
        }
    };
    match state.tutela.review_report(&console.principal, id).await {
        Ok(stored) => report_file(id, stored, csv).map_err(|e| console.core_error(e)),
        Err(e) => refused_on_page(&state, &console, id, e).await,
    }
}
