//! Security headers, set in one place for every response.

use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let no_cache_policy = !h.contains_key(header::CACHE_CONTROL);
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    // Browsers remember to use HTTPS only, for a year, subdomains included.
    set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    // Only our own scripts, styles and images; no inline script; never framed (clickjacking).
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    // Belt and braces for browsers without frame-ancestors.
    set(header::X_FRAME_OPTIONS, "DENY");
    // Never guess a content type: a JSON answer is not a script.
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Customer ids in URLs must not leak to other sites.
    set(header::REFERRER_POLICY, "no-referrer");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    // Customer data must not sit in shared or disk caches.
    if no_cache_policy {
        set(header::CACHE_CONTROL, "no-store");
    }
    response
}
