//! "My reviews", for every signed-in user: the access-review items routed to them in open
//! campaigns, each with certify and revoke buttons, an optional note and a justification,
//! which the domain requires when someone decides on their own access. A revocation takes
//! effect at once; the domain checks who may decide and audits it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::access::reviews::DecisionInput;
use tutela_core::policy::Principal;
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::review_campaign::kind_label;
use super::reviews::oversees;
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub const FIELDS: [&str; 3] = ["decision", "note", "justification"];

pub struct Line {
    pub campaign_id: Uuid,
    pub id: Uuid,
    pub campaign: String,
    pub deadline: Stamp,
    /// Past the deadline: nothing more is decided; the deadline job settles it.
    pub past: bool,
    pub user: String,
    /// The reviewer's own access: a justification is required.
    pub own: bool,
    pub kind: String,
    pub label: String,
    /// What was typed, when this item's decision was refused.
    pub note: String,
    pub justification: String,
    pub errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    /// `certify` or `revoke`: the button pressed.
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub justification: String,
}

#[derive(Template)]
#[template(path = "reviews_mine.html")]
struct MinePage {
    chrome: Chrome,
    notice: Option<String>,
    general: Errors,
    lines: Vec<Line>,
    /// Whether to link to the campaigns page.
    oversees: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

/// An item whose decision was refused for its input: its id, what was typed, and the
/// messages by field.
struct Refused {
    item: Uuid,
    form: DecisionForm,
    messages: Vec<(String, String)>,
}

/// Whether items wait for the decision of a user whose permissions do not show "Access
/// reviews" already: for the navigation of full pages. One indexed read of the caller's own
/// open items (`review_items_by_reviewer`), straight from the store because the domain's
/// `my_reviews` also looks up every item's user. A failed read leaves the entry out instead of
/// failing a page that does not depend on it.
pub async fn waiting_for_page(state: &AppState, principal: &Principal) -> bool {
    let Some(user) = principal.user_id else { return false };
    if Nav::Reviews.shown_to(principal) {
        return false;
    }
    state
        .tutela
        .store()
        .review_items_open_for(user)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "looking for review items for the console navigation"))
        .is_ok_and(|items| !items.is_empty())
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    let notice = q.notice.as_deref().and_then(|n| match n {
        "certified" => Some("reviews-notice-certified"),
        "revoked" => Some("reviews-notice-revoked"),
        _ => None,
    });
    let notice = notice.map(|key| console.chrome(None).t(key));
    render_page(&state, &console, notice, Errors::default(), None, StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    notice: Option<String>,
    mut general: Errors,
    mut refused: Option<Refused>,
    status: StatusCode,
) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::Reviews));
    let now = state.tutela.clock().now();
    let mine = state.tutela.my_reviews(p).await.map_err(|e| console.core_error(e))?;
    let lines = mine
        .into_iter()
        .map(|m| {
            let mut errors = Errors::for_fields(FIELDS);
            let form = match refused.take_if(|r| r.item == m.item.id) {
                Some(r) => {
                    for (field, message) in &r.messages {
                        errors.add(Some(field), message.clone());
                    }
                    r.form
                }
                None => DecisionForm::default(),
            };
            Line {
                campaign_id: m.item.campaign_id,
                id: m.item.id,
                campaign: m.campaign_name,
                deadline: Stamp::of(m.deadline),
                past: m.deadline <= now,
                own: p.user_id == Some(m.item.user_id),
                user: m.item.user_email,
                kind: kind_label(&chrome, &m.item.kind),
                label: m.item.label,
                note: form.note,
                justification: form.justification,
                errors,
            }
        })
        .collect();
    // An item not on the list (decided through the campaign by someone with access.review):
    // its messages go on top.
    for (field, message) in refused.map(|r| r.messages).unwrap_or_default() {
        general.add(None, format!("{field}: {message}"));
    }
    let page = MinePage { notice, general, lines, oversees: oversees(p), chrome };
    Ok(render(status, &page))
}

pub async fn decide(
    State(state): State<AppState>,
    Path((campaign, item)): Path<(String, String)>,
    ConsoleForm { console, form }: ConsoleForm<DecisionForm>,
) -> ConsoleResult<Response> {
    let campaign = console.path_id(&campaign)?;
    let item = console.path_id(&item)?;
    let input = DecisionInput {
        decision: form.decision.clone(),
        note: Some(form.note.clone()),
        justification: Some(form.justification.clone()),
    };
    let e = match state.tutela.decide_review_item(&console.principal, campaign, item, input).await {
        Ok(view) => {
            let notice = if view.outcome.as_deref() == Some("kept") { "certified" } else { "revoked" };
            return Ok(Redirect::to(&format!("/access/reviews/mine?notice={notice}")).into_response());
        }
        Err(e) => e,
    };
    let mut general = Errors::default();
    let mut messages = Vec::new();
    let status = match e {
        // The console's own words for the one refusal a reviewer meets in the normal course.
        CoreError::Invalid { field, .. } if field == "justification" && form.justification.trim().is_empty() => {
            messages.push((field, console.chrome(None).t("reviews-error-justification")));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CoreError::Invalid { field, message } => {
            messages.push((field, message));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CoreError::Conflict(m) => {
            general.add(None, m);
            StatusCode::CONFLICT
        }
        CoreError::Forbidden(m) => {
            general.add(None, m);
            StatusCode::FORBIDDEN
        }
        other => return Err(console.core_error(other)),
    };
    let refused = Refused { item, form, messages };
    render_page(&state, &console, None, general, Some(refused), status).await.map(IntoResponse::into_response)
}
