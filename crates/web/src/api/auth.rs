//! Sign-in with a second factor, first-administrator setup, and the caller's own API tokens.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum_extra::extract::CookieJar;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tutela_core::identity::{ApiTokenView, NewUser};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{
    Authenticated, ClientAddr, SessionToken, check_fetch_site, csrf_token, removal_cookie, session_cookie,
};
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(enrol))
        .routes(routes!(confirm))
        .routes(routes!(second_factor))
        .routes(routes!(logout))
        .routes(routes!(whoami))
        .routes(routes!(setup))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String)]
    password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// `enrol`: set up an authenticator now; `second_factor`: enter its code.
    next: &'static str,
}

/// Step 1: e-mail and password. Sets a short-lived pending session cookie.
///
/// After 5 failures in 10 minutes (per account and address; more for a whole account or
/// address) sign-in pauses, 10 minutes at first and longer after each pause. A wrong password,
/// an unknown account and a paused sign-in get the same 401, with no `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = crate::error::Problem, description = "wrong e-mail or password, or sign-in paused")))]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Json<LoginResponse>), ApiError> {
    check_fetch_site(&Method::POST, &headers)?;
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(200).collect());
    let source = client.map(|Extension(c)| c.0.ip().to_string());
    let start = state.tutela.login(&body.email, body.password, source, user_agent).await?;
    let next = if start.must_enrol { "enrol" } else { "second_factor" };
    let jar = jar.add(session_cookie(&state, start.pending_token.expose_secret().to_owned()));
    Ok((jar, Json(LoginResponse { next })))
}

#[derive(Serialize, ToSchema)]
pub struct EnrolResponse {
    /// Base32 secret for manual entry.
    secret: String,
    otpauth_url: String,
    /// An SVG QR code of `otpauth_url`.
    qr_svg: String,
}

/// Step 2a: start TOTP enrolment (first sign-in only).
#[utoipa::path(post, path = "/api/v1/auth/totp/enrol", tag = "auth", responses((status = 200, body = EnrolResponse)))]
async fn enrol(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
) -> Result<Json<EnrolResponse>, ApiError> {
    let e = state.tutela.begin_totp_enrolment(&token).await?;
    Ok(Json(EnrolResponse {
        secret: e.secret_base32.expose_secret().to_owned(),
        otpauth_url: e.otpauth_url.expose_secret().to_owned(),
        qr_svg: e.qr_svg,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// A 6-digit authenticator code, or a recovery code.
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// Send as `X-CSRF-Token` with every change made with the session cookie.
    csrf_token: String,
    /// One-time recovery codes, shown only at enrolment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    recovery_codes: Vec<String>,
}

impl SignedIn {
    /// A sign-in that shows no recovery codes (every way but enrolment).
    pub(super) fn new(session: &SecretString) -> Self {
        Self { csrf_token: csrf_token(session.expose_secret()), recovery_codes: Vec::new() }
    }
}

/// Step 2b: confirm enrolment with a first code; signs in and returns recovery codes once.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = SignedIn), (status = 422, body = crate::error::Problem)))]
async fn confirm(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    jar: CookieJar,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<(CookieJar, Json<SignedIn>), ApiError> {
    let (session, codes) = state.tutela.confirm_totp_enrolment(&token, &body.code).await?;
    let csrf = csrf_token(session.expose_secret());
    let jar = jar.add(session_cookie(&state, session.expose_secret().to_owned()));
    let recovery_codes = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
    Ok((jar, Json(SignedIn { csrf_token: csrf, recovery_codes })))
}

/// Step 2: the authenticator code (or a recovery code). Signs in.
#[utoipa::path(post, path = "/api/v1/auth/second-factor", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = SignedIn), (status = 422, body = crate::error::Problem)))]
async fn second_factor(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    jar: CookieJar,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<(CookieJar, Json<SignedIn>), ApiError> {
    let session = state.tutela.second_factor(&token, &body.code).await?;
    let jar = jar.add(session_cookie(&state, session.expose_secret().to_owned()));
    Ok((jar, Json(SignedIn::new(&session))))
}

/// Sign out: the session ends on the server.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    state.tutela.logout(&token).await?;
    Ok((jar.add(removal_cookie(&state)), StatusCode::NO_CONTENT))
}

#[derive(Serialize, ToSchema)]
pub struct WhoAmI {
    user_id: Option<Uuid>,
    email: String,
    permissions: Vec<String>,
}

/// The caller and its effective permissions.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = WhoAmI)))]
async fn whoami(Authenticated(p): Authenticated) -> Json<WhoAmI> {
    Json(WhoAmI {
        user_id: p.user_id,
        email: p.label,
        permissions: p.permissions.iter().map(|x| x.as_str().to_owned()).collect(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time token from the setup link printed at first start.
    token: String,
    email: String,
    display_name: String,
    #[schema(value_type = String)]
    password: SecretString,
}

/// Create the first administrator with the one-time setup token.
#[utoipa::path(post, path = "/api/v1/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = super::users::UserDto), (status = 401, body = crate::error::Problem)))]
async fn setup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<super::users::UserDto>), ApiError> {
    let admin =
        NewUser { email: body.email, display_name: body.display_name, password: body.password, roles: Vec::new() };
    let user = state.tutela.complete_setup(&body.token, admin).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    name: String,
    /// Permissions the token may use: a subset of the caller's.
    scopes: Vec<String>,
    /// Days of validity (1 to 366); absent for no expiry.
    valid_days: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenResponse {
    id: Uuid,
    /// Shown once; only its hash is kept.
    token: String,
    scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    id: Uuid,
    name: String,
    scopes: Vec<String>,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<ApiTokenView> for TokenDto {
    fn from(t: ApiTokenView) -> Self {
        let fmt =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        Self {
            id: t.id,
            name: t.name,
            scopes: t.scopes,
            created_at: fmt(t.created_at),
            expires_at: t.expires_at.map(fmt),
            revoked_at: t.revoked_at.map(fmt),
        }
    }
}

/// The caller's API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<TokenDto>)))]
async fn list_tokens(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    Ok(Json(state.tutela.api_tokens(&p).await?.into_iter().map(Into::into).collect()))
}

/// Create an API token for the caller.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewTokenRequest,
    responses((status = 201, body = NewTokenResponse), (status = 403, body = crate::error::Problem)))]
async fn create_token(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<NewTokenResponse>), ApiError> {
    let valid = body.valid_days.map(|d| time::Duration::days(i64::from(d)));
    let t = state.tutela.create_api_token(&p, &body.name, &body.scopes, valid).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenResponse { id: t.id, token: t.token.expose_secret().to_owned(), scopes: t.scopes }),
    ))
}

/// Revoke an API token: one of the caller's, or with `user.manage` anyone's. Audited as
/// `token.revoke` with the token's owner.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.revoke_api_token(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
