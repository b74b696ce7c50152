//! The "Sharing" section of a customer: its current shares, a form to lend the record to a
//! colleague until a date, and a button to end a share. The domain decides who may share and
//! end, and audits both.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, Time};
use tutela_core::CoreError;
use tutela_core::access::{ShareAccess, ShareInput};
use tutela_core::policy::Permission;
use uuid::Uuid;

use super::access_labels::{share_key, stored};
use super::customer_detail::{DetailExtra, detail};
use super::error::{ConsoleError, ConsoleResult};
use super::forms::{Errors, Nothing};
use super::layout::Chrome;
use super::org_view::Choice;
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub const SHARE_FIELDS: [&str; 4] = ["user", "access", "until", "reason"];
/// The longest a share may last (the domain's limit, for the date picker only).
const LONGEST: Duration = Duration::days(90);
const DATE: &[time::format_description::BorrowedFormatItem<'_>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub struct ShareLine {
    pub id: Uuid,
    pub user: String,
    pub access: String,
    pub until: Stamp,
    pub expired: bool,
    pub reason: String,
    pub by: String,
    pub can_end: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ShareForm {
    /// The colleague's e-mail address.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub access: String,
    /// `YYYY-MM-DD`; the share ends at the end of that day (UTC).
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub reason: String,
}

pub struct SharingSection {
    pub shares: Vec<ShareLine>,
    pub can_share: bool,
    pub form: ShareForm,
    pub accesses: Vec<Choice>,
    pub errors: Errors,
    pub min_date: String,
    pub max_date: String,
}

fn date(d: Date) -> String {
    d.format(DATE).unwrap_or_default()
}

/// The section as a customer page shows it, with the share form as given.
pub async fn section(
    state: &AppState,
    console: &Console,
    chrome: &Chrome,
    id: Uuid,
    form: Option<(ShareForm, Errors)>,
) -> ConsoleResult<SharingSection> {
    let now = state.tutela.clock().now();
    let shares = state.tutela.customer_shares(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    let me = console.principal.user_id;
    let manager = console.can(Permission::CustomerWrite) || console.can(Permission::UserManage);
    let mut lines: Vec<ShareLine> = shares
        .iter()
        .map(|s| ShareLine {
            id: s.id,
            user: s.user_email.clone(),
            access: stored(chrome, &s.access, share_key),
            until: Stamp::of(s.expires_at),
            expired: s.expires_at <= now,
            reason: s.reason.clone(),
            by: s.granted_by_email.clone().unwrap_or_default(),
            can_end: manager || (s.granted_by.is_some() && s.granted_by == me),
        })
        .collect();
    lines.sort_by(|a, b| a.expired.cmp(&b.expired).then_with(|| a.until.rfc3339.cmp(&b.until.rfc3339)));
    let (form, errors) = form.unwrap_or_else(|| {
        let until = date((now + Duration::days(7)).date());
        (ShareForm { access: "read".into(), until, ..ShareForm::default() }, Errors::for_fields(SHARE_FIELDS))
    });
    Ok(SharingSection {
        shares: lines,
        can_share: console.can(Permission::CustomerWrite),
        accesses: ShareAccess::ALL
            .iter()
            .map(|a| Choice::new(a.as_str(), chrome.t(share_key(*a)), &form.access))
            .collect(),
        form,
        errors,
        min_date: date(now.date()),
        max_date: date((now + LONGEST - Duration::days(1)).date()),
    })
}

/// The end of the chosen day, UTC.
fn end_of(day: &str) -> Option<OffsetDateTime> {
    let d = Date::parse(day.trim(), DATE).ok()?;
    Some(d.with_time(Time::from_hms(23, 59, 59).ok()?).assume_utc())
}

pub async fn share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<ShareForm>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    console.require(Permission::CustomerWrite)?;
    let chrome = console.chrome(None);
    let mut errors = Errors::for_fields(SHARE_FIELDS);
    let email = form.user.trim().to_lowercase();
    let user = if email.is_empty() {
        None
    } else {
        state.tutela.colleague_by_email(&console.principal, &email).await.map_err(|e| console.core_error(e))?
    };
    let until = end_of(&form.until);
    match (user, until) {
        (Some(user), Some(expires_at)) => {
            let input =
                ShareInput { user_id: user, access: form.access.clone(), expires_at, reason: form.reason.clone() };
            match state.tutela.share_customer(&console.principal, id, input).await {
                Ok(_) => return Ok(Redirect::to(&format!("/customers/{id}?notice=shared#sharing")).into_response()),
                Err(CoreError::Invalid { field, message }) => match field.as_str() {
                    "user_id" => errors.add(Some("user"), chrome.t("share-error-user")),
                    "expires_at" => errors.add(Some("until"), chrome.t("share-error-until")),
                    _ => errors.add(Some(&field), message),
                },
                // The record is not one this user may change.
                Err(CoreError::NotFound(_)) => errors.add(None, chrome.t("share-error-not-writable")),
                Err(e) => return Err(console.core_error(e)),
            }
        }
        (user, until) => {
            if user.is_none() {
                errors.add(Some("user"), chrome.t("share-error-user"));
            }
            if until.is_none() {
                errors.add(Some("until"), chrome.t("share-error-until"));
            }
        }
    }
    let extra = DetailExtra { share: Some((form, errors)), ..DetailExtra::default() };
    let mut page = detail(&state, &console, id, None, extra).await?;
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page)
}

pub async fn end(
    State(state): State<AppState>,
    Path((id, share)): Path<(String, String)>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    let share: Uuid = share.parse().map_err(|_| ConsoleError::not_found(console.lang).for_htmx(console.htmx))?;
    state.tutela.end_share(&console.principal, id, share).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to(&format!("/customers/{id}?notice=unshared#sharing")).into_response())
}
