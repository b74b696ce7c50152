//! The audit log: search and verification.

use axum::Json;
use axum::extract::State;
use axum_extra::extract::Query;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_store::{AuditFilter, AuditRecord};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(verify)).routes(routes!(export))
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor: String,
    action: String,
    outcome: String,
    customer_id: Option<Uuid>,
    fields: Vec<String>,
    purpose: Option<String>,
    source: Option<String>,
    detail: Option<serde_json::Value>,
    /// Hex SHA-256 chain hash.
    hash: String,
}

impl From<AuditRecord> for AuditEventDto {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            outcome: r.outcome,
            customer_id: r.customer_id,
            fields: r.fields,
            purpose: r.purpose,
            source: r.source,
            detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
            hash: hex::encode(r.hash),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    actor_id: Option<Uuid>,
    action: Option<String>,
    customer_id: Option<Uuid>,
    /// RFC 3339, inclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    from: Option<OffsetDateTime>,
    /// RFC 3339, exclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    to: Option<OffsetDateTime>,
    /// Cursor: events before this sequence number.
    before: Option<i64>,
    /// 1 to 1000; default 100.
    limit: Option<u32>,
}

/// Search the audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(SearchParams),
    responses((status = 200, body = Vec<AuditEventDto>), (status = 403, body = crate::error::Problem)))]
async fn search(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Query<SearchParams>,
) -> Result<Json<Vec<AuditEventDto>>, ApiError> {
    let filter = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        customer_id: q.customer_id,
        from: q.from,
        to: q.to,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(state.tutela.audit_events(&p, &filter).await?.into_iter().map(Into::into).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct VerifyDto {
    intact: bool,
    events: u64,
    checkpoints: u64,
    head_seq: Option<i64>,
    /// Hex hash of the newest event.
    head_hash: Option<String>,
    /// The first bad event, if any.
    first_bad_seq: Option<i64>,
    problem: Option<String>,
}

/// Verify the whole hash chain and its signed checkpoints.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyDto), (status = 403, body = crate::error::Problem)))]
async fn verify(State(state): State<AppState>, Authenticated(p): Authenticated) -> Result<Json<VerifyDto>, ApiError> {
    let r = state.tutela.verify_audit_as(&p).await?;
    Ok(Json(VerifyDto {
        intact: r.problem.is_none(),
        events: r.events,
        checkpoints: r.checkpoints,
        head_seq: r.head.map(|h| h.0),
        head_hash: r.head.map(|h| hex::encode(h.1)),
        first_bad_seq: r.problem.as_ref().map(tutela_core::audit::VerifyProblem::seq),
        problem: r.problem.map(|p| p.to_string()),
    }))
}

/// The whole log as JSON lines, oldest first, streamed.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit",
    responses((status = 200, description = "JSON lines", content_type = "application/jsonl"), (status = 403, body = crate::error::Problem)))]
async fn export(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let export = state.tutela.begin_audit_export(&p).await?;
    let tutela = state.tutela.clone();
    let stream = futures::stream::try_unfold((tutela, export), |(tutela, mut export)| async move {
        match tutela.next_audit_export_chunk(&mut export).await {
            Ok(Some(chunk)) => Ok(Some((axum::body::Bytes::from(chunk), (tutela, export)))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "audit export failed mid-stream");
                Err(std::io::Error::other("audit export failed"))
            }
        }
    });
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/jsonl; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"audit.jsonl\""),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
