//! An id in the path whose rejection is a problem document. A malformed id names nothing,
//! so it is answered like an unknown one: 404, never axum's plain-text 400.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::ApiError;

pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<Uuid>::from_request_parts(parts, state).await.map(|Path(id)| Self(id)).map_err(|_| {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", "the id in the path is not a UUID")
        })
    }
}
