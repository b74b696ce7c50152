//! The key hierarchy: versions in use, and online rotation.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use tutela_core::policy::Permission;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(rotate))
}

#[derive(Serialize, ToSchema)]
pub struct KeyVersionDto {
    version: u32,
    /// Records and users whose data key is wrapped under this version.
    wrapped_keys: u64,
}

#[derive(Serialize, ToSchema)]
pub struct KeyStatusDto {
    current_version: u32,
    versions: Vec<KeyVersionDto>,
}

/// Key-encryption key versions and how many data keys each wraps.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", responses((status = 200, body = KeyStatusDto)))]
async fn status(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<KeyStatusDto>, ApiError> {
    state.tutela.require(&p, Permission::KeyManage, "keys.status").await?;
    let usage = state.tutela.store().kek_usage().await.map_err(tutela_core::CoreError::from)?;
    let versions = state
        .tutela
        .keys()
        .versions()
        .into_iter()
        .map(|v| KeyVersionDto { version: v, wrapped_keys: usage.iter().find(|(u, _)| *u == v).map_or(0, |(_, n)| *n) })
        .collect();
    Ok(Json(KeyStatusDto { current_version: state.tutela.keys().current_version(), versions }))
}

#[derive(Serialize, ToSchema)]
pub struct RotationDto {
    version: u32,
    customers_rewrapped: u64,
    users_rewrapped: u64,
}

/// Rotate: a new key-encryption key, every data key re-wrapped under it, reads unaffected.
#[utoipa::path(post, path = "/api/v1/keys/rotate", tag = "keys", responses((status = 200, body = RotationDto)))]
async fn rotate(State(state): State<AppState>, Authenticated(p): Authenticated) -> Result<Json<RotationDto>, ApiError> {
    let r = state.tutela.rotate_keys(&p, |_, _| {}).await?;
    Ok(Json(RotationDto {
        version: r.version,
        customers_rewrapped: r.customers_rewrapped,
        users_rewrapped: r.users_rewrapped,
    }))
}
