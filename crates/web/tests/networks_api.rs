//! Address ranges through `/api/v1`, on both stores: a malformed range is 422 naming
//! `networks` and nothing changes; a restricted role stops applying and a restricted user is
//! refused (403) when the request's address is outside their ranges (here: unknown, as a
//! request without a peer address is, which matches no range); lifting the ranges restores it.

use crate::support;

use axum::http::StatusCode;
use serde_json::json;
use support::json_api::api;
use support::user_with_token;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};

const ADMIN: &[Permission] = &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead];
const SALES: &[Permission] = &[Permission::CustomerRead, Permission::CustomerWrite];

async fn ranges_restrict_roles_and_users(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let (sales_id, sales) = user_with_token(&h, "sales@example.com", &["sales"], SALES).await;
    api.get("/api/v1/customers", &sales).await.ok(StatusCode::OK);
    let roles = api.get("/api/v1/roles", &admin).await.ok(StatusCode::OK);
    let sales_role = roles.as_array().unwrap().iter().find(|r| r["name"] == "sales").unwrap()["id"].clone();

    let bad = json!({"subject_kind": "role", "subject_id": sales_role, "networks": ["10.0.0.0/8", "office"]});
    let problem = api
        .put("/api/v1/access/networks", &admin, bad)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("networks"));
    assert!(problem["detail"].as_str().unwrap().contains("entry 2"), "{problem}");
    let kind = json!({"subject_kind": "group", "subject_id": sales_role, "networks": []});
    api.put("/api/v1/access/networks", &admin, kind)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("subject_kind"));
    assert_eq!(api.get("/api/v1/access/networks", &admin).await.ok(StatusCode::OK), json!([]), "nothing half-applied");
    api.put(
        "/api/v1/access/networks",
        &sales,
        json!({"subject_kind": "role", "subject_id": sales_role, "networks": []}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, None);

    let office = json!({"subject_kind": "role", "subject_id": sales_role, "networks": ["10.1.2.3/8"]});
    let set = api.put("/api/v1/access/networks", &admin, office).await.ok(StatusCode::OK);
    assert_eq!(set["networks"], json!(["10.0.0.0/8"]));
    let listed = api.get("/api/v1/access/networks", &admin).await.ok(StatusCode::OK);
    assert_eq!(listed[0]["subject_name"], "sales");
    api.get("/api/v1/customers", &sales).await.problem(StatusCode::FORBIDDEN, None);

    let user = json!({"subject_kind": "user", "subject_id": sales_id, "networks": ["192.0.2.0/24"]});
    api.put("/api/v1/access/networks", &admin, user).await.ok(StatusCode::OK);
    let refused = api.get("/api/v1/auth/me", &sales).await.problem(StatusCode::FORBIDDEN, None);
    assert!(refused["detail"].as_str().unwrap().contains("unknown address"), "{refused}");

    for kind in ["user", "role"] {
        let id = if kind == "user" { json!(sales_id) } else { sales_role.clone() };
        let lift = json!({"subject_kind": kind, "subject_id": id, "networks": []});
        api.put("/api/v1/access/networks", &admin, lift).await.ok(StatusCode::OK);
    }
    api.get("/api/v1/customers", &sales).await.ok(StatusCode::OK);
    h.close().await;
}

tutela_core::on_both_stores! {
    ranges_restrict_roles_and_users_ => ranges_restrict_roles_and_users;
}
