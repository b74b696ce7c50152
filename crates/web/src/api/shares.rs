//! Record shares (one customer lent to one user for a limited time) and the size of the
//! caller's reach. A record outside the caller's reach is answered as absent (404), never
//! forbidden, so that no answer confirms it exists.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tutela_core::access::{ShareInput, ShareView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::levels;
use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(end)).routes(routes!(count))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareDto {
    id: Uuid,
    customer_id: Uuid,
    /// Who the record is shared with.
    user_id: Uuid,
    user_email: String,
    #[schema(schema_with = levels::share_access)]
    access: String,
    reason: String,
    /// Who shared it; absent when the grantor was not a user.
    granted_by: Option<Uuid>,
    granted_by_email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// After this instant the share grants nothing.
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl From<ShareView> for ShareDto {
    fn from(s: ShareView) -> Self {
        Self {
            id: s.id,
            customer_id: s.customer_id,
            user_id: s.user_id,
            user_email: s.user_email,
            access: s.access,
            reason: s.reason,
            granted_by: s.granted_by,
            granted_by_email: s.granted_by_email,
            created_at: s.created_at,
            expires_at: s.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// Another active user.
    user_id: Uuid,
    /// `read` or `write`; never more than the caller holds on the record.
    #[schema(schema_with = levels::share_access)]
    access: String,
    /// RFC 3339; in the future and at most 90 days ahead.
    expires_at: String,
    /// Why the record is shared (1 to 500 characters); kept in the audit log.
    reason: String,
}

/// The shares of a customer the caller may read (`customer.read`).
#[utoipa::path(get, path = "/api/v1/customers/{id}/shares", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ShareDto>), (status = 404, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Vec<ShareDto>>, ApiError> {
    Ok(Json(state.tutela.customer_shares(&p, id).await?.into_iter().map(Into::into).collect()))
}

/// Share a customer the caller may change with another user until `expires_at`
/// (`customer.write`). Audited as `customer.share`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/shares", tag = "customers", params(("id" = Uuid, Path)),
    request_body = ShareRequest,
    responses((status = 201, body = ShareDto), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ShareRequest>,
) -> Result<(StatusCode, Json<ShareDto>), ApiError> {
    let expires_at = OffsetDateTime::parse(body.expires_at.trim(), &Rfc3339)
        .map_err(|e| ApiError::invalid("expires_at", format!("expires_at: not an RFC 3339 time ({e})")))?;
    let input = ShareInput { user_id: body.user_id, access: body.access, expires_at, reason: body.reason };
    Ok((StatusCode::CREATED, Json(state.tutela.share_customer(&p, id, input).await?.into())))
}

/// Two ids in the path (a customer and a share; a review campaign and an item); a malformed
/// one names nothing (404).
pub struct SharePath(pub(crate) Uuid, pub(crate) Uuid);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SharePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        Path::<(Uuid, Uuid)>::from_request_parts(parts, state).await.map(|Path((c, s))| Self(c, s)).map_err(
            |_: PathRejection| {
                ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", "an id in the path is not a UUID")
            },
        )
    }
}

/// End a share early: its grantor, anyone who may change the record, or a user
/// administrator. Anyone else is told it does not exist. Audited as `customer.unshare`.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/shares/{share}", tag = "customers",
    params(("id" = Uuid, Path), ("share" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn end(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    SharePath(customer, share): SharePath,
) -> Result<StatusCode, ApiError> {
    state.tutela.end_share(&p, customer, share).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountDto {
    /// How many customers the caller's data scope, sharing rules, live shares and the
    /// organisation default reach.
    count: u64,
}

/// How many customers the caller may read (`customer.read`): the same rows a list would
/// page through.
#[utoipa::path(get, path = "/api/v1/customers/count", tag = "customers",
    responses((status = 200, body = CountDto), (status = 403, body = crate::error::Problem)))]
async fn count(State(state): State<AppState>, Authenticated(p): Authenticated) -> Result<Json<CountDto>, ApiError> {
    Ok(Json(CountDto { count: state.tutela.count_customers(&p).await? }))
}
