//! The signed-in user's own sessions, passkeys and API tokens: where they are signed in, ending
//! one session or all others, adding (through `assets/passkeys.js`) and deleting passkeys,
//! revoking a token. The domain checks ownership and audits.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tutela_core::access::NetworkSubject;
use uuid::Uuid;

use super::assets;
use super::error::{ConsoleResult, render};
use super::forms::Nothing;
use super::layout::Chrome;
use super::session::{Console, ConsoleForm};
use super::stamp::Stamp;
use crate::AppState;

pub struct SessionLine {
    pub id: Uuid,
    pub started: Stamp,
    pub last_seen: Stamp,
    pub source: String,
    pub user_agent: String,
    pub current: bool,
    pub signed_in: bool,
}

pub struct TokenLine {
    pub id: Uuid,
    pub name: String,
    pub scopes: String,
    pub created: Stamp,
    pub expires: Option<Stamp>,
    pub revoked: Option<Stamp>,
    /// The address ranges it may be used from, comma-separated; empty when unrestricted.
    pub networks: String,
}

pub struct PasskeyLine {
    pub id: Uuid,
    pub name: String,
    pub created: Stamp,
    pub last_used: Option<Stamp>,
    pub suspended: Option<Stamp>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    sessions: Vec<SessionLine>,
    others: usize,
    passkeys: Vec<PasskeyLine>,
    /// Whether passkeys can be added here (the public URL has a domain name).
    available: bool,
    script: String,
    tokens: Vec<TokenLine>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct AccountQuery {
    notice: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<AccountQuery>,
) -> ConsoleResult<Response> {
    let p = &console.principal;
    let sessions = state.tutela.my_sessions(p, Some(console.session.id)).await.map_err(|e| console.core_error(e))?;
    let tokens = state.tutela.api_tokens(p).await.map_err(|e| console.core_error(e))?;
    let mut token_networks = state.tutela.my_token_networks(p).await.map_err(|e| console.core_error(e))?;
    let passkeys = state.tutela.my_passkeys(p).await.map_err(|e| console.core_error(e))?;
    let chrome = console.chrome(None);
    let notice = match q.notice.as_deref() {
        Some("ended") => Some(chrome.t("account-notice-ended")),
        Some("ended-others") => Some(chrome.t("account-notice-ended-others")),
        Some("revoked") => Some(chrome.t("account-notice-revoked")),
        Some("token-networks") => Some(chrome.t("account-notice-token-networks")),
        Some("passkey-added") => Some(chrome.t("passkeys-notice-added")),
        Some("passkey-deleted") => Some(chrome.t("passkeys-notice-deleted")),
        _ => None,
    };
    let passkeys = passkeys
        .into_iter()
        .map(|k| PasskeyLine {
            id: k.id,
            name: k.name,
            created: Stamp::of(k.created_at),
            last_used: k.last_used_at.map(Stamp::of),
            suspended: k.suspended_at.map(Stamp::of),
        })
        .collect();
    let sessions: Vec<SessionLine> = sessions
        .into_iter()
        .map(|s| SessionLine {
            id: s.id,
            started: Stamp::of(s.created_at),
            last_seen: Stamp::of(s.last_seen_at),
            source: s.source.unwrap_or_default(),
            user_agent: s.user_agent.unwrap_or_default(),
            current: s.current,
            signed_in: s.signed_in,
        })
        .collect();
    let tokens = tokens
        .into_iter()
        .map(|t| TokenLine {
            name: t.name,
            scopes: t.scopes.join(", "),
            created: Stamp::of(t.created_at),
            expires: t.expires_at.map(Stamp::of),
            revoked: t.revoked_at.map(Stamp::of),
            networks: token_networks.remove(&t.id).unwrap_or_default().join(", "),
            id: t.id,
        })
        .collect();
    let others = sessions.iter().filter(|s| !s.current).count();
    let available = state.tutela.passkeys_available();
    let script = assets::url("passkeys.js");
    let page = AccountPage { chrome, sessions, others, passkeys, available, script, tokens, notice };
    Ok(render(StatusCode::OK, &page))
}

/// Ends one of the user's sessions (the current one is ended by signing out).
pub async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    state.tutela.end_session(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/account?notice=ended").into_response())
}

pub async fn end_others(
    State(state): State<AppState>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    state
        .tutela
        .end_my_other_sessions(&console.principal, Some(console.session.id))
        .await
        .map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/account?notice=ended-others").into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    state.tutela.revoke_api_token(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/account?notice=revoked").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenNetworksForm {
    /// Ranges separated by commas, spaces or lines; empty lifts the restriction.
    #[serde(default)]
    networks: String,
}

/// Sets the address ranges one of the user's tokens may be used from.
pub async fn token_networks(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, form }: ConsoleForm<TokenNetworksForm>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    let entries: Vec<String> =
        form.networks.split(|c: char| c == ',' || c.is_whitespace()).map(str::to_owned).collect();
    state
        .tutela
        .set_network_rule(&console.principal, NetworkSubject::Token, id, &entries)
        .await
        .map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/account?notice=token-networks").into_response())
}

/// Deletes one of the user's passkeys (someone else's is not found).
pub async fn delete_passkey(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConsoleForm { console, .. }: ConsoleForm<Nothing>,
) -> ConsoleResult<Response> {
    let id = console.path_id(&id)?;
    state.tutela.delete_passkey(&console.principal, id).await.map_err(|e| console.core_error(e))?;
    Ok(Redirect::to("/account?notice=passkey-deleted").into_response())
}
