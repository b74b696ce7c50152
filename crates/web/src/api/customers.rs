//! Customer records.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::Query;
use serde::Deserialize;
use tutela_core::vault::ListRequest;
use tutela_store::{FilterOp, PlainFilter, SortKey};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::types::{
    CustomerChanges, CustomerDto, CustomerPageDto, LookupRequest, NewCustomer, RevealRequest, RevealResponse,
};
use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, erase))
        .routes(routes!(reveal))
        .routes(routes!(lookup))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// At most 500; default 50.
    limit: Option<u32>,
    cursor: Option<String>,
    /// A plaintext field id to sort by (default: creation order).
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
    /// Repeatable: `field:op:value` with op `eq`, `prefix` or `contains`, on plaintext fields.
    #[serde(default)]
    filter: Vec<String>,
}

fn parse_filter(raw: &str) -> Result<PlainFilter, ApiError> {
    let mut parts = raw.splitn(3, ':');
    let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::invalid("filter", format!("{raw:?}: use field:op:value")));
    };
    let op = match op {
        "eq" => FilterOp::Equals,
        "prefix" => FilterOp::Prefix,
        "contains" => FilterOp::Contains,
        other => {
            return Err(ApiError::invalid("filter", format!("unknown operator {other:?}; use eq, prefix or contains")));
        }
    };
    Ok(PlainFilter { field_id: field.to_owned(), op, value: value.to_owned() })
}

/// List customers, sealed fields masked.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(ListParams),
    responses((status = 200, body = CustomerPageDto), (status = 422, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(params): Query<ListParams>,
) -> Result<Json<CustomerPageDto>, ApiError> {
    let descending = match params.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::invalid("order", format!("{other:?}: use asc or desc")));
        }
    };
    let filters = params.filter.iter().map(|f| parse_filter(f)).collect::<Result<_, _>>()?;
    let request = ListRequest {
        filters,
        sort: SortKey { field_id: params.sort, descending },
        cursor: params.cursor,
        limit: params.limit,
    };
    let page = state.tutela.list_customers(&p, request).await?;
    Ok(Json(CustomerPageDto { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor }))
}

/// Create a customer; sealed fields are encrypted before they reach the store.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = NewCustomer,
    responses((status = 201, body = CustomerDto), (status = 422, body = crate::error::Problem)))]
async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<NewCustomer>,
) -> Result<(StatusCode, Json<CustomerDto>), ApiError> {
    let view = state.tutela.create_customer(&p, body.fields).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Read a customer, sealed fields masked.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, body = CustomerDto), (status = 404, body = crate::error::Problem)))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<CustomerDto>, ApiError> {
    Ok(Json(state.tutela.customer(&p, id).await?.into()))
}

/// Change fields of a customer (optimistic locking on `version`).
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    request_body = CustomerChanges,
    responses((status = 200, body = CustomerDto), (status = 409, body = crate::error::Problem)))]
async fn update(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CustomerChanges>,
) -> Result<Json<CustomerDto>, ApiError> {
    Ok(Json(state.tutela.update_customer(&p, id, body.version, body.fields).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EraseParams {
    /// Why the customer is erased; kept in the erasure ledger and the audit log.
    reason: String,
}

/// Erase a customer: its data key is destroyed (crypto-shredding) and the erasure recorded.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path), EraseParams),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn erase(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    Query(params): Query<EraseParams>,
) -> Result<StatusCode, ApiError> {
    state.tutela.erase_customer(&p, id, &params.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reveal sealed fields with a stated purpose (audited).
#[utoipa::path(post, path = "/api/v1/customers/{id}/reveal", tag = "customers", params(("id" = Uuid, Path)),
    request_body = RevealRequest,
    responses((status = 200, body = RevealResponse), (status = 403, body = crate::error::Problem)))]
async fn reveal(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RevealRequest>,
) -> Result<Json<RevealResponse>, ApiError> {
    let values = state.tutela.reveal(&p, id, &body.fields, &body.purpose).await?;
    Ok(Json(RevealResponse { values }))
}

/// Exact-match lookup, on sealed e-mail, phone and national-ID fields through their blind index.
/// The value travels in the body, never in a URL that logs would keep.
#[utoipa::path(post, path = "/api/v1/customers/lookup", tag = "customers", request_body = LookupRequest,
    responses((status = 200, body = Vec<CustomerDto>), (status = 422, body = crate::error::Problem)))]
async fn lookup(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<LookupRequest>,
) -> Result<Json<Vec<CustomerDto>>, ApiError> {
    let found = state.tutela.lookup_customers(&p, &body.field, &body.value).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}
