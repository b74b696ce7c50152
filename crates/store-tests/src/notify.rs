//! The notifier's outbox: enqueued with the write that causes it, claimed atomically,
//! finished, read; a device's notice enqueued once.

use std::collections::BTreeMap;

use time::Duration;
use tutela_store::{DeliveryRow, DeliveryUpdate, KnownDeviceRow, Mutation, NoticeRows, NotificationRow, Store};
use uuid::Uuid;

use crate::support::{assert_not_found, must_write, new_user, now, rand_u32};

fn notice(user_id: Uuid, deliveries: usize, due: time::OffsetDateTime) -> NoticeRows {
    let id = Uuid::now_v7();
    NoticeRows {
        notification: NotificationRow {
            id,
            user_id,
            kind: "sign_in.new_device".into(),
            params: BTreeMap::from([("address".to_owned(), "192.0.2.7".to_owned())]),
            created_at: due,
            read_at: None,
        },
        deliveries: (0..deliveries)
            .map(|i| DeliveryRow {
                id: Uuid::now_v7(),
                notification_id: id,
                channel: "email".into(),
                address: format!("r{i}@example.com"),
                status: "pending".into(),
                attempts: 0,
                last_error: None,
                next_attempt_at: due,
                updated_at: due,
                sent_at: None,
            })
            .collect(),
    }
}

pub async fn outbox(store: &dyn Store) {
    let u = new_user(store, "notified").await;
    // Far ahead of any other check's rows, so that the claims below see only these.
    let t0 = now() + Duration::days(3650);
    let first = notice(u.id, 4, t0);
    must_write(store, &[Mutation::Notify(first.clone())]).await;
    assert_eq!(store.notification_get(first.notification.id).await.unwrap(), Some(first.notification.clone()));

    // Two claims at once never share a delivery, and a claimed one is not claimed again.
    let lease = t0 + Duration::minutes(10);
    let (a, b) = tokio::join!(store.deliveries_claim(t0, lease, 3), store.deliveries_claim(t0, lease, 3));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<Uuid> = a.iter().chain(&b).map(|d| d.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "each delivery claimed exactly once: {a:?} {b:?}");
    assert!(store.deliveries_claim(t0, lease, 10).await.unwrap().is_empty(), "all are claimed");
    let claimed: Vec<DeliveryRow> = a.into_iter().chain(b).collect();
    assert_eq!(claimed.iter().find(|d| d.address == "r0@example.com").unwrap(), &first.deliveries[0]);

    // One sent, one to retry later, one given up; the fourth's claim lapses.
    let finish = |d: &DeliveryRow, status: &str, next| DeliveryUpdate {
        id: d.id,
        status: status.into(),
        attempts: 1,
        last_error: (status != "sent").then(|| "SMTP: connection refused".into()),
        next_attempt_at: next,
        at: t0 + Duration::seconds(1),
    };
    store.delivery_finish(&finish(&claimed[0], "sent", t0)).await.unwrap();
    store.delivery_finish(&finish(&claimed[1], "pending", t0 + Duration::minutes(5))).await.unwrap();
    store.delivery_finish(&finish(&claimed[2], "failed", t0)).await.unwrap();
    // A finished delivery is not finished again (a node whose claim had lapsed).
    store.delivery_finish(&finish(&claimed[0], "failed", t0)).await.unwrap();
    assert!(
        store
            .deliveries_claim(t0 + Duration::minutes(6), lease, 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.id == claimed[1].id)
    );
    let again = store.deliveries_claim(t0 + Duration::minutes(11), t0 + Duration::minutes(21), 10).await.unwrap();
    let mut again: Vec<Uuid> = again.iter().map(|d| d.id).collect();
    again.sort_unstable();
    let mut expected = vec![claimed[1].id, claimed[3].id];
    expected.sort_unstable();
    assert_eq!(again, expected, "the retry once due, and the lapsed claim");

    let sent = store.deliveries_recent(Some("sent"), 1000).await.unwrap();
    let sent = sent.iter().find(|d| d.id == claimed[0].id).expect("the sent delivery");
    assert_eq!((sent.attempts, sent.sent_at, sent.last_error.as_deref()), (1, Some(t0 + Duration::seconds(1)), None));
    let failed = store.deliveries_recent(Some("failed"), 1000).await.unwrap();
    let failed = failed.iter().find(|d| d.id == claimed[2].id).expect("the failed delivery");
    assert_eq!(failed.last_error.as_deref(), Some("SMTP: connection refused"));
    assert!(store.deliveries_recent(None, 1000).await.unwrap().len() >= 4);

    // A device seen twice: remembered once, its notices enqueued once.
    let device = KnownDeviceRow { user_id: u.id, device: i64::from(rand_u32()), first_seen_at: t0, last_seen_at: t0 };
    must_write(store, &[Mutation::SeenDevice { device: device.clone(), notices: vec![notice(u.id, 1, t0)] }]).await;
    let later = KnownDeviceRow { last_seen_at: t0 + Duration::hours(1), ..device.clone() };
    must_write(store, &[Mutation::SeenDevice { device: later.clone(), notices: vec![notice(u.id, 1, t0)] }]).await;
    assert_eq!(store.known_devices(u.id).await.unwrap(), vec![KnownDeviceRow { first_seen_at: t0, ..later }]);

    // The inbox: newest first, by cursor, read once.
    let inbox = store.notifications_for_user(u.id, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(store.notifications_for_user(u.id, Some(inbox[0].id), 10).await.unwrap(), vec![inbox[1].clone()]);
    assert_eq!(store.notifications_unread(u.id).await.unwrap(), 2);
    let other = new_user(store, "other").await;
    assert_not_found(store.notification_mark_read(other.id, inbox[0].id, t0).await, "someone else's notice");
    store.notification_mark_read(u.id, inbox[0].id, t0).await.unwrap();
    store.notification_mark_read(u.id, inbox[0].id, t0 + Duration::hours(1)).await.unwrap();
    assert_eq!(store.notification_get(inbox[0].id).await.unwrap().unwrap().read_at, Some(t0), "the first time stays");
    assert_eq!(store.notifications_unread(u.id).await.unwrap(), 1);
}
