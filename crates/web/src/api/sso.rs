//! Single sign-on over the API, for clients that drive the browser themselves: begin (the
//! provider's URL, and the ticket cookie), then hand over the provider's answer. The console
//! does the same at `/login/sso` and its redirect URI, `/login/sso/callback`.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum_extra::extract::CookieJar;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use tutela_core::identity::{SsoCallback, SsoError, SsoOutcome};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{
    ClientAddr, check_fetch_site, csrf_token, session_cookie, sso_cookie, sso_removal_cookie, sso_ticket,
};
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(start)).routes(routes!(callback))
}

/// The API's answer to a single sign-on that failed: 404 when it is not configured, 424
/// (`identity-provider-unavailable`) when the provider cannot be reached, 401 when the
/// sign-in is refused, 409 when the mapped roles would break separation of duties.
pub fn sso_problem(e: SsoError) -> ApiError {
    match e {
        SsoError::NotConfigured => {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", "single sign-on is not configured")
        }
        SsoError::Unavailable(m) => ApiError::new(
            StatusCode::FAILED_DEPENDENCY,
            "identity-provider-unavailable",
            "Identity provider unavailable",
            m,
        ),
        SsoError::Refused(m) => ApiError::unauthenticated(format!("single sign-on refused: {m}")),
        SsoError::Core(e) => e.into(),
    }
}

fn source(client: Option<Extension<ClientAddr>>) -> Option<String> {
    client.map(|Extension(c)| c.0.ip().to_string())
}

#[derive(Serialize, ToSchema)]
pub struct SsoStartResponse {
    /// Send the browser here. The answer also sets the sign-in's ticket cookie, which the
    /// callback needs; it is good for ten minutes.
    authorization_url: String,
}

/// Begin single sign-on: the identity provider's authorisation URL (code flow, PKCE S256,
/// fresh `state` and `nonce`), and a ticket cookie holding this sign-in's secrets, sealed.
#[utoipa::path(get, path = "/api/v1/auth/oidc/start", tag = "auth", security(()),
    responses((status = 200, body = SsoStartResponse),
        (status = 404, body = crate::error::Problem, description = "single sign-on is not configured"),
        (status = 424, body = crate::error::Problem, description = "the identity provider cannot be reached")))]
async fn start(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    jar: CookieJar,
) -> Result<(CookieJar, Json<SsoStartResponse>), ApiError> {
    let started = state.tutela.begin_sso(source(client)).await.map_err(sso_problem)?;
    let jar = jar.add(sso_cookie(&state, started.ticket.expose_secret().to_owned()));
    Ok((jar, Json(SsoStartResponse { authorization_url: started.url })))
}

/// The provider's answer, as it came to the redirect URI's query.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoCallbackRequest {
    code: Option<String>,
    state: Option<String>,
    /// `iss` (RFC 9207), when the provider sends it.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SsoSignedIn {
    /// `signed_in`: done; `second_factor` or `enrol`: the provider did not assert a second
    /// factor, so the local one follows, as after a password.
    next: &'static str,
    /// With `signed_in`: send as `X-CSRF-Token` with every change made with the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// Finish single sign-on with the provider's answer and the ticket cookie. The ID token's
/// signature, issuer, audience, expiry and nonce are checked, the code is redeemed with the
/// PKCE verifier, and the person is signed in as the user linked to their (issuer, subject),
/// with the roles their groups map to. Audited as `auth.sso` whether it succeeds or not.
#[utoipa::path(post, path = "/api/v1/auth/oidc/callback", tag = "auth", security(()), request_body = SsoCallbackRequest,
    responses((status = 200, body = SsoSignedIn),
        (status = 401, body = crate::error::Problem, description = "refused: wrong state, a used or foreign code, a token that fails a check, no account"),
        (status = 409, body = crate::error::Problem, description = "the mapped roles join a separation-of-duties pair"),
        (status = 424, body = crate::error::Problem, description = "the identity provider cannot be reached")))]
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    jar: CookieJar,
    ApiJson(body): ApiJson<SsoCallbackRequest>,
) -> Result<(CookieJar, Json<SsoSignedIn>), ApiError> {
    check_fetch_site(&Method::POST, &headers)?;
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(200).collect());
    let answer = SsoCallback {
        ticket: sso_ticket(&state, &headers),
        state: body.state,
        code: body.code,
        error: body.error,
        error_description: body.error_description,
        issuer: body.iss,
    };
    let jar = jar.add(sso_removal_cookie(&state));
    let outcome = state.tutela.finish_sso(answer, source(client), user_agent).await.map_err(sso_problem)?;
    let (token, next, csrf) = match outcome {
        SsoOutcome::SignedIn(token) => {
            let csrf = csrf_token(token.expose_secret());
            (token, "signed_in", Some(csrf))
        }
        SsoOutcome::SecondFactor(start) => {
            (start.pending_token, if start.must_enrol { "enrol" } else { "second_factor" }, None)
        }
    };
    let jar = jar.add(session_cookie(&state, token.expose_secret().to_owned()));
    Ok((jar, Json(SsoSignedIn { next, csrf_token: csrf })))
}
