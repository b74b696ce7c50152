//! The Allowed networks page at router level, on both stores: both languages, a malformed
//! range refused by entry with the input kept, a saved range listed, read-only for auditors,
//! refused to others.

mod support;

use axum::http::{Method, StatusCode};
use support::{Call, call, create_user, form, get, sign_in};
use tutela_core::testing::{Backend, Harness, operator};
use tutela_web::{AppState, router};

async fn ranges_are_set_from_the_console(backend: Backend) {
    let h = Harness::new(backend).await;
    for (email, roles) in [
        ("admin@example.com", &["administrator"][..]),
        ("auditor@example.com", &["auditor"]),
        ("sales@example.com", &["sales"]),
    ] {
        create_user(&h, email, roles).await;
    }
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let (admin, auditor, sales) = (
        sign_in(&h, "admin@example.com").await,
        sign_in(&h, "auditor@example.com").await,
        sign_in(&h, "sales@example.com").await,
    );
    let zh = get(&app, "/access/networks", Some(&admin), "zh-CN").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("允许的网络") && zh.body.contains("没有地址限制"), "{}", zh.body);
    let csrf = zh.csrf();
    let sales_role = h.tutela.roles(&operator()).await.unwrap().into_iter().find(|r| r.name == "sales").unwrap().id;
    let subject = format!("role:{sales_role}");
    let post = |body: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let c = Call { session: Some(&admin), lang: Some("en"), form: Some(form(&pairs)), ..Call::default() };
        call(&app, Method::POST, "/access/networks", c)
    };
    let bad =
        post(vec![("_csrf", csrf.clone()), ("subject", subject.clone()), ("networks", "10.0.0.0/8\nhq".into())]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("entry 2: &#34;hq&#34;") && bad.body.contains("10.0.0.0/8\nhq"), "{}", bad.body);
    let nobody = post(vec![("_csrf", csrf.clone()), ("subject", "group:1".into()), ("networks", String::new())]).await;
    assert!(nobody.body.contains("Choose a role or a user."), "{}", nobody.body);
    let saved =
        post(vec![("_csrf", csrf.clone()), ("subject", subject), ("networks", "10.1.0.0/16\n2001:db8::1/32".into())])
            .await;
    assert_eq!(saved.headers["location"], "/access/networks?notice=saved");

    let listed = get(&app, "/access/networks", Some(&auditor), "en").await;
    assert!(
        listed.body.contains("Role · sales") && listed.body.contains("10.1.0.0/16, 2001:db8::/32"),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains("networks-form"), "auditors read only");
    assert_eq!(get(&app, "/access/networks", Some(&sales), "en").await.status, StatusCode::FORBIDDEN);
    h.close().await;
}

tutela_core::on_both_stores! {
    ranges_are_set_from_the_console_ => ranges_are_set_from_the_console;
}
