//! Sign-in policies and re-authentication through `/api/v1` and the console, on both stores:
//! a limit out of range is 422 naming it; a reveal past the role's window is 403
//! `reauthentication-required` until the session confirms with a code (cookie and CSRF; an
//! API token has no session to confirm: 403); the console sends the reveal to "Confirm it is you" and back; the
//! policy page lists, refuses bad input by field and saves.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::json;
use support::json_api::api;
use support::{Answer, Call, call, create_user, form, get, sign_in, user_with_token};
use time::Duration;
use tutela_core::policy::Permission;
use tutela_core::testing::{Backend, Harness, SignInAs, operator, steward, values};
use tutela_web::{AppState, router};
use uuid::Uuid;

const ADMIN: &[Permission] = &[Permission::UserManage, Permission::RoleManage, Permission::AuditRead];

async fn role_id(h: &Harness, name: &str) -> Uuid {
    h.tutela.roles(&operator()).await.unwrap().into_iter().find(|r| r.name == name).unwrap().id
}

/// A JSON call with the session cookie and its CSRF header (read from a console page), as the
/// console's scripts make.
async fn session_json(app: &Router, path: &str, session: &str, body: serde_json::Value) -> Answer {
    let csrf = get(app, "/account", Some(session), "en").await.csrf();
    let c = Call {
        session: Some(session),
        json: Some(body.to_string()),
        headers: vec![("x-csrf-token", csrf)],
        ..Call::default()
    };
    call(app, Method::POST, path, c).await
}

/// Uses the session every ten minutes for `minutes`, so it is old but not idle.
async fn keep_busy(h: &Harness, session: &str, minutes: i64) {
    for _ in 0..minutes / 10 {
        h.clock.advance(Duration::minutes(10));
        h.tutela.session_principal(session, None).await.unwrap();
    }
}

async fn the_api_sets_policies_and_asks_for_a_fresh_proof(backend: Backend) {
    let h = Harness::new(backend).await;
    let api = api(&h);
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let (_, admin) = user_with_token(&h, "admin@example.com", &["administrator"], ADMIN).await;
    let (_, sales) = user_with_token(&h, "sales@example.com", &["sales"], &[Permission::CustomerRead]).await;
    let steward_role = role_id(&h, "data-steward").await;
    let path = format!("/api/v1/access/sign-in-policies/{steward_role}");

    api.put(&path, &admin, json!({"reauth_minutes": 0}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("reauth_minutes"));
    api.put(&path, &admin, json!({"factor": "fido"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("factor"));
    api.put(&path, &admin, json!({"hours": 2})).await.problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    api.put(&path, &sales, json!({"reauth_minutes": 15})).await.problem(StatusCode::FORBIDDEN, None);
    let unknown = format!("/api/v1/access/sign-in-policies/{}", Uuid::new_v4());
    api.put(&unknown, &admin, json!({})).await.problem(StatusCode::NOT_FOUND, None);
    let set = api.put(&path, &admin, json!({"reauth_minutes": 15})).await.ok(StatusCode::OK);
    assert_eq!(set["factor"], "any");
    assert_eq!(set["reauth_minutes"], 15);
    let listed = api.get("/api/v1/access/sign-in-policies", &admin).await.ok(StatusCode::OK);
    let row = listed.as_array().unwrap().iter().find(|r| r["role"] == "data-steward").unwrap().clone();
    assert_eq!(row["reauth_minutes"], 15, "{listed}");
    assert!(row["session_hours"].is_null());

    let id =
        h.tutela.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap().id;
    create_user(&h, "dora@example.com", &["data-steward"]).await;
    let mut dora = SignInAs::new("dora@example.com", support::PASSWORD);
    let session = dora.sign_in(&h, None, None).await;
    let reveal = format!("/api/v1/customers/{id}/reveal");
    let body = json!({"fields": ["phone"], "purpose": "call back about the order"});
    assert_eq!(session_json(&app, &reveal, &session, body.clone()).await.status, StatusCode::OK);

    keep_busy(&h, &session, 20).await;
    let refused = session_json(&app, &reveal, &session, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("urn:tutela:problem:reauthentication-required"), "{}", refused.body);

    let wrong = session_json(&app, "/api/v1/auth/reauth", &session, json!({"code": "000000"})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let no_csrf = Call { session: Some(&session), json: Some(json!({"code": "1"}).to_string()), ..Call::default() };
    assert_eq!(call(&app, Method::POST, "/api/v1/auth/reauth", no_csrf).await.status, StatusCode::FORBIDDEN);
    api.post("/api/v1/auth/reauth", &sales, json!({"code": "123456"})).await.problem(StatusCode::FORBIDDEN, None);
    // A bearer token beside the cookie decides who calls: still no session to confirm.
    let both = Call {
        session: Some(&session),
        json: Some(json!({"code": "123456"}).to_string()),
        headers: vec![("authorization", format!("Bearer {sales}"))],
        ..Call::default()
    };
    assert_eq!(call(&app, Method::POST, "/api/v1/auth/reauth", both).await.status, StatusCode::FORBIDDEN);
    let ok = session_json(&app, "/api/v1/auth/reauth", &session, json!({"code": dora.fresh_code(&h)})).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(session_json(&app, &reveal, &session, body).await.status, StatusCode::OK);
    h.close().await;
}

async fn the_console_confirms_and_comes_back(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    create_user(&h, "admin@example.com", &["administrator"]).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    create_user(&h, "dora@example.com", &["data-steward"]).await;
    let admin = sign_in(&h, "admin@example.com").await;
    let sales = sign_in(&h, "sales@example.com").await;

    let zh = get(&app, "/access/sign-in", Some(&admin), "zh-CN").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("登录策略") && zh.body.contains("服务器默认"), "{}", zh.body);
    let csrf = zh.csrf();
    let steward_role = role_id(&h, "data-steward").await.to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let c = Call { session: Some(&admin), lang: Some("en"), form: Some(form(&pairs)), ..Call::default() };
        call(&app, Method::POST, "/access/sign-in", c)
    };
    let bad = post(vec![
        ("_csrf", csrf.clone()),
        ("role", steward_role.clone()),
        ("factor", "any".into()),
        ("session_hours", "eight".into()),
        ("reauth_minutes", "15".into()),
    ])
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("&#34;eight&#34; is not a whole number") && bad.body.contains("value=\"15\""),
        "{}",
        bad.body
    );
    let range = post(vec![
        ("_csrf", csrf.clone()),
        ("role", steward_role.clone()),
        ("factor", "any".into()),
        ("idle_minutes", "1".into()),
    ])
    .await;
    assert!(range.body.contains("must be between 5 and 480"), "{}", range.body);
    let saved =
        post(vec![("_csrf", csrf), ("role", steward_role), ("factor", "any".into()), ("reauth_minutes", "15".into())])
            .await;
    assert_eq!(saved.headers["location"], "/access/sign-in?notice=saved");
    let en = get(&app, "/access/sign-in?notice=saved", Some(&admin), "en").await;
    assert!(en.body.contains("The sign-in policy was saved.") && en.body.contains("<td>15</td>"), "{}", en.body);
    assert_eq!(get(&app, "/access/sign-in", Some(&sales), "en").await.status, StatusCode::FORBIDDEN);

    // A reveal past the window goes to the confirmation page, which comes back to the record.
    let id =
        h.tutela.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13800138000")])).await.unwrap().id;
    let mut dora = SignInAs::new("dora@example.com", support::PASSWORD);
    let session = dora.sign_in(&h, None, None).await;
    keep_busy(&h, &session, 20).await;
    let record = format!("/customers/{id}");
    let page = get(&app, &record, Some(&session), "en").await;
    let c = Call {
        session: Some(&session),
        lang: Some("en"),
        form: Some(form(&[("_csrf", &page.csrf()), ("purpose", "call back about the order")])),
        headers: vec![("hx-request", "true".into()), ("hx-current-url", format!("https://localhost:8443{record}"))],
        ..Call::default()
    };
    let revealed = call(&app, Method::POST, &format!("/customers/{id}/reveal/phone"), c).await;
    let to = revealed.headers["hx-redirect"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/reauth?next=%2Fcustomers%2F{id}"));
    let confirm = get(&app, &to, Some(&session), "zh-CN").await;
    assert!(
        confirm.body.contains("确认身份") && confirm.body.contains(&format!("name=\"next\" value=\"/customers/{id}\"")),
        "{}",
        confirm.body
    );
    let submit = |code: String, next: &str| {
        let c = Call {
            session: Some(&session),
            lang: Some("en"),
            form: Some(form(&[("_csrf", &confirm.csrf()), ("code", &code), ("next", next)])),
            ..Call::default()
        };
        call(&app, Method::POST, "/reauth", c)
    };
    let wrong = submit("000000".into(), &record).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("That code is wrong or was already used."), "{}", wrong.body);
    let elsewhere = submit(dora.fresh_code(&h), "https://evil.example/").await;
    assert_eq!(elsewhere.location(), "/", "a next off this site goes home");
    let back = submit(dora.fresh_code(&h), &record).await;
    assert_eq!(back.location(), record);
    h.close().await;
}

tutela_core::on_both_stores! {
    api => the_api_sets_policies_and_asks_for_a_fresh_proof;
    console => the_console_confirms_and_comes_back;
}
