//! Passkeys: the caller's own (list, register, delete), the passkey as the second factor of a
//! pending session, and passwordless sign-in. Each WebAuthn ceremony is two calls: one returns
//! the options for `navigator.credentials.create`/`get` with a ceremony id, the other takes the
//! browser's answer with that id. The console's script uses these same routes.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum_extra::extract::CookieJar;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::identity::{PasskeyChallenge, PasskeyView, PublicKeyCredential, RegisterPublicKeyCredential};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::SignedIn;
use crate::auth::{Authenticated, ClientAddr, SessionToken, check_fetch_site, session_cookie};
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mine, finish_registration))
        .routes(routes!(begin_registration))
        .routes(routes!(delete_one))
        .routes(routes!(begin_second_factor))
        .routes(routes!(finish_second_factor))
        .routes(routes!(begin_sign_in))
        .routes(routes!(finish_sign_in))
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyDto {
    id: Uuid,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    /// Set when its signature counter went backwards (a possibly cloned authenticator): it
    /// is refused since; delete it and register the authenticator again.
    #[serde(with = "time::serde::rfc3339::option")]
    suspended_at: Option<OffsetDateTime>,
}

impl From<PasskeyView> for PasskeyDto {
    fn from(p: PasskeyView) -> Self {
        Self {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            suspended_at: p.suspended_at,
        }
    }
}

/// A started ceremony.
#[derive(Serialize, ToSchema)]
pub struct ChallengeDto {
    /// Send back with the browser's answer. Valid for 5 minutes, and for one answer.
    ceremony: String,
    /// `PublicKeyCredentialCreationOptions` or `…RequestOptions` under `publicKey`, binary
    /// values in base64url: decode them before `navigator.credentials.create`/`get`.
    #[schema(value_type = Object)]
    options: serde_json::Value,
}

pub(super) fn challenge<T: Serialize>(c: PasskeyChallenge<T>) -> Result<Json<ChallengeDto>, ApiError> {
    let options = serde_json::to_value(&c.options)
        .map_err(|e| ApiError::from(tutela_core::CoreError::Internal(format!("passkey options: {e}"))))?;
    Ok(Json(ChallengeDto { ceremony: c.ceremony, options }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    ceremony: String,
    /// What to call the passkey: 1 to 64 characters.
    name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, binary values in base64url.
    #[schema(value_type = Object)]
    credential: RegisterPublicKeyCredential,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionRequest {
    pub(super) ceremony: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, binary values in base64url.
    #[schema(value_type = Object)]
    pub(super) credential: PublicKeyCredential,
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(200).collect())
}

fn signed_in(state: &AppState, jar: CookieJar, session: &SecretString) -> (CookieJar, Json<SignedIn>) {
    let jar = jar.add(session_cookie(state, session.expose_secret().to_owned()));
    (jar, Json(SignedIn::new(session)))
}

/// The caller's passkeys, oldest first (never the credentials).
#[utoipa::path(get, path = "/api/v1/passkeys", tag = "passkeys", responses((status = 200, body = Vec<PasskeyDto>)))]
async fn list_mine(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<PasskeyDto>>, ApiError> {
    Ok(Json(state.tutela.my_passkeys(&p).await?.into_iter().map(Into::into).collect()))
}

/// Start registering a passkey. Only with the console session cookie (and `X-CSRF-Token`):
/// an API token may not add a way to sign in.
#[utoipa::path(post, path = "/api/v1/passkeys/registration", tag = "passkeys",
    responses((status = 200, body = ChallengeDto), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "passkeys are off, or the user has 20")))]
async fn begin_registration(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<ChallengeDto>, ApiError> {
    challenge(state.tutela.begin_passkey_registration(&p).await?)
}

/// Finish registering a passkey with the browser's answer. Audited as `passkey.register`.
#[utoipa::path(post, path = "/api/v1/passkeys", tag = "passkeys", request_body = RegistrationRequest,
    responses((status = 201, body = PasskeyDto),
        (status = 422, body = crate::error::Problem, description = "`name`, `ceremony` (expired or used) or `credential` refused")))]
async fn finish_registration(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<RegistrationRequest>,
) -> Result<(StatusCode, Json<PasskeyDto>), ApiError> {
    let view = state.tutela.finish_passkey_registration(&p, &body.ceremony, &body.name, &body.credential).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Delete one of the caller's passkeys; another user's is not found. Audited as
/// `passkey.delete`.
#[utoipa::path(delete, path = "/api/v1/passkeys/{id}", tag = "passkeys", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_one(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.delete_passkey(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Step 2 with a passkey instead of a code: start, on the pending session of step 1.
#[utoipa::path(post, path = "/api/v1/auth/passkey/challenge", tag = "auth",
    responses((status = 200, body = ChallengeDto),
        (status = 422, body = crate::error::Problem, description = "the user has no usable passkey")))]
async fn begin_second_factor(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
) -> Result<Json<ChallengeDto>, ApiError> {
    challenge(state.tutela.begin_passkey_second_factor(&token).await?)
}

/// Step 2 with a passkey: signs in like a code does (a new session cookie). Audited as
/// `auth.second_factor` with `factor: passkey`.
#[utoipa::path(post, path = "/api/v1/auth/passkey", tag = "auth", request_body = AssertionRequest,
    responses((status = 200, body = SignedIn), (status = 422, body = crate::error::Problem)))]
async fn finish_second_factor(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    jar: CookieJar,
    ApiJson(body): ApiJson<AssertionRequest>,
) -> Result<(CookieJar, Json<SignedIn>), ApiError> {
    let session = state.tutela.finish_passkey_second_factor(&token, &body.ceremony, &body.credential).await?;
    Ok(signed_in(&state, jar, &session))
}

/// Passwordless sign-in, start: options for any passkey of this site (a discoverable one).
#[utoipa::path(post, path = "/api/v1/auth/passwordless/challenge", tag = "auth",
    responses((status = 200, body = ChallengeDto), (status = 409, body = crate::error::Problem)))]
async fn begin_sign_in(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<ChallengeDto>, ApiError> {
    check_fetch_site(&Method::POST, &headers)?;
    challenge(state.tutela.begin_passkey_sign_in()?)
}

/// Passwordless sign-in with a passkey that verified its user: both factors at once; sets the
/// session cookie. Throttled like the password: an unknown passkey, another's, or a paused
/// sign-in all get the same 401. Audited as `auth.passkey_sign_in`.
#[utoipa::path(post, path = "/api/v1/auth/passwordless", tag = "auth", request_body = AssertionRequest,
    responses((status = 200, body = SignedIn),
        (status = 401, body = crate::error::Problem, description = "the passkey was not accepted, or sign-in is paused"),
        (status = 422, body = crate::error::Problem, description = "the ceremony expired or was used")))]
async fn finish_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    jar: CookieJar,
    ApiJson(body): ApiJson<AssertionRequest>,
) -> Result<(CookieJar, Json<SignedIn>), ApiError> {
    check_fetch_site(&Method::POST, &headers)?;
    let source = client.map(|Extension(c)| c.0.ip().to_string());
    let session =
        state.tutela.finish_passkey_sign_in(&body.ceremony, &body.credential, source, user_agent(&headers)).await?;
    Ok(signed_in(&state, jar, &session))
}
