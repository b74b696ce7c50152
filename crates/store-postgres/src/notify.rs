//! The notifier's outbox: notices, their deliveries, and the devices users signed in from.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use tutela_store::{
    DeliveryRow, DeliveryUpdate, KnownDeviceRow, NoticeRows, NotificationRow, NotifyStore, StoreError, StoreResult,
};
use uuid::Uuid;

use crate::PgStore;
use crate::convert::{backend_err, json_map, parse_json_map, to_u64};
use crate::write::PgWriteTx;

const NOTICE: &str = "id, user_id, kind, params::text, created_at, read_at";
const DELIVERY: &str =
    "id, notification_id, channel, address, status, attempts, last_error, next_attempt_at, updated_at, sent_at";

fn notice(r: &PgRow) -> StoreResult<NotificationRow> {
    Ok(NotificationRow {
        id: r.get(0),
        user_id: r.get(1),
        kind: r.get(2),
        params: parse_json_map("notifications.params", r.get(3))?,
        created_at: r.get(4),
        read_at: r.get(5),
    })
}

fn delivery(r: &PgRow) -> DeliveryRow {
    DeliveryRow {
        id: r.get(0),
        notification_id: r.get(1),
        channel: r.get(2),
        address: r.get(3),
        status: r.get(4),
        attempts: r.get(5),
        last_error: r.get(6),
        next_attempt_at: r.get(7),
        updated_at: r.get(8),
        sent_at: r.get(9),
    }
}

impl PgWriteTx {
    /// `Mutation::Notify`.
    pub(crate) async fn enqueue_notice(&mut self, rows: &NoticeRows) -> StoreResult<()> {
        let n = &rows.notification;
        self.exec(
            sqlx::query(
                "INSERT INTO notifications (id, user_id, kind, params, created_at, read_at)
                 VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
            )
            .bind(n.id)
            .bind(n.user_id)
            .bind(&n.kind)
            .bind(json_map(&n.params))
            .bind(n.created_at)
            .bind(n.read_at),
        )
        .await?;
        for d in &rows.deliveries {
            self.exec(
                sqlx::query(&format!(
                    "INSERT INTO notification_deliveries ({DELIVERY}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(d.id)
                .bind(d.notification_id)
                .bind(&d.channel)
                .bind(&d.address)
                .bind(&d.status)
                .bind(d.attempts)
                .bind(&d.last_error)
                .bind(d.next_attempt_at)
                .bind(d.updated_at)
                .bind(d.sent_at),
            )
            .await?;
        }
        Ok(())
    }

    /// `Mutation::SeenDevice`.
    pub(crate) async fn seen_device(&mut self, device: &KnownDeviceRow, notices: &[NoticeRows]) -> StoreResult<()> {
        let added = self
            .exec(
                sqlx::query(
                    "INSERT INTO known_devices (user_id, device, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (user_id, device) DO NOTHING",
                )
                .bind(device.user_id)
                .bind(device.device)
                .bind(device.first_seen_at)
                .bind(device.last_seen_at),
            )
            .await?;
        if added == 0 {
            self.exec(
                sqlx::query("UPDATE known_devices SET last_seen_at = $3 WHERE user_id = $1 AND device = $2")
                    .bind(device.user_id)
                    .bind(device.device)
                    .bind(device.last_seen_at),
            )
            .await?;
            return Ok(());
        }
        for n in notices {
            self.enqueue_notice(n).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl NotifyStore for PgStore {
    async fn notifications_for_user(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTICE} FROM notifications WHERE user_id = $1 AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        rows.iter().map(notice).collect()
    }

    async fn notifications_unread(&self, user_id: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(to_u64(n))
    }

    async fn notification_get(&self, id: Uuid) -> StoreResult<Option<NotificationRow>> {
        let row = sqlx::query(&format!("SELECT {NOTICE} FROM notifications WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(notice).transpose()
    }

    async fn notification_mark_read(&self, user_id: Uuid, id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(backend_err)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn known_devices(&self, user_id: Uuid) -> StoreResult<Vec<KnownDeviceRow>> {
        let rows = sqlx::query(
            "SELECT user_id, device, first_seen_at, last_seen_at FROM known_devices WHERE user_id = $1
             ORDER BY first_seen_at",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(rows
            .iter()
            .map(|r| KnownDeviceRow {
                user_id: r.get(0),
                device: r.get(1),
                first_seen_at: r.get(2),
                last_seen_at: r.get(3),
            })
            .collect())
    }

    async fn deliveries_claim(
        &self,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>> {
        // SKIP LOCKED: a node claiming at the same moment passes over the rows this statement
        // has locked instead of waiting for them and claiming them again after.
        let rows = sqlx::query(&format!(
            "UPDATE notification_deliveries SET claimed_until = $2 WHERE id IN (
                SELECT id FROM notification_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $1
                  AND (claimed_until IS NULL OR claimed_until <= $1)
                ORDER BY next_attempt_at, id LIMIT $3
                FOR UPDATE SKIP LOCKED)
             RETURNING {DELIVERY}"
        ))
        .bind(now)
        .bind(claimed_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(rows.iter().map(delivery).collect())
    }

    async fn delivery_finish(&self, u: &DeliveryUpdate) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notification_deliveries SET status = $2, attempts = $3, last_error = $4,
             next_attempt_at = $5, updated_at = $6, claimed_until = NULL,
             sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(u.id)
        .bind(&u.status)
        .bind(u.attempts)
        .bind(&u.last_error)
        .bind(u.next_attempt_at)
        .bind(u.at)
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn deliveries_recent(&self, status: Option<&str>, limit: u32) -> StoreResult<Vec<DeliveryRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY} FROM notification_deliveries WHERE $1::text IS NULL OR status = $1
             ORDER BY updated_at DESC, id LIMIT $2"
        ))
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(rows.iter().map(delivery).collect())
    }
}
