//! The scheduler's jobs: kinds, schedules, who runs them and their latest runs, for those
//! who oversee what runs unattended (`audit.read`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_core::jobs::{JobKindView, JobRunView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunDto {
    id: Uuid,
    node: String,
    /// `running`, `succeeded` or `failed`.
    status: String,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
    done: i64,
    total: Option<i64>,
    /// What the run did, or why it failed.
    summary: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobKindDto {
    name: String,
    description: String,
    /// Due again this many seconds after its last run started.
    every_seconds: i64,
    /// The node running it now, and until when its lease lasts.
    held_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    lease_until: Option<OffsetDateTime>,
    /// The latest runs, newest first.
    runs: Vec<JobRunDto>,
}

impl From<JobRunView> for JobRunDto {
    fn from(r: JobRunView) -> Self {
        Self {
            id: r.id,
            node: r.node,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
            done: r.done,
            total: r.total,
            summary: r.summary,
        }
    }
}

impl From<JobKindView> for JobKindDto {
    fn from(k: JobKindView) -> Self {
        Self {
            name: k.name.to_owned(),
            description: k.description.to_owned(),
            every_seconds: k.every_seconds,
            held_by: k.held_by,
            lease_until: k.lease_until,
            runs: k.runs.into_iter().map(Into::into).collect(),
        }
    }
}

/// Job kinds with their schedules, current holder and latest runs (`audit.read`).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs",
    responses((status = 200, body = Vec<JobKindDto>), (status = 403, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<JobKindDto>>, ApiError> {
    Ok(Json(state.tutela.jobs_overview(&p).await?.into_iter().map(Into::into).collect()))
}
