//! Two nodes on one database: what one commits — a revoked token, a disabled user, a changed
//! role, a new schema field — holds on the other with its next request, although each node
//! keeps the schema and token principals in memory.

use secrecy::{ExposeSecret, SecretString};
use tutela_core::CoreError;
use tutela_core::identity::NewUser;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, operator, principal, steward, values};
use tutela_store::{Classification, FieldDef, FieldKind, RoleRow, UserStatus};

async fn token_changes_reach_the_other_node(backend: Backend) {
    let h = Harness::new(backend).await;
    let b = h.second_node().await;
    let admin = principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage]);
    let role = RoleRow {
        id: uuid::Uuid::now_v7(),
        name: "report-reader".into(),
        description: "Reads the audit log".into(),
        builtin: false,
        permissions: vec!["audit.read".into()],
        data_scope: "all".into(),
        field_rules: std::collections::BTreeMap::new(),
    };
    let role = h.tutela.put_role(&admin, role).await.unwrap();
    let user = h
        .tutela
        .create_user(
            &admin,
            NewUser {
                email: "reader@example.com".into(),
                display_name: "Reader".into(),
                password: SecretString::from("violet harbour nine lanterns".to_owned()),
                roles: vec!["report-reader".into()],
            },
        )
        .await
        .unwrap();
    let mut owner = principal("reader@example.com", &[Permission::AuditRead]);
    owner.user_id = Some(user.id);
    let token = h.tutela.create_api_token(&owner, "reports", &["audit.read".into()], None).await.unwrap();
    let bearer = token.token.expose_secret();

    // Resolved twice on node B: the second answer may come from its memory.
    for _ in 0..2 {
        assert!(b.token_principal(bearer, None).await.unwrap().has(Permission::AuditRead));
    }

    h.tutela.set_user_status(&admin, user.id, UserStatus::Disabled).await.unwrap();
    let refused = b.token_principal(bearer, None).await.unwrap_err();
    assert!(matches!(refused, CoreError::Unauthenticated(_)), "disabled on A, refused on B: {refused:?}");
    h.tutela.set_user_status(&admin, user.id, UserStatus::Active).await.unwrap();
    assert!(b.token_principal(bearer, None).await.is_err(), "disabling revoked the token for good");
    let token = h.tutela.create_api_token(&owner, "reports", &["audit.read".into()], None).await.unwrap();
    let bearer = token.token.expose_secret();
    assert!(b.token_principal(bearer, None).await.unwrap().has(Permission::AuditRead));

    // The role loses the permission: the token, scoped to it, keeps nothing.
    h.tutela.put_role(&admin, RoleRow { permissions: vec!["customer.read".into()], ..role }).await.unwrap();
    assert!(!b.token_principal(bearer, None).await.unwrap().has(Permission::AuditRead), "role change reached B");

    h.tutela.revoke_api_token(&owner, token.id).await.unwrap();
    assert!(b.token_principal(bearer, None).await.is_err(), "revoked on A, refused on B");
    b.close().await;
    h.close().await;
}

async fn schema_changes_reach_the_other_node(backend: Backend) {
    let h = Harness::new(backend).await;
    let b = h.second_node().await;
    b.create_customer(&steward(), values(&[("name", "First")])).await.unwrap();
    let with_segment = values(&[("name", "Second"), ("segment", "enterprise")]);
    let unknown = b.create_customer(&steward(), with_segment.clone()).await.unwrap_err();
    assert!(matches!(unknown, CoreError::Invalid { .. }), "no such field yet: {unknown:?}");

    let field = FieldDef {
        id: "segment".into(),
        label_en: "Segment".into(),
        label_zh: "客户分层".into(),
        kind: FieldKind::Text,
        classification: Classification::Internal,
        required: false,
        position: 200,
    };
    h.tutela.put_field(&operator(), field.clone()).await.unwrap();
    let created = b.create_customer(&steward(), with_segment).await.unwrap();
    assert!(created.fields.iter().any(|f| f.id == "segment"), "B knows the field A added");

    // A restricted field added on A is sealed by B, whose schema was read before it existed.
    let restricted = FieldDef {
        id: "vip_note".into(),
        label_en: "VIP note".into(),
        label_zh: "重要客户备注".into(),
        classification: Classification::Restricted,
        position: 210,
        ..field
    };
    h.tutela.put_field(&operator(), restricted).await.unwrap();
    let sealed = b.create_customer(&steward(), values(&[("name", "Third"), ("vip_note", "canary-vip")])).await.unwrap();
    let shown = sealed.fields.iter().find(|f| f.id == "vip_note").unwrap();
    assert!(shown.masked && shown.value != "canary-vip", "B seals what A made restricted: {shown:?}");
    b.close().await;
    h.close().await;
}

tutela_core::on_both_stores! {
    token_changes_reach_the_other_node_ => token_changes_reach_the_other_node;
    schema_changes_reach_the_other_node_ => schema_changes_reach_the_other_node;
}
