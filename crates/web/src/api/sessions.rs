//! Sessions: the caller's own (list, end one, end all others) and, for administrators, any
//! user's — with the user's API tokens, so that both can be ended from one place.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_core::identity::SessionView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::TokenDto;
use crate::auth::{Authenticated, AuthenticatedSession};
use crate::id_path::IdPath;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mine, end_my_others))
        .routes(routes!(end_one))
        .routes(routes!(list_users, end_users))
        .routes(routes!(list_user_tokens))
}

/// A session, named by an opaque id: never its token or anything derived from it.
#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    id: Uuid,
    user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_seen_at: OffsetDateTime,
    /// When it ends unless used before: the earlier of the absolute and the idle limit.
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// False between password and second factor.
    signed_in: bool,
    /// The client address at sign-in.
    source: Option<String>,
    user_agent: Option<String>,
    /// True for the session making this request.
    current: bool,
}

impl From<SessionView> for SessionDto {
    fn from(s: SessionView) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            signed_in: s.signed_in,
            source: s.source,
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndedDto {
    /// How many live sessions were ended.
    ended: usize,
}

fn dtos(sessions: Vec<SessionView>) -> Json<Vec<SessionDto>> {
    Json(sessions.into_iter().map(Into::into).collect())
}

/// The caller's sessions, newest first; `current` marks the one making this request.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", responses((status = 200, body = Vec<SessionDto>)))]
async fn list_mine(
    State(state): State<AppState>,
    caller: AuthenticatedSession,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    Ok(dtos(state.tutela.my_sessions(&caller.principal, caller.session).await?))
}

/// End all the caller's sessions but the current one (called with an API token: all of
/// them). Audited as `session.end_all`.
#[utoipa::path(delete, path = "/api/v1/sessions", tag = "sessions", responses((status = 200, body = EndedDto)))]
async fn end_my_others(
    State(state): State<AppState>,
    caller: AuthenticatedSession,
) -> Result<Json<EndedDto>, ApiError> {
    Ok(Json(EndedDto { ended: state.tutela.end_my_other_sessions(&caller.principal, caller.session).await? }))
}

/// End one session: one of the caller's, or with `user.manage` anyone's. Audited as
/// `session.end`.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn end_one(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.end_session(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's sessions (`user.manage`).
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "sessions", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SessionDto>), (status = 404, body = crate::error::Problem)))]
async fn list_users(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    Ok(dtos(state.tutela.user_sessions(&p, id).await?))
}

/// End all of a user's sessions (`user.manage`): they are signed out everywhere (the caller
/// too, if it names itself). Their API
/// tokens are revoked one by one (`DELETE /api/v1/tokens/{id}`) or all with the user
/// disabled. Audited as `session.end_all`.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "sessions", params(("id" = Uuid, Path)),
    responses((status = 200, body = EndedDto), (status = 404, body = crate::error::Problem)))]
async fn end_users(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<EndedDto>, ApiError> {
    Ok(Json(EndedDto { ended: state.tutela.end_user_sessions(&p, id).await? }))
}

/// A user's API tokens (`user.manage`), never the secrets.
#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "tokens", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TokenDto>), (status = 404, body = crate::error::Problem)))]
async fn list_user_tokens(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    Ok(Json(state.tutela.user_api_tokens(&p, id).await?.into_iter().map(Into::into).collect()))
}
