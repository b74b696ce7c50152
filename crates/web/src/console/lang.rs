//! The language switch: remembers the choice in the `lang` cookie and goes back.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::i18n::Lang;
use crate::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path on this site: `//host` and `/\host` would leave it (an open redirect).
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains(['\r', '\n']) => {
            p
        }
        _ => "/",
    }
}

pub async fn switch(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(tag): Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let back = Redirect::to(local_path(q.next.as_deref()));
    match Lang::parse(&tag) {
        Some(lang) => (jar.add(lang.cookie(state.secure_cookies)), back).into_response(),
        None => back.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths() {
        assert_eq!(local_path(Some("/customers?q=1")), "/customers?q=1");
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "", "/a\r\nSet-Cookie: x"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
