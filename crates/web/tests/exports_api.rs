//! Export approval through `/api/v1`, on both stores: a straight export over the policy's
//! limits is refused (403 `approval-required`), a request waits for an approver, its requester
//! cannot decide it, the approved file streams watermarked to its requester only, and bad
//! input names its field.

use crate::support;

use axum::http::StatusCode;
use serde_json::json;
use support::json_api::{Api, api};
use support::user_with_token;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};

const ADMIN: &[Permission] = &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead];
const STEWARD: &[Permission] = &[
    Permission::CustomerRead,
    Permission::CustomerWrite,
    Permission::CustomerExport,
    Permission::RevealConfidential,
    Permission::RevealRestricted,
];
const APPROVER: &[Permission] = &[Permission::AccessApprove];
const NATIONAL_ID: &str = "11010519491231002X";

struct Scene {
    h: Harness,
    api: Api,
    admin: String,
    steward: String,
    carol: String,
}

async fn scene(backend: Backend) -> Scene {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let permissions: Vec<&str> = APPROVER.iter().map(|p| p.as_str()).collect();
    let body = json!({"name": "export-approver", "permissions": permissions, "data_scope": "own"});
    api.put(&format!("/api/v1/roles/{}", uuid::Uuid::now_v7()), &admin, body).await.ok(StatusCode::OK);
    let (_, steward) = user_with_token(&h, "steward@example.com", &["data-steward"], STEWARD).await;
    let (_, carol) = user_with_token(&h, "carol@example.com", &["export-approver"], APPROVER).await;
    for i in 0..3 {
        let fields = json!({"name": format!("客户{i}"), "national_id": NATIONAL_ID});
        api.post("/api/v1/customers", &steward, json!({ "fields": fields })).await.ok(StatusCode::CREATED);
    }
    Scene { h, api, admin, steward, carol }
}

async fn an_export_over_the_limits_waits_for_an_approver(backend: Backend) {
    let s = scene(backend).await;
    let (api, steward, carol) = (&s.api, &s.steward, &s.carol);
    let policy = json!({"max_rows": 2, "restricted": true, "valid_hours": 4});
    api.put("/api/v1/access/export-policy", steward, policy.clone()).await.problem(StatusCode::FORBIDDEN, None);
    api.put("/api/v1/access/export-policy", &s.admin, json!({"max_rows": 2, "restricted": true, "valid_hours": 0}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("valid_hours"));
    assert_eq!(api.put("/api/v1/access/export-policy", &s.admin, policy.clone()).await.ok(StatusCode::OK), policy);
    assert_eq!(api.get("/api/v1/access/export-policy", steward).await.ok(StatusCode::OK), policy);

    let refused = api.get("/api/v1/customers/export", steward).await.problem(StatusCode::FORBIDDEN, None);
    assert_eq!(refused["type"], "urn:tutela:problem:approval-required");
    assert!(refused["detail"].as_str().unwrap().contains("3 rows"), "{refused}");

    api.post("/api/v1/exports", steward, json!({"format": "xml"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    api.post("/api/v1/exports", steward, json!({"purpose": "x", "columns": []}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    let asked = api
        .post("/api/v1/exports", steward, json!({"format": "jsonl", "purpose": "年度审计抽样"}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(asked["state"], "pending");
    assert_eq!(asked["reasons"], json!(["rows", "restricted"]));
    let id = asked["id"].as_str().unwrap();
    let one = format!("/api/v1/exports/{id}");
    let download = format!("{one}/download");
    api.get(&download, steward).await.problem(StatusCode::CONFLICT, None);
    api.get(&one, carol).await.ok(StatusCode::OK);

    let decision = format!("{one}/decision");
    api.post(&decision, steward, json!({"approve": true})).await.problem(StatusCode::FORBIDDEN, None);
    api.post(&decision, carol, json!({"approve": "yes"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    let approved = api.post(&decision, carol, json!({"approve": true, "note": "仅限本次"})).await.ok(StatusCode::OK);
    assert_eq!(
        (approved["state"].as_str(), approved["decided_by"].as_str()),
        (Some("approved"), Some("carol@example.com"))
    );
    api.post(&decision, carol, json!({"approve": false})).await.problem(StatusCode::CONFLICT, None);

    // Only the requester downloads (an approver cannot even export), and every line carries
    // the watermark.
    api.get(&download, carol).await.problem(StatusCode::FORBIDDEN, None);
    let file = api.get(&download, steward).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.content_type.starts_with("application/jsonl"), "{}", file.content_type);
    let lines: Vec<serde_json::Value> = file.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["national_id"], NATIONAL_ID);
        let mark = line["_watermark"].as_str().unwrap();
        assert!(mark.starts_with("steward@example.com ") && mark.ends_with(id), "{mark}");
    }

    let mine = api.get("/api/v1/exports", steward).await.ok(StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    api.delete(&one, steward).await.ok(StatusCode::NO_CONTENT);
    api.get(&download, steward).await.problem(StatusCode::CONFLICT, None);
    api.delete(&one, steward).await.problem(StatusCode::CONFLICT, None);
    s.h.close().await;
}

async fn under_the_limits_a_request_is_approved_at_once(backend: Backend) {
    let s = scene(backend).await;
    let (api, steward) = (&s.api, &s.steward);
    // The default policy: up to 1,000 rows, restricted fields masked.
    let masked = api.get("/api/v1/customers/export", steward).await;
    assert_eq!(masked.status, StatusCode::OK);
    assert!(masked.body.contains("110***********002X") && !masked.body.contains(NATIONAL_ID), "{}", masked.body);

    let asked = api.post("/api/v1/exports", steward, json!({})).await.ok(StatusCode::CREATED);
    assert_eq!(asked["state"], "approved");
    assert_eq!(asked["decided_by"], serde_json::Value::Null);
    let file = api.get(&format!("/api/v1/exports/{}/download", asked["id"].as_str().unwrap()), steward).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.lines().next().unwrap().ends_with(",_watermark"), "{}", file.body);
    api.get("/api/v1/exports/not-an-id", steward).await.problem(StatusCode::NOT_FOUND, None);
    s.h.close().await;
}

tutela_core::on_both_stores! {
    an_export_over_the_limits_waits_for_an_approver_ => an_export_over_the_limits_waits_for_an_approver;
    under_the_limits_a_request_is_approved_at_once_ => under_the_limits_a_request_is_approved_at_once;
}
