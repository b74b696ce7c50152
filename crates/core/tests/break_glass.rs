//! Break-glass access: time-boxed access to a record beyond one's reach, with a written
//! justification, granted at once or by an approver, audited with an alert, ending on its own.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use time::Duration;
use tutela_core::CoreError;
use tutela_core::access::{BreakGlassPolicy, BreakGlassState, RowReason};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, principal, steward, values};
use tutela_store::AuditFilter;
use uuid::Uuid;

const WHY: &str = "customer on the phone reports fraud on the account, owner is away";

fn admin() -> Principal {
    principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage])
}

/// A user with the `sales` role (narrowed to their own records), and the token that acts
/// as them; the principal is resolved anew at each call, as a request would.
async fn sales_user(h: &Harness, email: &str) -> String {
    let t = &h.tutela;
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        password: "a long enough passphrase 2026".to_owned().into(),
        roles: vec!["sales".into()],
    };
    let id = t.create_user(&admin(), new).await.unwrap().id;
    let all: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    let owner = Principal::direct(Some(id), email, Permission::ALL.into_iter().collect(), Credential::Session, None);
    t.create_api_token(&owner, "t", &all, None).await.unwrap().token.expose_secret().to_owned()
}

async fn setup(h: &Harness) -> (Uuid, String) {
    let t = &h.tutela;
    let mut sales = t.roles(&admin()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap();
    sales.data_scope = "own".into();
    t.put_role(&admin(), sales).await.unwrap();
    let record = t.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap().id;
    (record, sales_user(h, "sales@example.com").await)
}

async fn me(h: &Harness, token: &str) -> Principal {
    h.tutela.token_principal(token, None).await.unwrap()
}

async fn alerts(h: &Harness, action: &str) -> usize {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..Default::default() };
    let events = h.tutela.store().audit_search(&filter).await.unwrap();
    events.iter().filter(|e| e.detail.as_deref().is_some_and(|d| d.contains("\"alert\":true"))).count()
}

async fn granted_at_once_and_ends_on_its_own(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (record, token) = setup(&h).await;
    let p = me(&h, &token).await;
    assert!(matches!(t.customer(&p, record).await, Err(CoreError::NotFound(_))), "out of reach to begin with");

    let field = |r: Result<_, CoreError>| match r {
        Err(CoreError::Invalid { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(field(t.request_break_glass(&p, record, "need it", 30).await), "justification");
    assert_eq!(field(t.request_break_glass(&p, record, &"x".repeat(2001), 30).await), "justification");
    assert_eq!(field(t.request_break_glass(&p, record, WHY, 241).await), "minutes");
    assert!(matches!(t.request_break_glass(&p, Uuid::now_v7(), WHY, 30).await, Err(CoreError::NotFound(_))));
    assert!(t.break_glass_requests(&p).await.unwrap().is_empty(), "nothing half-applied");

    let granted = t.request_break_glass(&p, record, WHY, 30).await.unwrap();
    assert_eq!(granted.state, BreakGlassState::Active);
    let p = me(&h, &token).await;
    assert_eq!(t.customer(&p, record).await.unwrap().get("phone"), Some("138****8000"));
    let revealed = t.reveal(&p, record, &["phone".into()], "call back about fraud").await.unwrap();
    assert_eq!(revealed.get("phone").map(String::as_str), Some("13800138000"));
    let change = BTreeMap::from([("name".to_owned(), Some("改".to_owned()))]);
    assert!(matches!(t.update_customer(&p, record, 1, change).await, Err(CoreError::Forbidden(_))), "read only");
    let why = t.explain_access(&admin(), p.user_id.unwrap(), record).await.unwrap();
    assert!(matches!(why.row_reasons.as_slice(), [RowReason::BreakGlass { request, .. }] if *request == granted.id));
    assert_eq!(alerts(&h, "access.break_glass.request").await, 1);

    h.clock.advance(Duration::minutes(31));
    let p = me(&h, &token).await;
    assert!(matches!(t.customer(&p, record).await, Err(CoreError::NotFound(_))), "expired on its own");
    assert_eq!(t.break_glass_requests(&p).await.unwrap()[0].state, BreakGlassState::Expired);
    h.close().await;
}

async fn approval_by_someone_else(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = &h.tutela;
    let (record, token) = setup(&h).await;
    let policy = BreakGlassPolicy { approval_required: true, max_minutes: 60 };
    t.set_break_glass_policy(&admin(), policy).await.unwrap();
    assert_eq!(t.break_glass_policy(&admin()).await.unwrap(), policy);
    let bad = BreakGlassPolicy { approval_required: true, max_minutes: 0 };
    assert!(matches!(t.set_break_glass_policy(&admin(), bad).await, Err(CoreError::Invalid { .. })));

    let p = me(&h, &token).await;
    let pending = t.request_break_glass(&p, record, WHY, 60).await.unwrap();
    assert_eq!(pending.state, BreakGlassState::Pending);
    assert!(matches!(t.customer(&me(&h, &token).await, record).await, Err(CoreError::NotFound(_))), "not yet");

    // Not the requester, and only with access.approve.
    assert!(matches!(t.decide_break_glass(&p, pending.id, true).await, Err(CoreError::Forbidden(_))));
    let self_approver = Principal::direct(
        p.user_id,
        "sales@example.com",
        [Permission::AccessApprove].into_iter().collect(),
        Credential::Session,
        None,
    );
    assert!(matches!(t.decide_break_glass(&self_approver, pending.id, true).await, Err(CoreError::Forbidden(_))));
    let approver = principal("officer@example.com", &[Permission::AccessApprove]);
    assert_eq!(t.break_glass_requests(&approver).await.unwrap().len(), 1, "the officer sees the request");
    let granted = t.decide_break_glass(&approver, pending.id, true).await.unwrap();
    assert_eq!(granted.state, BreakGlassState::Active);
    assert!(matches!(t.decide_break_glass(&approver, pending.id, false).await, Err(CoreError::Conflict(_))));
    assert!(t.customer(&me(&h, &token).await, record).await.is_ok(), "granted");

    // Ended early by the requester: gone at once, even from a cached principal.
    let cached = me(&h, &token).await;
    t.end_break_glass(&cached, granted.id).await.unwrap();
    assert!(matches!(t.customer(&me(&h, &token).await, record).await, Err(CoreError::NotFound(_))));
    assert!(matches!(t.end_break_glass(&cached, granted.id).await, Err(CoreError::Conflict(_))));

    // A denied request opens nothing.
    let again = t.request_break_glass(&cached, record, WHY, 30).await.unwrap();
    assert_eq!(t.decide_break_glass(&approver, again.id, false).await.unwrap().state, BreakGlassState::Denied);
    assert!(matches!(t.customer(&me(&h, &token).await, record).await, Err(CoreError::NotFound(_))));
    assert_eq!(alerts(&h, "access.break_glass.decide").await, 2);
    let stranger = principal("x@example.com", &[Permission::CustomerRead]);
    assert!(matches!(t.end_break_glass(&stranger, again.id).await, Err(CoreError::Forbidden(_))));
    h.close().await;
}

tutela_core::on_both_stores! {
    granted_at_once_and_ends_on_its_own_ => granted_at_once_and_ends_on_its_own;
    approval_by_someone_else_ => approval_by_someone_else;
}
