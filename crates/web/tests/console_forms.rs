//! The console's forms end to end at router level, on both stores: first-administrator setup,
//! sign-in through password, enrolment and second factor, and the administration pages.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use secrecy::ExposeSecret as _;
use support::{Answer, Call, call, create_user, form, get, sign_in};
use tutela_core::testing::{Backend, Harness, steward, values};
use tutela_crypto::totp;
use tutela_web::{AppState, router};

fn app(h: &Harness) -> Router {
    router(AppState { tutela: h.tutela.clone(), secure_cookies: true })
}

async fn post(app: &Router, path: &str, session: Option<&str>, body: &[(&str, &str)]) -> Answer {
    call(app, Method::POST, path, Call { session, lang: Some("en"), form: Some(form(body)), ..Call::default() }).await
}

/// The session cookie a response sets.
fn new_session(a: &Answer) -> String {
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.strip_prefix("__Host-tutela=").unwrap().split(';').next().unwrap().to_owned()
}

fn code_now(h: &Harness, key: &[u8]) -> String {
    totp::current_code(key, u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap()).unwrap()
}

async fn setup_creates_the_first_administrator(backend: Backend) {
    let h = Harness::new(backend).await;
    let app = app(&h);
    let token = h.tutela.setup_token().await.unwrap().unwrap();
    let token = token.expose_secret();
    let fields = |token: &str, password: &str| {
        form(&[("token", token), ("email", "root@example.com"), ("display_name", "Root"), ("password", password)])
    };
    let submit = |body: String| {
        call(&app, Method::POST, "/setup", Call { lang: Some("en"), form: Some(body), ..Call::default() })
    };
    let a = submit(fields("setup_wrong", "a long enough password")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("The setup link is invalid"));
    let a = submit(fields(token, "short")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "a short password is refused");
    assert!(
        a.body.contains("Use at least 12 characters.") && a.body.contains(&format!("value=\"{token}\"")),
        "the token is kept"
    );
    let a = submit(fields(token, "a long enough password")).await;
    assert_eq!(a.location(), "/login?notice=setup-done");
    assert!(
        get(&app, "/login?notice=setup-done", None, "en").await.body.contains("The administrator account is ready")
    );
    assert_eq!(
        submit(fields(token, "a long enough password")).await.status,
        StatusCode::UNAUTHORIZED,
        "the link works once"
    );
    h.close().await;
}

async fn sign_in_through_the_forms(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    let app = app(&h);
    let a = post(&app, "/login", None, &[("email", "sales@example.com"), ("password", "wrong password")]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("Wrong e-mail or password") && a.body.contains("value=\"sales@example.com\""));
    let a = post(&app, "/login", None, &[("email", "sales@example.com"), ("password", support::PASSWORD)]).await;
    assert_eq!(a.location(), "/login/enrol");
    let pending = new_session(&a);
    // Enrolment: the key on the page, a code, then the recovery codes once.
    let page = get(&app, "/login/enrol", Some(&pending), "en").await;
    let start = page.body.find("id=\"totp-secret\">").unwrap() + 17;
    let secret: String = page.body[start..start + page.body[start..].find('<').unwrap()].split_whitespace().collect();
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    let csrf = page.csrf();
    let a = post(&app, "/login/enrol", Some(&pending), &[("_csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "a wrong code starts over with a new key");
    let page = a;
    let start = page.body.find("id=\"totp-secret\">").unwrap() + 17;
    let secret: String = page.body[start..start + page.body[start..].find('<').unwrap()].split_whitespace().collect();
    let key_again = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    assert_ne!(key, key_again);
    let a = post(&app, "/login/enrol", Some(&pending), &[("_csrf", &csrf), ("code", &code_now(&h, &key_again))]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.matches("<li><code>").count(), 10, "ten recovery codes");
    let session = new_session(&a);
    assert_ne!(session, pending, "a new session id after the second factor");
    assert_eq!(get(&app, "/", Some(&session), "en").await.location(), "/customers");
    // The next sign-in asks for a code; a used one is refused, a fresh one accepted.
    let a = post(&app, "/login", None, &[("email", "sales@example.com"), ("password", support::PASSWORD)]).await;
    assert_eq!(a.location(), "/login/second-factor");
    let pending = new_session(&a);
    let csrf = get(&app, "/login/second-factor", Some(&pending), "en").await.csrf();
    let a =
        post(&app, "/login/second-factor", Some(&pending), &[("_csrf", &csrf), ("code", &code_now(&h, &key_again))])
            .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "replayed code");
    assert!(a.body.contains("That code was not accepted"));
    assert_eq!(
        post(&app, "/login/second-factor", Some(&pending), &[("code", "123456")]).await.status,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    h.clock.advance(time::Duration::seconds(30));
    let a =
        post(&app, "/login/second-factor", Some(&pending), &[("_csrf", &csrf), ("code", &code_now(&h, &key_again))])
            .await;
    assert_eq!(a.location(), "/");
    assert_eq!(get(&app, "/customers", Some(&new_session(&a)), "en").await.status, StatusCode::OK);
    h.close().await;
}

/// An administrator and a support user; the administrator signed in, with the CSRF token
/// read from `page`.
async fn admin_on(h: &Harness, page: &str) -> (Router, String, String) {
    create_user(h, "admin@example.com", &["administrator"]).await;
    create_user(h, "target@example.com", &["support"]).await;
    let admin = sign_in(h, "admin@example.com").await;
    let app = app(h);
    let csrf = get(&app, page, Some(&admin), "en").await.csrf();
    (app, admin, csrf)
}

async fn administration_pages(backend: Backend) {
    let h = Harness::new(backend).await;
    let (app, admin, csrf) = admin_on(&h, "/schema").await;
    let s = Some(admin.as_str());
    // Schema: a bad id is named next to its field; a good field is saved and deleted.
    let field = |id: &'static str| {
        vec![
            ("_csrf", csrf.as_str()),
            ("id", id),
            ("label_en", "Loyalty"),
            ("label_zh", "忠诚度"),
            ("kind", "text"),
            ("classification", "internal"),
            ("position", "200"),
        ]
    };
    let a = post(&app, "/schema", s, &field("Bad Id")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("a field id is 1 to 64 characters"));
    assert_eq!(post(&app, "/schema", s, &field("loyalty")).await.location(), "/schema?notice=saved");
    assert!(get(&app, "/schema?edit=loyalty", s, "en").await.body.contains("name=\"existing\" value=\"loyalty\""));
    assert_eq!(post(&app, "/schema/loyalty/delete", s, &[("_csrf", &csrf)]).await.location(), "/schema?notice=deleted");
    assert!(!h.tutela.fields().await.unwrap().iter().any(|f| f.id == "loyalty"));
    // Users: create (errors shown), change roles, disable.
    let user = |password: &'static str| {
        vec![
            ("_csrf", csrf.as_str()),
            ("email", "new@example.com"),
            ("display_name", "New"),
            ("password", password),
            ("roles", "support"),
            ("roles", "auditor"),
        ]
    };
    let a = post(&app, "/users", s, &user("short")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body.contains("Use at least 12 characters.")
            && a.body.contains("value=\"new@example.com\"")
            && !a.body.contains("value=\"short\"")
    );
    assert_eq!(post(&app, "/users", s, &user("a long enough password")).await.location(), "/users?notice=created");
    let users = h.tutela.users(&tutela_core::testing::operator()).await.unwrap();
    let created = users.iter().find(|u| u.email == "new@example.com").unwrap();
    assert_eq!(created.roles.len(), 2);
    let target = users.iter().find(|u| u.email == "target@example.com").unwrap().id;
    post(&app, &format!("/users/{target}/roles"), s, &[("_csrf", &csrf), ("roles", "sales")]).await;
    post(&app, &format!("/users/{target}/status"), s, &[("_csrf", &csrf), ("status", "disabled")]).await;
    let page = get(&app, "/users", s, "zh-CN").await;
    assert!(page.body.contains("停用") && page.body.contains("已设置"), "status and 2FA shown");
    let target =
        h.tutela.users(&tutela_core::testing::operator()).await.unwrap().into_iter().find(|u| u.id == target).unwrap();
    assert_eq!((target.roles, target.status.as_str()), (vec!["sales".to_owned()], "disabled"));
    // Audit: filters, a bad id named, paging to older events, verification.
    let a = get(&app, "/audit?action=user.create", s, "en").await;
    assert!(a.body.contains("<code>user.create</code>") && !a.body.contains("<code>schema.create_field</code>"));
    let a = get(&app, "/audit?actor_id=nope", s, "en").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("Enter a complete ID"));
    for _ in 0..60 {
        h.tutela.verify_audit_as(&tutela_core::testing::operator()).await.unwrap();
    }
    let first = get(&app, "/audit", s, "en").await;
    let older = first
        .body
        .split("href=\"")
        .find(|p| p.starts_with("/audit?before="))
        .expect("an older link")
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(get(&app, &older, s, "en").await.body.contains("← Newest"));
    let a = call(
        &app,
        Method::POST,
        "/audit/verify",
        Call {
            session: s,
            lang: Some("en"),
            headers: vec![("x-csrf-token", csrf.clone()), ("hx-request", "true".into())],
            ..Call::default()
        },
    )
    .await;
    assert!(a.body.contains("id=\"verify-ok\""), "{}", a.body);
    h.close().await;
}

async fn erasure_needs_a_reason_and_confirmation(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "steward@example.com", &["data-steward"]).await;
    let session = sign_in(&h, "steward@example.com").await;
    let app = app(&h);
    let id = h.tutela.create_customer(&steward(), values(&[("name", "To erase")])).await.unwrap().id;
    let detail = get(&app, &format!("/customers/{id}"), Some(&session), "en").await;
    assert!(detail.body.contains("Erase this customer"));
    let csrf = detail.csrf();
    let path = format!("/customers/{id}/erase");
    let a = post(&app, &path, Some(&session), &[("_csrf", &csrf), ("reason", "customer asked")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("Tick the box"));
    let a = post(&app, &path, Some(&session), &[("_csrf", &csrf), ("reason", " "), ("confirm", "on")]).await;
    assert!(a.body.contains("give a reason"), "{}", a.body);
    let a =
        post(&app, &path, Some(&session), &[("_csrf", &csrf), ("reason", "customer asked"), ("confirm", "on")]).await;
    assert_eq!(a.location(), "/customers?notice=erased");
    assert_eq!(get(&app, &format!("/customers/{id}"), Some(&session), "en").await.status, StatusCode::NOT_FOUND);
    h.close().await;
}

/// The users page: the password policy's reasons in both languages next to the field, and a
/// locked user shown with the end of the lock and a button that lifts it.
async fn users_page_explains_passwords_and_lifts_lockouts(backend: Backend) {
    let h = Harness::new(backend).await;
    let (app, admin, csrf) = admin_on(&h, "/users").await;
    let s = Some(admin.as_str());
    let user = |password: &'static str| {
        vec![
            ("_csrf", csrf.as_str()),
            ("email", "new@example.com"),
            ("display_name", "New"),
            ("password", password),
            ("roles", "support"),
        ]
    };
    let a = post(&app, "/users", s, &user("Password1234")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("This password is on a list of common or breached passwords."), "{}", a.body);
    let zh = call(
        &app,
        Method::POST,
        "/users",
        Call { session: s, lang: Some("zh-CN"), form: Some(form(&user("new.new.new.new"))), ..Call::default() },
    )
    .await;
    assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh.body.contains("去掉其中的电子邮箱、姓名或“Tutela”后，剩余不足 12 个字符。"), "{}", zh.body);
    assert!(
        h.tutela.users(&tutela_core::testing::operator()).await.unwrap().iter().all(|u| u.email != "new@example.com")
    );
    let target = h.tutela.users(&tutela_core::testing::operator()).await.unwrap();
    let target = target.iter().find(|u| u.email == "target@example.com").unwrap().id;
    for _ in 0..5 {
        assert!(h.tutela.login("target@example.com", "wrong password here".into(), None, None).await.is_err());
    }
    let page = get(&app, "/users", s, "en").await;
    assert!(page.body.contains("Sign-in paused until") && page.body.contains(&format!("/users/{target}/unlock")));
    assert!(get(&app, "/users", s, "zh-CN").await.body.contains("登录暂停至"));
    let a = post(&app, &format!("/users/{target}/unlock"), s, &[("_csrf", &csrf)]).await;
    assert_eq!(a.location(), "/users?notice=unlocked");
    let page = get(&app, "/users?notice=unlocked", s, "en").await;
    assert!(page.body.contains("The sign-in lockout was cleared.") && !page.body.contains("Sign-in paused until"));
    assert!(h.tutela.login("target@example.com", support::PASSWORD.into(), None, None).await.is_ok());
    h.close().await;
}

/// After five failures the right password gets the very page a wrong one gets, in both
/// languages, and so does an account that does not exist.
async fn a_locked_sign_in_looks_like_a_wrong_password(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    let app = app(&h);
    let attempt = async |email: &str, password: &str, lang: &str| {
        let c =
            Call { lang: Some(lang), form: Some(form(&[("email", email), ("password", password)])), ..Call::default() };
        let a = call(&app, Method::POST, "/login", c).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{email}");
        a.body.replace(email, "EMAIL")
    };
    let wrong = attempt("sales@example.com", "wrong password here", "en").await;
    assert!(wrong.contains("Wrong e-mail or password. After repeated failures sign-in pauses for a while"));
    for _ in 0..4 {
        attempt("sales@example.com", "wrong password here", "en").await;
    }
    assert_eq!(attempt("sales@example.com", support::PASSWORD, "en").await, wrong, "locked looks wrong");
    assert_eq!(attempt("nobody@example.com", support::PASSWORD, "en").await, wrong, "unknown looks wrong");
    let zh = attempt("sales@example.com", support::PASSWORD, "zh-CN").await;
    assert!(zh.contains("电子邮箱或密码错误。多次失败后登录会暂停一段时间"), "{zh}");
    h.close().await;
}

tutela_core::on_both_stores! {
    a_locked_sign_in_looks_like_a_wrong_password_ => a_locked_sign_in_looks_like_a_wrong_password;
    setup_creates_the_first_administrator_ => setup_creates_the_first_administrator;
    sign_in_through_the_forms_ => sign_in_through_the_forms;
    administration_pages_ => administration_pages;
    users_page_explains_passwords_and_lifts_lockouts_ => users_page_explains_passwords_and_lifts_lockouts;
    erasure_needs_a_reason_and_confirmation_ => erasure_needs_a_reason_and_confirmation;
}
