//! Export requests.

use time::Duration;
use tutela_store::{ExportRequestRow, Mutation, Store};
use uuid::Uuid;

use crate::support::{assert_conflict, must_write, new_user, now, write};

pub async fn export_requests(store: &dyn Store) {
    let u = new_user(store, "exporter").await;
    let officer = new_user(store, "approver").await;
    let pending = ExportRequestRow {
        id: Uuid::new_v4(),
        user_id: u.id,
        format: "csv".into(),
        purpose: Some("年度客户回访".into()),
        revealed: vec!["phone".into(), "national_id".into()],
        rows: 12_345,
        reasons: vec!["rows".into(), "restricted".into()],
        status: "pending".into(),
        requested_at: now(),
        decided_by: None,
        decided_at: None,
        note: None,
        expires_at: None,
    };
    must_write(store, &[Mutation::PutExportRequest(pending.clone())]).await;
    assert_eq!(store.export_request_get(pending.id).await.unwrap(), Some(pending.clone()));

    let approved = ExportRequestRow {
        status: "approved".into(),
        decided_by: Some(officer.id),
        decided_at: Some(now()),
        note: Some("只限本次回访".into()),
        expires_at: Some(now() + Duration::hours(24)),
        // What was asked is kept as it was asked.
        revealed: vec!["everything".into()],
        rows: 1,
        purpose: None,
        ..pending.clone()
    };
    must_write(store, &[Mutation::PutExportRequest(approved.clone())]).await;
    let stored = store.export_request_get(pending.id).await.unwrap().unwrap();
    assert_eq!(
        stored,
        ExportRequestRow {
            revealed: pending.revealed.clone(),
            rows: pending.rows,
            purpose: pending.purpose.clone(),
            ..approved
        }
    );

    let later = ExportRequestRow {
        id: Uuid::new_v4(),
        requested_at: now() + Duration::seconds(1),
        revealed: Vec::new(),
        reasons: Vec::new(),
        ..pending.clone()
    };
    must_write(store, &[Mutation::PutExportRequest(later.clone())]).await;
    let mine: Vec<Uuid> = store.export_requests_for_user(u.id).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(mine, vec![later.id, pending.id], "newest first");
    assert_eq!(store.export_request_get(later.id).await.unwrap().unwrap().reasons, Vec::<String>::new());
    assert_eq!(store.export_requests_recent(1).await.unwrap().len(), 1);
    assert!(store.export_requests_for_user(officer.id).await.unwrap().is_empty());
    assert!(store.export_request_get(Uuid::new_v4()).await.unwrap().is_none());
    assert_conflict(
        write(
            store,
            &[Mutation::PutExportRequest(ExportRequestRow { id: Uuid::new_v4(), user_id: Uuid::new_v4(), ..pending })],
        )
        .await,
        "a request by an unknown user",
    );
}
