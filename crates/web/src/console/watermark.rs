//! A faint, repeated "who and when" over pages with customer data, so that a photo or
//! screenshot of the screen names the person it leaked from. Served as an image from our
//! own origin because the CSP allows no inline styles.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::error::ConsoleResult;
use super::session::Console;
use super::stamp::Stamp;
use crate::AppState;

#[derive(Deserialize)]
pub struct At {
    /// Unix time the page was rendered; the watermark shows it.
    at: Option<i64>,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

pub fn svg(email: &str, when: &str) -> String {
    let text = xml_escape(&format!("{email} · {when}"));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%"><defs><pattern id="w" width="420" height="180" patternUnits="userSpaceOnUse" patternTransform="rotate(-24)"><text x="12" y="90" font-family="system-ui, sans-serif" font-size="15" fill="#1f2937" fill-opacity="0.09">{text}</text></pattern></defs><rect width="100%" height="100%" fill="url(#w)"/></svg>"##
    )
}

pub async fn image(State(state): State<AppState>, console: Console, Query(q): Query<At>) -> ConsoleResult<Response> {
    let now = state.tutela.clock().now();
    // The page's own time, unless it is implausible (then now).
    let at =
        q.at.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .filter(|t| (now - *t).abs() < time::Duration::days(1))
            .unwrap_or(now);
    let body = svg(&console.session.email, &Stamp::of(at).shown);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], body).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_text_is_escaped() {
        let s = super::svg("a<b>&\"c\"@example.com", "2026-01-01 00:00:00 UTC");
        assert!(s.contains("a&lt;b&gt;&amp;&quot;c&quot;@example.com"));
        assert!(!s.contains("<b>"));
    }
}
