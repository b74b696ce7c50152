//! Break-glass access: a user asks for time-boxed read access to one customer their roles do
//! not reach, with a written justification; by policy it opens at once or waits for an
//! approver (`access.approve`, never the requester). Every step is audited by the domain
//! with `alert: true`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::access::{BreakGlassPolicy, BreakGlassState, BreakGlassView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(request))
        .routes(routes!(decide))
        .routes(routes!(end))
        .routes(routes!(get_policy, set_policy))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassDto {
    id: Uuid,
    customer_id: Uuid,
    /// Who asked.
    user_id: Uuid,
    justification: String,
    /// `pending`, `active`, `expired`, `denied` or `ended`, with expiry taken into account.
    #[schema(schema_with = state_schema)]
    state: String,
    /// How long the access lasts once granted.
    minutes: i64,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    /// The approver who granted or denied it; absent when granted at once or still pending.
    decided_by: Option<Uuid>,
    /// When the access ends (or ended); absent while pending or when denied.
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

fn state_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["pending", "active", "expired", "denied", "ended"]))
        .build()
}

pub fn state_str(s: BreakGlassState) -> &'static str {
    match s {
        BreakGlassState::Pending => "pending",
        BreakGlassState::Active => "active",
        BreakGlassState::Expired => "expired",
        BreakGlassState::Denied => "denied",
        BreakGlassState::Ended => "ended",
    }
}

impl From<BreakGlassView> for BreakGlassDto {
    fn from(v: BreakGlassView) -> Self {
        Self {
            id: v.id,
            customer_id: v.customer_id,
            user_id: v.user_id,
            justification: v.justification,
            state: state_str(v.state).to_owned(),
            minutes: v.minutes,
            requested_at: v.requested_at,
            decided_by: v.decided_by,
            expires_at: v.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    /// Why the access is needed (20 to 2000 characters); kept in the audit log.
    justification: String,
    /// How long the access lasts, from 5 to the policy's `max_minutes`.
    minutes: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// True grants the access for the requested minutes from now; false denies it.
    grant: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassPolicyDto {
    /// Whether an approver must grant a request before it opens anything.
    approval_required: bool,
    /// The longest access one request may ask for, in minutes (5 to 1440).
    max_minutes: i64,
}

impl From<BreakGlassPolicy> for BreakGlassPolicyDto {
    fn from(p: BreakGlassPolicy) -> Self {
        Self { approval_required: p.approval_required, max_minutes: p.max_minutes }
    }
}

/// Break-glass requests: everyone's, newest first, for approvers (`access.approve`), role
/// administrators and auditors; the caller's own otherwise.
#[utoipa::path(get, path = "/api/v1/break-glass", tag = "access",
    responses((status = 200, body = Vec<BreakGlassDto>)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<BreakGlassDto>>, ApiError> {
    Ok(Json(state.tutela.break_glass_requests(&p).await?.into_iter().map(Into::into).collect()))
}

/// Ask for time-boxed read access to a customer (`customer.read`, a user only). Granted at
/// once unless the policy asks for approval. Audited as `access.break_glass.request`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/break-glass", tag = "access", params(("id" = Uuid, Path)),
    request_body = BreakGlassRequest,
    responses((status = 201, body = BreakGlassDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn request(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<BreakGlassRequest>,
) -> Result<(StatusCode, Json<BreakGlassDto>), ApiError> {
    let view = state.tutela.request_break_glass(&p, id, &body.justification, body.minutes).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Grant or deny a pending request (`access.approve`; never one's own, 403). Audited as
/// `access.break_glass.decide`.
#[utoipa::path(post, path = "/api/v1/break-glass/{id}/decision", tag = "access", params(("id" = Uuid, Path)),
    request_body = DecisionRequest,
    responses((status = 200, body = BreakGlassDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn decide(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Result<Json<BreakGlassDto>, ApiError> {
    Ok(Json(state.tutela.decide_break_glass(&p, id, body.grant).await?.into()))
}

/// End a pending or active request before its time: its requester, or an approver
/// (`access.approve`). Audited as `access.break_glass.end`.
#[utoipa::path(post, path = "/api/v1/break-glass/{id}/end", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn end(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.end_break_glass(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The break-glass policy: for those who may ask (`customer.read`), decide
/// (`access.approve`), set it (`role.manage`) or audit (`audit.read`).
#[utoipa::path(get, path = "/api/v1/access/break-glass-policy", tag = "access",
    responses((status = 200, body = BreakGlassPolicyDto), (status = 403, body = crate::error::Problem)))]
async fn get_policy(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<BreakGlassPolicyDto>, ApiError> {
    Ok(Json(state.tutela.break_glass_policy(&p).await?.into()))
}

/// Set the break-glass policy (`role.manage`). Audited as `access.break_glass.policy`.
#[utoipa::path(put, path = "/api/v1/access/break-glass-policy", tag = "access", request_body = BreakGlassPolicyDto,
    responses((status = 200, body = BreakGlassPolicyDto), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn set_policy(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<BreakGlassPolicyDto>,
) -> Result<Json<BreakGlassPolicyDto>, ApiError> {
    let policy = BreakGlassPolicy { approval_required: body.approval_required, max_minutes: body.max_minutes };
    state.tutela.set_break_glass_policy(&p, policy).await?;
    Ok(Json(policy.into()))
}
