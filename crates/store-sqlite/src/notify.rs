//! The notifier's outbox: notices, their deliveries, and the devices users signed in from.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use tutela_store::{
    DeliveryRow, DeliveryUpdate, KnownDeviceRow, NoticeRows, NotificationRow, NotifyStore, StoreError, StoreResult,
};
use uuid::Uuid;

use crate::SqliteStore;
use crate::convert::{all_rows, col, first_row, from_micros, json_map, opt_from_micros, parse_json_map, to_micros};
use crate::write::{exactly_one, exec};

const NOTICE: &str = "id, user_id, kind, params, created_at, read_at";
const DELIVERY: &str =
    "id, notification_id, channel, address, status, attempts, last_error, next_attempt_at, updated_at, sent_at";

fn notice(r: &Row<'_>) -> StoreResult<NotificationRow> {
    Ok(NotificationRow {
        id: col(r, 0)?,
        user_id: col(r, 1)?,
        kind: col(r, 2)?,
        params: parse_json_map("notifications.params", &col::<String>(r, 3)?)?,
        created_at: from_micros(col(r, 4)?)?,
        read_at: opt_from_micros(col(r, 5)?)?,
    })
}

fn delivery(r: &Row<'_>) -> StoreResult<DeliveryRow> {
    Ok(DeliveryRow {
        id: col(r, 0)?,
        notification_id: col(r, 1)?,
        channel: col(r, 2)?,
        address: col(r, 3)?,
        status: col(r, 4)?,
        attempts: col(r, 5)?,
        last_error: col(r, 6)?,
        next_attempt_at: from_micros(col(r, 7)?)?,
        updated_at: from_micros(col(r, 8)?)?,
        sent_at: opt_from_micros(col(r, 9)?)?,
    })
}

/// `Mutation::Notify`.
pub(crate) fn enqueue(conn: &Connection, rows: &NoticeRows) -> StoreResult<()> {
    let n = &rows.notification;
    exec(
        conn,
        &format!("INSERT INTO notifications ({NOTICE}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![n.id, n.user_id, n.kind, json_map(&n.params), to_micros(n.created_at), n.read_at.map(to_micros)],
    )?;
    for d in &rows.deliveries {
        exec(
            conn,
            &format!(
                "INSERT INTO notification_deliveries ({DELIVERY}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                d.id,
                d.notification_id,
                d.channel,
                d.address,
                d.status,
                d.attempts,
                d.last_error,
                to_micros(d.next_attempt_at),
                to_micros(d.updated_at),
                d.sent_at.map(to_micros)
            ],
        )?;
    }
    Ok(())
}

/// `Mutation::SeenDevice`.
pub(crate) fn seen_device(conn: &Connection, device: &KnownDeviceRow, notices: &[NoticeRows]) -> StoreResult<()> {
    let added = exec(
        conn,
        "INSERT INTO known_devices (user_id, device, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, device) DO NOTHING",
        params![device.user_id, device.device, to_micros(device.first_seen_at), to_micros(device.last_seen_at)],
    )?;
    if added == 0 {
        exec(
            conn,
            "UPDATE known_devices SET last_seen_at = ?3 WHERE user_id = ?1 AND device = ?2",
            params![device.user_id, device.device, to_micros(device.last_seen_at)],
        )?;
        return Ok(());
    }
    notices.iter().try_for_each(|n| enqueue(conn, n))
}

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn notifications_for_user(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationRow>> {
        self.connections.read(|c| {
            all_rows(
                c,
                &format!(
                    "SELECT {NOTICE} FROM notifications WHERE user_id = ?1 AND (?2 IS NULL OR id < ?2)
                     ORDER BY id DESC LIMIT ?3"
                ),
                params![user_id, before, i64::from(limit)],
                notice,
            )
        })
    }

    async fn notifications_unread(&self, user_id: Uuid) -> StoreResult<u64> {
        self.connections.read(|c| {
            first_row(c, "SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL", [user_id], |r| {
                Ok(col::<i64>(r, 0)?.unsigned_abs())
            })
            .map(Option::unwrap_or_default)
        })
    }

    async fn notification_get(&self, id: Uuid) -> StoreResult<Option<NotificationRow>> {
        self.connections
            .read(|c| first_row(c, &format!("SELECT {NOTICE} FROM notifications WHERE id = ?1"), [id], notice))
    }

    async fn notification_mark_read(&self, user_id: Uuid, id: Uuid, at: OffsetDateTime) -> StoreResult<()> {
        let (_, changed) = self
            .connections
            .with_writer(move |c| {
                exec(
                    c,
                    "UPDATE notifications SET read_at = COALESCE(read_at, ?3) WHERE id = ?1 AND user_id = ?2",
                    params![id, user_id, to_micros(at)],
                )
            })
            .await?;
        exactly_one(changed, || StoreError::NotFound)
    }

    async fn known_devices(&self, user_id: Uuid) -> StoreResult<Vec<KnownDeviceRow>> {
        self.connections.read(|c| {
            all_rows(
                c,
                "SELECT user_id, device, first_seen_at, last_seen_at FROM known_devices WHERE user_id = ?1
                 ORDER BY first_seen_at",
                [user_id],
                |r| {
                    Ok(KnownDeviceRow {
                        user_id: col(r, 0)?,
                        device: col(r, 1)?,
                        first_seen_at: from_micros(col(r, 2)?)?,
                        last_seen_at: from_micros(col(r, 3)?)?,
                    })
                },
            )
        })
    }

    async fn deliveries_claim(
        &self,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>> {
        // One statement under the writer lock (and SQLite's file lock): a second process
        // claiming at the same time sees these rows claimed.
        let (_, rows) = self
            .connections
            .with_writer(move |c| {
                all_rows(
                    c,
                    &format!(
                        "UPDATE notification_deliveries SET claimed_until = ?2 WHERE id IN (
                            SELECT id FROM notification_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= ?1
                              AND (claimed_until IS NULL OR claimed_until <= ?1)
                            ORDER BY next_attempt_at, id LIMIT ?3)
                         RETURNING {DELIVERY}"
                    ),
                    params![to_micros(now), to_micros(claimed_until), i64::from(limit)],
                    delivery,
                )
            })
            .await?;
        Ok(rows)
    }

    async fn delivery_finish(&self, u: &DeliveryUpdate) -> StoreResult<()> {
        let u = u.clone();
        self.connections
            .with_writer(move |c| {
                exec(
                    c,
                    "UPDATE notification_deliveries SET status = ?2, attempts = ?3, last_error = ?4,
                     next_attempt_at = ?5, updated_at = ?6, claimed_until = NULL,
                     sent_at = CASE WHEN ?2 = 'sent' THEN ?6 ELSE sent_at END
                     WHERE id = ?1 AND status = 'pending'",
                    params![u.id, u.status, u.attempts, u.last_error, to_micros(u.next_attempt_at), to_micros(u.at)],
                )
            })
            .await?;
        Ok(())
    }

    async fn deliveries_recent(&self, status: Option<&str>, limit: u32) -> StoreResult<Vec<DeliveryRow>> {
        let status = status.map(str::to_owned);
        self.connections
            .scan(move |c| {
                all_rows(
                    c,
                    &format!(
                        "SELECT {DELIVERY} FROM notification_deliveries WHERE ?1 IS NULL OR status = ?1
                         ORDER BY updated_at DESC, id LIMIT ?2"
                    ),
                    params![status, i64::from(limit)],
                    delivery,
                )
            })
            .await
    }
}
