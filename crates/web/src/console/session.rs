//! Who is using the console, and the checks every console request passes: the session cookie
//! (signed in, or pending the second factor), Fetch Metadata, and for every change the
//! session's CSRF token — as the `X-CSRF-Token` header (htmx) or the `_csrf` form field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tutela_core::CoreError;
use tutela_core::identity::SessionInfo;
use tutela_core::policy::{Permission, Principal};
use tutela_crypto::secret::ct_eq;

use super::error::ConsoleError;
use super::i18n::Lang;
use super::layout::{Chrome, Nav, SignedInUser};
use crate::AppState;
use crate::auth::{CSRF_HEADER, check_fetch_site, cookie_name, csrf_token, source};

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v.as_bytes() == b"true")
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn session_cookie(headers: &HeaderMap, state: &AppState) -> Option<String> {
    CookieJar::from_headers(headers).get(cookie_name(state)).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

fn header_csrf_ok(headers: &HeaderMap, session_token: &str) -> bool {
    headers.get(CSRF_HEADER).is_some_and(|sent| ct_eq(sent.as_bytes(), csrf_token(session_token).as_bytes()))
}

fn body_csrf_ok(sent: Option<&str>, session_token: &str) -> bool {
    sent.is_some_and(|sent| ct_eq(sent.as_bytes(), csrf_token(session_token).as_bytes()))
}

/// Where a request came from, as a path on this site: the page htmx says it was sent from,
/// a page opened directly, or the home page.
fn return_to(parts: &Parts, htmx: bool) -> String {
    let from_htmx = htmx
        .then(|| parts.headers.get("hx-current-url")?.to_str().ok()?.parse::<axum::http::Uri>().ok())
        .flatten()
        .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_owned()));
    match from_htmx {
        Some(path) => local_path(&path),
        None if parts.method == Method::GET => path_of(parts),
        None => "/".to_owned(),
    }
}

/// `raw` if it is a path on this site, else the home page: a `next` never leads elsewhere.
pub fn local_path(raw: &str) -> String {
    let local = raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\');
    if local { raw.to_owned() } else { "/".to_owned() }
}

fn path_of(parts: &Parts) -> String {
    parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// Language, htmx-ness and path of any request; never fails.
#[derive(Debug, Clone)]
pub struct Prefs {
    pub lang: Lang,
    pub htmx: bool,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Prefs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { lang: Lang::negotiate(&parts.headers), htmx: is_htmx(&parts.headers), path: path_of(parts) })
    }
}

/// A signed-in console user. As an extractor it refuses changes (POST…) unless the CSRF
/// header is right; handlers that take forms use [`ConsoleForm`] instead.
pub struct Console {
    pub principal: Principal,
    pub session: SessionInfo,
    pub csrf: String,
    pub lang: Lang,
    pub htmx: bool,
    pub path: String,
    /// The page the user is looking at (for htmx, the page that sent the request): where to
    /// come back to after confirming who they are.
    return_to: String,
    token: String,
    /// Unread notices, counted for full pages only (see `unread_count`).
    unread: Option<u64>,
    /// Review items wait for this user's decision, looked at for full pages only (see
    /// `reviews_mine::waiting_for_page`): the navigation then offers "Access reviews".
    reviews_waiting: bool,
}

impl Console {
    async fn resolve(parts: &Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let lang = Lang::negotiate(&parts.headers);
        let htmx = is_htmx(&parts.headers);
        let token = session_cookie(&parts.headers, state).ok_or_else(|| ConsoleError::redirect("/login", htmx))?;
        let session = match state.tutela.session(&token).await {
            Ok(s) => s,
            Err(CoreError::Unauthenticated(_)) => {
                return Err(ConsoleError::redirect("/login", htmx));
            }
            Err(e) => return Err(ConsoleError::from_core(e, lang).for_htmx(htmx)),
        };
        if !session.mfa_done {
            let to = if session.totp_enabled { "/login/second-factor" } else { "/login/enrol" };
            return Err(ConsoleError::redirect(to, htmx));
        }
        let principal = state
            .tutela
            .session_principal(&token, source(parts))
            .await
            .map_err(|e| ConsoleError::from_core(e, lang).for_htmx(htmx))?;
        if is_unsafe(&parts.method) {
            check_fetch_site(&parts.method, &parts.headers)
                .map_err(|_| ConsoleError::forbidden(lang, "cross-site request").for_htmx(htmx))?;
        }
        let return_to = return_to(parts, htmx);
        // The header's unread count and the reviews entry cost a read each: full pages only,
        // not htmx fragments or form posts, and both at once.
        let (unread, reviews_waiting) = if parts.method == Method::GET && !htmx {
            tokio::join!(unread_count(state, &principal), super::reviews_mine::waiting_for_page(state, &principal))
        } else {
            (None, false)
        };
        Ok(Self {
            csrf: csrf_token(&token),
            principal,
            session,
            lang,
            htmx,
            path: path_of(parts),
            return_to,
            token,
            unread,
            reviews_waiting,
        })
    }

    pub fn chrome(&self, active: Option<Nav>) -> Chrome {
        let user = SignedInUser { display_name: self.session.display_name.clone(), email: self.session.email.clone() };
        Chrome::signed_in(self.lang, &self.path, &self.principal, user, self.csrf.clone(), active)
            .with_unread(self.unread)
            .with_reviews_waiting(self.reviews_waiting, active)
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.principal.has(permission)
    }

    /// A page this user may not open: refused here already, so that not even the refusal
    /// of a page read reaches the domain (which refuses and audits every action itself).
    pub fn require(&self, permission: Permission) -> Result<(), ConsoleError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ConsoleError::forbidden(self.lang, format!("{permission} is required")).for_htmx(self.htmx))
        }
    }

    /// An id from the path; a malformed one names nothing, so it is answered as not found.
    pub fn path_id(&self, raw: &str) -> Result<uuid::Uuid, ConsoleError> {
        raw.parse().map_err(|_| ConsoleError::not_found(self.lang).for_htmx(self.htmx))
    }

    /// The answer to a domain error. A re-authentication the roles ask for goes to the
    /// confirmation page, which comes back here afterwards.
    pub fn core_error(&self, e: CoreError) -> ConsoleError {
        if matches!(e, CoreError::ReauthRequired) {
            let query = serde_html_form::to_string([("next", &self.return_to)]).unwrap_or_default();
            return ConsoleError::redirect(format!("/reauth?{query}"), self.htmx);
        }
        ConsoleError::from_core(e, self.lang).for_htmx(self.htmx)
    }

    /// The session's own token, for the few domain calls that act on the session itself
    /// (re-authentication).
    pub fn session_token(&self) -> &str {
        &self.token
    }

    fn csrf_refused(&self) -> ConsoleError {
        ConsoleError::forbidden(self.lang, "missing or wrong CSRF token; reload the page").for_htmx(self.htmx)
    }
}

/// The header's unread count: one cheap indexed count, made here because `Chrome` is built
/// synchronously by every page (fragments have no header and form posts mostly redirect to
/// a page that counts). A failed count leaves the badge out instead of failing a page that
/// does not depend on it.
async fn unread_count(state: &AppState, principal: &Principal) -> Option<u64> {
    state
        .tutela
        .notifications_unread(principal)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "counting unread notices for the console header"))
        .ok()
}

impl FromRequestParts<AppState> for Console {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let console = Self::resolve(parts, state).await?;
        if is_unsafe(&parts.method) && !header_csrf_ok(&parts.headers, &console.token) {
            return Err(console.csrf_refused());
        }
        Ok(console)
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

async fn form_bytes(parts: Parts, body: axum::body::Body, state: &AppState, lang: Lang) -> Result<Bytes, ConsoleError> {
    // Through the extractor, so that the route's body limit applies.
    Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| ConsoleError::page(e.status(), lang, "error-bad-request", Some(e.body_text())))
}

/// The body of a form post if its CSRF token — the header, or else the `_csrf` field —
/// matches the session's; `None` if it does not.
async fn csrf_checked_body(
    parts: Parts,
    body: axum::body::Body,
    state: &AppState,
    token: &str,
    lang: Lang,
) -> Result<Option<Bytes>, ConsoleError> {
    let header_ok = header_csrf_ok(&parts.headers, token);
    let bytes = form_bytes(parts, body, state, lang).await?;
    let sent: CsrfField = parse_form(&bytes, lang)?;
    Ok((header_ok || body_csrf_ok(sent.csrf.as_deref(), token)).then_some(bytes))
}

fn parse_form<T: DeserializeOwned>(bytes: &[u8], lang: Lang) -> Result<T, ConsoleError> {
    serde_html_form::from_bytes(bytes).map_err(|e| ConsoleError::bad_request(lang, e.to_string()))
}

/// A signed-in user's form submission, CSRF-checked.
pub struct ConsoleForm<T> {
    pub console: Console,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for ConsoleForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (parts, body) = req.into_parts();
        let console = Console::resolve(&parts, state).await?;
        let Some(bytes) = csrf_checked_body(parts, body, state, &console.token, console.lang).await? else {
            return Err(console.csrf_refused());
        };
        let form = parse_form(&bytes, console.lang).map_err(|e| e.for_htmx(console.htmx))?;
        Ok(Self { console, form })
    }
}

/// A session between password and second factor.
pub struct Pending {
    pub token: String,
    pub session: SessionInfo,
    pub csrf: String,
    pub lang: Lang,
    pub htmx: bool,
    pub path: String,
}

impl Pending {
    async fn resolve(parts: &Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let lang = Lang::negotiate(&parts.headers);
        let htmx = is_htmx(&parts.headers);
        let token = session_cookie(&parts.headers, state).ok_or_else(|| ConsoleError::redirect("/login", htmx))?;
        let session = match state.tutela.session(&token).await {
            Ok(s) => s,
            Err(CoreError::Unauthenticated(_)) => {
                return Err(ConsoleError::redirect("/login", htmx));
            }
            Err(e) => return Err(ConsoleError::from_core(e, lang).for_htmx(htmx)),
        };
        if session.mfa_done {
            return Err(ConsoleError::redirect("/", htmx));
        }
        if is_unsafe(&parts.method) {
            check_fetch_site(&parts.method, &parts.headers)
                .map_err(|_| ConsoleError::forbidden(lang, "cross-site request").for_htmx(htmx))?;
        }
        Ok(Self { csrf: csrf_token(&token), token, session, lang, htmx, path: path_of(parts) })
    }
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let pending = Self::resolve(parts, state).await?;
        if is_unsafe(&parts.method) && !header_csrf_ok(&parts.headers, &pending.token) {
            return Err(ConsoleError::forbidden(pending.lang, "missing or wrong CSRF token").for_htmx(pending.htmx));
        }
        Ok(pending)
    }
}

/// A form posted on a pending session (the second factor, enrolment), CSRF-checked against
/// the pending session's token.
pub struct PendingForm<T> {
    pub pending: Pending,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for PendingForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (parts, body) = req.into_parts();
        let pending = Pending::resolve(&parts, state).await?;
        let Some(bytes) = csrf_checked_body(parts, body, state, &pending.token, pending.lang).await? else {
            return Err(ConsoleError::forbidden(pending.lang, "missing or wrong CSRF token; reload the page")
                .for_htmx(pending.htmx));
        };
        let form = parse_form(&bytes, pending.lang)?;
        Ok(Self { pending, form })
    }
}

/// A form posted without a session (sign-in, setup). There is no session to bind a token
/// to; the cookie's SameSite=Strict and the Fetch Metadata check keep other sites out.
pub struct PublicForm<T> {
    pub prefs: Prefs,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for PublicForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (mut parts, body) = req.into_parts();
        let Ok(prefs) = Prefs::from_request_parts(&mut parts, state).await;
        check_fetch_site(&parts.method, &parts.headers)
            .map_err(|_| ConsoleError::forbidden(prefs.lang, "cross-site request"))?;
        let bytes = form_bytes(parts, body, state, prefs.lang).await?;
        let form = parse_form(&bytes, prefs.lang)?;
        Ok(Self { prefs, form })
    }
}

/// An uploaded file and the other fields of a multipart form, CSRF-checked.
pub struct ConsoleUpload {
    pub console: Console,
    pub fields: Vec<(String, String)>,
    pub file: Option<(String, Vec<u8>)>,
}

impl ConsoleUpload {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for ConsoleUpload {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (parts, body) = req.into_parts();
        let console = Console::resolve(&parts, state).await?;
        let header_ok = header_csrf_ok(&parts.headers, &console.token);
        let lang = console.lang;
        let bad = move |e: axum::extract::multipart::MultipartError| {
            ConsoleError::page(e.status(), lang, "error-bad-request", Some(e.body_text()))
        };
        let mut multipart = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| ConsoleError::page(e.status(), lang, "error-bad-request", Some(e.body_text())))?;
        let mut fields = Vec::new();
        let mut file = None;
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(ToOwned::to_owned) {
                Some(file_name) => file = Some((file_name, field.bytes().await.map_err(bad)?.to_vec())),
                None => fields.push((name, field.text().await.map_err(bad)?)),
            }
        }
        let upload = Self { console, fields, file };
        // Checked once the body is read, and before anything is done with it.
        if !header_ok && !body_csrf_ok(upload.field("_csrf"), &upload.console.token) {
            return Err(upload.console.csrf_refused());
        }
        Ok(upload)
    }
}

/// The pending or signed-in session token of a request, for signing out.
pub fn any_session(headers: &HeaderMap, state: &AppState) -> Option<String> {
    session_cookie(headers, state)
}

pub fn csrf_matches(sent: Option<&str>, session_token: &str) -> bool {
    body_csrf_ok(sent, session_token)
}
