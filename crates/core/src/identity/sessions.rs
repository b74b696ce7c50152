//! Sessions as people see them: each user lists and ends their own, administrators anyone's.
//!
//! A session is named by its public id, never by its token or the token's hash. Ending one
//! deletes its row, and every request reads its session from the store, so the end holds on
//! every node at its next request.

use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{Mutation, SessionRow};
use uuid::Uuid;

use super::SessionLimits;
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// A live session, without anything that could be used to take it over.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// When it ends unless used first: the earlier of the absolute and the idle limit.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// False while the password is checked and the second factor not yet.
    pub signed_in: bool,
    /// The client address at sign-in.
    pub source: Option<String>,
    pub user_agent: Option<String>,
    /// The session making this request.
    pub current: bool,
}

fn own_user(principal: &Principal) -> CoreResult<Uuid> {
    principal.user_id.ok_or_else(|| CoreError::Forbidden("only users have sessions".into()))
}

impl Tutela {
    /// The caller's own sessions, newest first; `current`, the public id of the session
    /// making this request (none with an API token), is marked.
    pub async fn my_sessions(&self, principal: &Principal, current: Option<Uuid>) -> CoreResult<Vec<SessionView>> {
        let user_id = own_user(principal)?;
        self.live_sessions(user_id, current).await
    }

    /// Any user's sessions (administrators).
    pub async fn user_sessions(&self, principal: &Principal, user_id: Uuid) -> CoreResult<Vec<SessionView>> {
        self.require(principal, Permission::UserManage, "session.list").await?;
        self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        self.live_sessions(user_id, None).await
    }

    /// Sessions that would still be accepted; ended ones whose rows linger until their
    /// next use (timeouts) are left out.
    async fn live_sessions(&self, user_id: Uuid, current: Option<Uuid>) -> CoreResult<Vec<SessionView>> {
        let now = self.clock.now();
        let roles = self.store.user_roles(user_id).await?;
        let policies = self.access_snapshot().await?;
        Ok(self
            .store
            .sessions_for_user(user_id)
            .await?
            .into_iter()
            .map(|row| {
                // Each session's limits follow the roles its factor lets it use.
                let factor = row.factor.as_deref().and_then(|f| f.parse().ok());
                let admitted = policies.sign_in.admitted(roles.clone(), factor);
                let limits = policies.sign_in.limits(&admitted, self.config.session_idle, self.config.session_absolute);
                Self::view(row, current, limits)
            })
            .filter(|s| s.expires_at > now)
            .collect())
    }

    fn view(row: SessionRow, current: Option<Uuid>, limits: SessionLimits) -> SessionView {
        let policy_end = (row.created_at + limits.absolute).min(row.last_seen_at + limits.idle);
        SessionView {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            // A pending session has only its short absolute limit.
            expires_at: if row.mfa_done { row.expires_at.min(policy_end) } else { row.expires_at },
            signed_in: row.mfa_done,
            source: row.source,
            user_agent: row.user_agent,
            current: Some(row.id) == current,
        }
    }

    /// Ends one session: one of the caller's own, or (administrators) anyone's. An unknown
    /// id is `NotFound` for everyone: ids are random and shown only to their owner and to
    /// administrators, so the answer tells nobody anything new.
    pub async fn end_session(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let row = self.store.session_by_id(id).await?.ok_or(CoreError::NotFound("session"))?;
        if principal.user_id != Some(row.user_id) {
            // Someone else's session is as invisible as one that does not exist (the id would
            // otherwise be confirmed); the attempt is still audited as denied.
            self.require(principal, Permission::UserManage, "session.end").await.map_err(|e| match e {
                CoreError::Forbidden(_) => CoreError::NotFound("session"),
                other => other,
            })?;
        }
        let event =
            AuditEvent::by(principal, "session.end").detail(serde_json::json!({ "session": id, "user": row.user_id }));
        self.audit.commit(vec![Mutation::DeleteSession { token_hash: row.token_hash }], vec![event]).await
    }

    /// Ends every session of the caller's but `current`, the one making this request (with
    /// an API token there is none: every session ends). Returns how many were live.
    pub async fn end_my_other_sessions(&self, principal: &Principal, current: Option<Uuid>) -> CoreResult<usize> {
        let user_id = own_user(principal)?;
        self.end_sessions_of(principal, user_id, current).await
    }

    /// Ends every session of a user (administrators): signs them out everywhere, the
    /// caller too if it names itself. Returns how many were live.
    pub async fn end_user_sessions(&self, principal: &Principal, user_id: Uuid) -> CoreResult<usize> {
        self.require(principal, Permission::UserManage, "session.end_all").await?;
        self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        self.end_sessions_of(principal, user_id, None).await
    }

    async fn end_sessions_of(&self, principal: &Principal, user_id: Uuid, keep: Option<Uuid>) -> CoreResult<usize> {
        // The ids are listed for the audit trail; a session started meanwhile ends as well.
        let ended: Vec<Uuid> =
            self.live_sessions(user_id, keep).await?.into_iter().filter(|s| !s.current).map(|s| s.id).collect();
        let event = AuditEvent::by(principal, "session.end_all")
            .detail(serde_json::json!({ "user": user_id, "kept": keep, "sessions": ended }));
        self.audit.commit(vec![Mutation::DeleteUserSessions { user_id, keep }], vec![event]).await?;
        Ok(ended.len())
    }
}
