//! The customer schema.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tutela_store::FieldDef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::types::FieldDto;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(put, delete))
}

fn to_dto(f: FieldDef) -> FieldDto {
    FieldDto {
        id: f.id,
        label_en: f.label_en,
        label_zh: f.label_zh,
        kind: f.kind.as_str().to_owned(),
        classification: f.classification.as_str().to_owned(),
        required: f.required,
        position: f.position,
    }
}

/// The customer schema. Any signed-in user may read it: it describes, it holds no data.
#[utoipa::path(get, path = "/api/v1/schema/fields", tag = "schema", responses((status = 200, body = Vec<FieldDto>)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(_caller): Authenticated,
) -> Result<Json<Vec<FieldDto>>, ApiError> {
    Ok(Json(state.tutela.fields().await?.into_iter().map(to_dto).collect()))
}

/// Create or change a field.
#[utoipa::path(put, path = "/api/v1/schema/fields/{id}", tag = "schema", params(("id" = String, Path)),
    request_body = FieldDto, responses((status = 200, body = FieldDto), (status = 422, body = crate::error::Problem)))]
async fn put(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FieldDto>,
) -> Result<Json<FieldDto>, ApiError> {
    if body.id != id {
        return Err(ApiError::invalid("id", "the id in the body differs from the one in the path"));
    }
    let field = FieldDef {
        id: body.id,
        label_en: body.label_en,
        label_zh: body.label_zh,
        kind: body.kind.parse().map_err(|e: tutela_store::UnknownValue| ApiError::invalid("kind", e.0))?,
        classification: body
            .classification
            .parse()
            .map_err(|e: tutela_store::UnknownValue| ApiError::invalid("classification", e.0))?,
        required: body.required,
        position: body.position,
    };
    Ok(Json(to_dto(state.tutela.put_field(&p, field).await?)))
}

/// Remove a field from the schema.
#[utoipa::path(delete, path = "/api/v1/schema/fields/{id}", tag = "schema", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.tutela.delete_field(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
