//! An export as an HTTP response, for the API and the console alike.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tutela_core::vault::{Export, ExportFormat};

/// Streams an export as the response body: a page of records at a time, never the whole
/// file in memory nor on disk.
pub fn export_response(export: Export) -> Response {
    let (content_type, extension) = match export.format() {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::JsonLines => ("application/jsonl; charset=utf-8", "jsonl"),
    };
    let stream = futures::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((Bytes::from(chunk), export))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                Err(std::io::Error::other("export failed"))
            }
        }
    });
    let disposition = format!("attachment; filename=\"customers.{extension}\"");
    (
        [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(stream),
    )
        .into_response()
}
