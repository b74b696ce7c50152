//! Access governance through `/api/v1`, on both stores: the organisation tree, sharing rules
//! and their validation, data scopes that hide other people's records as absent (404, never
//! 403) from every read path, sharing rules and record shares that widen a scope (until the
//! share expires on the harness clock), separation of duties, and the explanation of a
//! decision.

use crate::support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::json_api::{Api, api};
use support::user_with_token;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness};
use uuid::Uuid;

const ADMIN: &[Permission] = &[
    Permission::UserManage,
    Permission::RoleManage,
    Permission::SchemaManage,
    Permission::KeyManage,
    Permission::AuditRead,
];
const SALES: &[Permission] =
    &[Permission::CustomerRead, Permission::CustomerWrite, Permission::RevealConfidential, Permission::CustomerExport];

async fn admin(h: &Harness) -> String {
    user_with_token(h, "admin@example.com", &["administrator"], ADMIN).await.1
}

/// A custom role like `sales` whose customer permissions reach `scope`.
async fn scoped_role(api: &Api, admin: &str, name: &str, scope: &str) {
    let body = json!({
        "name": name,
        "permissions": ["customer.read", "customer.write", "reveal.confidential", "customer.export"],
        "data_scope": scope,
    });
    let role = api.put(&format!("/api/v1/roles/{}", Uuid::now_v7()), admin, body).await.ok(StatusCode::OK);
    assert_eq!(role["data_scope"], scope, "{role}");
}

async fn create_customer(api: &Api, token: &str, fields: Value) -> (String, i64) {
    let c = api.post("/api/v1/customers", token, json!({ "fields": fields })).await.ok(StatusCode::CREATED);
    (c["id"].as_str().unwrap().to_owned(), c["version"].as_i64().unwrap())
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

async fn count(api: &Api, token: &str) -> u64 {
    api.get("/api/v1/customers/count", token).await.ok(StatusCode::OK)["count"].as_u64().unwrap()
}

async fn the_department_tree_refuses_cycles(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    let (user, _) = user_with_token(&h, "member@example.com", &["sales"], SALES).await;

    let head = api.post("/api/v1/org/departments", &admin, json!({"name": "总部"})).await.ok(StatusCode::CREATED);
    let head_id = head["id"].as_str().unwrap().to_owned();
    assert_eq!(head["parent_id"], Value::Null);
    let sales = api
        .post("/api/v1/org/departments", &admin, json!({"name": "销售部", "parent_id": head_id}))
        .await
        .ok(StatusCode::CREATED);
    let sales_id = sales["id"].as_str().unwrap().to_owned();
    let east = api
        .post("/api/v1/org/departments", &admin, json!({"name": "华东销售", "parent_id": sales_id}))
        .await
        .ok(StatusCode::CREATED);
    let east_id = east["id"].as_str().unwrap().to_owned();

    // Under its own grandchild, under itself, under nothing that exists: refused, naming parent_id.
    for parent in [&east_id, &head_id, &Uuid::now_v7().to_string()] {
        let path = format!("/api/v1/org/departments/{head_id}");
        api.put(&path, &admin, json!({"name": "总部", "parent_id": parent}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id"));
    }
    // Moving a leaf elsewhere is fine; the tree is unchanged by the refusals.
    let moved = api
        .put(&format!("/api/v1/org/departments/{east_id}"), &admin, json!({"name": "华东销售", "parent_id": head_id}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(moved["parent_id"], head_id.as_str());
    let org = api.get("/api/v1/org", &admin).await.ok(StatusCode::OK);
    let parent_of =
        |id: &str| org["departments"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap()["parent_id"].clone();
    assert_eq!(parent_of(&head_id), Value::Null, "{org}");
    assert_eq!(parent_of(&east_id), head_id.as_str(), "{org}");

    // Names: required, unique.
    api.post("/api/v1/org/departments", &admin, json!({"name": "  "}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    api.post("/api/v1/org/departments", &admin, json!({"name": "销售部"})).await.problem(StatusCode::CONFLICT, None);

    // Teams and membership.
    api.post("/api/v1/org/teams", &admin, json!({"name": "A 组", "department_id": Uuid::now_v7()}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("department_id"));
    let team = api
        .post("/api/v1/org/teams", &admin, json!({"name": "A 组", "department_id": east_id}))
        .await
        .ok(StatusCode::CREATED);
    let team_id = team["id"].as_str().unwrap().to_owned();
    let membership = format!("/api/v1/users/{user}/membership");
    api.put(&membership, &admin, json!({"department_id": east_id, "team_id": Uuid::now_v7()}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("team_id"));
    api.put(&membership, &admin, json!({"department_id": Uuid::now_v7()}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("department_id"));
    api.put(&format!("/api/v1/users/{}/membership", Uuid::now_v7()), &admin, json!({}))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    api.put(&membership, &admin, json!({"department_id": east_id, "team_id": team_id})).await.ok(StatusCode::OK);
    let org = api.get("/api/v1/org", &admin).await.ok(StatusCode::OK);
    assert_eq!(org["members"], json!([{"user_id": user, "department_id": east_id, "team_id": team_id}]), "{org}");

    // A department with a member, a team or a sub-department stays.
    api.delete(&format!("/api/v1/org/departments/{head_id}"), &admin).await.problem(StatusCode::CONFLICT, None);
    api.delete(&format!("/api/v1/org/departments/{east_id}"), &admin).await.problem(StatusCode::CONFLICT, None);
    api.delete(&format!("/api/v1/org/teams/{team_id}"), &admin).await.ok(StatusCode::NO_CONTENT);
    api.put(&membership, &admin, json!({"department_id": null, "team_id": null})).await.ok(StatusCode::OK);
    api.delete(&format!("/api/v1/org/departments/{east_id}"), &admin).await.ok(StatusCode::NO_CONTENT);
    api.delete(&format!("/api/v1/org/departments/{east_id}"), &admin).await.problem(StatusCode::NOT_FOUND, None);
    let org = api.get("/api/v1/org", &admin).await.ok(StatusCode::OK);
    assert_eq!(org["departments"].as_array().unwrap().len(), 2, "{org}");
    assert_eq!(org["teams"], json!([]), "{org}");

    // Only user administrators change the organisation.
    let (_, sales_token) = user_with_token(&h, "other@example.com", &["sales"], SALES).await;
    api.post("/api/v1/org/departments", &sales_token, json!({"name": "x"})).await.problem(StatusCode::FORBIDDEN, None);
    api.get("/api/v1/org", &sales_token).await.problem(StatusCode::FORBIDDEN, None);
    h.close().await;
}

async fn malformed_ids_are_not_found(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    let customer = Uuid::now_v7();
    let cases = [
        (Method::PUT, "/api/v1/org/departments/not-a-uuid".to_owned(), Some(json!({"name": "x"}))),
        (Method::DELETE, "/api/v1/org/departments/42".to_owned(), None),
        (Method::PUT, "/api/v1/org/teams/%20".to_owned(), Some(json!({"name": "x"}))),
        (Method::DELETE, "/api/v1/org/teams/nope".to_owned(), None),
        (Method::PUT, "/api/v1/users/nope/membership".to_owned(), Some(json!({}))),
        (Method::PUT, "/api/v1/sharing-rules/nope".to_owned(), Some(json!({}))),
        (Method::DELETE, "/api/v1/sharing-rules/nope".to_owned(), None),
        (Method::GET, "/api/v1/customers/nope/shares".to_owned(), None),
        (Method::DELETE, "/api/v1/customers/nope/shares/nope".to_owned(), None),
        (Method::DELETE, format!("/api/v1/customers/{customer}/shares/nope"), None),
    ];
    for (method, path, body) in cases {
        let a = api.call(method.clone(), &path, &admin, body).await;
        a.problem(StatusCode::NOT_FOUND, None);
        assert!(a.json()["detail"].as_str().unwrap().contains("UUID"), "{method} {path}: {}", a.body);
    }
    // Well-formed ids of nothing are 404 too.
    for (method, path) in [
        (Method::DELETE, format!("/api/v1/org/departments/{customer}")),
        (Method::DELETE, format!("/api/v1/org/teams/{customer}")),
        (Method::DELETE, format!("/api/v1/sharing-rules/{customer}")),
        (Method::DELETE, format!("/api/v1/customers/{customer}/shares/{customer}")),
    ] {
        api.call(method, &path, &admin, None).await.problem(StatusCode::NOT_FOUND, None);
    }
    h.close().await;
}

async fn sharing_rules_are_validated(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    let (user, _) = user_with_token(&h, "grantee@example.com", &["sales"], SALES).await;
    let rule = |field: &str, kind: &str, grantee: Uuid, access: &str| json!({"name": "华东", "field_id": field, "value": "华东", "grantee_kind": kind, "grantee_id": grantee, "access": access});
    let cases = [
        (rule("region", "user", Uuid::now_v7(), "read"), "grantee_id"),
        (rule("region", "department", user, "read"), "grantee_id"),
        (rule("region", "role", user, "read"), "grantee_id"),
        (rule("email", "user", user, "read"), "field_id"),
        (rule("bank_account", "user", user, "read"), "field_id"),
        (rule("no_such_field", "user", user, "read"), "field_id"),
        (rule("region", "group", user, "read"), "grantee_kind"),
        (rule("region", "user", user, "own"), "access"),
    ];
    for (body, field) in cases {
        let problem = api
            .post("/api/v1/sharing-rules", &admin, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
        assert!(problem["detail"].as_str().unwrap().starts_with(field), "{body}: {problem}");
    }
    let mut blank = rule("region", "user", user, "read");
    blank["value"] = json!("  ");
    api.post("/api/v1/sharing-rules", &admin, blank).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("value"));
    assert_eq!(api.get("/api/v1/sharing-rules", &admin).await.ok(StatusCode::OK), json!([]), "nothing written");

    let created =
        api.post("/api/v1/sharing-rules", &admin, rule("region", "user", user, "read")).await.ok(StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!((created["field_id"].as_str(), created["access"].as_str()), (Some("region"), Some("read")));
    api.post("/api/v1/sharing-rules", &admin, rule("region", "user", user, "read"))
        .await
        .problem(StatusCode::CONFLICT, None);
    let changed = api
        .put(&format!("/api/v1/sharing-rules/{id}"), &admin, rule("source", "user", user, "write"))
        .await
        .ok(StatusCode::OK);
    assert_eq!((changed["field_id"].as_str(), changed["access"].as_str()), (Some("source"), Some("write")));
    api.put(&format!("/api/v1/sharing-rules/{}", Uuid::now_v7()), &admin, rule("region", "user", user, "read"))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    let listed = api.get("/api/v1/sharing-rules", &admin).await.ok(StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["created_at"], created["created_at"], "a replaced rule keeps its creation time");
    api.delete(&format!("/api/v1/sharing-rules/{id}"), &admin).await.ok(StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/v1/sharing-rules", &admin).await.ok(StatusCode::OK), json!([]));

    // The organisation default.
    assert_eq!(api.get("/api/v1/access/default", &admin).await.ok(StatusCode::OK), json!({"default": "private"}));
    api.put("/api/v1/access/default", &admin, json!({"default": "public"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("default"));
    api.put("/api/v1/access/default", &admin, json!({"default": "read_only"})).await.ok(StatusCode::OK);
    assert_eq!(api.get("/api/v1/access/default", &admin).await.ok(StatusCode::OK), json!({"default": "read_only"}));
    h.close().await;
}

/// Alice and Bob hold `own-sales` (scope `own`); Alice owns one record, Bob one in 华东 and
/// one in 华南.
struct Scene {
    h: Harness,
    api: Api,
    admin: String,
    alice_id: Uuid,
    alice: String,
    bob: String,
    mine: String,
    east: String,
    east_version: i64,
    south: String,
    south_version: i64,
}

async fn scene(backend: Backend) -> Scene {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    scoped_role(&api, &admin, "own-sales", "own").await;
    let (alice_id, alice) = user_with_token(&h, "alice@example.com", &["own-sales"], SALES).await;
    let (_, bob) = user_with_token(&h, "bob@example.com", &["own-sales"], SALES).await;
    let (mine, _) =
        create_customer(&api, &alice, json!({"name": "Alice's", "region": "华北", "email": "a@example.com"})).await;
    let (east, east_version) =
        create_customer(&api, &bob, json!({"name": "Bob East", "region": "华东", "email": "east@example.com"})).await;
    let (south, south_version) =
        create_customer(&api, &bob, json!({"name": "Bob South", "region": "华南", "email": "south@example.com"})).await;
    Scene { h, api, admin, alice_id, alice, bob, mine, east, east_version, south, south_version }
}

impl Scene {
    /// Everything Alice might use to reach a record answers as if it did not exist.
    async fn hidden_from_alice(&self, id: &str, version: i64) {
        let (api, alice) = (&self.api, &self.alice);
        let a = api.get(&format!("/api/v1/customers/{id}"), alice).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "GET {id}: {}", a.body);
        let reveal = json!({"fields": ["email"], "purpose": "scope test"});
        api.post(&format!("/api/v1/customers/{id}/reveal"), alice, reveal).await.problem(StatusCode::NOT_FOUND, None);
        let change = json!({"version": version, "fields": {"name": "Taken"}});
        api.call(Method::PATCH, &format!("/api/v1/customers/{id}"), alice, Some(change))
            .await
            .problem(StatusCode::NOT_FOUND, None);
        api.get(&format!("/api/v1/customers/{id}/shares"), alice).await.problem(StatusCode::NOT_FOUND, None);
    }

    fn explain(&self, customer: &str) -> String {
        format!("/api/v1/access/explain?user={}&customer={customer}", self.alice_id)
    }

    fn in_a(&self, duration: time::Duration) -> String {
        (self.h.tutela.clock().now() + duration).format(&time::format_description::well_known::Rfc3339).unwrap()
    }
}

async fn an_own_scope_hides_others_records_until_a_rule_opens_them(backend: Backend) {
    let s = scene(backend).await;
    let (api, alice) = (&s.api, &s.alice);
    s.hidden_from_alice(&s.east, s.east_version).await;
    s.hidden_from_alice(&s.south, s.south_version).await;
    let page = api.get("/api/v1/customers", alice).await.ok(StatusCode::OK);
    assert_eq!(ids(&page), vec![s.mine.clone()], "{page}");
    assert_eq!(count(api, alice).await, 1);
    assert_eq!(count(api, &s.bob).await, 2);
    let found = api
        .post("/api/v1/customers/lookup", alice, json!({"field": "email", "value": "east@example.com"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(found, json!([]), "lookup stays in scope");
    let export = api.get("/api/v1/customers/export?format=jsonl", alice).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body.lines().count(), 1, "{}", export.body);
    assert!(export.body.contains(&s.mine) && !export.body.contains("Bob"), "{}", export.body);

    // A sharing rule opens the 华东 record to Alice, for reading only: now that she may see it,
    // a change is forbidden rather than hidden.
    let rule = json!({"name": "华东 to Alice", "field_id": "region", "value": "华东", "grantee_kind": "user", "grantee_id": s.alice_id, "access": "read"});
    api.post("/api/v1/sharing-rules", &s.admin, rule).await.ok(StatusCode::CREATED);
    let seen = api.get(&format!("/api/v1/customers/{}", s.east), alice).await.ok(StatusCode::OK);
    let bob_id = s.h.tutela.store().user_by_email("bob@example.com").await.unwrap().unwrap().id;
    assert_eq!(seen["owner_id"], bob_id.to_string(), "{seen}");
    assert_eq!(seen["fields"].as_array().unwrap().iter().find(|f| f["id"] == "name").unwrap()["value"], "Bob East");
    assert_eq!(count(api, alice).await, 2);
    let page = api.get("/api/v1/customers", alice).await.ok(StatusCode::OK);
    let mut both = vec![s.mine.clone(), s.east.clone()];
    both.sort();
    assert_eq!(ids(&page), both, "{page}");
    let change = json!({"version": s.east_version, "fields": {"name": "Taken"}});
    api.call(Method::PATCH, &format!("/api/v1/customers/{}", s.east), alice, Some(change))
        .await
        .problem(StatusCode::FORBIDDEN, None);
    s.hidden_from_alice(&s.south, s.south_version).await;

    // Explained: the rule for 华东, her scope for her own, field by field, without values.
    let why = api.get(&s.explain(&s.east), &s.admin).await.ok(StatusCode::OK);
    assert_eq!(why["access"], json!({"read": true, "write": false}), "{why}");
    let by_rule =
        json!([{"kind": "rule", "rule": "华东 to Alice", "field": "region", "value": "华东", "access": "read"}]);
    assert_eq!(why["row_reasons"], by_rule, "{why}");
    let why = api.get(&s.explain(&s.mine), &s.admin).await.ok(StatusCode::OK);
    let by_scope = json!([{"kind": "scope", "role": "own-sales", "scope": "own", "write": true}]);
    assert_eq!(why["row_reasons"], by_scope, "{why}");
    let email = why["fields"].as_array().unwrap().iter().find(|f| f["field"] == "email").unwrap().clone();
    assert_eq!(email["classification"], "confidential", "{email}");
    assert_eq!(email["caps"], json!({"visible": true, "clear": false, "reveal": true, "write": true}), "{email}");
    assert_eq!(email["reasons"][0]["role"], "own-sales", "{email}");
    assert!(!why.to_string().contains("a@example.com"), "an explanation holds no value: {why}");
    // Alice may ask about herself, for what she can read.
    api.get(&s.explain(&s.mine), alice).await.ok(StatusCode::OK);
    api.get(&s.explain(&s.south), alice).await.problem(StatusCode::NOT_FOUND, None);
    s.h.close().await;
}

async fn a_record_share_opens_a_record_until_it_expires(backend: Backend) {
    let s = scene(backend).await;
    let (api, alice, bob) = (&s.api, &s.alice, &s.bob);
    let tomorrow = s.in_a(time::Duration::days(1));
    let shares = format!("/api/v1/customers/{}/shares", s.south);
    let share = |user: Uuid, access: &str, expires_at: &str, reason: &str| json!({"user_id": user, "access": access, "expires_at": expires_at, "reason": reason});
    for (body, field) in [
        (share(s.alice_id, "write", "tomorrow", "cover"), "expires_at"),
        (share(s.alice_id, "write", "2000-01-01T00:00:00Z", "cover"), "expires_at"),
        (share(s.alice_id, "write", &s.in_a(time::Duration::days(91)), "cover"), "expires_at"),
        (share(s.alice_id, "all", &tomorrow, "cover"), "access"),
        (share(s.alice_id, "write", &tomorrow, " "), "reason"),
        (share(Uuid::now_v7(), "write", &tomorrow, "cover"), "user_id"),
    ] {
        api.post(&shares, bob, body).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    // Alice cannot lend what she cannot see.
    api.post(&format!("/api/v1/customers/{}/shares", s.east), alice, share(s.alice_id, "read", &tomorrow, "x"))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    assert_eq!(api.get(&shares, bob).await.ok(StatusCode::OK), json!([]), "nothing written");

    // Bob lends Alice the 华南 record for a day, to write.
    let given =
        api.post(&shares, bob, share(s.alice_id, "write", &tomorrow, "holiday cover")).await.ok(StatusCode::CREATED);
    assert_eq!(given["customer_id"], s.south.as_str());
    let listed = api.get(&shares, alice).await.ok(StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    api.get(&format!("/api/v1/customers/{}", s.south), alice).await.ok(StatusCode::OK);
    let change = json!({"version": s.south_version, "fields": {"name": "Bob South (covered)"}});
    api.call(Method::PATCH, &format!("/api/v1/customers/{}", s.south), alice, Some(change)).await.ok(StatusCode::OK);
    assert_eq!(count(api, alice).await, 2);
    let why = api.get(&s.explain(&s.south), &s.admin).await.ok(StatusCode::OK);
    assert_eq!(why["access"], json!({"read": true, "write": true}), "{why}");
    assert_eq!(why["row_reasons"][0]["kind"], "share", "{why}");
    assert_eq!(why["row_reasons"][0]["share"], given["id"], "{why}");
    s.hidden_from_alice(&s.east, s.east_version).await;

    // The share ends on its own.
    s.h.clock.advance(time::Duration::days(1) + time::Duration::seconds(1));
    s.hidden_from_alice(&s.south, s.south_version + 1).await;
    assert_eq!(count(api, alice).await, 1);
    let why = api.get(&s.explain(&s.south), &s.admin).await.ok(StatusCode::OK);
    assert_eq!((why["access"]["read"].as_bool(), why["row_reasons"].clone()), (Some(false), json!([])), "{why}");

    // Bob ends a renewed share early; only under its own record, and not Alice's to end.
    let again = api
        .post(&shares, bob, share(s.alice_id, "read", &s.in_a(time::Duration::hours(1)), "again"))
        .await
        .ok(StatusCode::CREATED);
    let id = again["id"].as_str().unwrap();
    api.get(&format!("/api/v1/customers/{}", s.south), alice).await.ok(StatusCode::OK);
    api.delete(&format!("/api/v1/customers/{}/shares/{id}", s.east), bob).await.problem(StatusCode::NOT_FOUND, None);
    api.delete(&format!("{shares}/{id}"), alice).await.problem(StatusCode::NOT_FOUND, None);
    api.delete(&format!("{shares}/{id}"), bob).await.ok(StatusCode::NO_CONTENT);
    s.hidden_from_alice(&s.south, s.south_version + 1).await;
    s.h.close().await;
}

async fn department_and_team_scopes_follow_membership(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    scoped_role(&api, &admin, "own-sales", "own").await;
    scoped_role(&api, &admin, "dept-lead", "department").await;
    scoped_role(&api, &admin, "team-sales", "team").await;
    let (alice_id, alice) = user_with_token(&h, "alice@example.com", &["own-sales"], SALES).await;
    let (lead_id, lead) = user_with_token(&h, "lead@example.com", &["dept-lead"], SALES).await;
    let (mate_id, mate) = user_with_token(&h, "mate@example.com", &["team-sales"], SALES).await;
    create_customer(&api, &alice, json!({"name": "Alice's"})).await;
    assert_eq!((count(&api, &lead).await, count(&api, &mate).await), (0, 0));

    let sales = api.post("/api/v1/org/departments", &admin, json!({"name": "Sales"})).await.ok(StatusCode::CREATED);
    let east = api
        .post("/api/v1/org/departments", &admin, json!({"name": "East", "parent_id": sales["id"]}))
        .await
        .ok(StatusCode::CREATED);
    let team = api
        .post("/api/v1/org/teams", &admin, json!({"name": "East A", "department_id": east["id"]}))
        .await
        .ok(StatusCode::CREATED);
    let place = |user: Uuid, department: &Value, team: Option<&Value>| {
        let body = json!({"department_id": department["id"], "team_id": team.map(|t| t["id"].clone())});
        let api = &api;
        let admin = admin.clone();
        async move { api.put(&format!("/api/v1/users/{user}/membership"), &admin, body).await.ok(StatusCode::OK) }
    };
    // Alice in a sub-department reaches her department lead above; her team mate too.
    place(alice_id, &east, Some(&team)).await;
    place(lead_id, &sales, None).await;
    place(mate_id, &east, None).await;
    assert_eq!((count(&api, &lead).await, count(&api, &mate).await), (1, 0), "not in Alice's team yet");
    place(mate_id, &east, Some(&team)).await;
    assert_eq!(count(&api, &mate).await, 1);
    let why = api
        .get(
            &format!(
                "/api/v1/access/explain?user={lead_id}&customer={}",
                api.get("/api/v1/customers", &alice).await.json()["items"][0]["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(why["row_reasons"][0]["scope"], "department", "{why}");
    h.close().await;
}

async fn separation_of_duties_is_enforced(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    let (_, auditor) = user_with_token(&h, "auditor@example.com", &["auditor"], &[Permission::AuditRead]).await;
    let (steward, _) = user_with_token(&h, "steward@example.com", &["data-steward"], SALES).await;

    let rules = api.get("/api/v1/access/separation-of-duties", &auditor).await.ok(StatusCode::OK);
    assert_eq!(rules["rules"].as_array().unwrap().len(), 3, "{rules}");

    let refused = api
        .put(&format!("/api/v1/users/{steward}/roles"), &admin, json!({"roles": ["data-steward", "administrator"]}))
        .await
        .problem(StatusCode::CONFLICT, None);
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("role.manage") && detail.contains("reveal.restricted"), "{detail}");
    let refused = api
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "both@example.com", "display_name": "Both", "password": "another long password", "roles": ["administrator", "data-steward"]}),
        )
        .await
        .problem(StatusCode::CONFLICT, None);
    assert!(refused["detail"].as_str().unwrap().contains("reveal.restricted"), "{refused}");
    api.put(
        &format!("/api/v1/roles/{}", Uuid::now_v7()),
        &admin,
        json!({"name": "too-much", "permissions": ["user.manage", "reveal.restricted"]}),
    )
    .await
    .problem(StatusCode::CONFLICT, None);
    // The refused grants changed nothing.
    let users = api.get("/api/v1/users", &admin).await.ok(StatusCode::OK);
    let steward_row = users.as_array().unwrap().iter().find(|u| u["email"] == "steward@example.com").unwrap().clone();
    assert_eq!(steward_row["roles"], json!(["data-steward"]));
    assert!(!users.to_string().contains("both@example.com"));

    // Declaring a new pair reports who already holds it.
    api.put(&format!("/api/v1/users/{steward}/roles"), &admin, json!({"roles": ["data-steward", "auditor"]}))
        .await
        .ok(StatusCode::OK);
    for (body, field) in [
        (json!({"rules": [{"first": "customer.export", "second": "audit.write", "reason": "x"}]}), "rules[0].second"),
        (
            json!({"rules": [{"first": "customer.export", "second": "audit.read", "reason": "x"}, {"first": "audit.read", "second": "customer.export", "reason": "y"}]}),
            "rules[1]",
        ),
        (json!({"rules": [{"first": "audit.read", "second": "audit.read", "reason": "x"}]}), "rules[0]"),
        (json!({"rules": [{"first": "customer.export", "second": "audit.read", "reason": ""}]}), "rules[0].reason"),
    ] {
        api.put("/api/v1/access/separation-of-duties", &admin, body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let new_rules = json!({"rules": [
        {"first": "role.manage", "second": "reveal.restricted", "reason": "who shapes roles does not read restricted data"},
        {"first": "customer.export", "second": "audit.read", "reason": "who exports does not also read the trail"}
    ]});
    api.put("/api/v1/access/separation-of-duties", &auditor, new_rules.clone())
        .await
        .problem(StatusCode::FORBIDDEN, None);
    let update = api.put("/api/v1/access/separation-of-duties", &admin, new_rules.clone()).await.ok(StatusCode::OK);
    assert_eq!(update["rules"], new_rules["rules"]);
    let violations = update["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{update}");
    assert_eq!(violations[0]["user_id"], steward.to_string());
    assert_eq!(violations[0]["rule"]["second"], "audit.read");
    let listed = api.get("/api/v1/access/separation-of-duties/violations", &auditor).await.ok(StatusCode::OK);
    assert_eq!(listed, update["violations"]);
    assert_eq!(api.get("/api/v1/access/separation-of-duties", &admin).await.ok(StatusCode::OK), new_rules);
    // user.manage with reveal.restricted is no longer declared: the former pair is allowed.
    api.put(
        &format!("/api/v1/roles/{}", Uuid::now_v7()),
        &admin,
        json!({"name": "now-fine", "permissions": ["user.manage", "reveal.restricted"]}),
    )
    .await
    .ok(StatusCode::OK);
    h.close().await;
}

async fn explain_and_count_check_their_input(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let admin = admin(&h).await;
    let (sales_id, sales) = user_with_token(&h, "sales@example.com", &["sales"], SALES).await;
    let (other_id, _) = user_with_token(&h, "other@example.com", &["sales"], SALES).await;
    let (customer, _) = create_customer(&api, &sales, json!({"name": "C"})).await;
    for (query, field) in [
        (format!("customer={customer}"), "user"),
        (format!("user={sales_id}"), "customer"),
        (format!("user=nope&customer={customer}"), "user"),
        (format!("user={sales_id}&customer=42"), "customer"),
    ] {
        api.get(&format!("/api/v1/access/explain?{query}"), &admin)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    api.get(&format!("/api/v1/access/explain?user={}&customer={customer}", Uuid::now_v7()), &admin)
        .await
        .problem(StatusCode::NOT_FOUND, None);
    api.get(&format!("/api/v1/access/explain?user={sales_id}&customer={}", Uuid::now_v7()), &admin)
        .await
        .problem(StatusCode::NOT_FOUND, None);
    // Others' access is for administrators; one's own is fine.
    api.get(&format!("/api/v1/access/explain?user={other_id}&customer={customer}"), &sales)
        .await
        .problem(StatusCode::FORBIDDEN, None);
    let why = api
        .get(&format!("/api/v1/access/explain?user={sales_id}&customer={customer}"), &sales)
        .await
        .ok(StatusCode::OK);
    assert_eq!(why["row_reasons"], json!([{"kind": "scope", "role": "sales", "scope": "all", "write": true}]), "{why}");
    // The administrator holds no customer permission: no count.
    api.get("/api/v1/customers/count", &admin).await.problem(StatusCode::FORBIDDEN, None);
    assert_eq!(count(&api, &sales).await, 1);
    h.close().await;
}

async fn the_openapi_document_names_the_vocabulary(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let doc = api.get("/api/v1/openapi.json", "").await.ok(StatusCode::OK);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["RoleDto"]["properties"]["data_scope"]["enum"], json!(["own", "team", "department", "all"]));
    assert_eq!(
        schemas["RoleDto"]["properties"]["field_rules"]["additionalProperties"]["enum"],
        json!(["hidden", "masked", "read", "reveal", "write"])
    );
    assert!(
        schemas["RoleDto"]["properties"]["permissions"]["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("reveal.restricted"))
    );
    assert_eq!(
        schemas["SharingRuleRequest"]["properties"]["grantee_kind"]["enum"],
        json!(["role", "department", "team", "user"])
    );
    assert_eq!(
        schemas["OrgDefaultDto"]["properties"]["default"]["enum"],
        json!(["private", "read_only", "read_write"])
    );
    for path in
        ["/api/v1/org", "/api/v1/access/explain", "/api/v1/customers/count", "/api/v1/customers/{id}/shares/{share}"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    h.close().await;
}

tutela_core::on_both_stores! {
    the_department_tree_refuses_cycles_ => the_department_tree_refuses_cycles;
    malformed_ids_are_not_found_ => malformed_ids_are_not_found;
    sharing_rules_are_validated_ => sharing_rules_are_validated;
    an_own_scope_hides_others_records_ => an_own_scope_hides_others_records_until_a_rule_opens_them;
    a_record_share_opens_a_record_until_it_expires_ => a_record_share_opens_a_record_until_it_expires;
    department_and_team_scopes_follow_membership_ => department_and_team_scopes_follow_membership;
    separation_of_duties_is_enforced_ => separation_of_duties_is_enforced;
    explain_and_count_check_their_input_ => explain_and_count_check_their_input;
    the_openapi_document_names_the_vocabulary_ => the_openapi_document_names_the_vocabulary;
}
