//! A JSON extractor whose rejections are problem documents naming what is wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonDataError(e) => ApiError::invalid("body", e.body_text()),
                JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(e.body_text()),
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::bad_request("send the body as JSON with Content-Type: application/json")
                }
                JsonRejection::BytesRejection(e) => {
                    ApiError::new(e.status(), "body-rejected", "Body rejected", e.body_text())
                }
                other => ApiError::bad_request(other.body_text()),
            }),
        }
    }
}
