//! What a console request answers when it cannot do what was asked: a redirect to sign in, or
//! an HTML page (a fragment for htmx) in the user's language. Never a stack trace, never JSON.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use tutela_core::CoreError;

use super::i18n::{I18n, Lang};
use super::layout::Chrome;

#[derive(Debug)]
pub enum ConsoleError {
    /// Go elsewhere: sign in, the second factor, enrolment.
    Redirect {
        to: String,
        htmx: bool,
    },
    Page {
        status: StatusCode,
        lang: Lang,
        title_key: &'static str,
        detail: Option<String>,
        htmx: bool,
    },
}

impl ConsoleError {
    pub fn redirect(to: impl Into<String>, htmx: bool) -> Self {
        Self::Redirect { to: to.into(), htmx }
    }

    pub fn page(status: StatusCode, lang: Lang, title_key: &'static str, detail: Option<String>) -> Self {
        Self::Page { status, lang, title_key, detail, htmx: false }
    }

    pub fn forbidden(lang: Lang, detail: impl Into<String>) -> Self {
        Self::page(StatusCode::FORBIDDEN, lang, "error-forbidden", Some(detail.into()))
    }

    pub fn not_found(lang: Lang) -> Self {
        Self::page(StatusCode::NOT_FOUND, lang, "error-not-found", None)
    }

    pub fn bad_request(lang: Lang, detail: impl Into<String>) -> Self {
        Self::page(StatusCode::BAD_REQUEST, lang, "error-bad-request", Some(detail.into()))
    }

    /// Marks the error as an answer to an htmx request (a fragment, or `HX-Redirect`).
    #[must_use]
    pub fn for_htmx(self, is_htmx: bool) -> Self {
        match self {
            Self::Redirect { to, .. } => Self::Redirect { to, htmx: is_htmx },
            Self::Page { status, lang, title_key, detail, .. } => {
                Self::Page { status, lang, title_key, detail, htmx: is_htmx }
            }
        }
    }

    /// The console's answer to a domain error; `Invalid` is normally handled by the form
    /// that caused it, this is the fallback.
    pub fn from_core(e: CoreError, lang: Lang) -> Self {
        match e {
            CoreError::Invalid { field, message } => {
                Self::page(StatusCode::UNPROCESSABLE_ENTITY, lang, "error-invalid", Some(format!("{field}: {message}")))
            }
            CoreError::NotFound(_) => Self::not_found(lang),
            CoreError::Conflict(m) => Self::page(StatusCode::CONFLICT, lang, "error-conflict", Some(m)),
            CoreError::Unauthenticated(_) => Self::redirect("/login", false),
            CoreError::SecondFactorRequired => Self::redirect("/login/second-factor", false),
            CoreError::ReauthRequired => Self::redirect("/reauth", false),
            CoreError::Forbidden(m) | CoreError::ApprovalRequired(m) => Self::forbidden(lang, m),
            CoreError::Internal(m) => {
                tracing::error!(error = %m, "internal error in the console");
                Self::page(StatusCode::INTERNAL_SERVER_ERROR, lang, "error-internal", None)
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: String,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "error_fragment.html")]
struct ErrorFragment {
    title: String,
    detail: Option<String>,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            // htmx follows a 3xx inside its request and would swap the sign-in page into a
            // fragment's place; HX-Redirect makes the whole page go there instead.
            Self::Redirect { to, htmx: true } => {
                let mut r = StatusCode::OK.into_response();
                if let Ok(v) = HeaderValue::from_str(&to) {
                    r.headers_mut().insert("hx-redirect", v);
                }
                r
            }
            Self::Redirect { to, htmx: false } => Redirect::to(&to).into_response(),
            Self::Page { status, lang, title_key, detail, htmx } => {
                let i18n = I18n::new(lang);
                let title = i18n.t(title_key);
                let body = if htmx {
                    ErrorFragment { title, detail }.render()
                } else {
                    ErrorPage { chrome: Chrome::bare(lang, ""), title, detail }.render()
                };
                match body {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(e) => {
                        tracing::error!(error = %e, "rendering the error page failed");
                        (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], "internal error")
                            .into_response()
                    }
                }
            }
        }
    }
}

pub type ConsoleResult<T = Response> = Result<T, ConsoleError>;

/// Renders a template into a response with the given status.
pub fn render<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], "internal error")
                .into_response()
        }
    }
}

/// A 200 page.
pub fn ok<T: Template>(template: &T) -> Response {
    render(StatusCode::OK, template)
}
