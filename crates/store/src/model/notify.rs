use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

/// One notice to one user: the entry of their in-app inbox (the console channel). What it
/// says is its `kind` and `params`, rendered from templates in the reader's language when it
/// is shown or sent, so the stored row holds no language and no markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `sign_in.new_device`, `break_glass.request`, …
    pub kind: String,
    pub params: BTreeMap<String, String>,
    pub created_at: OffsetDateTime,
    pub read_at: Option<OffsetDateTime>,
}

/// Sending one notice through one outside channel (`email` today; webhook and syslog later).
/// `pending` until sent (`sent`) or given up on after the last attempt (`failed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub channel: String,
    /// Where to: the recipient's e-mail address when the notice was made.
    pub address: String,
    pub status: String,
    pub attempts: i64,
    /// Why the last attempt failed, as the channel reported it (never a secret).
    pub last_error: Option<String>,
    pub next_attempt_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// A notice with its deliveries, enqueued together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRows {
    pub notification: NotificationRow,
    pub deliveries: Vec<DeliveryRow>,
}

/// A device and network a user has signed in from: a keyed 32-bit hash, never the address
/// or the browser themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDeviceRow {
    pub user_id: Uuid,
    pub device: i64,
    pub first_seen_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

/// The result of one delivery attempt, written by the node that claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub id: Uuid,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: OffsetDateTime,
    pub at: OffsetDateTime,
}
