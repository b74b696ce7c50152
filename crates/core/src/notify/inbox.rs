//! The inbox (the console channel) and the delivery status, as people see them.

use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{DeliveryRow, Mutation, NotificationRow};
use uuid::Uuid;

use super::{Language, template_of, templates};
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// Notices on one page of the inbox at most.
pub const MAX_PAGE: u32 = 100;
/// Deliveries listed in the status view.
const RECENT_DELIVERIES: u32 = 200;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    /// Given up after the last attempt.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> CoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| CoreError::invalid("status", "pending, sent or failed"))
    }
}

/// A notice as its recipient reads it.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationView {
    pub id: Uuid,
    /// `sign_in.new_device`, `break_glass.request`, …
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// The console page the notice is about, if any.
    pub link: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// One page of the inbox, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct InboxPage {
    pub items: Vec<NotificationView>,
    /// Unread notices in the whole inbox.
    pub unread: u64,
    /// The cursor of the next (older) page, when there may be one.
    pub next: Option<Uuid>,
}

/// A delivery as the delivery status shows it. No message text: the recipient, the kind
/// and how it went are what an administrator needs to act.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub address: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

fn view(row: NotificationRow, language: Language) -> NotificationView {
    // In the inbox, links stay paths on this site.
    let rendered = templates::render(language, &template_of(&row.kind), &row.params, None);
    NotificationView {
        id: row.id,
        link: row.params.get("link").cloned(),
        kind: row.kind,
        subject: rendered.subject,
        body: rendered.body,
        created_at: row.created_at,
        read_at: row.read_at,
    }
}

fn own(principal: &Principal) -> CoreResult<Uuid> {
    principal.user_id.ok_or_else(|| CoreError::Forbidden("only users have an inbox".into()))
}

/// Who sees the delivery status: administrators of users (who fix addresses) and readers
/// of the audit log (security and auditors, who must see that an alert did not arrive).
/// No new permission: the list holds addresses and kinds, nothing those roles do not see.
pub const DELIVERY_VIEWERS: [Permission; 2] = [Permission::UserManage, Permission::AuditRead];

impl Tutela {
    /// The caller's notices, newest first, `limit` (1 to 100) at a time, older than
    /// `before`; in `language`, or the caller's own when `None`.
    pub async fn notifications(
        &self,
        principal: &Principal,
        before: Option<Uuid>,
        limit: u32,
        language: Option<Language>,
    ) -> CoreResult<InboxPage> {
        let user_id = own(principal)?;
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(CoreError::invalid("limit", format!("1 to {MAX_PAGE}")));
        }
        let language = match language {
            Some(l) => l,
            None => self.notice_language(user_id).await?,
        };
        let rows = self.store.notifications_for_user(user_id, before, limit).await?;
        let next = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.id)).flatten();
        Ok(InboxPage {
            items: rows.into_iter().map(|r| view(r, language)).collect(),
            unread: self.store.notifications_unread(user_id).await?,
            next,
        })
    }

    /// Unread notices of the caller, for the console's header.
    pub async fn notifications_unread(&self, principal: &Principal) -> CoreResult<u64> {
        Ok(self.store.notifications_unread(own(principal)?).await?)
    }

    /// Marks one of the caller's notices read; anyone else's is `NotFound`. Not audited:
    /// it changes nothing but the reader's own inbox.
    pub async fn mark_notification_read(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let user_id = own(principal)?;
        self.store.notification_mark_read(user_id, id, self.clock.now()).await.map_err(|e| match e {
            tutela_store::StoreError::NotFound => CoreError::NotFound("notification"),
            other => other.into(),
        })
    }

    /// The language of a user's notices.
    pub async fn notice_language(&self, user_id: Uuid) -> CoreResult<Language> {
        let user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        Ok(Language::of_user(&user.locale))
    }

    /// Sets the language of the caller's notices (and e-mails). Audited as
    /// `user.set_language`.
    pub async fn set_notice_language(&self, principal: &Principal, language: Language) -> CoreResult<()> {
        let user_id = own(principal)?;
        let mut user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        if Language::parse(&user.locale) == Some(language) {
            return Ok(());
        }
        language.tag().clone_into(&mut user.locale);
        user.updated_at = self.clock.now();
        let event = AuditEvent::by(principal, "user.set_language")
            .detail(serde_json::json!({ "user": user_id, "language": language.tag() }));
        self.audit.commit(vec![Mutation::UpdateUser(user)], vec![event]).await
    }

    /// The newest deliveries, of one status or all: for administrators and auditors.
    pub async fn notification_deliveries(
        &self,
        principal: &Principal,
        status: Option<DeliveryStatus>,
    ) -> CoreResult<Vec<DeliveryView>> {
        if !DELIVERY_VIEWERS.into_iter().any(|p| principal.has(p)) {
            self.require(principal, Permission::UserManage, "notify.deliveries.read").await?;
        }
        let rows = self.store.deliveries_recent(status.map(DeliveryStatus::as_str), RECENT_DELIVERIES).await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let kind = self.store.notification_get(row.notification_id).await?.map(|n| n.kind).unwrap_or_default();
            views.push(delivery_view(row, kind)?);
        }
        Ok(views)
    }
}

fn delivery_view(row: DeliveryRow, kind: String) -> CoreResult<DeliveryView> {
    let status = DeliveryStatus::parse(&row.status)
        .map_err(|_| CoreError::Internal(format!("delivery {}: unknown status {:?}", row.id, row.status)))?;
    Ok(DeliveryView {
        id: row.id,
        notification_id: row.notification_id,
        kind,
        channel: row.channel,
        address: row.address,
        status,
        attempts: row.attempts,
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at,
        updated_at: row.updated_at,
        sent_at: row.sent_at,
    })
}
