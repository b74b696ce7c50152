//! Users and roles (administration).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tutela_core::identity::{NewUser, UserView};
use tutela_store::{RoleRow, UserStatus};
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
        .routes(routes!(list, create))
        .routes(routes!(set_roles))
        .routes(routes!(set_status))
        .routes(routes!(clear_lockout))
        .routes(routes!(list_roles))
        .routes(routes!(put_role))
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    id: Uuid,
    email: String,
    display_name: String,
    status: String,
    totp_enabled: bool,
    roles: Vec<String>,
    /// While repeated failed sign-ins keep this account locked (everywhere, or from some
    /// addresses), when the latest lock ends (RFC 3339). Per server node.
    locked_until: Option<String>,
}

impl From<UserView> for UserDto {
    fn from(u: UserView) -> Self {
        let rfc3339 = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).ok();
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            status: u.status,
            totp_enabled: u.totp_enabled,
            roles: u.roles,
            locked_until: u.locked_until.and_then(rfc3339),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    email: String,
    display_name: String,
    /// The installation's minimum (12 characters by default) to 128 characters, any
    /// characters. Refused if it is a common or breached password, mostly the user's e-mail
    /// address, name or the product's name, or a repetition or run like `aaaa…` or `1234…`.
    #[schema(value_type = String)]
    password: SecretString,
    roles: Vec<String>,
}

/// All users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserDto>)))]
async fn list(State(state): State<AppState>, Authenticated(p): Authenticated) -> Result<Json<Vec<UserDto>>, ApiError> {
    Ok(Json(state.tutela.users(&p).await?.into_iter().map(Into::into).collect()))
}

/// Create a user; they enrol a second factor at first sign-in.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserDto), (status = 409, body = crate::error::Problem)))]
async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let new =
        NewUser { email: body.email, display_name: body.display_name, password: body.password, roles: body.roles };
    Ok((StatusCode::CREATED, Json(state.tutela.create_user(&p, new).await?.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    roles: Vec<String>,
}

/// Replace a user's roles; their sessions end so the change applies at once. Roles whose
/// permissions together join a pair that separation of duties keeps apart are refused
/// with 409 naming both permissions.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles", tag = "users", params(("id" = Uuid, Path)), request_body = RolesRequest,
    responses((status = 200, body = UserDto), (status = 404, body = crate::error::Problem)))]
async fn set_roles(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RolesRequest>,
) -> Result<Json<UserDto>, ApiError> {
    Ok(Json(state.tutela.set_user_roles(&p, id, &body.roles).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `active` or `disabled`.
    status: String,
}

/// Enable or disable a user. Either ends their sessions; disabling also revokes their API
/// tokens, in the same commit (audited with the ids ended).
#[utoipa::path(put, path = "/api/v1/users/{id}/status", tag = "users", params(("id" = Uuid, Path)), request_body = StatusRequest,
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn set_status(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<StatusCode, ApiError> {
    let status: UserStatus = body.status.parse().map_err(|()| ApiError::invalid("status", "use active or disabled"))?;
    state.tutela.set_user_status(&p, id, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clear a user's sign-in lockout after repeated failures, account-wide and from every
/// address, on this server node. Audited; a user who is not locked is no error.
#[utoipa::path(delete, path = "/api/v1/users/{id}/lockout", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn clear_lockout(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.clear_sign_in_lockout(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDto {
    #[serde(default)]
    id: Option<Uuid>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    builtin: bool,
    #[schema(schema_with = permission_names)]
    permissions: Vec<String>,
    /// Which customers the role's customer permissions reach: `own`, `team`, `department`
    /// (and below) or `all`. A new role reaches only its holder's own records unless told.
    #[serde(default = "own_scope")]
    #[schema(schema_with = super::levels::data_scope)]
    data_scope: String,
    /// Field id → `hidden`, `masked`, `read`, `reveal` or `write`, overriding the default
    /// the permissions give for the field's classification.
    #[serde(default)]
    #[schema(schema_with = super::levels::field_rules)]
    field_rules: std::collections::BTreeMap<String, String>,
}

fn permission_names() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(super::levels::permission())
        .description(Some(
            "What the role may do. Pairs that separation of duties keeps apart (by default \
             `role.manage` or `user.manage` with `reveal.restricted`) are refused with 409, in the \
             role itself or in any user who holds it with other roles.",
        ))
        .build()
}

fn own_scope() -> String {
    "own".to_owned()
}

impl From<RoleRow> for RoleDto {
    fn from(r: RoleRow) -> Self {
        Self {
            id: Some(r.id),
            name: r.name,
            description: r.description,
            builtin: r.builtin,
            permissions: r.permissions,
            data_scope: r.data_scope,
            field_rules: r.field_rules,
        }
    }
}

/// All roles with their permissions, data scope and field rules (`role.manage` or
/// `user.manage`).
#[utoipa::path(get, path = "/api/v1/roles", tag = "users",
    responses((status = 200, body = Vec<RoleDto>), (status = 403, body = crate::error::Problem)))]
async fn list_roles(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<RoleDto>>, ApiError> {
    Ok(Json(state.tutela.roles(&p).await?.into_iter().map(Into::into).collect()))
}

/// Create or replace a custom role (`role.manage`). Of a built-in role only `data_scope`
/// and `field_rules` may change (say, to narrow `sales` to its department); anything else is
/// 409. An unknown permission, scope, field or level is 422 naming `permissions`,
/// `data_scope` or `field_rules`; a role joining permissions that separation of duties keeps
/// apart, by itself or in a user who holds it, is 409 naming both. Holders' reach changes
/// from their next request. Audited as `role.put`.
#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = RoleDto,
    responses((status = 200, body = RoleDto), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn put_role(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RoleDto>,
) -> Result<Json<RoleDto>, ApiError> {
    let role = RoleRow {
        id,
        name: body.name,
        description: body.description,
        builtin: false,
        permissions: body.permissions,
        data_scope: body.data_scope,
        field_rules: body.field_rules,
    };
    Ok(Json(state.tutela.put_role(&p, role).await?.into()))
}
