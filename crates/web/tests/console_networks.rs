//! The Allowed networks page at router level, on both stores: both languages, a malformed
//! range refused by entry with the input kept, a saved range listed, read-only for auditors,
//! refused to others; and a user limiting their own API token from the account page.

use crate::support;

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

/// A user limits their own API token to a range from the account page; a bad range is refused
/// by entry; someone else's token is not theirs to limit.
async fn a_user_limits_their_own_token(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    create_user(&h, "other@example.com", &["sales"]).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let (sales, other) = (sign_in(&h, "sales@example.com").await, sign_in(&h, "other@example.com").await);
    let me = h.tutela.session_principal(&sales, None).await.unwrap();
    let token = h.tutela.create_api_token(&me, "script", &["customer.read".to_owned()], None).await.unwrap();
    let secret = secrecy::ExposeSecret::expose_secret(&token.token).to_owned();
    let path = format!("/account/tokens/{}/networks", token.id);
    let csrf = get(&app, "/account", Some(&sales), "en").await.csrf();
    let post = |networks: &'static str| {
        let pairs = [("_csrf", csrf.as_str()), ("networks", networks)];
        let c = Call { session: Some(sales.as_str()), lang: Some("en"), form: Some(form(&pairs)), ..Call::default() };
        call(&app, Method::POST, &path, c)
    };
    let bad = post("10.0.0.0/8, office").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("entry 2"), "{}", bad.body);
    let saved = post("10.0.0.0/8, 192.0.2.7").await;
    assert_eq!(saved.headers["location"], "/account?notice=token-networks");
    let page = get(&app, "/account?notice=token-networks", Some(&sales), "zh-CN").await;
    assert!(page.body.contains("value=\"10.0.0.0/8, 192.0.2.7/32\"") && page.body.contains("令牌的地址范围已保存"));
    assert!(h.tutela.token_principal(&secret, Some("10.9.8.7".into())).await.is_ok());
    assert!(h.tutela.token_principal(&secret, Some("198.51.100.1".into())).await.is_err(), "outside its ranges");
    let other_csrf = get(&app, "/account", Some(&other), "en").await.csrf();
    let pairs = [("_csrf", other_csrf.as_str()), ("networks", "")];
    let c = Call { session: Some(&other), lang: Some("en"), form: Some(form(&pairs)), ..Call::default() };
    assert_eq!(call(&app, Method::POST, &path, c).await.status, StatusCode::FORBIDDEN);
    h.close().await;
}

tutela_core::on_both_stores! {
    ranges_are_set_from_the_console_ => ranges_are_set_from_the_console;
    a_user_limits_their_own_token_ => a_user_limits_their_own_token;
}
