//! The notifier through `/api/v1/notifications`, on both stores: break-glass requests fill the
//! approvers' and auditors' inboxes (not the requester's) and a sign-in from a new network
//! fills the user's own; the inbox pages by cursor, marks read once, hides everyone else's
//! notices (404), renders in the notice language the user sets (audited), and refuses bad
//! input with a problem naming the field; the delivery status is for administrators and
//! auditors only.

use crate::support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::json_api::api;
use support::{PASSWORD, unreachable_smtp, user_with_token};
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, SignInAs, custom_role, principal, steward, values};
use uuid::Uuid;

const ADMIN: &[Permission] = &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead];
const READER: &[Permission] = &[Permission::CustomerRead];
const WHY: &str = "Customer escalated ticket #4711; owner is on leave and the complaint is due today.";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect()
}

async fn break_glass_alerts_fill_the_inbox(backend: Backend) {
    let h = Harness::with_config(backend, unreachable_smtp()).await;
    let api = api(&h);
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let roles = principal("roles@example.com", &[Permission::RoleManage]);
    h.tutela.put_role(&roles, custom_role("own-reader", READER)).await.unwrap();
    let (_, alice) = user_with_token(&h, "alice@example.com", &["own-reader"], READER).await;
    let (_, plain) = user_with_token(&h, "plain@example.com", &["support"], READER).await;
    let record = h.tutela.create_customer(&steward(), values(&[("name", "赵六")])).await.unwrap().id;
    for _ in 0..3 {
        let body = json!({"justification": WHY, "minutes": 30});
        api.post(&format!("/api/v1/customers/{record}/break-glass"), &alice, body).await.ok(StatusCode::CREATED);
    }

    // The administrator reads the audit log, so is alerted; the requester and others are not.
    let inbox = api.get("/api/v1/notifications", &admin).await.ok(StatusCode::OK);
    assert_eq!((ids(&inbox).len(), inbox["unread"].as_u64()), (3, Some(3)), "{inbox}");
    let newest = &inbox["items"][0];
    assert_eq!(newest["kind"], "break_glass.request");
    assert_eq!(newest["link"], "/break-glass");
    assert!(newest["read_at"].is_null() && newest["created_at"].is_string(), "{newest}");
    let subject = newest["subject"].as_str().unwrap();
    assert!(subject.contains("alice@example.com") && subject.contains("紧急访问"), "Chinese by default: {subject}");
    let body = newest["body"].as_str().unwrap();
    assert!(body.contains(&record.to_string()) && !body.contains(WHY) && !body.contains("赵六"), "{body}");
    for user in [&alice, &plain] {
        let theirs = api.get("/api/v1/notifications", user).await.ok(StatusCode::OK);
        assert_eq!((ids(&theirs).len(), theirs["unread"].as_u64()), (0, Some(0)), "{theirs}");
    }

    // Cursor paging, newest first, no overlap; the last page has no cursor.
    let first = api.get("/api/v1/notifications?limit=2", &admin).await.ok(StatusCode::OK);
    assert_eq!(ids(&first), ids(&inbox)[..2]);
    let next = first["next"].as_str().expect("a cursor after a full page").to_owned();
    let second = api.get(&format!("/api/v1/notifications?limit=2&before={next}"), &admin).await.ok(StatusCode::OK);
    assert_eq!(ids(&second), ids(&inbox)[2..]);
    assert!(second["next"].is_null(), "{second}");

    // Read marks: once, the recipient's own only.
    let id = ids(&inbox)[1].clone();
    let read = format!("/api/v1/notifications/{id}/read");
    for _ in 0..2 {
        let answer = api.call(Method::POST, &read, &admin, None).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    }
    let after = api.get("/api/v1/notifications", &admin).await.ok(StatusCode::OK);
    assert_eq!(after["unread"], 2);
    assert!(after["items"][1]["read_at"].is_string() && after["items"][0]["read_at"].is_null(), "{after}");
    api.call(Method::POST, &read, &alice, None).await.problem(StatusCode::NOT_FOUND, None);
    let unknown = format!("/api/v1/notifications/{}/read", Uuid::now_v7());
    api.call(Method::POST, &unknown, &admin, None).await.problem(StatusCode::NOT_FOUND, None);
    api.call(Method::POST, "/api/v1/notifications/nope/read", &admin, None).await.problem(StatusCode::NOT_FOUND, None);

    // The notice language: English from now on, refused when unknown, audited when set.
    let language = "/api/v1/notifications/language";
    api.put(language, &admin, json!({"language": "fr"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("language"));
    api.put(language, &admin, json!({"lang": "en"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("body"));
    let set = api.put(language, &admin, json!({"language": "en"})).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.body);
    let english = api.get("/api/v1/notifications?limit=1", &admin).await.ok(StatusCode::OK);
    let subject = english["items"][0]["subject"].as_str().unwrap();
    assert_eq!(subject, "Break-glass access granted to alice@example.com", "{english}");
    let audited = api.get("/api/v1/audit/events?action=user.set_language", &admin).await.ok(StatusCode::OK);
    assert_eq!(audited.as_array().map(Vec::len), Some(1), "only the accepted change: {audited}");

    // Bad paging input names its parameter.
    for (query, field) in
        [("limit=0", "limit"), ("limit=101", "limit"), ("limit=many", "limit"), ("before=nope", "before")]
    {
        api.get(&format!("/api/v1/notifications?{query}"), &admin)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }

    // Deliveries: one e-mail per alert, retried after a failed attempt; not for a plain user.
    let deliveries = "/api/v1/notifications/deliveries";
    api.get(deliveries, &plain).await.problem(StatusCode::FORBIDDEN, None);
    let made = api.get(deliveries, &admin).await.ok(StatusCode::OK);
    let made = made.as_array().unwrap();
    assert_eq!(made.len(), 3);
    for d in made {
        assert_eq!(
            (&d["channel"], &d["address"], &d["kind"]),
            (&json!("email"), &json!("admin@example.com"), &json!("break_glass.request"))
        );
        assert_eq!((&d["status"], &d["attempts"]), (&json!("pending"), &json!(0)), "{d}");
    }
    assert_eq!(h.tutela.deliver_due().await.unwrap().retrying, 3);
    let pending = api.get(&format!("{deliveries}?status=pending"), &admin).await.ok(StatusCode::OK);
    assert!(pending.as_array().unwrap().iter().all(|d| d["attempts"] == 1 && d["last_error"].is_string()), "{pending}");
    assert_eq!(api.get(&format!("{deliveries}?status=sent"), &admin).await.ok(StatusCode::OK), json!([]));
    api.get(&format!("{deliveries}?status=lost"), &admin)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("status"));
    h.close().await;
}

/// A sign-in from a network the user had not used reaches their own inbox, in their language.
async fn a_new_device_reaches_the_users_inbox(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let (_, li) = user_with_token(&h, "li@example.com", &["support"], READER).await;
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let mut sign_in = SignInAs::new("li@example.com", PASSWORD);
    sign_in.sign_in(&h, Some("192.0.2.10"), Some(FIREFOX)).await;
    let quiet = api.get("/api/v1/notifications", &li).await.ok(StatusCode::OK);
    assert_eq!(ids(&quiet).len(), 0, "the account's first device is not news: {quiet}");
    sign_in.sign_in(&h, Some("198.51.100.5"), Some(FIREFOX)).await;

    let set = api.put("/api/v1/notifications/language", &li, json!({"language": "en-GB"})).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "a regional tag names its language");
    let inbox = api.get("/api/v1/notifications", &li).await.ok(StatusCode::OK);
    assert_eq!(inbox["unread"], 1, "{inbox}");
    let notice = &inbox["items"][0];
    assert_eq!((&notice["kind"], &notice["link"]), (&json!("sign_in.new_device"), &json!("/account")));
    assert_eq!(notice["subject"], "New sign-in to your Tutela account");
    let body = notice["body"].as_str().unwrap();
    assert!(body.contains("198.51.100.5") && body.contains("Firefox on Linux"), "{body}");

    // Nobody else reads or marks it, an administrator included.
    let theirs = api.get("/api/v1/notifications", &admin).await.ok(StatusCode::OK);
    assert_eq!(ids(&theirs).len(), 0, "{theirs}");
    let read = format!("/api/v1/notifications/{}/read", notice["id"].as_str().unwrap());
    api.call(Method::POST, &read, &admin, None).await.problem(StatusCode::NOT_FOUND, None);
    assert_eq!(api.get("/api/v1/notifications", &li).await.ok(StatusCode::OK)["unread"], 1);
    // Without `[smtp]` nothing is e-mailed, so there is no delivery to list.
    assert_eq!(api.get("/api/v1/notifications/deliveries", &admin).await.ok(StatusCode::OK), json!([]));
    h.close().await;
}

tutela_core::on_both_stores! {
    break_glass_alerts_ => break_glass_alerts_fill_the_inbox;
    new_device_ => a_new_device_reaches_the_users_inbox;
}
