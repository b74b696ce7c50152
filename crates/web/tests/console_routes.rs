//! The console at router level, on both stores: sign-in redirects, both languages, CSRF on
//! every change, the strict CSP with no inline script, form errors next to their field.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use support::{Call, call, create_user, form, get, sign_in};
use tutela_core::testing::{Backend, Harness, steward, values};
use tutela_web::{AppState, router};
use uuid::Uuid;

struct Fixture {
    h: Harness,
    app: Router,
    admin: String,
    sales: String,
    support: String,
    steward: String,
    customer: Uuid,
}

async fn fixture(backend: Backend) -> Fixture {
    let h = Harness::new(backend).await;
    for (email, roles) in [
        ("admin@example.com", &["administrator"][..]),
        ("sales@example.com", &["sales"]),
        ("support@example.com", &["support"]),
        ("steward@example.com", &["data-steward"]),
    ] {
        create_user(&h, email, roles).await;
    }
    let fields = values(&[
        ("name", "张三"),
        ("phone", "13812345678"),
        ("email", "zhang@example.com"),
        ("national_id", "11010519491231002X"),
    ]);
    let customer = h.tutela.create_customer(&steward(), fields).await.unwrap().id;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    Fixture {
        admin: sign_in(&h, "admin@example.com").await,
        sales: sign_in(&h, "sales@example.com").await,
        support: sign_in(&h, "support@example.com").await,
        steward: sign_in(&h, "steward@example.com").await,
        h,
        app,
        customer,
    }
}

async fn signed_out_goes_to_login(backend: Backend) {
    let f = fixture(backend).await;
    for path in
        ["/", "/customers", "/customers/new", "/schema", "/users", "/import", "/audit", "/console/watermark.svg"]
    {
        let a = get(&f.app, path, None, "en").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(a.location(), "/login", "{path}");
        let a = get(&f.app, path, Some("tss_not-a-session"), "en").await;
        assert_eq!(a.location(), "/login", "{path} with a stale cookie");
    }
    // htmx fetches get HX-Redirect, so that the whole page goes to sign-in.
    let a =
        call(&f.app, Method::GET, "/audit", Call { headers: vec![("hx-request", "true".into())], ..Call::default() })
            .await;
    assert_eq!(a.headers["hx-redirect"], "/login");
    // A pending session (password only) goes to the second factor, not into the console.
    let pending =
        f.h.tutela
            .login("sales@example.com", secrecy::SecretString::from(support::PASSWORD.to_owned()), None, None)
            .await
            .unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&pending.pending_token).to_owned();
    let a = get(&f.app, "/customers", Some(&token), "en").await;
    assert_eq!(a.location(), "/login/second-factor");
    let a = get(&f.app, "/login/second-factor", Some(&token), "en").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Two-step verification"));
    f.h.close().await;
}

async fn pages_in_both_languages(backend: Backend) {
    let f = fixture(backend).await;
    let customer = format!("/customers/{}", f.customer);
    let pages: Vec<(&str, Option<&str>, &str, &str)> = vec![
        ("/login", None, "Sign in", "登录"),
        ("/setup", None, "Create the first administrator", "创建首个管理员"),
        ("/customers", Some(f.sales.as_str()), "New customer", "新建客户"),
        (customer.as_str(), Some(f.sales.as_str()), "Classification", "密级"),
        ("/customers/new", Some(f.sales.as_str()), "New customer", "新建客户"),
        ("/schema", Some(f.admin.as_str()), "Customer schema", "客户字段定义"),
        ("/users", Some(f.admin.as_str()), "Users and roles", "用户与角色"),
        ("/audit", Some(f.admin.as_str()), "Verify chain", "校验哈希链"),
        ("/import", Some(f.steward.as_str()), "Start import", "开始导入"),
        ("/no/such/page", None, "Not found", "未找到"),
    ];
    for (path, session, en, zh) in pages {
        let a = get(&f.app, path, session, "en-US,en;q=0.9").await;
        assert!(a.body.contains(en) && a.body.contains("<html lang=\"en\">"), "{path} in English: {}", a.body);
        let a = get(&f.app, path, session, "zh-CN,zh;q=0.9").await;
        assert!(a.body.contains(zh) && a.body.contains("<html lang=\"zh-CN\">"), "{path} in Chinese: {}", a.body);
        let a = call(
            &f.app,
            Method::GET,
            path,
            Call { session, lang: Some("zh-CN"), cookie: Some("lang=en"), ..Call::default() },
        )
        .await;
        assert!(a.body.contains(en), "{path}: the lang cookie beats Accept-Language");
    }
    // The switch remembers the choice and returns to a local page only.
    let a = get(&f.app, "/lang/en?next=/customers", None, "zh-CN").await;
    assert_eq!(a.location(), "/customers");
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("lang=en") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"),
        "{cookie}"
    );
    assert_eq!(get(&f.app, "/lang/zh-CN?next=//evil.example", None, "en").await.location(), "/");
    // Navigation shows only what the roles allow.
    let sales = get(&f.app, "/customers", Some(&f.sales), "en").await;
    assert!(
        sales.body.contains("href=\"/customers\"")
            && !sales.body.contains("href=\"/audit\"")
            && !sales.body.contains("href=\"/users\"")
    );
    let admin = get(&f.app, "/audit", Some(&f.admin), "en").await;
    assert!(admin.body.contains("href=\"/users\"") && !admin.body.contains("href=\"/customers\""));
    assert_eq!(
        get(&f.app, "/customers", Some(&f.admin), "en").await.status,
        StatusCode::FORBIDDEN,
        "administration is not customer data"
    );
    assert_eq!(get(&f.app, "/", Some(&f.admin), "en").await.location(), "/schema");
    f.h.close().await;
}

async fn changes_need_the_csrf_token(backend: Backend) {
    let f = fixture(backend).await;
    let page = get(&f.app, "/customers/new", Some(&f.sales), "en").await;
    let csrf = page.csrf();
    let before = f.h.tutela.customer_count().await.unwrap();
    let post = |body: String, headers: Vec<(&'static str, String)>| {
        call(
            &f.app,
            Method::POST,
            "/customers/new",
            Call { session: Some(&f.sales), lang: Some("en"), form: Some(body), headers, ..Call::default() },
        )
    };
    let a = post(form(&[("f_name", "No token")]), vec![]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = post(form(&[("f_name", "Wrong token"), ("_csrf", "AAAA")]), vec![]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a =
        post(form(&[("f_name", "Other site"), ("_csrf", &csrf)]), vec![("sec-fetch-site", "cross-site".into())]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(f.h.tutela.customer_count().await.unwrap(), before, "nothing written without the token");
    let a =
        post(form(&[("f_name", "With field"), ("_csrf", &csrf)]), vec![("sec-fetch-site", "same-origin".into())]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(a.location().starts_with("/customers/"));
    let a = post(form(&[("f_name", "With header")]), vec![("x-csrf-token", csrf.clone())]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(f.h.tutela.customer_count().await.unwrap(), before + 2);
    // Another session's token is no good, and signing out needs the token too.
    let other = get(&f.app, "/customers", Some(&f.support), "en").await.csrf();
    assert_eq!(post(form(&[("f_name", "Stolen"), ("_csrf", &other)]), vec![]).await.status, StatusCode::FORBIDDEN);
    let a = call(
        &f.app,
        Method::POST,
        "/logout",
        Call { session: Some(&f.sales), form: Some(String::new()), ..Call::default() },
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = call(
        &f.app,
        Method::POST,
        "/logout",
        Call { session: Some(&f.sales), form: Some(form(&[("_csrf", &csrf)])), ..Call::default() },
    )
    .await;
    assert_eq!(a.location(), "/login?notice=signed-out");
    assert_eq!(get(&f.app, "/customers", Some(&f.sales), "en").await.location(), "/login", "the session ended");
    f.h.close().await;
}

/// `<script` only with a `src` under /assets; no inline handlers or styles.
fn assert_no_inline_code(path: &str, html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/assets/"), "{path}: inline or foreign script {tag}");
        assert!(html[i..].starts_with(&format!("{tag}></script>")), "{path}: script with a body");
    }
    for bad in [" style=", "<style", " hx-on", " onclick=", " onload=", " onsubmit=", "javascript:"] {
        assert!(!html.contains(bad), "{path} contains {bad}");
    }
}

async fn strict_csp_and_no_inline_script(backend: Backend) {
    let f = fixture(backend).await;
    let customer = format!("/customers/{}", f.customer);
    let reveal = format!("/customers/{}/reveal/phone", f.customer);
    let pages = [
        ("/login", None),
        ("/setup", None),
        ("/customers", Some(&f.sales)),
        (customer.as_str(), Some(&f.sales)),
        (reveal.as_str(), Some(&f.sales)),
        ("/customers/new", Some(&f.sales)),
        ("/schema", Some(&f.admin)),
        ("/users", Some(&f.admin)),
        ("/audit", Some(&f.admin)),
        ("/import", Some(&f.steward)),
    ];
    for (path, session) in pages {
        let a = get(&f.app, path, session.map(String::as_str), "en").await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{path}");
        assert_eq!(a.headers[header::CACHE_CONTROL], "no-store", "{path}: pages are not cached");
        assert_no_inline_code(path, &a.body);
    }
    let page = get(&f.app, "/customers", Some(&f.sales), "en").await;
    assert!(page.body.contains("class=\"watermark\""), "customer pages carry the watermark");
    let htmx = page
        .body
        .split("src=\"")
        .find(|s| s.starts_with("/assets/vendor/htmx"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let a = get(&f.app, &htmx, None, "en").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
    assert!(
        a.headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"),
        "a versioned asset is cached for good"
    );
    let mark = get(&f.app, "/console/watermark.svg?at=0", Some(&f.sales), "en").await;
    assert_eq!(mark.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(mark.body.contains("sales@example.com"));
    f.h.close().await;
}

async fn bad_input_shows_next_to_its_field(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/customers/new", Some(&f.sales), "zh-CN").await.csrf();
    let body = form(&[("_csrf", &csrf), ("f_name", "李四"), ("f_email", "not-an-address")]);
    let a = call(
        &f.app,
        Method::POST,
        "/customers/new",
        Call { session: Some(&f.sales), lang: Some("zh-CN"), form: Some(body), ..Call::default() },
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let email_input = a.body.find("id=\"f_email\"").unwrap();
    let error = a.body.find("not an e-mail address").expect("the message is shown");
    let phone_input = a.body.find("id=\"f_phone\"").unwrap();
    assert!(email_input < error && error < phone_input, "the message stands next to the e-mail field");
    assert!(a.body.contains("value=\"李四\""), "what was typed is kept");
    // Optimistic locking: an edit based on an old version says so.
    let path = format!("/customers/{}/edit", f.customer);
    let edit = get(&f.app, &path, Some(&f.sales), "en").await;
    assert!(edit.body.contains("name=\"version\" value=\"1\""));
    let body = form(&[("_csrf", &csrf), ("version", "0"), ("f_name", "王五"), ("orig_name", "张三")]);
    let a = call(
        &f.app,
        Method::POST,
        &path,
        Call { session: Some(&f.sales), lang: Some("en"), form: Some(body), ..Call::default() },
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("changed this customer meanwhile"));
    // Unknown ids and malformed ones are a page, not an error dump.
    assert_eq!(
        get(&f.app, &format!("/customers/{}", Uuid::now_v7()), Some(&f.sales), "en").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&f.app, "/customers/not-a-uuid", Some(&f.sales), "en").await.status, StatusCode::NOT_FOUND);
    f.h.close().await;
}

async fn reveal_allowed_and_denied(backend: Backend) {
    let f = fixture(backend).await;
    let detail = get(&f.app, &format!("/customers/{}", f.customer), Some(&f.support), "en").await;
    assert!(detail.body.contains("138****5678"), "masked as returned");
    assert!(
        detail.body.contains("id=\"reveal-phone\"") && !detail.body.contains("id=\"reveal-national_id\""),
        "reveal offered only where allowed"
    );
    let csrf = detail.csrf();
    let reveal = |field: &'static str, purpose: &'static str| {
        let path = format!("/customers/{}/reveal/{field}", f.customer);
        let body = form(&[("purpose", purpose)]);
        let headers = vec![("x-csrf-token", csrf.clone()), ("hx-request", "true".to_owned())];
        let session = f.support.clone();
        let app = f.app.clone();
        async move {
            call(
                &app,
                Method::POST,
                &path,
                Call { session: Some(&session), lang: Some("en"), form: Some(body), headers, ..Call::default() },
            )
            .await
        }
    };
    let a = reveal("phone", "call back about order 42").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("13812345678") && a.body.contains("hx-swap-oob"), "{}", a.body);
    let a = reveal("national_id", "verify identity").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("Not allowed") && a.body.contains("national_id"), "{}", a.body);
    assert_eq!(a.headers["hx-retarget"], "#dialog-slot");
    let a = reveal("phone", "x").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("state the purpose"), "{}", a.body);
    f.h.close().await;
}

tutela_core::on_both_stores! {
    signed_out_goes_to_login_ => signed_out_goes_to_login;
    pages_in_both_languages_ => pages_in_both_languages;
    changes_need_the_csrf_token_ => changes_need_the_csrf_token;
    strict_csp_and_no_inline_script_ => strict_csp_and_no_inline_script;
    bad_input_shows_next_to_its_field_ => bad_input_shows_next_to_its_field;
    reveal_allowed_and_denied_ => reveal_allowed_and_denied;
}
