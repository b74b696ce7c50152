//! Notices: the caller's inbox (the console channel), marking one read, the language of
//! one's notices, and for administrators and auditors the status of outside deliveries.
//! Every rule is in `tutela_core::notify`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::CoreError;
use tutela_core::notify::{DeliveryStatus, DeliveryView, InboxPage, Language, NotificationView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(mark_read))
        .routes(routes!(set_language))
        .routes(routes!(deliveries))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    id: Uuid,
    /// `sign_in.new_device`, `break_glass.request`, …
    kind: String,
    subject: String,
    /// Plain text.
    body: String,
    /// The console page the notice is about.
    link: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    read_at: Option<OffsetDateTime>,
}

impl From<NotificationView> for NotificationDto {
    fn from(v: NotificationView) -> Self {
        Self {
            id: v.id,
            kind: v.kind,
            subject: v.subject,
            body: v.body,
            link: v.link,
            created_at: v.created_at,
            read_at: v.read_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxDto {
    /// Newest first.
    items: Vec<NotificationDto>,
    /// Unread notices in the whole inbox.
    unread: u64,
    /// Pass as `before` for the next (older) page; absent on the last.
    next: Option<Uuid>,
}

impl From<InboxPage> for InboxDto {
    fn from(p: InboxPage) -> Self {
        Self { items: p.items.into_iter().map(Into::into).collect(), unread: p.unread, next: p.next }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    /// The cursor: notices older than this one.
    before: Option<String>,
    /// 1 to 100; default 50.
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    id: Uuid,
    notification_id: Uuid,
    kind: String,
    /// `email` (webhook and syslog later).
    channel: String,
    address: String,
    #[schema(schema_with = status_schema)]
    status: String,
    attempts: i64,
    /// What the server or network said at the last failed attempt.
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    sent_at: Option<OffsetDateTime>,
}

fn status_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(DeliveryStatus::ALL.map(DeliveryStatus::as_str)))
        .build()
}

impl From<DeliveryView> for DeliveryDto {
    fn from(d: DeliveryView) -> Self {
        Self {
            id: d.id,
            notification_id: d.notification_id,
            kind: d.kind,
            channel: d.channel,
            address: d.address,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            updated_at: d.updated_at,
            sent_at: d.sent_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    /// `pending`, `sent` or `failed`; all when absent.
    status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageDto {
    /// `en` or `zh-CN`.
    language: String,
}

/// The caller's notices, newest first, in their notice language (a user only).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(InboxQuery),
    responses((status = 200, body = InboxDto), (status = 422, body = crate::error::Problem)))]
async fn inbox(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Query<InboxQuery>,
) -> Result<Json<InboxDto>, ApiError> {
    let before = q
        .before
        .as_deref()
        .map(|b| b.parse::<Uuid>().map_err(|_| CoreError::invalid("before", "a notification id")))
        .transpose()?;
    let limit = q
        .limit
        .as_deref()
        .map_or(Ok(50), str::parse)
        .map_err(|_| CoreError::invalid("limit", "a number from 1 to 100"))?;
    Ok(Json(state.tutela.notifications(&p, before, limit, None).await?.into()))
}

/// Marks one of the caller's notices read (404 for anyone else's).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn mark_read(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.mark_notification_read(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The language of the caller's notices and e-mails. Audited as `user.set_language`.
#[utoipa::path(put, path = "/api/v1/notifications/language", tag = "notifications",
    request_body = LanguageDto,
    responses((status = 204), (status = 422, body = crate::error::Problem)))]
async fn set_language(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<LanguageDto>,
) -> Result<StatusCode, ApiError> {
    let language = Language::parse(&body.language).ok_or_else(|| CoreError::invalid("language", "en or zh-CN"))?;
    state.tutela.set_notice_language(&p, language).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest deliveries and how each went: `user.manage` or `audit.read`.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications", params(DeliveriesQuery),
    responses((status = 200, body = Vec<DeliveryDto>), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn deliveries(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryDto>>, ApiError> {
    let status = q.status.as_deref().map(DeliveryStatus::parse).transpose()?;
    Ok(Json(state.tutela.notification_deliveries(&p, status).await?.into_iter().map(Into::into).collect()))
}
