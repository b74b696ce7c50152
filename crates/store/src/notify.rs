use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{DeliveryRow, DeliveryUpdate, KnownDeviceRow, NotificationRow, StoreResult};

/// The notifier's reads and its bookkeeping writes. Notices themselves are enqueued by
/// [`crate::Mutation`]s in the write that causes them; what happens to them afterwards
/// (claimed, sent, retried, read) is written here directly, outside the audited write path:
/// it changes no record, role or right, so it is no audit event, and on `PostgreSQL` it must
/// not wait for the audit-chain lock that every audited write takes (a slow SMTP server
/// would otherwise hold up sign-ins). This is the same choice as `Store::session_touch`.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// The user's notices, newest first, older than `before` (a notice id) when given.
    async fn notifications_for_user(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRow>>;
    async fn notifications_unread(&self, user_id: Uuid) -> StoreResult<u64>;
    async fn notification_get(&self, id: Uuid) -> StoreResult<Option<NotificationRow>>;
    /// Marks the user's notice read (once: a read notice keeps its first time). Fails with
    /// `NotFound` unless the notice exists and is the user's.
    async fn notification_mark_read(&self, user_id: Uuid, id: Uuid, at: OffsetDateTime) -> StoreResult<()>;
    async fn known_devices(&self, user_id: Uuid) -> StoreResult<Vec<KnownDeviceRow>>;
    /// Claims up to `limit` pending deliveries due at `now` that nobody holds a claim on,
    /// until `claimed_until`, atomically: two nodes claiming together never get the same
    /// delivery. A claim whose holder died lapses at its time and the delivery is claimable
    /// again. Oldest due first.
    async fn deliveries_claim(
        &self,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>>;
    /// Records an attempt's result and releases the claim. A delivery no longer pending
    /// (finished by a node whose claim had lapsed meanwhile) is left alone.
    async fn delivery_finish(&self, update: &DeliveryUpdate) -> StoreResult<()>;
    /// The newest `limit` deliveries by last change, of one status or of all.
    async fn deliveries_recent(&self, status: Option<&str>, limit: u32) -> StoreResult<Vec<DeliveryRow>>;
}
