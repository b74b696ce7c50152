//! Break-glass access through `/api/v1`, on both stores: a justification is required (422
//! naming it), an immediate grant opens a record the requester's scope hides (404 before and
//! after), and under an approval policy a request waits, its requester cannot decide it
//! (403), an approver grants it, and ending it hides the record again.

use crate::support;

use axum::http::StatusCode;
use serde_json::json;
use support::json_api::{Api, api};
use support::user_with_token;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};
use uuid::Uuid;

const ADMIN: &[Permission] = &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead];
const OWN_SALES: &[Permission] = &[Permission::CustomerRead, Permission::CustomerWrite];
const REQUESTING_APPROVER: &[Permission] = &[Permission::CustomerRead, Permission::AccessApprove];
const APPROVER: &[Permission] = &[Permission::AccessApprove];
const WHY: &str = "Customer escalated ticket #4711; owner is on leave and the complaint is due today.";

async fn role(api: &Api, admin: &str, name: &str, permissions: &[Permission]) {
    let permissions: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
    let body = json!({"name": name, "permissions": permissions, "data_scope": "own"});
    api.put(&format!("/api/v1/roles/{}", Uuid::now_v7()), admin, body).await.ok(StatusCode::OK);
}

struct Scene {
    h: Harness,
    api: Api,
    admin: String,
    /// `own-sales`: reads only her own records.
    alice: String,
    /// Reads his own records and approves others' requests.
    dave: String,
    /// Approves only.
    carol: String,
    /// Bob's record, hidden from Alice and Dave by their scopes.
    customer: String,
}

async fn scene(backend: Backend) -> Scene {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    role(&api, &admin, "own-sales", OWN_SALES).await;
    role(&api, &admin, "own-approver", REQUESTING_APPROVER).await;
    role(&api, &admin, "approver", APPROVER).await;
    let (_, alice) = user_with_token(&h, "alice@example.com", &["own-sales"], OWN_SALES).await;
    let (_, bob) = user_with_token(&h, "bob@example.com", &["own-sales"], OWN_SALES).await;
    let (_, dave) = user_with_token(&h, "dave@example.com", &["own-approver"], REQUESTING_APPROVER).await;
    let (_, carol) = user_with_token(&h, "carol@example.com", &["approver"], APPROVER).await;
    let created = api
        .post("/api/v1/customers", &bob, json!({"fields": {"name": "Bob's", "email": "bob-c@example.com"}}))
        .await
        .ok(StatusCode::CREATED);
    let customer = created["id"].as_str().unwrap().to_owned();
    Scene { h, api, admin, alice, dave, carol, customer }
}

impl Scene {
    fn record(&self) -> String {
        format!("/api/v1/customers/{}", self.customer)
    }

    fn ask(&self) -> String {
        format!("/api/v1/customers/{}/break-glass", self.customer)
    }
}

async fn an_immediate_grant_opens_the_record_until_ended(backend: Backend) {
    let s = scene(backend).await;
    let (api, alice) = (&s.api, &s.alice);
    api.get(&s.record(), alice).await.problem(StatusCode::NOT_FOUND, None);

    // A justification is required; minutes stay within the policy.
    api.post(&s.ask(), alice, json!({"justification": "need it", "minutes": 30}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("justification"));
    api.post(&s.ask(), alice, json!({"justification": WHY, "minutes": 241}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("minutes"));
    api.post(
        &format!("/api/v1/customers/{}/break-glass", Uuid::now_v7()),
        alice,
        json!({"justification": WHY, "minutes": 30}),
    )
    .await
    .problem(StatusCode::NOT_FOUND, None);
    assert_eq!(api.get("/api/v1/break-glass", alice).await.ok(StatusCode::OK), json!([]), "nothing written");

    // Granted at once under the default policy.
    let request = api.post(&s.ask(), alice, json!({"justification": WHY, "minutes": 30})).await.ok(StatusCode::CREATED);
    assert_eq!(request["state"], "active", "{request}");
    assert_eq!(request["customer_id"], s.customer.as_str());
    assert!(request["expires_at"].is_string(), "{request}");
    let id = request["id"].as_str().unwrap().to_owned();
    let record = api.get(&s.record(), alice).await.ok(StatusCode::OK);
    assert_eq!(record["id"], s.customer.as_str(), "{record}");
    let mine = api.get("/api/v1/break-glass", alice).await.ok(StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["justification"], WHY);

    // Ending it hides the record again; it cannot be ended twice.
    api.post(&format!("/api/v1/break-glass/{id}/end"), alice, json!({})).await.ok(StatusCode::NO_CONTENT);
    api.get(&s.record(), alice).await.problem(StatusCode::NOT_FOUND, None);
    api.post(&format!("/api/v1/break-glass/{id}/end"), alice, json!({})).await.problem(StatusCode::CONFLICT, None);
    let mine = api.get("/api/v1/break-glass", alice).await.ok(StatusCode::OK);
    assert_eq!(mine[0]["state"], "ended", "{mine}");

    // Malformed and unknown ids name nothing.
    api.post("/api/v1/break-glass/nope/end", alice, json!({})).await.problem(StatusCode::NOT_FOUND, None);
    api.post("/api/v1/break-glass/nope/decision", &s.carol, json!({"grant": true}))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    api.post(&format!("/api/v1/break-glass/{}/decision", Uuid::now_v7()), &s.carol, json!({"grant": true}))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    s.h.close().await;
}

async fn an_approval_policy_makes_requests_wait_for_someone_else(backend: Backend) {
    let s = scene(backend).await;
    let api = &s.api;
    let policy = "/api/v1/access/break-glass-policy";
    assert_eq!(
        api.get(policy, &s.alice).await.ok(StatusCode::OK),
        json!({"approval_required": false, "max_minutes": 240})
    );
    api.put(policy, &s.admin, json!({"approval_required": true, "max_minutes": 2}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("max_minutes"));
    api.put(policy, &s.alice, json!({"approval_required": false, "max_minutes": 60}))
        .await
        .problem(StatusCode::FORBIDDEN, None);
    let set = json!({"approval_required": true, "max_minutes": 60});
    assert_eq!(api.put(policy, &s.admin, set.clone()).await.ok(StatusCode::OK), set);
    assert_eq!(api.get(policy, &s.carol).await.ok(StatusCode::OK), set);

    // Dave may approve, but not his own request.
    let request =
        api.post(&s.ask(), &s.dave, json!({"justification": WHY, "minutes": 60})).await.ok(StatusCode::CREATED);
    assert_eq!(request["state"], "pending", "{request}");
    assert!(request["expires_at"].is_null(), "{request}");
    let id = request["id"].as_str().unwrap().to_owned();
    let decision = format!("/api/v1/break-glass/{id}/decision");
    api.get(&s.record(), &s.dave).await.problem(StatusCode::NOT_FOUND, None);
    api.post(&decision, &s.dave, json!({"grant": true})).await.problem(StatusCode::FORBIDDEN, None);
    // Alice may not decide at all, nor end another's request.
    api.post(&decision, &s.alice, json!({"grant": true})).await.problem(StatusCode::FORBIDDEN, None);
    api.post(&format!("/api/v1/break-glass/{id}/end"), &s.alice, json!({})).await.problem(StatusCode::FORBIDDEN, None);
    api.get(&s.record(), &s.dave).await.problem(StatusCode::NOT_FOUND, None);

    // Approvers see everyone's requests; others their own.
    let all = api.get("/api/v1/break-glass", &s.carol).await.ok(StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(api.get("/api/v1/break-glass", &s.alice).await.ok(StatusCode::OK), json!([]));

    let granted = api.post(&decision, &s.carol, json!({"grant": true})).await.ok(StatusCode::OK);
    assert_eq!(granted["state"], "active", "{granted}");
    assert!(granted["decided_by"].is_string() && granted["expires_at"].is_string(), "{granted}");
    api.post(&decision, &s.carol, json!({"grant": false})).await.problem(StatusCode::CONFLICT, None);
    api.get(&s.record(), &s.dave).await.ok(StatusCode::OK);

    // The approver ends it; the record is hidden again.
    api.post(&format!("/api/v1/break-glass/{id}/end"), &s.carol, json!({})).await.ok(StatusCode::NO_CONTENT);
    api.get(&s.record(), &s.dave).await.problem(StatusCode::NOT_FOUND, None);

    // A denied request opens nothing.
    let request =
        api.post(&s.ask(), &s.alice, json!({"justification": WHY, "minutes": 15})).await.ok(StatusCode::CREATED);
    let id = request["id"].as_str().unwrap();
    let denied = api
        .post(&format!("/api/v1/break-glass/{id}/decision"), &s.carol, json!({"grant": false}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(denied["state"], "denied", "{denied}");
    api.get(&s.record(), &s.alice).await.problem(StatusCode::NOT_FOUND, None);
    s.h.close().await;
}

tutela_core::on_both_stores! {
    an_immediate_grant_opens_the_record_until_ended_ => an_immediate_grant_opens_the_record_until_ended;
    an_approval_policy_makes_requests_wait_for_someone_else_ => an_approval_policy_makes_requests_wait_for_someone_else;
}
