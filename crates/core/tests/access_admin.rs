//! Administering access: the department tree, sharing rules, role scopes and field rules,
//! record shares, separation of duties and the explanation of a decision. Bad input gets an
//! error naming the field and leaves nothing half-applied; every change is audited.

// h and t are the harness and its Tutela throughout; a, b, c three departments.
#![allow(clippy::many_single_char_names)]

use std::collections::BTreeMap;

use time::Duration;
use tutela_core::CoreError;
use tutela_core::access::{
    DepartmentInput, MembershipInput, RowReason, ShareInput, SharingRuleInput, SodRule, default_sod_rules,
};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, principal, steward, values};
use tutela_store::{AuditFilter, RoleRow};
use uuid::Uuid;

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage])
}

fn invalid_field(result: Result<impl std::fmt::Debug, CoreError>) -> String {
    match result {
        Err(CoreError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}

async fn audited(h: &Harness, action: &str) -> usize {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..Default::default() };
    h.tutela.store().audit_search(&filter).await.unwrap().len()
}

async fn user(h: &Harness, email: &str, roles: &[&str]) -> Uuid {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    h.tutela.create_user(&admin(), new).await.unwrap().id
}

async fn department_tree_refuses_cycles(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let dept = |name: &str, parent_id| DepartmentInput { name: name.into(), parent_id };
    let a = t.put_department(&admin(), None, dept("总部", None)).await.unwrap();
    let b = t.put_department(&admin(), None, dept("销售部", Some(a.id))).await.unwrap();
    let c = t.put_department(&admin(), None, dept("华东", Some(b.id))).await.unwrap();

    // Under its own grandchild, under itself, under nothing that exists: refused by field.
    assert_eq!(invalid_field(t.put_department(&admin(), Some(a.id), dept("总部", Some(c.id))).await), "parent_id");
    assert_eq!(invalid_field(t.put_department(&admin(), Some(b.id), dept("销售部", Some(b.id))).await), "parent_id");
    assert_eq!(invalid_field(t.put_department(&admin(), None, dept("x", Some(Uuid::now_v7()))).await), "parent_id");
    assert_eq!(invalid_field(t.put_department(&admin(), None, dept("  ", None)).await), "name");
    let long = "部".repeat(101);
    assert_eq!(invalid_field(t.put_department(&admin(), None, dept(&long, None)).await), "name");
    assert!(matches!(t.put_department(&admin(), None, dept("华东", None)).await, Err(CoreError::Conflict(_))));
    let settings = t.access_settings(&admin()).await.unwrap();
    assert_eq!(settings.org.departments().len(), 3, "nothing half-applied");
    assert_eq!(settings.org.ancestry(c.id), vec![c.id, b.id, a.id], "tree unchanged");

    // Moving within the tree is fine; deleting needs the department empty.
    t.put_department(&admin(), Some(c.id), dept("华东区", Some(a.id))).await.unwrap();
    assert!(matches!(t.delete_department(&admin(), a.id).await, Err(CoreError::Conflict(_))), "has children");
    let u = user(&h, "member@example.com", &["support"]).await;
    t.set_membership(&admin(), u, MembershipInput { department_id: Some(b.id), team_id: None }).await.unwrap();
    assert!(matches!(t.delete_department(&admin(), b.id).await, Err(CoreError::Conflict(_))), "has members");
    t.set_membership(&admin(), u, MembershipInput { department_id: None, team_id: None }).await.unwrap();
    t.delete_department(&admin(), b.id).await.unwrap();
    assert!(matches!(t.delete_department(&admin(), b.id).await, Err(CoreError::NotFound(_))));
    assert_eq!(
        invalid_field(
            t.set_membership(&admin(), u, MembershipInput { department_id: Some(b.id), team_id: None }).await
        ),
        "department_id"
    );

    // Only user administrators shape the organisation; every change is audited.
    let sales = principal("s@example.com", &[Permission::CustomerRead]);
    assert!(matches!(t.put_department(&sales, None, dept("影子部", None)).await, Err(CoreError::Forbidden(_))));
    assert_eq!(audited(&h, "org.department.put").await, 5, "four changes and the refusal");
    assert_eq!(audited(&h, "org.department.delete").await, 1);
    assert_eq!(audited(&h, "org.membership.set").await, 2);
    h.close().await;
}

async fn sharing_rules_and_roles_validate_input(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let role_id = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap().id;
    let rule = |field: &str, kind: &str, grantee_id: Uuid, access: &str| SharingRuleInput {
        name: "East".into(),
        field_id: field.into(),
        value: "华东".into(),
        grantee_kind: kind.into(),
        grantee_id,
        access: access.into(),
    };
    assert_eq!(
        invalid_field(t.put_sharing_rule(&admin(), None, rule("phone", "role", role_id, "read")).await),
        "field_id"
    );
    assert_eq!(
        invalid_field(t.put_sharing_rule(&admin(), None, rule("nope", "role", role_id, "read")).await),
        "field_id"
    );
    assert_eq!(
        invalid_field(t.put_sharing_rule(&admin(), None, rule("region", "role", Uuid::now_v7(), "read")).await),
        "grantee_id"
    );
    assert_eq!(
        invalid_field(t.put_sharing_rule(&admin(), None, rule("region", "group", role_id, "read")).await),
        "grantee_kind"
    );
    assert_eq!(
        invalid_field(t.put_sharing_rule(&admin(), None, rule("region", "role", role_id, "all")).await),
        "access"
    );
    assert!(t.access_settings(&admin()).await.unwrap().rules.is_empty(), "nothing half-applied");
    let made = t.put_sharing_rule(&admin(), None, rule("region", "role", role_id, "read")).await.unwrap();
    assert!(matches!(
        t.put_sharing_rule(&admin(), None, rule("region", "role", role_id, "write")).await,
        Err(CoreError::Conflict(_))
    ));
    t.delete_sharing_rule(&admin(), made.id).await.unwrap();
    assert!(matches!(t.delete_sharing_rule(&admin(), made.id).await, Err(CoreError::NotFound(_))));

    // Roles: scope and field rules are checked; a built-in role takes only those two.
    let custom = |scope: &str, rules: &[(&str, &str)]| RoleRow {
        id: Uuid::now_v7(),
        name: "caller".into(),
        description: String::new(),
        builtin: false,
        permissions: vec!["customer.read".into()],
        data_scope: scope.into(),
        field_rules: rules.iter().map(|(f, l)| ((*f).to_owned(), (*l).to_owned())).collect(),
    };
    assert_eq!(invalid_field(t.put_role(&admin(), custom("region", &[])).await), "data_scope");
    assert_eq!(invalid_field(t.put_role(&admin(), custom("own", &[("nope", "read")])).await), "field_rules");
    assert_eq!(invalid_field(t.put_role(&admin(), custom("own", &[("phone", "peek")])).await), "field_rules");
    let sales = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap();
    let narrowed = RoleRow {
        data_scope: "department".into(),
        field_rules: BTreeMap::from([("phone".into(), "masked".into())]),
        ..sales.clone()
    };
    let saved = t.put_role(&admin(), narrowed).await.unwrap();
    assert!(saved.builtin && saved.data_scope == "department");
    let widened = RoleRow { permissions: vec!["customer.read".into(), "customer.erase".into()], ..sales };
    assert!(matches!(t.put_role(&admin(), widened).await, Err(CoreError::Conflict(_))), "built-in permissions fixed");
    h.close().await;
}

async fn separation_of_duties_refuses_and_reports(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    // The defaults keep role and user administration away from restricted data.
    assert_eq!(t.sod_rules(&admin()).await.unwrap(), default_sod_rules());
    let new = NewUser {
        email: "both@example.com".into(),
        display_name: "Both".into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: vec!["administrator".into(), "data-steward".into()],
    };
    match t.create_user(&admin(), new).await {
        Err(CoreError::Conflict(m)) => assert!(m.contains("role.manage") && m.contains("reveal.restricted"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(t.users(&admin()).await.unwrap().iter().all(|u| u.email != "both@example.com"), "not created");
    let steward_id = user(&h, "steward@example.com", &["data-steward"]).await;
    let refused = t.set_user_roles(&admin(), steward_id, &["data-steward".into(), "administrator".into()]).await;
    assert!(matches!(refused, Err(CoreError::Conflict(_))));
    let roles = &t.users(&admin()).await.unwrap().into_iter().find(|u| u.id == steward_id).unwrap().roles;
    assert_eq!(roles, &vec!["data-steward".to_owned()], "roles unchanged");

    // A custom role held beside another may not gain the forbidden half of a pair.
    let auditor = user(&h, "auditor2@example.com", &["support"]).await;
    let mut reviewer = RoleRow {
        id: Uuid::now_v7(),
        name: "access-reviewer".into(),
        description: String::new(),
        builtin: false,
        permissions: vec!["role.manage".into()],
        data_scope: "own".into(),
        field_rules: BTreeMap::new(),
    };
    reviewer = t.put_role(&admin(), reviewer).await.unwrap();
    t.set_user_roles(&admin(), auditor, &["support".into(), "access-reviewer".into()]).await.unwrap();
    let mut support = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "support").unwrap();
    support.data_scope = "all".into();
    t.put_role(&admin(), support).await.unwrap();
    reviewer.permissions.push("reveal.restricted".into());
    assert!(matches!(t.put_role(&admin(), reviewer).await, Err(CoreError::Conflict(_))));

    // A new rule is declared even if someone already holds the pair, and they are listed.
    let declared = vec![SodRule {
        first: Permission::RoleManage,
        second: Permission::RevealConfidential,
        reason: "role managers do not read customers".into(),
    }];
    let violations = t.set_sod_rules(&admin(), declared.clone()).await.unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].user_id, auditor);
    assert_eq!(t.sod_violations(&admin()).await.unwrap().len(), 1);
    let same = SodRule { second: Permission::RoleManage, ..declared[0].clone() };
    assert_eq!(invalid_field(t.set_sod_rules(&admin(), vec![same]).await), "rules[0]");
    let swapped = SodRule { first: declared[0].second, second: declared[0].first, ..declared[0].clone() };
    let twice = vec![declared[0].clone(), swapped];
    assert_eq!(invalid_field(t.set_sod_rules(&admin(), twice).await), "rules[1]");
    assert_eq!(t.sod_rules(&admin()).await.unwrap(), declared, "the refused sets changed nothing");
    assert_eq!(audited(&h, "access.sod.set").await, 1);
    h.close().await;
}

async fn shares_are_bounded_and_explained(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let owner = user(&h, "owner@example.com", &["sales"]).await;
    let colleague = user(&h, "colleague@example.com", &["sales"]).await;
    let mut sales = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap();
    sales.data_scope = "own".into();
    sales.field_rules = BTreeMap::from([("national_id".into(), "hidden".into())]);
    t.put_role(&admin(), sales).await.unwrap();
    let as_owner = Principal::direct(
        Some(owner),
        "owner@example.com",
        [Permission::CustomerRead, Permission::CustomerWrite].into_iter().collect(),
        Credential::Session,
        None,
    );
    let record = t.create_customer(&as_owner, values(&[("name", "王五"), ("region", "华东")])).await.unwrap().id;
    let now = t.clock().now();
    let share = |user_id, days: i64, reason: &str| ShareInput {
        user_id,
        access: "read".into(),
        expires_at: now + Duration::days(days),
        reason: reason.into(),
    };
    let s = steward();
    assert_eq!(invalid_field(t.share_customer(&s, record, share(colleague, 91, "cover")).await), "expires_at");
    assert_eq!(invalid_field(t.share_customer(&s, record, share(colleague, -1, "cover")).await), "expires_at");
    assert_eq!(invalid_field(t.share_customer(&s, record, share(colleague, 7, &"x".repeat(501))).await), "reason");
    assert_eq!(invalid_field(t.share_customer(&s, record, share(Uuid::now_v7(), 7, "cover")).await), "user_id");
    assert!(t.customer_shares(&s, record).await.unwrap().is_empty(), "nothing half-applied");

    // Explained before: the colleague has no way in; an administrator sees why.
    let why = t.explain_access(&admin(), colleague, record).await.unwrap();
    assert!(!why.access.read && why.row_reasons.is_empty());
    let made = t.share_customer(&s, record, share(colleague, 7, "holiday cover")).await.unwrap();
    let why = t.explain_access(&admin(), colleague, record).await.unwrap();
    assert!(why.access.read && !why.access.write);
    assert!(matches!(why.row_reasons.as_slice(), [RowReason::Share { share, .. }] if *share == made.id));
    let id_field = why.fields.iter().find(|f| f.field == "national_id").unwrap();
    assert!(!id_field.caps.visible && id_field.reasons.iter().any(|r| r.role == "sales" && r.from_rule));
    let owner_why = t.explain_access(&admin(), owner, record).await.unwrap();
    assert!(matches!(owner_why.row_reasons.as_slice(), [RowReason::Scope { role, .. }] if role == "sales"));

    // A user asks about themselves only for records they can read: otherwise not found.
    let stranger = user(&h, "stranger@example.com", &["sales"]).await;
    let as_stranger = Principal::direct(
        Some(stranger),
        "stranger",
        [Permission::CustomerRead].into_iter().collect(),
        Credential::Session,
        None,
    );
    assert!(matches!(t.explain_access(&as_stranger, stranger, record).await, Err(CoreError::NotFound(_))));
    assert!(matches!(t.explain_access(&as_stranger, owner, record).await, Err(CoreError::Forbidden(_))));
    // Ending a share: not for strangers (not found), fine for its grantor's side.
    assert!(matches!(t.end_share(&as_stranger, record, made.id).await, Err(CoreError::NotFound(_))));
    t.end_share(&s, record, made.id).await.unwrap();
    assert!(t.customer_shares(&s, record).await.unwrap().is_empty());
    assert_eq!(audited(&h, "customer.share").await, 1);
    assert_eq!(audited(&h, "customer.unshare").await, 1);
    assert_eq!(audited(&h, "access.explain").await, 4, "three answers and the refusal");
    h.close().await;
}

/// Built-in roles cannot be edited, so an installation made before a version added a
/// permission to one (the administrator's `access.review`) gets it at the next start, audited
/// once; a change that would break separation of duties for someone holding the role waits.
async fn builtin_roles_follow_the_version(backend: Backend) {
    let mut h = Harness::new(backend).await;
    let admin_role = |h: &Harness| {
        let t = h.tutela.clone();
        async move { t.store().roles_list().await.unwrap().into_iter().find(|r| r.name == "administrator").unwrap() }
    };
    let current = admin_role(&h).await;
    let before_reviews = r#"UPDATE roles SET permissions = '["user.manage","role.manage","schema.manage","key.manage","audit.read"]', description = 'old' WHERE name = 'administrator'"#;
    h.raw_sql(before_reviews).await;
    h.restart().await;
    assert_eq!(admin_role(&h).await, current, "permissions and description as this version defines them");
    let filter = AuditFilter { action: Some("role.builtin.upgrade".into()), limit: 10, ..Default::default() };
    let events = h.tutela.store().audit_search(&filter).await.unwrap();
    assert_eq!(events.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["added"], serde_json::json!(["access.review"]), "{detail}");
    assert_eq!(detail["removed"], serde_json::json!([]), "{detail}");
    h.restart().await;
    assert_eq!(audited(&h, "role.builtin.upgrade").await, 1, "nothing to do the second time");

    // Someone holds the administrator role, and a rule now pairs access.review with audit.read.
    user(&h, "ops@example.com", &["administrator"]).await;
    let rules = vec![SodRule { first: Permission::AccessReview, second: Permission::AuditRead, reason: "test".into() }];
    h.tutela.set_sod_rules(&admin(), rules).await.unwrap();
    h.raw_sql(before_reviews).await;
    h.restart().await;
    assert!(!admin_role(&h).await.permissions.contains(&"access.review".to_owned()), "left for an administrator");
    assert_eq!(audited(&h, "role.builtin.upgrade").await, 1);
    h.close().await;
}

tutela_core::on_both_stores! {
    department_tree_refuses_cycles_ => department_tree_refuses_cycles;
    sharing_rules_and_roles_validate_input_ => sharing_rules_and_roles_validate_input;
    separation_of_duties_refuses_and_reports_ => separation_of_duties_refuses_and_reports;
    shares_are_bounded_and_explained_ => shares_are_bounded_and_explained;
    builtin_roles_follow_the_version_ => builtin_roles_follow_the_version;
}
