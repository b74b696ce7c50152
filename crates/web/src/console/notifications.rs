//! The inbox page: the signed-in user's notices, newest first and paged by cursor, in the
//! user's notice language (as the API renders them, and as their e-mails read), unread ones
//! marked, each with a "mark read" button; the notice-language form; and, for those the
//! notifier lets see it (`DELIVERY_VIEWERS`), the status of outside deliveries. The
//! notice language is the account's own setting: the console's language switch (a cookie of
//! one browser) does not change it, nor the other way round. The domain owns every rule.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::CoreError;
use tutela_core::notify::{DELIVERY_VIEWERS, DeliveryStatus, DeliveryView, Language, NotificationView};
use uuid::Uuid;

use super::error::{ConsoleResult, render};
use super::forms::Errors;
use super::i18n::Lang;
use super::layout::Chrome;
use super::session::{Console, ConsoleForm, local_path};
use super::stamp::Stamp;
use crate::AppState;

/// Notices on one page.
const PAGE: u32 = 20;
const LANGUAGE_FIELDS: [&str; 1] = ["language"];

pub struct Line {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub received: Stamp,
    pub read: Option<Stamp>,
}

pub struct DeliveryLine {
    pub channel: String,
    pub address: String,
    pub kind: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempts: i64,
    pub last_error: String,
    /// Only while a delivery is pending; sent and failed ones are not tried again.
    pub next_attempt: Option<Stamp>,
}

pub struct LanguageChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct StatusLink {
    pub href: String,
    pub label: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notice: Option<String>,
    lines: Vec<Line>,
    unread: u64,
    /// The cursor of this page, which "mark read" comes back to.
    before: Option<Uuid>,
    newest_href: Option<String>,
    older_href: Option<String>,
    /// `None`: the delivery status is not shown to this user.
    deliveries: Option<Vec<DeliveryLine>>,
    status_links: Vec<StatusLink>,
    languages: Vec<LanguageChoice>,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    before: Option<String>,
    status: Option<String>,
    notice: Option<String>,
}

/// What the page shows besides the forms: the inbox cursor, the delivery filter, a notice.
#[derive(Debug, Default)]
struct View {
    before: Option<Uuid>,
    status: Option<DeliveryStatus>,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReadForm {
    /// The page's cursor, to come back to the same page.
    #[serde(default)]
    before: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
}

fn filled(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// The inbox cursor: a notice id, or nothing for the newest page.
fn cursor(raw: Option<&str>) -> Result<Option<Uuid>, CoreError> {
    filled(raw).map(|b| b.parse().map_err(|_| CoreError::invalid("before", "a notification id"))).transpose()
}

fn href(before: Option<Uuid>, status: Option<DeliveryStatus>, notice: Option<&str>) -> String {
    let before = before.map(|b| b.to_string());
    let pairs: Vec<(&str, &str)> =
        [("before", before.as_deref()), ("status", status.map(DeliveryStatus::as_str)), ("notice", notice)]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
    if pairs.is_empty() {
        return "/notifications".to_owned();
    }
    format!("/notifications?{}", serde_html_form::to_string(&pairs).unwrap_or_default())
}

fn line(v: NotificationView) -> Line {
    Line {
        id: v.id,
        kind: v.kind,
        subject: v.subject,
        body: v.body,
        // Links are console paths the domain set; kept on this site all the same.
        link: v.link.as_deref().map(local_path),
        received: Stamp::of(v.created_at),
        read: v.read_at.map(Stamp::of),
    }
}

fn delivery_line(chrome: &Chrome, d: DeliveryView) -> DeliveryLine {
    let status_class = match d.status {
        DeliveryStatus::Pending => "warn",
        DeliveryStatus::Sent => "ok",
        DeliveryStatus::Failed => "danger",
    };
    DeliveryLine {
        status: chrome.t(&format!("notifications-status-{}", d.status.as_str())),
        status_class,
        next_attempt: (d.status == DeliveryStatus::Pending).then(|| Stamp::of(d.next_attempt_at)),
        channel: d.channel,
        address: d.address,
        kind: d.kind,
        attempts: d.attempts,
        last_error: d.last_error.unwrap_or_default(),
    }
}

fn status_links(chrome: &Chrome, current: Option<DeliveryStatus>) -> Vec<StatusLink> {
    let all = StatusLink {
        href: format!("{}#deliveries", href(None, None, None)),
        label: chrome.t("notifications-filter-all"),
        current: current.is_none(),
    };
    let each = DeliveryStatus::ALL.into_iter().map(|s| StatusLink {
        href: format!("{}#deliveries", href(None, Some(s), None)),
        label: chrome.t(&format!("notifications-status-{}", s.as_str())),
        current: current == Some(s),
    });
    std::iter::once(all).chain(each).collect()
}

fn may_see_deliveries(console: &Console) -> bool {
    DELIVERY_VIEWERS.into_iter().any(|p| console.can(p))
}

pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PageQuery>) -> ConsoleResult {
    let before = cursor(q.before.as_deref()).map_err(|e| console.core_error(e))?;
    let status =
        filled(q.status.as_deref()).map(DeliveryStatus::parse).transpose().map_err(|e| console.core_error(e))?;
    let notice = match q.notice.as_deref() {
        Some("read") => Some("notifications-notice-read"),
        Some("language") => Some("notifications-notice-language"),
        _ => None,
    };
    let view = View { before, status, notice };
    render_page(&state, &console, &view, Errors::for_fields(LANGUAGE_FIELDS), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    console: &Console,
    view: &View,
    errors: Errors,
    status: StatusCode,
) -> ConsoleResult {
    let p = &console.principal;
    let chrome = console.chrome(None);
    let language = state.tutela.notice_language(console.session.user_id).await.map_err(|e| console.core_error(e))?;
    let inbox =
        state.tutela.notifications(p, view.before, PAGE, Some(language)).await.map_err(|e| console.core_error(e))?;
    let deliveries = if may_see_deliveries(console) {
        let found = state.tutela.notification_deliveries(p, view.status).await.map_err(|e| console.core_error(e))?;
        Some(found.into_iter().map(|d| delivery_line(&chrome, d)).collect())
    } else {
        None
    };
    let languages = Lang::ALL
        .into_iter()
        .map(|l| LanguageChoice {
            value: l.tag(),
            label: l.native_name(),
            selected: Language::parse(l.tag()) == Some(language),
        })
        .collect();
    let page = NotificationsPage {
        notice: view.notice.map(|key| chrome.t(key)),
        unread: inbox.unread,
        before: view.before,
        newest_href: view.before.map(|_| href(None, view.status, None)),
        older_href: inbox.next.map(|next| href(Some(next), view.status, None)),
        lines: inbox.items.into_iter().map(line).collect(),
        status_links: status_links(&chrome, view.status),
        deliveries,
        languages,
        errors,
        chrome,
    };
    Ok(render(status, &page))
}

/// Marks one of the user's notices read and comes back to the same page; anyone else's
/// notice is not found.
pub async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<ReadForm>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    let before = cursor(Some(&form.before)).map_err(|e| console.core_error(e))?;
    state.tutela.mark_notification_read(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to(&href(before, None, Some("read"))).into_response())
}

/// Sets the language of the user's notices and e-mails (audited by the domain).
pub async fn set_language(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<LanguageForm>,
) -> ConsoleResult<Response> {
    let mut errors = Errors::for_fields(LANGUAGE_FIELDS);
    match Language::parse(&form.language) {
        Some(language) => match state.tutela.set_notice_language(&console.principal, language).await {
            Ok(()) => return Ok(Redirect::to(&href(None, None, Some("language"))).into_response()),
            Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
        },
        None => errors.add(Some("language"), console.chrome(None).t("notifications-error-language")),
    }
    render_page(&state, &console, &View::default(), errors, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .map(IntoResponse::into_response)
}
