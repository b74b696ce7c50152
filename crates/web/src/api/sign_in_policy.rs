//! Sign-in policies per role, and re-authentication. The policies, their effect on sessions
//! and the audit are the domain's (`tutela_core::identity`); this only translates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tutela_core::identity::{FactorRequirement, RoleSignInPolicy, RoleSignInPolicyView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::passkeys::{AssertionRequest, ChallengeDto, challenge};
use crate::auth::{Authenticated, SignedInSessionToken};
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set))
        .routes(routes!(reauth_code))
        .routes(routes!(begin_reauth_passkey))
        .routes(routes!(finish_reauth_passkey))
}

/// One role's sign-in policy. Absent limits follow the server's defaults.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInPolicyDto {
    /// `any` second factor (authenticator code, recovery code, passkey, or the identity
    /// provider's), or `passkey`: the role is part of a session only when it signed in (or
    /// re-authenticated) with a passkey, and of an API token only when a passkey session made it.
    #[serde(default = "any")]
    #[schema(value_type = String, example = "passkey")]
    factor: String,
    /// Sessions holding the role end this many hours after sign-in (1 to 24).
    session_hours: Option<u32>,
    /// Sessions holding the role end after this many minutes unused (5 to 480).
    idle_minutes: Option<u32>,
    /// Reveals and exports need a sign-in or re-authentication at most this many minutes old
    /// (1 to 1440); otherwise they are refused with `reauthentication-required`.
    reauth_minutes: Option<u32>,
}

fn any() -> String {
    FactorRequirement::Any.as_str().to_owned()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleSignInPolicyDto {
    role_id: Uuid,
    role: String,
    #[serde(flatten)]
    policy: SignInPolicyDto,
}

impl From<RoleSignInPolicy> for SignInPolicyDto {
    fn from(p: RoleSignInPolicy) -> Self {
        Self {
            factor: p.factor.as_str().to_owned(),
            session_hours: p.session_hours,
            idle_minutes: p.idle_minutes,
            reauth_minutes: p.reauth_minutes,
        }
    }
}

impl From<RoleSignInPolicyView> for RoleSignInPolicyDto {
    fn from(v: RoleSignInPolicyView) -> Self {
        Self { role_id: v.role_id, role: v.role, policy: v.policy.into() }
    }
}

/// Every role with its sign-in policy (`role.manage`, `user.manage` or `audit.read`).
#[utoipa::path(get, path = "/api/v1/access/sign-in-policies", tag = "access",
    responses((status = 200, body = Vec<RoleSignInPolicyDto>), (status = 403, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<RoleSignInPolicyDto>>, ApiError> {
    Ok(Json(state.tutela.sign_in_policies(&p).await?.into_iter().map(Into::into).collect()))
}

/// Set a role's sign-in policy (`role.manage` or `user.manage`); it applies at every session's next request.
/// A limit out of range is 422 naming it. Audited as `access.sign_in_policy.set`.
#[utoipa::path(put, path = "/api/v1/access/sign-in-policies/{id}", tag = "access", params(("id" = Uuid, Path, description = "role id")),
    request_body = SignInPolicyDto,
    responses((status = 200, body = RoleSignInPolicyDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(role_id): IdPath,
    ApiJson(body): ApiJson<SignInPolicyDto>,
) -> Result<Json<RoleSignInPolicyDto>, ApiError> {
    let policy = RoleSignInPolicy {
        factor: body.factor.parse()?,
        session_hours: body.session_hours,
        idle_minutes: body.idle_minutes,
        reauth_minutes: body.reauth_minutes,
    };
    Ok(Json(state.tutela.set_sign_in_policy(&p, role_id, policy).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthCode {
    /// The current code of the user's authenticator app.
    code: String,
}

/// Confirm it is you with an authenticator code, in a signed-in console session (cookie and
/// `X-CSRF-Token`; an API token has no session to confirm: 403). Opens the roles'
/// re-authentication window for reveals and exports. Wrong codes count towards the sign-in
/// lockout. Audited as `auth.reauth`.
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "auth", request_body = ReauthCode,
    responses((status = 204), (status = 401, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "wrong or used `code`, or a passkey session")))]
async fn reauth_code(
    State(state): State<AppState>,
    SignedInSessionToken(token): SignedInSessionToken,
    ApiJson(body): ApiJson<ReauthCode>,
) -> Result<StatusCode, ApiError> {
    state.tutela.reauthenticate_with_code(&token, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm it is you with a passkey, start: options over the user's passkeys.
#[utoipa::path(post, path = "/api/v1/auth/reauth/passkey/challenge", tag = "auth",
    responses((status = 200, body = ChallengeDto), (status = 422, body = crate::error::Problem)))]
async fn begin_reauth_passkey(
    State(state): State<AppState>,
    SignedInSessionToken(token): SignedInSessionToken,
) -> Result<Json<ChallengeDto>, ApiError> {
    challenge(state.tutela.begin_passkey_reauthentication(&token).await?)
}

/// Confirm it is you with a passkey: the session counts as signed in with a passkey from now
/// on (roles that ask for one join it). Audited as `auth.reauth` with `factor: passkey`.
#[utoipa::path(post, path = "/api/v1/auth/reauth/passkey", tag = "auth", request_body = AssertionRequest,
    responses((status = 204), (status = 422, body = crate::error::Problem)))]
async fn finish_reauth_passkey(
    State(state): State<AppState>,
    SignedInSessionToken(token): SignedInSessionToken,
    ApiJson(body): ApiJson<AssertionRequest>,
) -> Result<StatusCode, ApiError> {
    state.tutela.finish_passkey_reauthentication(&token, &body.ceremony, &body.credential).await?;
    Ok(StatusCode::NO_CONTENT)
}
