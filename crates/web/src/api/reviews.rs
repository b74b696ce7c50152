//! Access reviews: campaigns (`access.review` starts and closes them; they and auditors see
//! them all), the caller's items to review, decisions (the item's reviewer, or
//! `access.review`), the kept report, and department managers. Every rule and audit event is
//! in `tutela_core::access::reviews`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::CoreError;
use tutela_core::access::reviews::{
    CampaignCounts, CampaignDetail, CampaignInput, CampaignView, DecisionInput, MyReviewItem, ReviewItemView,
    ReviewReport,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::shares::SharePath;
use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(mine))
        .routes(routes!(get_one))
        .routes(routes!(close))
        .routes(routes!(decide))
        .routes(routes!(report))
        .routes(routes!(set_manager))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CountsDto {
    items: usize,
    open: usize,
    certified: usize,
    revoked: usize,
    flagged: usize,
    revoked_at_deadline: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignDto {
    id: Uuid,
    name: String,
    department_id: Option<Uuid>,
    department: Option<String>,
    /// `manager` or `reviewer`.
    routing: String,
    reviewer_id: Option<Uuid>,
    reviewer_email: Option<String>,
    /// `revoke` or `flag`: what becomes of unreviewed items at the deadline.
    policy: String,
    recur_days: Option<i64>,
    created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    /// `open`, `overdue` (past the deadline, closing at the next run of the deadline job) or
    /// `closed`.
    state: String,
    #[serde(with = "time::serde::rfc3339::option")]
    closed_at: Option<OffsetDateTime>,
    counts: CountsDto,
}

fn text<T: Serialize>(v: T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl From<CampaignCounts> for CountsDto {
    fn from(c: CampaignCounts) -> Self {
        Self {
            items: c.items,
            open: c.open,
            certified: c.certified,
            revoked: c.revoked,
            flagged: c.flagged,
            revoked_at_deadline: c.revoked_at_deadline,
        }
    }
}

impl From<CampaignView> for CampaignDto {
    fn from(v: CampaignView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            department_id: v.department_id,
            department: v.department,
            routing: v.routing.as_str().to_owned(),
            reviewer_id: v.reviewer_id,
            reviewer_email: v.reviewer_email,
            policy: v.policy.as_str().to_owned(),
            recur_days: v.recur_days,
            created_by: v.created_by,
            created_at: v.created_at,
            deadline: v.deadline,
            state: text(v.state),
            closed_at: v.closed_at,
            counts: v.counts.into(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemDto {
    id: Uuid,
    campaign_id: Uuid,
    user_id: Uuid,
    user_email: String,
    /// `role` or `share`.
    kind: String,
    subject_id: Uuid,
    /// The role's name, or the share's record, access and end, as they stood at the start.
    label: String,
    reviewer_id: Option<Uuid>,
    reviewer_email: Option<String>,
    /// `certify` or `revoke`; absent while undecided.
    decision: Option<String>,
    note: Option<String>,
    justification: Option<String>,
    decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    decided_at: Option<OffsetDateTime>,
    /// `kept`, `revoked`, `flagged` or `gone`; absent while undecided.
    outcome: Option<String>,
}

impl From<ReviewItemView> for ItemDto {
    fn from(v: ReviewItemView) -> Self {
        Self {
            id: v.id,
            campaign_id: v.campaign_id,
            user_id: v.user_id,
            user_email: v.user_email,
            kind: v.kind,
            subject_id: v.subject_id,
            label: v.label,
            reviewer_id: v.reviewer_id,
            reviewer_email: v.reviewer_email,
            decision: v.decision.map(|d| d.as_str().to_owned()),
            note: v.note,
            justification: v.justification,
            decided_by: v.decided_by,
            decided_at: v.decided_at,
            outcome: v.outcome,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetailDto {
    campaign: CampaignDto,
    /// All items for those who run or audit reviews; the caller's own for a reviewer.
    items: Vec<ItemDto>,
}

impl From<CampaignDetail> for CampaignDetailDto {
    fn from(d: CampaignDetail) -> Self {
        Self { campaign: d.campaign.into(), items: d.items.into_iter().map(Into::into).collect() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyItemDto {
    campaign_name: String,
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    item: ItemDto,
}

impl From<MyReviewItem> for MyItemDto {
    fn from(m: MyReviewItem) -> Self {
        Self { campaign_name: m.campaign_name, deadline: m.deadline, item: m.item.into() }
    }
}

/// The kept report, as stored when the campaign closed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportDto {
    campaign: CampaignDto,
    /// `deadline`, or who closed it before.
    closed_by: String,
    #[serde(with = "time::serde::rfc3339")]
    closed_at: OffsetDateTime,
    items: Vec<ItemDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// 1 to 100 characters.
    name: String,
    /// Reviews this department and those below it; absent: every user.
    department_id: Option<Uuid>,
    /// `manager` (each user's department manager) or `reviewer` (the named reviewer).
    routing: String,
    /// The named reviewer; under `manager` routing, who reviews users without a manager.
    reviewer_id: Option<Uuid>,
    /// `revoke` or `flag`.
    policy: String,
    /// In the future, within 366 days.
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    /// Starts the next campaign at the close, due this many days (7 to 366) after this
    /// deadline.
    recur_days: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `certify` or `revoke` (a revocation takes effect at once).
    decision: String,
    /// At most 1000 characters.
    note: Option<String>,
    /// Required when deciding on one's own access; at most 1000 characters.
    justification: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerBody {
    /// The manager (an active user); null: nobody.
    manager_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Campaigns, newest first: all for `access.review` and `audit.read`; those with items
/// assigned to the caller otherwise.
#[utoipa::path(get, path = "/api/v1/access/reviews", tag = "access",
    responses((status = 200, body = Vec<CampaignDto>)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<CampaignDto>>, ApiError> {
    Ok(Json(state.tutela.review_campaigns(&p).await?.into_iter().map(Into::into).collect()))
}

/// Start a campaign (`access.review`): the in-scope users' roles and live record shares are
/// snapshotted as items, each routed to its reviewer. Audited as `access.review.create`.
#[utoipa::path(post, path = "/api/v1/access/reviews", tag = "access", request_body = NewCampaign,
    responses((status = 201, body = CampaignDto), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(b): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignDto>), ApiError> {
    let input = CampaignInput {
        name: b.name,
        department_id: b.department_id,
        routing: b.routing,
        reviewer_id: b.reviewer_id,
        policy: b.policy,
        deadline: b.deadline,
        recur_days: b.recur_days,
    };
    Ok((StatusCode::CREATED, Json(state.tutela.create_review_campaign(&p, input).await?.into())))
}

/// The caller's items still waiting for a decision.
#[utoipa::path(get, path = "/api/v1/access/reviews/mine", tag = "access",
    responses((status = 200, body = Vec<MyItemDto>)))]
async fn mine(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<MyItemDto>>, ApiError> {
    Ok(Json(state.tutela.my_reviews(&p).await?.into_iter().map(Into::into).collect()))
}

/// One campaign with its items: all of them for `access.review` and `audit.read`, the
/// caller's own for a reviewer; 404 to anyone else.
#[utoipa::path(get, path = "/api/v1/access/reviews/{id}", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignDetailDto), (status = 404, body = crate::error::Problem)))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<CampaignDetailDto>, ApiError> {
    Ok(Json(state.tutela.review_campaign(&p, id).await?.into()))
}

/// Close a campaign before its deadline (`access.review`), applying its policy to what
/// nobody reviewed; 409 once closed. Audited as `access.review.close`.
#[utoipa::path(post, path = "/api/v1/access/reviews/{id}/close", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn close(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<CampaignDto>, ApiError> {
    Ok(Json(state.tutela.close_review_campaign(&p, id).await?.into()))
}

/// Certify or revoke an item: its reviewer, or `access.review` (403 otherwise). Deciding on
/// one's own access needs a `justification` (422 without). 409 when decided already or the
/// campaign is past its deadline or closed. Audited as `access.review.decide`.
#[utoipa::path(post, path = "/api/v1/access/reviews/{id}/items/{item}/decision", tag = "access",
    params(("id" = Uuid, Path), ("item" = Uuid, Path)), request_body = DecisionBody,
    responses((status = 200, body = ItemDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn decide(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    SharePath(id, item): SharePath,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Json<ItemDto>, ApiError> {
    let input = DecisionInput { decision: b.decision, note: b.note, justification: b.justification };
    Ok(Json(state.tutela.decide_review_item(&p, id, item, input).await?.into()))
}

/// The report of a closed campaign, as kept when it closed (`access.review` or
/// `audit.read`), as JSON or, with `?format=csv`, CSV; 409 while open. Audited as
/// `access.review.report`.
#[utoipa::path(get, path = "/api/v1/access/reviews/{id}/report", tag = "access",
    params(("id" = Uuid, Path), ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses((status = 200, body = ReportDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn report(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "format: json or csv")),
    };
    let stored = state.tutela.review_report(&p, id).await?;
    Ok(report_file(id, stored, csv)?)
}

/// The kept report as a file to save: JSON exactly as stored, or CSV. The console's download
/// answers with the same file.
pub(crate) fn report_file(id: Uuid, stored: String, csv: bool) -> Result<Response, CoreError> {
    let disposition = format!("attachment; filename=\"access-review-{id}.{}\"", if csv { "csv" } else { "json" });
    Ok(if csv {
        let body = ReviewReport::from_json(&stored)?.to_csv()?;
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
            body,
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, disposition)], stored)
            .into_response()
    })
}

/// Name a department's manager, who reviews its members' access in campaigns routed to
/// managers (`user.manage`). Audited as `org.department.manager`.
#[utoipa::path(put, path = "/api/v1/org/departments/{id}/manager", tag = "org", params(("id" = Uuid, Path)),
    request_body = ManagerBody,
    responses((status = 204), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set_manager(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<ManagerBody>,
) -> Result<StatusCode, ApiError> {
    state.tutela.set_department_manager(&p, id, b.manager_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
