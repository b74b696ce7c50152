//! Allowed address ranges (CIDR) per role, user and API token. The rules, the refusals and
//! their audit are the domain's (`tutela_core::access`); this only translates.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::access::{NetworkRuleView, NetworkSubject};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::levels;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, set))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkRuleDto {
    #[schema(schema_with = levels::network_subject)]
    subject_kind: String,
    subject_id: Uuid,
    /// The role's name, the user's e-mail address or the token's name.
    subject_name: String,
    /// CIDR ranges, canonical (`10.0.0.0/8`, `2001:db8::/32`).
    networks: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<NetworkRuleView> for NetworkRuleDto {
    fn from(v: NetworkRuleView) -> Self {
        Self {
            subject_kind: v.subject_kind.as_str().to_owned(),
            subject_id: v.subject_id,
            subject_name: v.subject_name,
            networks: v.networks,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetNetworks {
    #[schema(schema_with = levels::network_subject)]
    subject_kind: String,
    subject_id: Uuid,
    /// CIDR ranges or single addresses (at most 100); empty lifts the restriction.
    networks: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworksSet {
    /// The ranges now in force, canonical.
    networks: Vec<String>,
}

/// Every address-range restriction (`user.manage`, `role.manage` or `audit.read`).
#[utoipa::path(get, path = "/api/v1/access/networks", tag = "access",
    responses((status = 200, body = Vec<NetworkRuleDto>), (status = 403, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<NetworkRuleDto>>, ApiError> {
    Ok(Json(state.tutela.network_rules(&p).await?.into_iter().map(Into::into).collect()))
}

/// Replace the address ranges of a role (`role.manage`), a user (`user.manage`) or an API
/// token (its owner, or `user.manage`). A malformed range is 422 naming `networks` and the
/// entry; ranges leaving out the caller's own address are refused for their own account.
/// Audited as `access.networks.set`.
#[utoipa::path(put, path = "/api/v1/access/networks", tag = "access", request_body = SetNetworks,
    responses((status = 200, body = NetworksSet), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<SetNetworks>,
) -> Result<Json<NetworksSet>, ApiError> {
    let kind: NetworkSubject = body.subject_kind.parse()?;
    let networks = state.tutela.set_network_rule(&p, kind, body.subject_id, &body.networks).await?;
    Ok(Json(NetworksSet { networks }))
}
