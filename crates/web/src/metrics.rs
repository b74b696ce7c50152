//! Request metrics for the Prometheus listener.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn track(request: Request, next: Next) -> Response {
    let path =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("path", path), ("status", status)];
    metrics::counter!("tutela_http_requests_total", &labels).increment(1);
    metrics::histogram!("tutela_http_request_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}

/// Samples the gauges (audit queue depth, key versions), the audit commits and the password
/// verifications so far
/// (sign-in load, including the dummy work done for unknown and locked accounts); the server
/// calls it every few seconds.
pub fn sample_gauges(tutela: &tutela_core::Tutela) {
    #[allow(clippy::cast_precision_loss)] // queue depths and version numbers are small
    {
        metrics::gauge!("tutela_audit_queue_depth").set(tutela.audit_log().queue_depth() as f64);
        metrics::gauge!("tutela_kek_versions").set(tutela.keys().versions().len() as f64);
        metrics::gauge!("tutela_kek_current_version").set(f64::from(tutela.keys().current_version()));
    }
    metrics::counter!("tutela_audit_commits_total").absolute(tutela.audit_log().commits());
    metrics::counter!("tutela_password_verifications_total").absolute(tutela.password_hasher().verifications());
}
