//! Sharing one record with one user for a limited time: whoever may change a record may
//! lend it, never for longer than [`MAX_SHARE`], and never more than they hold themselves.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tutela_store::{Mutation, OrgChange, RecordShareRow, UserStatus};
use uuid::Uuid;

use super::levels::ShareAccess;
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The longest a share may last.
pub const MAX_SHARE: Duration = Duration::days(90);
const MAX_REASON: usize = 500;

#[derive(Debug, Clone, Deserialize)]
pub struct ShareInput {
    pub user_id: Uuid,
    /// `read` or `write`.
    pub access: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub reason: String,
}

/// A share as its record's readers see it, with the e-mail addresses of the people in it.
#[derive(Debug, Clone, Serialize)]
pub struct ShareView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub access: String,
    pub reason: String,
    pub granted_by: Option<Uuid>,
    pub granted_by_email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Tutela {
    /// A user's e-mail address, or their id when the account is gone.
    pub(crate) async fn email_of(&self, user: Uuid) -> CoreResult<String> {
        Ok(self.store.user_get(user).await?.map_or_else(|| user.to_string(), |u| u.email))
    }

    async fn share_view(&self, row: RecordShareRow) -> CoreResult<ShareView> {
        let user_email = self.email_of(row.user_id).await?;
        let granted_by_email = match row.granted_by {
            Some(id) => Some(self.email_of(id).await?),
            None => None,
        };
        Ok(ShareView {
            id: row.id,
            customer_id: row.customer_id,
            user_id: row.user_id,
            user_email,
            access: row.access,
            reason: row.reason,
            granted_by: row.granted_by,
            granted_by_email,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }

    /// The active user with this e-mail address, for those who may share records with them.
    /// `None` for an unknown or disabled address alike.
    pub async fn colleague_by_email(&self, principal: &Principal, email: &str) -> CoreResult<Option<Uuid>> {
        self.require(principal, Permission::CustomerWrite, "user.find").await?;
        let Ok(email) = crate::identity::normalise_email(email) else {
            return Ok(None);
        };
        Ok(self.store.user_by_email(&email).await?.filter(|u| u.status == UserStatus::Active).map(|u| u.id))
    }

    pub async fn share_customer(
        &self,
        principal: &Principal,
        customer_id: Uuid,
        input: ShareInput,
    ) -> CoreResult<ShareView> {
        self.require(principal, Permission::CustomerWrite, "customer.share").await?;
        self.writable_row(principal, customer_id, "customer.share").await?;
        let access: ShareAccess = input.access.parse()?;
        let reason = input.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(CoreError::invalid("reason", format!("give a reason in 1 to {MAX_REASON} characters")));
        }
        let now = self.clock.now();
        if input.expires_at <= now || input.expires_at > now + MAX_SHARE {
            return Err(CoreError::invalid("expires_at", "a share ends in the future, within 90 days"));
        }
        let user = self.store.user_get(input.user_id).await?.filter(|u| u.status == UserStatus::Active);
        if user.is_none() || Some(input.user_id) == principal.user_id {
            return Err(CoreError::invalid("user_id", "share with another active user"));
        }
        let row = RecordShareRow {
            id: Uuid::now_v7(),
            customer_id,
            user_id: input.user_id,
            access: access.as_str().to_owned(),
            reason: reason.to_owned(),
            granted_by: principal.user_id,
            created_at: now,
            expires_at: input.expires_at,
        };
        let event = AuditEvent::by(principal, "customer.share").customer(customer_id).detail(serde_json::json!({
            "share": row.id, "user": row.user_id, "access": row.access, "expires_at": rfc3339(row.expires_at),
            "reason": row.reason
        }));
        self.audit.commit(vec![Mutation::Org(OrgChange::InsertRecordShare(row.clone()))], vec![event]).await?;
        self.share_view(row).await
    }

    /// The shares of a record the caller may read.
    pub async fn customer_shares(&self, principal: &Principal, customer_id: Uuid) -> CoreResult<Vec<ShareView>> {
        self.require(principal, Permission::CustomerRead, "customer.shares").await?;
        self.readable_row(principal, customer_id, "customer.shares").await?;
        let mut views = Vec::new();
        for row in self.store.record_shares_for_customer(customer_id).await? {
            views.push(self.share_view(row).await?);
        }
        Ok(views)
    }

    /// Ends a share: its grantor, anyone who may change the record, or a user administrator.
    pub async fn end_share(&self, principal: &Principal, customer_id: Uuid, share_id: Uuid) -> CoreResult<()> {
        let shares = self.store.record_shares_for_customer(customer_id).await?;
        let share = shares.iter().find(|s| s.id == share_id);
        let allowed = share.is_some_and(|s| s.granted_by.is_some() && s.granted_by == principal.user_id)
            || principal.has(Permission::UserManage)
            || (principal.has(Permission::CustomerWrite)
                && self.writable_row(principal, customer_id, "customer.unshare").await.is_ok());
        let Some(share) = share.filter(|_| allowed) else {
            return Err(CoreError::NotFound("share"));
        };
        let event = AuditEvent::by(principal, "customer.unshare")
            .customer(customer_id)
            .detail(serde_json::json!({ "share": share.id, "user": share.user_id }));
        self.audit.commit(vec![Mutation::Org(OrgChange::DeleteRecordShare { id: share.id })], vec![event]).await
    }
}
