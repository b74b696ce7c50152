//! The "Access reviews" page for those who run campaigns (`access.review`) and auditors
//! (`audit.read`, who only look): every campaign with its progress, and a form to start one.
//! A campaign's own page is `review_campaign`, a reviewer's items `reviews_mine`. The domain
//! (`tutela_core::access::reviews`) checks the settings, snapshots, routes and audits.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use tutela_core::access::reviews::{CampaignInput, CampaignState, CampaignView};
use tutela_core::policy::{Permission, Principal};
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::layout::{Chrome, Nav};
use super::org_view::{Choice, department_choices, optional_id};
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub const FIELDS: [&str; 7] = ["name", "routing", "reviewer_id", "department_id", "deadline", "policy", "recur_days"];

/// A new campaign's deadline unless the form says otherwise: two weeks.
const DEFAULT_DAYS: i64 = 14;

pub struct CampaignLine {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub state: String,
    pub state_class: &'static str,
    pub deadline: Stamp,
    pub items: usize,
    pub open: usize,
    pub decided: usize,
    /// Settled at the close without a decision (flagged or revoked by the policy).
    pub unreviewed: usize,
}

#[derive(Debug, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub routing: String,
    #[serde(default)]
    pub reviewer_id: String,
    #[serde(default)]
    pub department_id: String,
    /// `YYYY-MM-DDTHH:MM` from `<input type="datetime-local">`, in UTC like every console time.
    #[serde(default)]
    pub deadline: String,
    #[serde(default)]
    pub policy: String,
    /// Empty: the campaign does not recur.
    #[serde(default)]
    pub recur_days: String,
}

impl CampaignForm {
    fn blank(now: OffsetDateTime) -> Self {
        let due = now + Duration::days(DEFAULT_DAYS);
        Self {
            name: String::new(),
            routing: "manager".into(),
            reviewer_id: String::new(),
            department_id: String::new(),
            deadline: format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}",
                due.year(),
                u8::from(due.month()),
                due.day(),
                due.hour(),
                due.minute()
            ),
            policy: "flag".into(),
            recur_days: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    chrome: Chrome,
    lines: Vec<CampaignLine>,
    can_start: bool,
    /// Starting needs the user and department lists, which the domain shows to `user.manage`.
    lists_hidden: bool,
    form: CampaignForm,
    reviewers: Vec<Choice>,
    departments: Vec<Choice>,
    errors: Errors,
}

/// Whether the principal sees every campaign: those who run reviews and auditors.
pub fn oversees(principal: &Principal) -> bool {
    principal.has(Permission::AccessReview) || principal.has(Permission::AuditRead)
}

/// Refuses the campaign pages to anyone who neither runs nor audits reviews (reviewers have
/// their own page).
pub fn require_overseer(console: &Console) -> ConsoleResult<()> {
    if oversees(&console.principal) { Ok(()) } else { console.require(Permission::AccessReview) }
}

pub fn state_label(state: CampaignState) -> (&'static str, &'static str) {
    match state {
        CampaignState::Open => ("reviews-state-open", "ok"),
        CampaignState::Overdue => ("reviews-state-overdue", "warn"),
        CampaignState::Closed => ("reviews-state-closed", ""),
    }
}

/// Who a campaign covers, in words.
pub fn scope(chrome: &Chrome, c: &CampaignView) -> String {
    c.department.clone().unwrap_or_else(|| chrome.t("reviews-scope-everyone"))
}

fn line(chrome: &Chrome, c: CampaignView) -> CampaignLine {
    let (key, class) = state_label(c.state);
    CampaignLine {
        id: c.id,
        scope: scope(chrome, &c),
        name: c.name,
        state: chrome.t(key),
        state_class: class,
        deadline: Stamp::of(c.deadline),
        items: c.counts.items,
        open: c.counts.open,
        decided: c.counts.certified + c.counts.revoked,
        unreviewed: c.counts.flagged + c.counts.revoked_at_deadline,
    }
}

pub async fn page(State(state): State<AppState>, console: Console) -> ConsoleResult {
    require_overseer(&console)?;
    let form = CampaignForm::blank(state.tutela.clock().now());
    render_page(&state, &console, form, Errors::for_fields(FIELDS), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    form: CampaignForm,
    errors: Errors,
    status: StatusCode,
) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(Some(Nav::Reviews));
    let campaigns = state.tutela.review_campaigns(p).await.map_err(|e| console.core_error(e))?;
    let lines = campaigns.into_iter().map(|c| line(&chrome, c)).collect();
    let can_start = p.has(Permission::AccessReview);
    let lists_shown = can_start && p.has(Permission::UserManage);
    let (mut reviewers, mut departments) = (Vec::new(), Vec::new());
    if lists_shown {
        reviewers.push(Choice::new("", chrome.t("reviews-reviewer-none"), &form.reviewer_id));
        for u in state.tutela.users(p).await.map_err(|e| console.core_error(e))? {
            if u.status == "active" {
                reviewers.push(Choice::new(
                    u.id.to_string(),
                    format!("{} <{}>", u.display_name, u.email),
                    &form.reviewer_id,
                ));
            }
        }
        let org = &state.tutela.access_settings(p).await.map_err(|e| console.core_error(e))?.org;
        departments = department_choices(org, &form.department_id, &chrome.t("reviews-scope-everyone"), None);
    }
    let page = ReviewsPage {
        lines,
        can_start: lists_shown,
        lists_hidden: can_start && !lists_shown,
        form,
        reviewers,
        departments,
        errors,
        chrome,
    };
    Ok(render(status, &page))
}

/// A `datetime-local` value (minutes, or seconds too), read as UTC.
fn parse_deadline(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    PrimitiveDateTime::parse(raw, format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .or_else(|_| {
            PrimitiveDateTime::parse(raw, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"))
        })
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// What the console itself reads from the form; the domain checks the rest.
fn input(chrome: &Chrome, form: &CampaignForm, errors: &mut Errors) -> Option<CampaignInput> {
    let reviewer_id = optional_id(&form.reviewer_id);
    let department_id = optional_id(&form.department_id);
    let deadline = parse_deadline(&form.deadline);
    let recur_days = match form.recur_days.trim() {
        "" => Ok(None),
        n => n.parse::<i64>().map(Some),
    };
    if reviewer_id.is_err() {
        errors.add(Some("reviewer_id"), chrome.t("reviews-error-choose"));
    }
    if department_id.is_err() {
        errors.add(Some("department_id"), chrome.t("reviews-error-choose"));
    }
    if deadline.is_none() {
        errors.add(Some("deadline"), chrome.t("reviews-error-deadline"));
    }
    if recur_days.is_err() {
        errors.add(Some("recur_days"), chrome.t("reviews-error-recur-days"));
    }
    Some(CampaignInput {
        name: form.name.clone(),
        department_id: department_id.ok()?,
        routing: form.routing.clone(),
        reviewer_id: reviewer_id.ok()?,
        policy: form.policy.clone(),
        deadline: deadline?,
        recur_days: recur_days.ok()?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<CampaignForm>,
) -> ConsoleResult<Response> {
    console.require(Permission::AccessReview)?;
    let mut errors = Errors::for_fields(FIELDS);
    if let Some(input) = input(&console.chrome(None), &form, &mut errors) {
        match state.tutela.create_review_campaign(&console.principal, input).await {
            Ok(c) => return Ok(Redirect::to(&format!("/access/reviews/{}?notice=started", c.id)).into_response()),
            Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
        }
    }
    render_page(&state, &console, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_read_as_utc_with_or_without_seconds() {
        let t = parse_deadline("2031-02-03T04:05").unwrap();
        assert_eq!((t.year(), t.hour(), t.minute(), t.offset().is_utc()), (2031, 4, 5, true));
        assert_eq!(parse_deadline(" 2031-02-03T04:05:06 ").unwrap().second(), 6);
        assert!(parse_deadline("2031-02-30T04:05").is_none() && parse_deadline("tomorrow").is_none());
    }
}
