//! The customer vault's behaviour: create, read masked, reveal with purpose, update, erase,
//! list and look up — on both stores.

use std::collections::BTreeMap;

use tutela_core::CoreError;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, principal, steward, values};
use tutela_core::vault::ListRequest;
use tutela_store::{AuditFilter, FilterOp, PlainFilter, SortKey};

const ID: &str = "11010519491231002X";

async fn create_read_reveal(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    let created = h
        .tutela
        .create_customer(
            &p,
            values(&[
                ("name", "张三"),
                ("email", "Zhang.San@Example.com"),
                ("phone", "+86 138-1234-5678"),
                ("national_id", ID),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(created.get("name"), Some("张三"));
    let read = h.tutela.customer(&p, created.id).await.unwrap();
    assert_eq!(read.get("phone"), Some("138****5678"));
    assert_eq!(read.get("email"), Some("Z***@Example.com"));
    assert_eq!(read.get("national_id"), Some("110***********002X"));

    let revealed = h
        .tutela
        .reveal(&p, created.id, &["phone".into(), "national_id".into()], "call back about order 42")
        .await
        .unwrap();
    assert_eq!(revealed["phone"], "+86 138-1234-5678");
    assert_eq!(revealed["national_id"], ID);

    let events = h
        .tutela
        .audit_events(
            &tutela_core::testing::operator(),
            &AuditFilter { customer_id: Some(created.id), limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    let reveal = events.iter().find(|e| e.action == "customer.reveal").expect("reveal audited");
    assert_eq!(reveal.purpose.as_deref(), Some("call back about order 42"));
    assert_eq!(reveal.fields, vec!["phone", "national_id"]);
    assert!(events.iter().any(|e| e.action == "customer.read"));
    assert!(events.iter().any(|e| e.action == "customer.create"));
    h.close().await;
}

async fn reveal_needs_permission_and_purpose(backend: Backend) {
    let h = Harness::new(backend).await;
    let c = h
        .tutela
        .create_customer(&steward(), values(&[("name", "李四"), ("national_id", ID), ("email", "li@example.com")]))
        .await
        .unwrap();
    let sales = principal("sales@example.com", &[Permission::CustomerRead, Permission::RevealConfidential]);
    let err = h.tutela.reveal(&sales, c.id, &["national_id".into()], "verify identity").await.unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
    let ok = h.tutela.reveal(&sales, c.id, &["email".into()], "send the contract").await.unwrap();
    assert_eq!(ok["email"], "li@example.com");
    let err = h.tutela.reveal(&sales, c.id, &["email".into()], " ").await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid { ref field, .. } if field == "purpose"), "{err:?}");
    let denied = h
        .tutela
        .audit_events(
            &tutela_core::testing::operator(),
            &AuditFilter { action: Some("customer.reveal".into()), limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert!(denied.iter().any(|e| e.outcome == "denied" && e.fields == vec!["national_id"]));
    h.close().await;
}

async fn administration_does_not_read_customers(backend: Backend) {
    let h = Harness::new(backend).await;
    let c = h.tutela.create_customer(&steward(), values(&[("name", "王五")])).await.unwrap();
    let admin = tutela_core::testing::operator();
    assert!(matches!(h.tutela.customer(&admin, c.id).await, Err(CoreError::Forbidden(_))));
    assert!(matches!(h.tutela.list_customers(&admin, ListRequest::default()).await, Err(CoreError::Forbidden(_))));
    assert!(matches!(h.tutela.reveal(&admin, c.id, &["name".into()], "curious").await, Err(CoreError::Forbidden(_))));
    h.close().await;
}

async fn update_with_version_and_erase(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    let c = h.tutela.create_customer(&p, values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap();
    let mut changes = BTreeMap::new();
    changes.insert("phone".to_owned(), Some("13900139000".to_owned()));
    changes.insert("region".to_owned(), Some("华东".to_owned()));
    let updated = h.tutela.update_customer(&p, c.id, 1, changes.clone()).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.get("region"), Some("华东"));
    let stale = h.tutela.update_customer(&p, c.id, 1, changes).await.unwrap_err();
    assert!(matches!(stale, CoreError::Conflict(_)), "{stale:?}");
    // The blind index follows the new value.
    assert_eq!(h.tutela.lookup_customers(&p, "phone", "139 0013 9000").await.unwrap().len(), 1);
    assert!(h.tutela.lookup_customers(&p, "phone", "13800138000").await.unwrap().is_empty());

    h.tutela.erase_customer(&p, c.id, "customer asked for erasure").await.unwrap();
    assert!(matches!(h.tutela.customer(&p, c.id).await, Err(CoreError::NotFound("customer"))));
    assert!(matches!(h.tutela.erase_customer(&p, c.id, "again").await, Err(CoreError::NotFound("customer"))));
    let ledger = h.tutela.store().erasures_since(0).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].customer_id, c.id);
    h.close().await;
}

async fn bad_input_names_the_field(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    for (field, value) in [
        ("email", "nope"),
        ("phone", "12"),
        ("national_id", "110105194912310021"),
        ("birth_date", "1990-13-01"),
        ("unknown_field", "x"),
    ] {
        let err = h.tutela.create_customer(&p, values(&[("name", "x"), (field, value)])).await.unwrap_err();
        assert!(matches!(err, CoreError::Invalid { field: ref f, .. } if f == field), "{field}: {err:?}");
    }
    let err = h.tutela.create_customer(&p, values(&[("email", "a@b.cn")])).await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid { field: ref f, .. } if f == "name"), "{err:?}");
    assert_eq!(h.tutela.customer_count().await.unwrap(), 0, "nothing half-written");
    h.close().await;
}

async fn list_pages_sorts_and_filters(backend: Backend) {
    let h = Harness::new(backend).await;
    let p = steward();
    for i in 0..25 {
        let region = if i % 2 == 0 { "华东" } else { "华北" };
        h.tutela
            .create_customer(
                &p,
                values(&[
                    ("name", &format!("客户{i:02}")),
                    ("region", region),
                    ("email", &format!("c{i}@example.com")),
                ]),
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = h
            .tutela
            .list_customers(
                &p,
                ListRequest {
                    sort: SortKey { field_id: Some("name".into()), descending: true },
                    cursor: cursor.clone(),
                    limit: Some(10),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|c| c.get("name").unwrap().to_owned()));
        assert!(page.items.iter().all(|c| c.get("email").unwrap().contains("***")));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<String> = (0..25).map(|i| format!("客户{i:02}")).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    let east = h
        .tutela
        .list_customers(
            &p,
            ListRequest {
                filters: vec![PlainFilter { field_id: "region".into(), op: FilterOp::Equals, value: "华东".into() }],
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(east.items.len(), 13);
    let sealed_filter = ListRequest {
        filters: vec![PlainFilter { field_id: "email".into(), op: FilterOp::Contains, value: "c1".into() }],
        ..Default::default()
    };
    assert!(matches!(h.tutela.list_customers(&p, sealed_filter).await, Err(CoreError::Invalid { .. })));
    let found = h.tutela.lookup_customers(&p, "email", "  C7@EXAMPLE.com ").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get("name"), Some("客户07"));
    h.close().await;
}

tutela_core::on_both_stores! {
    create_read_reveal_ => create_read_reveal;
    reveal_needs_permission_and_purpose_ => reveal_needs_permission_and_purpose;
    administration_does_not_read_customers_ => administration_does_not_read_customers;
    update_with_version_and_erase_ => update_with_version_and_erase;
    bad_input_names_the_field_ => bad_input_names_the_field;
    list_pages_sorts_and_filters_ => list_pages_sorts_and_filters;
}
