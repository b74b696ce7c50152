//! Access reviews and jobs through `/api/v1`, on both stores: a campaign routed to a
//! department's manager, decisions by the reviewer only, self-review needing a justification,
//! bad input naming its field, the close applying the policy, the kept report as JSON and
//! CSV, and the jobs overview.

use crate::support;

use axum::http::StatusCode;
use serde_json::json;
use support::json_api::api;
use support::user_with_token;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};

const ADMIN: &[Permission] =
    &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead, Permission::AccessReview];

async fn campaign_through_the_api(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let (admin_id, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let (boss_id, boss) = user_with_token(&h, "boss@example.com", &["support"], &[Permission::CustomerRead]).await;
    let (alice_id, alice) = user_with_token(&h, "alice@example.com", &["sales"], &[Permission::CustomerRead]).await;

    let dept = api.post("/api/v1/org/departments", &admin, json!({"name": "销售部"})).await.ok(StatusCode::CREATED);
    let dept = dept["id"].as_str().unwrap().to_owned();
    let manager = format!("/api/v1/org/departments/{dept}/manager");
    api.put(&manager, &alice, json!({"manager_id": boss_id})).await.problem(StatusCode::FORBIDDEN, None);
    api.put(&manager, &admin, json!({"manager_id": uuid::Uuid::now_v7()}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("manager_id"));
    api.put(&manager, &admin, json!({"manager_id": boss_id})).await.ok(StatusCode::NO_CONTENT);
    let membership = json!({"department_id": dept});
    api.put(&format!("/api/v1/users/{alice_id}/membership"), &admin, membership).await.ok(StatusCode::OK);

    let deadline = (h.tutela.clock().now() + time::Duration::days(14))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = |extra: serde_json::Value| {
        let mut b = json!({"name": "Q1 销售部", "department_id": dept, "routing": "manager", "policy": "revoke",
            "deadline": deadline});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    let reviews = "/api/v1/access/reviews";
    api.post(reviews, &alice, body(json!({}))).await.problem(StatusCode::FORBIDDEN, None);
    for (extra, field) in [
        (json!({"policy": "delete"}), "policy"),
        (json!({"routing": "reviewer"}), "reviewer_id"),
        (json!({"deadline": "2000-01-01T00:00:00Z"}), "deadline"),
        (json!({"name": ""}), "name"),
    ] {
        api.post(reviews, &admin, body(extra)).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    api.post(reviews, &admin, body(json!({"colour": "red"}))).await.problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    let c = api.post(reviews, &admin, body(json!({}))).await.ok(StatusCode::CREATED);
    assert_eq!(c["counts"]["items"], 1, "{c}");
    assert_eq!(c["state"], "open");
    let id = c["id"].as_str().unwrap().to_owned();

    let mine = api.get(&format!("{reviews}/mine"), &boss).await.ok(StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let item = mine[0]["item"]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["item"]["label"], "sales");
    let decision = format!("{reviews}/{id}/items/{item}/decision");
    api.post(&decision, &alice, json!({"decision": "certify"})).await.problem(StatusCode::FORBIDDEN, None);
    api.get(&format!("{reviews}/{id}"), &alice).await.problem(StatusCode::NOT_FOUND, None);
    api.post(&decision, &boss, json!({"decision": "keep"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("decision"));
    api.post(&decision, &boss, json!({"decision": "certify", "note": "x".repeat(1001)}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("note"));
    let decided =
        api.post(&decision, &boss, json!({"decision": "certify", "note": "日常工作"})).await.ok(StatusCode::OK);
    assert_eq!((decided["outcome"].as_str(), decided["decided_by"].as_str()), (Some("kept"), Some("boss@example.com")));
    api.post(&decision, &boss, json!({"decision": "revoke"})).await.problem(StatusCode::CONFLICT, None);

    // A campaign reviewed by the administrator includes their own access: self-review.
    let own = body(json!({"name": "全员", "department_id": null, "routing": "reviewer", "reviewer_id": admin_id,
        "policy": "flag"}));
    let all = api.post(reviews, &admin, own).await.ok(StatusCode::CREATED);
    let all_id = all["id"].as_str().unwrap().to_owned();
    let detail = api.get(&format!("{reviews}/{all_id}"), &admin).await.ok(StatusCode::OK);
    let own_item = detail["items"].as_array().unwrap().iter().find(|i| i["user_email"] == "admin@example.com").unwrap();
    let own_decision = format!("{reviews}/{all_id}/items/{}/decision", own_item["id"].as_str().unwrap());
    api.post(&own_decision, &admin, json!({"decision": "certify"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("justification"));
    api.post(&own_decision, &admin, json!({"decision": "certify", "justification": "长".repeat(1001)}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("justification"));
    let kept = api
        .post(&own_decision, &admin, json!({"decision": "certify", "justification": "I run the user administration"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(kept["justification"], "I run the user administration");

    // Closed early: the report is kept, the campaign refuses more decisions.
    let report = format!("{reviews}/{all_id}/report");
    api.get(&report, &admin).await.problem(StatusCode::CONFLICT, None);
    api.post(&format!("{reviews}/{all_id}/close"), &boss, json!({})).await.problem(StatusCode::FORBIDDEN, None);
    let closed = api.post(&format!("{reviews}/{all_id}/close"), &admin, json!({})).await.ok(StatusCode::OK);
    assert_eq!(closed["state"], "closed");
    assert!(closed["counts"]["flagged"].as_u64().unwrap() >= 2, "{closed}");
    api.post(&format!("{reviews}/{all_id}/close"), &admin, json!({})).await.problem(StatusCode::CONFLICT, None);
    let kept_report = api.get(&report, &admin).await.ok(StatusCode::OK);
    assert_eq!(kept_report["closed_by"], "admin@example.com");
    let listed = u64::try_from(kept_report["items"].as_array().unwrap().len()).unwrap();
    assert_eq!(Some(listed), closed["counts"]["items"].as_u64());
    let csv = api.get(&format!("{report}?format=csv"), &admin).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    assert!(csv.body.starts_with("campaign,user,kind,subject,reviewer,decision"), "{}", csv.body);
    assert!(csv.body.contains("I run the user administration"));
    api.get(&format!("{report}?format=xml"), &admin).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    api.get(&report, &boss).await.problem(StatusCode::FORBIDDEN, None);

    let jobs = api.get("/api/v1/jobs", &admin).await.ok(StatusCode::OK);
    let names: Vec<&str> = jobs.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["access.review.deadlines", "access.review.reminders"]);
    api.get("/api/v1/jobs", &boss).await.problem(StatusCode::FORBIDDEN, None);
    h.close().await;
}

tutela_core::on_both_stores! {
    campaign_through_the_api_ => campaign_through_the_api;
}
