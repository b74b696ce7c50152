//! Tutela's HTTP edge: the `/api/v1` REST API with its OpenAPI document, the web console,
//! security headers, authentication extractors and the TLS listener. Handlers translate HTTP to calls on
//! [`tutela_core::Tutela`] and back; they hold no business rules.

mod api;
mod auth;
mod console;
mod error;
mod export_stream;
mod headers;
mod id_path;
mod json;
mod metrics;
mod server;

use std::sync::Arc;

use axum::Router;
use tutela_core::Tutela;

pub use error::ApiError;
pub use metrics::sample_gauges;
pub use server::{ServeConfig, ServeError, TlsFiles, is_loopback, serve};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub tutela: Arc<Tutela>,
    /// False only with `--insecure-http` on loopback: cookies then lose `Secure` and the
    /// `__Host-` prefix, which browsers refuse over plain HTTP.
    pub secure_cookies: bool,
}

/// The whole application router: API, console, health checks, security headers.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(api::health::router())
        .merge(console::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// Unknown API paths answer in problem+json; anything else is a console page.
async fn not_found(uri: axum::http::Uri, prefs: console::Prefs) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if uri.path().starts_with("/api/") {
        ApiError::not_found("route").into_response()
    } else {
        console::not_found(&prefs)
    }
}
