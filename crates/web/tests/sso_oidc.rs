//! Single sign-on against a real, independently written OpenID provider (panva's certified
//! `oidc-provider`, run by Node.js on loopback; see `oidc_fixture`), through `/api/v1` and the
//! console, on both stores: accounts created just in time with the roles their groups map
//! to, groups changed at the provider changing roles at the next sign-in (audited), a
//! mapping that breaks separation of duties refused, the local second factor due unless the
//! provider asserts one, and every bad answer — wrong state, replayed code, a token for
//! another audience or from another issuer, expired or signed by a stranger, a provider that
//! is down — refused with a 4xx, audited, with no account half made.

use crate::oidc_fixture;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use oidc_fixture::{Answer, Provider, authorize};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use tutela_core::Config;
use tutela_core::identity::{SsoPolicy, UnknownUsers};
use tutela_core::testing::{Backend, Harness};
use tutela_store::{AuditFilter, AuditRecord};
use tutela_web::{AppState, router};

const SESSION: &str = "__Host-tutela";
const TICKET: &str = "__Host-tutela-sso";

fn policy() -> SsoPolicy {
    let map = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(group, role)| ((*group).to_owned(), vec![(*role).to_owned()])).collect()
    };
    SsoPolicy {
        group_roles: map(&[
            ("crm-sales", "sales"),
            ("crm-support", "support"),
            ("it-admins", "administrator"),
            ("stewards", "data-steward"),
        ]),
        unknown_users: UnknownUsers::Create,
        link_by_email: true,
        mfa_amr: vec!["mfa".into(), "hwk".into()],
        mfa_acr: Vec::new(),
    }
}

/// The provider's people. `alice`'s groups are the test's to change.
fn accounts(alice_groups: &[&str]) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let person = |email: &str, groups: &[&str], amr: &[&str]| json!({ "claims": { "email": email, "email_verified": true, "name": email, "groups": groups }, "amr": amr });
    let tampered = |email: &str, tamper: Value| {
        let mut p = person(email, &["crm-sales"], &["pwd", "mfa"]);
        p["tamper"] = tamper;
        p
    };
    json!({
        "alice": person("alice@example.com", alice_groups, &["pwd"]),
        "bob": person("bob@example.com", &["crm-sales"], &["pwd", "mfa"]),
        "carol": person("carol@example.com", &["it-admins", "stewards"], &["pwd", "mfa"]),
        "dave": person("dave@example.com", &["canteen"], &["pwd", "mfa"]),
        "mallory": tampered("mallory@example.com", json!({ "aud": "someone-else" })),
        "spoof": tampered("spoof@example.com", json!({ "iss": "https://idp.evil.example" })),
        "stale": tampered("stale@example.com", json!({ "exp": now - 600, "iat": now - 1200 })),
        "forged": tampered("forged@example.com", json!({ "foreign_key": true })),
    })
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The value the answer sets for cookie `name` (empty when it removes it).
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            pair.strip_prefix(name)?.strip_prefix('=').map(str::to_owned)
        })
    }

    fn set_cookie(&self, name: &str) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    fn problem(&self, status: StatusCode, kind: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        let problem = self.json();
        assert_eq!(problem["type"], format!("urn:tutela:problem:{kind}"), "{problem}");
        problem["detail"].as_str().unwrap_or_default().to_owned()
    }
}

async fn send(app: &Router, method: Method, path: &str, cookies: &[(&str, &str)], body: Option<Value>) -> Reply {
    let mut request = Request::builder().method(method).uri(path).header(header::ACCEPT_LANGUAGE, "zh-CN");
    let cookie: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie.join("; "));
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// Begins a sign-in over the API: the provider's URL and the ticket cookie's value.
async fn start(app: &Router) -> (String, String) {
    let reply = send(app, Method::GET, "/api/v1/auth/oidc/start", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let set = reply.set_cookie(TICKET);
    assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Lax"), "{set}");
    let url = reply.json()["authorization_url"].as_str().unwrap().to_owned();
    assert!(url.contains("code_challenge_method=S256") && url.contains("nonce="), "{url}");
    (url, reply.cookie(TICKET).unwrap())
}

async fn callback(app: &Router, ticket: Option<&str>, answer: &Answer) -> Reply {
    let cookies: Vec<(&str, &str)> = ticket.map(|t| (TICKET, t)).into_iter().collect();
    send(app, Method::POST, "/api/v1/auth/oidc/callback", &cookies, Some(answer.json())).await
}

/// A whole sign-in as `login` over the API.
async fn sign_in(app: &Router, login: &str) -> Reply {
    let (url, ticket) = start(app).await;
    let answer = authorize(&url, login).await;
    callback(app, Some(&ticket), &answer).await
}

struct Setup {
    h: Harness,
    app: Router,
    provider: Provider,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let provider = Provider::start(&accounts(&["crm-sales"])).await?;
    let config = Config { sso: Some(provider.sso(policy())), ..Config::default() };
    let h = Harness::with_config(backend, config).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    Some(Setup { h, app, provider })
}

async fn events(h: &Harness, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter { action: Some(action.into()), limit: 100, ..AuditFilter::default() };
    h.tutela.store().audit_search(&filter).await.unwrap()
}

fn detail(event: &AuditRecord) -> Value {
    serde_json::from_str(event.detail.as_deref().unwrap_or("null")).unwrap()
}

async fn roles_of(h: &Harness, email: &str) -> Vec<String> {
    let user = h.tutela.store().user_by_email(email).await.unwrap().unwrap_or_else(|| panic!("no user {email}"));
    let mut roles: Vec<String> =
        h.tutela.store().user_roles(user.id).await.unwrap().into_iter().map(|r| r.name).collect();
    roles.sort();
    roles
}

async fn me(app: &Router, session: &str) -> Reply {
    send(app, Method::GET, "/api/v1/auth/me", &[(SESSION, session)], None).await
}

/// Enrols an authenticator on a pending session, as the console's enrolment page would.
async fn enrol(h: &Harness, pending: &str) -> String {
    use secrecy::ExposeSecret as _;
    let enrolment = h.tutela.begin_totp_enrolment(pending).await.unwrap();
    let key = data_encoding::BASE32_NOPAD.decode(enrolment.secret_base32.expose_secret().as_bytes()).unwrap();
    let now = u64::try_from(h.tutela.clock().now().unix_timestamp()).unwrap();
    let code = tutela_crypto::totp::current_code(&key, now).unwrap();
    let (session, _) = h.tutela.confirm_totp_enrolment(pending, &code).await.unwrap();
    session.expose_secret().to_owned()
}

async fn created_then_regrouped(backend: Backend) {
    let Some(Setup { h, app, provider }) = setup(backend).await else { return };

    // First sign-in: the account is made with the mapped role; no MFA asserted, so the
    // session is pending and the local second factor (here: enrolment) is due.
    let first = sign_in(&app, "alice").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json()["next"], "enrol");
    assert_eq!(first.cookie(TICKET).as_deref(), Some(""), "the ticket is used up");
    let pending = first.cookie(SESSION).unwrap();
    me(&app, &pending).await.problem(StatusCode::UNAUTHORIZED, "second-factor-required");
    assert_eq!(roles_of(&h, "alice@example.com").await, ["sales"]);
    let created = events(&h, "user.create").await;
    assert_eq!((created.len(), created[0].actor.as_str()), (1, "alice@example.com"));
    assert_eq!((detail(&created[0])["via"].as_str(), &detail(&created[0])["roles"]), (Some("sso"), &json!(["sales"])));
    let link = detail(&events(&h, "auth.sso_link").await[0]);
    assert_eq!((link["by"].as_str(), link["issuer"].as_str()), (Some("created"), Some(provider.issuer.as_str())));
    let signed = detail(&events(&h, "auth.sso").await[0]);
    assert_eq!((&signed["mfa"], signed["next"].as_str()), (&json!(false), Some("enrol")));
    let session = enrol(&h, &pending).await;
    let whoami = me(&app, &session).await;
    assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.text);
    assert!(whoami.json()["permissions"].as_array().unwrap().contains(&json!("customer.write")));

    // The provider moves alice from sales to support: the next sign-in follows, audited.
    provider.set_accounts(&accounts(&["crm-support", "canteen"]));
    let second = sign_in(&app, "alice").await;
    assert_eq!(second.json()["next"], "second_factor", "{}", second.text);
    assert_eq!(roles_of(&h, "alice@example.com").await, ["support"]);
    let changes = events(&h, "user.set_roles").await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let change = detail(&changes[0]);
    assert_eq!((&change["before"], &change["roles"]), (&json!(["sales"]), &json!(["support"])));
    assert_eq!((change["via"].as_str(), &change["groups"]), (Some("sso"), &json!(["crm-support"])));
    assert_eq!(changes[0].actor, "alice@example.com");
    assert_eq!(events(&h, "user.create").await.len(), 1, "the same account, found by (issuer, subject)");

    // Unchanged groups change nothing and add no role event.
    sign_in(&app, "alice").await;
    assert_eq!(events(&h, "user.set_roles").await.len(), 1);
    h.close().await;
}

async fn asserted_mfa_signs_in_and_links_by_email(backend: Backend) {
    let Some(Setup { h, app, provider: _provider }) = setup(backend).await else { return };
    // Bob has a local account with a role the mapping does not manage.
    let bob = tutela_core::identity::NewUser {
        email: "bob@example.com".into(),
        display_name: "Bob".into(),
        password: secrecy::SecretString::from("a long enough password".to_owned()),
        roles: vec!["auditor".into()],
    };
    h.tutela.create_user(&tutela_core::testing::operator(), bob).await.unwrap();

    let reply = sign_in(&app, "bob").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["next"], "signed_in", "the provider asserted mfa");
    assert!(body["csrf_token"].as_str().is_some_and(|t| !t.is_empty()));
    let whoami = me(&app, &reply.cookie(SESSION).unwrap()).await;
    assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.text);
    assert_eq!(roles_of(&h, "bob@example.com").await, ["auditor", "sales"], "a role the mapping does not name stays");
    let link = detail(&events(&h, "auth.sso_link").await[0]);
    assert_eq!(link["by"], "email");
    let signed = detail(&events(&h, "auth.sso").await[0]);
    assert_eq!((&signed["mfa"], &signed["amr"]), (&json!(true), &json!(["pwd", "mfa"])));
    h.close().await;
}

async fn separation_of_duties_and_unmapped_groups_refuse(backend: Backend) {
    let Some(Setup { h, app, provider: _provider }) = setup(backend).await else { return };
    let refused = sign_in(&app, "carol").await;
    let message = refused.problem(StatusCode::CONFLICT, "conflict");
    assert!(message.contains("separation of duties") && message.contains("reveal.restricted"), "{message}");
    assert!(refused.cookie(SESSION).is_none(), "no session");
    let nobody = sign_in(&app, "dave").await;
    nobody.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    for email in ["carol@example.com", "dave@example.com"] {
        assert!(h.tutela.store().user_by_email(email).await.unwrap().is_none(), "{email}: no account half made");
    }
    let failed = events(&h, "auth.sso").await;
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|e| e.outcome == "failed"), "{failed:?}");
    assert!(detail(&failed[1])["reason"].as_str().unwrap().contains("separation of duties"), "{failed:?}");
    h.close().await;
}

async fn without_provisioning_or_linking_strangers_are_refused(backend: Backend) {
    let Some(provider) = Provider::start(&accounts(&["crm-sales"])).await else { return };
    let strict = SsoPolicy { unknown_users: UnknownUsers::Refuse, link_by_email: false, ..policy() };
    let h = Harness::with_config(backend, Config { sso: Some(provider.sso(strict)), ..Config::default() }).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let bob = tutela_core::identity::NewUser {
        email: "bob@example.com".into(),
        display_name: "Bob".into(),
        password: secrecy::SecretString::from("a long enough password".to_owned()),
        roles: vec!["auditor".into()],
    };
    h.tutela.create_user(&tutela_core::testing::operator(), bob).await.unwrap();

    let stranger = sign_in(&app, "alice").await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(stranger.contains("no Tutela account"), "{stranger}");
    let namesake = sign_in(&app, "bob").await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(namesake.contains("not linked"), "an e-mail alone does not take over an account: {namesake}");
    assert!(h.tutela.store().user_by_email("alice@example.com").await.unwrap().is_none());
    assert_eq!(roles_of(&h, "bob@example.com").await, ["auditor"], "bob's account is untouched");
    assert!(events(&h, "auth.sso_link").await.is_empty());
    let failed = events(&h, "auth.sso").await;
    assert_eq!(failed.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(), ["bob@example.com", "alice@example.com"]);
    h.close().await;
}

async fn bad_answers_are_refused(backend: Backend) {
    let Some(Setup { h, app, provider: _provider }) = setup(backend).await else { return };

    // Someone else's state (login CSRF): refused before the code is redeemed.
    let (url, ticket) = start(&app).await;
    let answer = authorize(&url, "alice").await;
    let forged = Answer { state: Some("not-the-state-this-browser-was-given".into()), ..answer.clone() };
    let detail_of = callback(&app, Some(&ticket), &forged).await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(detail_of.contains("state"), "{detail_of}");
    // No ticket cookie (another browser): refused.
    callback(&app, None, &answer).await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A ticket that was tampered with: refused.
    let mut altered = ticket.clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    callback(&app, Some(&altered), &answer).await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // The genuine answer still works once; replaying it is refused by the provider.
    assert_eq!(callback(&app, Some(&ticket), &answer).await.status, StatusCode::OK);
    let replay = callback(&app, Some(&ticket), &answer).await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(replay.contains("invalid_grant"), "{replay}");

    // ID tokens that fail a check, each validly signed by the provider but one.
    for (login, reason) in [("mallory", "audience"), ("spoof", "issuer"), ("stale", "xpired"), ("forged", "ignature")] {
        let refused = sign_in(&app, login).await;
        let message = refused.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert!(message.to_lowercase().contains(&reason.to_lowercase()), "{login}: {message}");
        let email = format!("{login}@example.com");
        assert!(h.tutela.store().user_by_email(&email).await.unwrap().is_none(), "{login}: no account");
    }
    // The provider's own refusal (the user cancelled) is refused too.
    let (_, ticket) = start(&app).await;
    let cancelled = Answer { error: Some("access_denied".into()), ..Answer::default() };
    callback(&app, Some(&ticket), &cancelled).await.problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    let failed: Vec<_> = events(&h, "auth.sso").await.into_iter().filter(|e| e.outcome == "failed").collect();
    assert_eq!(failed.len(), 9, "every refusal is audited: {failed:?}");
    assert_eq!(events(&h, "user.create").await.len(), 1, "alice only");
    h.close().await;
}

async fn a_provider_that_is_down(backend: Backend) {
    let Some(Setup { h, app, mut provider }) = setup(backend).await else { return };
    // Down between the start and the answer.
    let (url, ticket) = start(&app).await;
    let answer = authorize(&url, "alice").await;
    provider.stop();
    let message = callback(&app, Some(&ticket), &answer)
        .await
        .problem(StatusCode::FAILED_DEPENDENCY, "identity-provider-unavailable");
    assert!(message.contains("could not be reached"), "{message}");
    assert!(h.tutela.store().user_by_email("alice@example.com").await.unwrap().is_none());
    h.close().await;

    // Down from the start: nothing to discover.
    let config = Config { sso: Some(oidc_fixture::sso_at(&provider.issuer, policy())), ..Config::default() };
    let h = Harness::with_config(backend, config).await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let start = send(&app, Method::GET, "/api/v1/auth/oidc/start", &[], None).await;
    start.problem(StatusCode::FAILED_DEPENDENCY, "identity-provider-unavailable");
    assert!(start.cookie(TICKET).is_none());
    let failed = events(&h, "auth.sso").await;
    assert_eq!((failed.len(), failed[0].outcome.as_str()), (1, "failed"));
    // The console says so on its sign-in page, in the reader's language.
    let page = send(&app, Method::GET, "/login/sso", &[], None).await;
    assert_eq!(page.status, StatusCode::FAILED_DEPENDENCY);
    assert!(page.text.contains("暂时无法连接公司统一登录服务"), "{}", page.text);
    h.close().await;
}

async fn through_the_console(backend: Backend) {
    let Some(Setup { h, app, provider: _provider }) = setup(backend).await else { return };
    let login = send(&app, Method::GET, "/login", &[], None).await;
    assert!(login.text.contains("id=\"sso-sign-in\"") && login.text.contains("单点登录"), "{}", login.text);

    let go = send(&app, Method::GET, "/login/sso", &[], None).await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.text);
    let ticket = go.cookie(TICKET).unwrap();
    let location = go.headers[header::LOCATION].to_str().unwrap().to_owned();
    let answer = authorize(&location, "alice").await;

    let wrong = Answer { state: Some("x".into()), ..answer.clone() };
    let refused =
        send(&app, Method::GET, &format!("/login/sso/callback?{}", wrong.query()), &[(TICKET, &ticket)], None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.text.contains("单点登录未能完成"), "{}", refused.text);

    let back =
        send(&app, Method::GET, &format!("/login/sso/callback?{}", answer.query()), &[(TICKET, &ticket)], None).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert!(back.text.contains("content=\"0;url=/login/enrol\""), "{}", back.text);
    let pending = back.cookie(SESSION).unwrap();
    let enrol_page = send(&app, Method::GET, "/login/enrol", &[(SESSION, &pending)], None).await;
    assert_eq!(enrol_page.status, StatusCode::OK, "the pending session leads to enrolment");
    assert_eq!(roles_of(&h, "alice@example.com").await, ["sales"]);
    h.close().await;
}

tutela_core::on_both_stores! {
    created_just_in_time_then_regrouped => created_then_regrouped;
    asserted_mfa_signs_in_directly_and_links_by_email => asserted_mfa_signs_in_and_links_by_email;
    conflicting_or_unmapped_roles_are_refused => separation_of_duties_and_unmapped_groups_refuse;
    strangers_are_refused_without_provisioning_or_linking => without_provisioning_or_linking_strangers_are_refused;
    bad_answers_get_4xx_and_are_audited => bad_answers_are_refused;
    provider_down_is_424 => a_provider_that_is_down;
    console_button_and_callback => through_the_console;
}
