//! RFC 9457 problem details, with a stable `type` per kind of failure. Internal errors are
//! logged with detail and answered with none.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tutela_core::CoreError;
use utoipa::ToSchema;

/// A problem detail document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:tutela:problem:invalid-input`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field, column or line at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), field: None }
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input", detail);
        e.field = Some(field.into());
        e
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("no such {what}"))
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Not authenticated", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { field, message } => Self::invalid(field.clone(), format!("{field}: {message}")),
            CoreError::NotFound(what) => Self::not_found(what),
            CoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", "Conflict", m),
            CoreError::Unauthenticated(m) => Self::unauthenticated(m),
            CoreError::SecondFactorRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "second-factor-required",
                "Second factor required",
                "complete sign-in with your authenticator code first",
            ),
            CoreError::Forbidden(m) => Self::forbidden(m),
            CoreError::ReauthRequired => Self::new(
                StatusCode::FORBIDDEN,
                "reauthentication-required",
                "Re-authentication required",
                "your roles ask you to confirm it is you before this: POST /api/v1/auth/reauth with an \
                 authenticator code (or use a passkey), then ask again",
            ),
            CoreError::ApprovalRequired(m) => {
                Self::new(StatusCode::FORBIDDEN, "approval-required", "Approval required", m)
            }
            CoreError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:tutela:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            field: self.field,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        response
    }
}
