//! Export requests: an export over the approval policy's limits (too many rows, restricted
//! fields in plaintext) waits for an approver (`access.approve`, never the requester); the
//! requester then downloads it, watermarked, until the approval expires. Under the limits a
//! request is approved at once. Every step is audited by the domain.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::access::{ExportApprovalPolicy, ExportRequestState, ExportRequestView};
use tutela_core::vault::ExportFormat;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::export_stream::export_response;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, request))
        .routes(routes!(get_one, cancel))
        .routes(routes!(decide))
        .routes(routes!(download))
        .routes(routes!(get_policy, set_policy))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportRequestDto {
    id: Uuid,
    /// Who asked, and their e-mail address.
    user_id: Uuid,
    user_email: String,
    /// `csv` or `jsonl`.
    format: String,
    purpose: Option<String>,
    /// Sealed fields that leave in plaintext.
    revealed: Vec<String>,
    /// Rows within the requester's reach when asked.
    rows: i64,
    /// Why an approver must decide: `rows`, `restricted`; empty when nobody had to.
    reasons: Vec<String>,
    /// `pending`, `approved` (downloadable), `expired`, `denied` or `cancelled`.
    #[schema(schema_with = state_schema)]
    state: String,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    /// The approver's e-mail address; absent when approved at once or still pending.
    decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    decided_at: Option<OffsetDateTime>,
    /// The approver's remark.
    note: Option<String>,
    /// Until when an approved export may be downloaded.
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

fn state_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["pending", "approved", "expired", "denied", "cancelled"]))
        .build()
}

pub fn state_str(s: ExportRequestState) -> &'static str {
    match s {
        ExportRequestState::Pending => "pending",
        ExportRequestState::Approved => "approved",
        ExportRequestState::Expired => "expired",
        ExportRequestState::Denied => "denied",
        ExportRequestState::Cancelled => "cancelled",
    }
}

impl From<ExportRequestView> for ExportRequestDto {
    fn from(v: ExportRequestView) -> Self {
        Self {
            id: v.id,
            user_id: v.user_id,
            user_email: v.user_email,
            format: v.format.to_owned(),
            purpose: v.purpose,
            revealed: v.revealed,
            rows: v.rows,
            reasons: v.reasons,
            state: state_str(v.state).to_owned(),
            requested_at: v.requested_at,
            decided_by: v.decided_by,
            decided_at: v.decided_at,
            note: v.note,
            expires_at: v.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExportRequest {
    /// `csv` (default) or `jsonl`.
    format: Option<String>,
    /// Why plaintext is needed (at most 500 characters). Without it, sealed fields leave
    /// masked; with it, those the requester may reveal leave in plaintext.
    purpose: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDecision {
    /// True approves the export for the policy's `valid_hours` from now; false denies it.
    approve: bool,
    /// A remark for the requester (at most 500 characters).
    note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportPolicyDto {
    /// Exports of more rows than this need an approver; null: any number may leave.
    max_rows: Option<u64>,
    /// Whether releasing restricted fields in plaintext needs an approver.
    restricted: bool,
    /// How long an approved export may be downloaded, in hours (1 to 168).
    valid_hours: i64,
}

impl From<ExportApprovalPolicy> for ExportPolicyDto {
    fn from(p: ExportApprovalPolicy) -> Self {
        Self { max_rows: p.max_rows, restricted: p.restricted, valid_hours: p.valid_hours }
    }
}

/// Export requests: everyone's, newest first, for approvers (`access.approve`), role
/// administrators and auditors; the caller's own otherwise.
#[utoipa::path(get, path = "/api/v1/exports", tag = "access",
    responses((status = 200, body = Vec<ExportRequestDto>)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<ExportRequestDto>>, ApiError> {
    Ok(Json(state.tutela.export_requests(&p).await?.into_iter().map(Into::into).collect()))
}

/// Ask to export the customers in the caller's reach (`customer.export`, a user only).
/// Approved at once under the policy's limits, pending otherwise. Audited as
/// `customer.export.request`.
#[utoipa::path(post, path = "/api/v1/exports", tag = "access", request_body = NewExportRequest,
    responses((status = 201, body = ExportRequestDto), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn request(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewExportRequest>,
) -> Result<(StatusCode, Json<ExportRequestDto>), ApiError> {
    let format: ExportFormat = body.format.as_deref().unwrap_or("csv").parse()?;
    let view = state.tutela.request_export(&p, format, body.purpose.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One request: for its requester, approvers, role administrators and auditors (404 to
/// anyone else).
#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExportRequestDto), (status = 404, body = crate::error::Problem)))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<ExportRequestDto>, ApiError> {
    Ok(Json(state.tutela.export_request(&p, id).await?.into()))
}

/// Withdraw a pending request or an unexpired approval: its requester, or an approver.
/// Audited as `customer.export.cancel`.
#[utoipa::path(delete, path = "/api/v1/exports/{id}", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn cancel(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.cancel_export(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Approve or deny a pending request (`access.approve`; never one's own, 403; 409 once
/// decided or after 7 days undecided). Audited as `customer.export.decide`.
#[utoipa::path(post, path = "/api/v1/exports/{id}/decision", tag = "access", params(("id" = Uuid, Path)),
    request_body = ExportDecision,
    responses((status = 200, body = ExportRequestDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn decide(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ExportDecision>,
) -> Result<Json<ExportRequestDto>, ApiError> {
    Ok(Json(state.tutela.decide_export(&p, id, body.approve, body.note.as_deref()).await?.into()))
}

/// Download an approved export (its requester only, until it expires; 409 otherwise),
/// streamed, with a `_watermark` column naming the requester, the time and the request.
/// Audited as `customer.export`.
#[utoipa::path(get, path = "/api/v1/exports/{id}/download", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 200, description = "CSV or JSON lines", content_type = "text/csv"),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn download(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let export = state.tutela.begin_approved_export(&p, id).await?;
    Ok(export_response(export))
}

/// The export approval policy: for those who may export (`customer.export`), decide
/// (`access.approve`), set it (`role.manage`) or audit (`audit.read`).
#[utoipa::path(get, path = "/api/v1/access/export-policy", tag = "access",
    responses((status = 200, body = ExportPolicyDto), (status = 403, body = crate::error::Problem)))]
async fn get_policy(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<ExportPolicyDto>, ApiError> {
    Ok(Json(state.tutela.export_approval_policy(&p).await?.into()))
}

/// Set the export approval policy (`role.manage`). Audited as `access.export_approval.policy`.
#[utoipa::path(put, path = "/api/v1/access/export-policy", tag = "access", request_body = ExportPolicyDto,
    responses((status = 200, body = ExportPolicyDto), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn set_policy(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<ExportPolicyDto>,
) -> Result<Json<ExportPolicyDto>, ApiError> {
    let policy =
        ExportApprovalPolicy { max_rows: body.max_rows, restricted: body.restricted, valid_hours: body.valid_hours };
    state.tutela.set_export_approval_policy(&p, policy).await?;
    Ok(Json(policy.into()))
}
