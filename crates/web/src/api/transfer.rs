//! Bulk import and export of customers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::Query;
use serde::{Deserialize, Serialize};
use tutela_core::policy::Permission;
use tutela_core::vault::ExportFormat;
use tutela_core::vault::import::{ImportOptions, ImportReport};
use tutela_import::{ColumnMapping, Encoding, FileFormat, ImportReader, Preset};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::{ApiError, AppState};

/// Uploads up to this size; the rest of the API keeps the global 1 MiB limit.
const MAX_UPLOAD: usize = 256 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD))
        .routes(routes!(export))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// zoho-contacts, zoho-accounts, zoho-leads, fxiaoke-customers, fxiaoke-contacts, or `auto`
    /// to pick the one matching the header row.
    preset: Option<String>,
    /// Repeatable `field=Header` or `field=Header1+Header2`; overrides the preset's rule for that field.
    #[serde(default)]
    map: Vec<String>,
    /// auto (default), utf-8 or gb18030; CSV only.
    encoding: Option<String>,
    /// Write the good rows and report the bad ones instead of refusing the whole file.
    #[serde(default)]
    skip_bad: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RowErrorDto {
    line: u64,
    column: Option<String>,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReportDto {
    import_id: uuid::Uuid,
    rows: u64,
    imported: u64,
    rejected: u64,
    /// True when nothing was written because of bad rows.
    refused: bool,
    /// The first rejected rows (up to 1,000).
    errors: Vec<RowErrorDto>,
}

impl From<ImportReport> for ImportReportDto {
    fn from(r: ImportReport) -> Self {
        Self {
            import_id: r.import_id,
            rows: r.rows,
            imported: r.imported,
            rejected: r.rejected,
            refused: r.refused,
            errors: r
                .errors
                .into_iter()
                .map(|e| RowErrorDto { line: e.line, column: e.column, message: e.message })
                .collect(),
        }
    }
}

/// Builds the column mapping from a preset and explicit pairs. With `auto`, the header row
/// of the file decides.
pub fn mapping_for(
    preset: Option<&str>,
    pairs: &[String],
    headers: impl FnOnce() -> Option<Vec<String>>,
) -> Result<ColumnMapping, ApiError> {
    let base = match preset {
        None => None,
        Some("auto") => Some(headers().and_then(|h| tutela_import::detect_preset(&h)).ok_or_else(|| {
            ApiError::invalid("preset", "no preset matches this file's header row; name one or map the columns")
        })?),
        Some(id) => Some(Preset::from_id(id).ok_or_else(|| {
            let ids: Vec<_> = Preset::all().iter().map(Preset::id).collect();
            ApiError::invalid("preset", format!("unknown preset {id:?}; use auto or one of {}", ids.join(", ")))
        })?),
    };
    let explicit = ColumnMapping::parse_pairs(pairs).map_err(|e| ApiError::invalid("map", e.to_string()))?;
    let mut mapping = base.map_or_else(ColumnMapping::new, |p| p.mapping());
    mapping = mapping.overlay(explicit);
    if mapping.is_empty() {
        return Err(ApiError::invalid("map", "name a preset or map at least one column (field=Header)"));
    }
    Ok(mapping)
}

/// Import a CSV (UTF-8 or GB18030) or .xlsx file sent as the request body. All or nothing
/// unless `skip_bad`; bad rows are reported by line and column.
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "customers", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReportDto), (status = 422, body = crate::error::Problem)))]
async fn import(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> Result<Json<ImportReportDto>, ApiError> {
    // Deny before looking at the upload: a caller without the permission learns nothing.
    state.tutela.require(&p, Permission::CustomerImport, "customer.import").await?;
    if body.is_empty() {
        return Err(ApiError::invalid("body", "send the file as the request body"));
    }
    let format =
        FileFormat::detect(None, &body[..body.len().min(8)]).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let encoding: Encoding = params
        .encoding
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .map_err(|e: tutela_import::ImportError| ApiError::invalid("encoding", e.to_string()))?;
    let bytes = body.to_vec();
    let header_probe = || ImportReader::header_row(bytes.clone(), format, encoding).ok();
    let mapping = mapping_for(params.preset.as_deref(), &params.map, header_probe)?;
    let open = || ImportReader::from_bytes(bytes.clone(), format, encoding, &mapping);
    let report = state.tutela.import_customers(&p, open, ImportOptions { skip_bad: params.skip_bad }, |_| {}).await?;
    Ok(Json(report.into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default) or `jsonl`.
    format: Option<String>,
    /// Why plaintext is needed. Without it, sealed fields are exported masked; with it, those
    /// the caller may reveal are exported in plaintext. Recorded in the audit log.
    purpose: Option<String>,
}

/// Export every customer, streamed, as the caller may see them. An export the approval
/// policy puts before an approver (too many rows, restricted fields in plaintext) is refused
/// with 403 `approval-required`: ask for it through `POST /api/v1/exports`.
#[utoipa::path(get, path = "/api/v1/customers/export", tag = "customers", params(ExportParams),
    responses((status = 200, description = "CSV or JSON lines", content_type = "text/csv"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn export(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let format: ExportFormat = params.format.as_deref().unwrap_or("csv").parse()?;
    let export = state.tutela.begin_export(&p, format, params.purpose.as_deref()).await?;
    Ok(crate::export_stream::export_response(export))
}
