//! The organisation: the department tree, teams and who belongs where. Changes need
//! `user.manage`; reading needs `user.manage`, `role.manage` or `audit.read`.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::access::{DepartmentInput, MembershipInput, Org, TeamInput};
use tutela_store::{DepartmentRow, TeamRow};
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
        .routes(routes!(show))
        .routes(routes!(create_department))
        .routes(routes!(put_department, delete_department))
        .routes(routes!(create_team))
        .routes(routes!(put_team, delete_team))
        .routes(routes!(set_membership))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentDto {
    id: Uuid,
    name: String,
    /// The department above; absent at the top of the tree.
    parent_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<DepartmentRow> for DepartmentDto {
    fn from(d: DepartmentRow) -> Self {
        Self { id: d.id, name: d.name, parent_id: d.parent_id, created_at: d.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    id: Uuid,
    name: String,
    /// The department the team sits in, if any.
    department_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<TeamRow> for TeamDto {
    fn from(t: TeamRow) -> Self {
        Self { id: t.id, name: t.name, department_id: t.department_id, created_at: t.created_at }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipDto {
    /// Absent (or `null`) for no department.
    #[serde(default)]
    department_id: Option<Uuid>,
    /// Absent (or `null`) for no team.
    #[serde(default)]
    team_id: Option<Uuid>,
}

#[allow(clippy::struct_field_names)] // the wire names, as in the rest of the API
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    user_id: Uuid,
    department_id: Option<Uuid>,
    team_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDto {
    /// Every department; the tree is given by `parent_id`.
    departments: Vec<DepartmentDto>,
    teams: Vec<TeamDto>,
    /// Every user placed in a department or a team; a user not listed belongs nowhere.
    members: Vec<MemberDto>,
}

impl From<&Org> for OrgDto {
    fn from(org: &Org) -> Self {
        let all_departments: BTreeSet<Uuid> = org.departments().iter().map(|d| d.id).collect();
        let mut users: BTreeSet<Uuid> = org.members_of_departments(&all_departments).collect();
        for team in org.teams() {
            users.extend(org.members_of_team(team.id));
        }
        Self {
            departments: org.departments().iter().cloned().map(Into::into).collect(),
            teams: org.teams().iter().cloned().map(Into::into).collect(),
            members: users
                .into_iter()
                .filter_map(|u| org.membership(u))
                .map(|m| MemberDto { user_id: m.user_id, department_id: m.department_id, team_id: m.team_id })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    /// 1 to 100 characters, unique among departments.
    name: String,
    /// The department above; absent or `null` for the top of the tree. A parent that is the
    /// department itself or one below it is refused (422 naming `parent_id`).
    #[serde(default)]
    parent_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    /// 1 to 100 characters, unique among teams.
    name: String,
    /// The department the team sits in; absent or `null` for none.
    #[serde(default)]
    department_id: Option<Uuid>,
}

/// The organisation: departments, teams and memberships (`user.manage`, `role.manage` or
/// `audit.read`).
#[utoipa::path(get, path = "/api/v1/org", tag = "organisation",
    responses((status = 200, body = OrgDto), (status = 403, body = crate::error::Problem)))]
async fn show(State(state): State<AppState>, Authenticated(p): Authenticated) -> Result<Json<OrgDto>, ApiError> {
    let snapshot = state.tutela.access_settings(&p).await?;
    Ok(Json(OrgDto::from(&snapshot.org)))
}

/// Create a department (`user.manage`). Audited as `org.department.put`.
#[utoipa::path(post, path = "/api/v1/org/departments", tag = "organisation", request_body = DepartmentRequest,
    responses((status = 201, body = DepartmentDto), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create_department(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<DepartmentRequest>,
) -> Result<(StatusCode, Json<DepartmentDto>), ApiError> {
    let input = DepartmentInput { name: body.name, parent_id: body.parent_id };
    Ok((StatusCode::CREATED, Json(state.tutela.put_department(&p, None, input).await?.into())))
}

/// Rename or move a department (`user.manage`). Audited as `org.department.put`.
#[utoipa::path(put, path = "/api/v1/org/departments/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    request_body = DepartmentRequest,
    responses((status = 200, body = DepartmentDto), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_department(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DepartmentRequest>,
) -> Result<Json<DepartmentDto>, ApiError> {
    let input = DepartmentInput { name: body.name, parent_id: body.parent_id };
    Ok(Json(state.tutela.put_department(&p, Some(id), input).await?.into()))
}

/// Delete an empty department: no sub-department, team or member may name it (409
/// otherwise). `user.manage`; audited as `org.department.delete`.
#[utoipa::path(delete, path = "/api/v1/org/departments/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn delete_department(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.delete_department(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a team (`user.manage`). Audited as `org.team.put`.
#[utoipa::path(post, path = "/api/v1/org/teams", tag = "organisation", request_body = TeamRequest,
    responses((status = 201, body = TeamDto), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create_team(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<TeamRequest>,
) -> Result<(StatusCode, Json<TeamDto>), ApiError> {
    let input = TeamInput { name: body.name, department_id: body.department_id };
    Ok((StatusCode::CREATED, Json(state.tutela.put_team(&p, None, input).await?.into())))
}

/// Rename a team or move it to another department (`user.manage`). Audited as `org.team.put`.
#[utoipa::path(put, path = "/api/v1/org/teams/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    request_body = TeamRequest,
    responses((status = 200, body = TeamDto), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_team(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TeamRequest>,
) -> Result<Json<TeamDto>, ApiError> {
    let input = TeamInput { name: body.name, department_id: body.department_id };
    Ok(Json(state.tutela.put_team(&p, Some(id), input).await?.into()))
}

/// Delete a team; its members then belong to no team. `user.manage`; audited as
/// `org.team.delete`.
#[utoipa::path(delete, path = "/api/v1/org/teams/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_team(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.delete_team(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Place a user in a department and a team (`user.manage`); both `null` takes them out of
/// the organisation. Their `team` and `department` data scopes follow from their next
/// request. Audited as `org.membership.set`.
#[utoipa::path(put, path = "/api/v1/users/{id}/membership", tag = "organisation", params(("id" = Uuid, Path)),
    request_body = MembershipDto,
    responses((status = 200, body = MembershipDto), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn set_membership(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<MembershipDto>,
) -> Result<Json<MembershipDto>, ApiError> {
    let input = MembershipInput { department_id: body.department_id, team_id: body.team_id };
    state.tutela.set_membership(&p, id, input).await?;
    Ok(Json(body))
}
