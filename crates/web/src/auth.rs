//! Who is calling: a bearer API token (programs) or a session cookie (the console), with
//! CSRF protection for cookie-authenticated changes.

use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use tutela_core::policy::Principal;
use tutela_crypto::secret::ct_eq;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "__Host-tutela";
/// Browsers refuse `__Host-` cookies without `Secure`; plain-HTTP loopback mode uses this.
pub const INSECURE_SESSION_COOKIE: &str = "tutela";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The single sign-on ticket between leaving for the identity provider and coming back.
pub const SSO_COOKIE: &str = "__Host-tutela-sso";
pub const INSECURE_SSO_COOKIE: &str = "tutela-sso";

/// The client's address, put on each request by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

pub fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies { SESSION_COOKIE } else { INSECURE_SESSION_COOKIE }
}

/// The one session cookie builder: `HttpOnly`, `SameSite=Strict`, `Secure` with the `__Host-` prefix.
pub fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((cookie_name(state), value))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

/// The sign-in ticket's cookie: `HttpOnly`, `Secure` with the `__Host-` prefix, and
/// `SameSite=Lax` rather than `Strict`, because it must come back with the provider's
/// redirect, a navigation from another site (which `Strict` cookies never join). It lives as
/// long as the ticket inside it is valid.
pub fn sso_cookie(state: &AppState, value: String) -> Cookie<'static> {
    let name = if state.secure_cookies { SSO_COOKIE } else { INSECURE_SSO_COOKIE };
    Cookie::build((name, value))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(tutela_core::identity::TICKET_LIFETIME)
        .build()
}

/// The sign-in ticket from the request's cookies, if any.
pub fn sso_ticket(state: &AppState, headers: &header::HeaderMap) -> Option<String> {
    let name = if state.secure_cookies { SSO_COOKIE } else { INSECURE_SSO_COOKIE };
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// Removes the ticket: a sign-in finishes once, whatever its outcome.
pub fn sso_removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = sso_cookie(state, String::new());
    c.make_removal();
    c
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

/// The CSRF token of a session: derived from the session secret, so nothing more is stored,
/// and useless without the cookie it belongs to.
pub fn csrf_token(session_token: &str) -> String {
    let digest = tutela_crypto::token::hash_token(&format!("csrf:{session_token}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

pub fn source(parts: &Parts) -> Option<String> {
    parts.extensions.get::<ClientAddr>().map(|a| a.0.ip().to_string())
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Fetch Metadata: browsers say where a request came from; refuse changes from other sites.
pub fn check_fetch_site(method: &Method, headers: &header::HeaderMap) -> Result<(), ApiError> {
    if !is_unsafe(method) {
        return Ok(());
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin" | "none") => Ok(()),
        Some(_) => Err(ApiError::forbidden("cross-site requests may not change anything")),
    }
}

/// A fully authenticated caller.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(authenticate(parts, state).await?.0))
    }
}

/// A fully authenticated caller with the public id of its session, when it called with the
/// session cookie rather than a bearer token: "this session" in the caller's list.
pub struct AuthenticatedSession {
    pub principal: Principal,
    pub session: Option<Uuid>,
}

impl FromRequestParts<AppState> for AuthenticatedSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (principal, session) = authenticate(parts, state).await?;
        Ok(Self { principal, session })
    }
}

/// A bearer token if one is sent, else the session cookie with CSRF and Fetch Metadata checks.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<(Principal, Option<Uuid>), ApiError> {
    let source = source(parts);
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let bearer = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthenticated("use Authorization: Bearer <token>"))?;
        return Ok((state.tutela.token_principal(bearer.trim(), source).await?, None));
    }
    let token = session_token(parts, state)?;
    check_fetch_site(&parts.method, &parts.headers)?;
    if is_unsafe(&parts.method) {
        let sent = parts.headers.get(CSRF_HEADER).map(header::HeaderValue::as_bytes).unwrap_or_default();
        if !ct_eq(sent, csrf_token(&token).as_bytes()) {
            return Err(ApiError::forbidden("missing or wrong X-CSRF-Token header"));
        }
    }
    let (principal, session) = state.tutela.signed_in_session(&token, source).await?;
    Ok((principal, Some(session)))
}

/// The token of a signed-in console session, checked like any call with the cookie (CSRF,
/// Fetch Metadata, the session's policies): for the few actions on the session itself, such
/// as re-authentication. A bearer token has no session to act on: 403 (401 if it is bad).
pub struct SignedInSessionToken(pub String);

impl FromRequestParts<AppState> for SignedInSessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (_, session) = authenticate(parts, state).await?;
        if session.is_none() {
            return Err(ApiError::forbidden("this acts on a console session; an API token has none"));
        }
        Ok(Self(session_token(parts, state)?))
    }
}

/// The session cookie's value, pending (second factor not yet done) or not.
pub struct SessionToken(pub String);

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        check_fetch_site(&parts.method, &parts.headers)?;
        Ok(Self(session_token(parts, state)?))
    }
}

fn session_token(parts: &Parts, state: &AppState) -> Result<String, ApiError> {
    let jar = CookieJar::from_headers(&parts.headers);
    jar.get(cookie_name(state))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::unauthenticated("sign in first (no session cookie or bearer token)"))
}
