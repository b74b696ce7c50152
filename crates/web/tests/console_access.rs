//! The access-governance pages of the console at router level, on both stores: the
//! organisation, the access policy, role scopes and field levels, sharing a customer and the
//! explanation of who sees what and why.

use crate::support;

use axum::Router;
use axum::http::{Method, StatusCode};
use support::{Answer, Call, call, create_user, form, get, sign_in};
use tutela_core::access::OrgDefault;
use tutela_core::testing::{Backend, Harness, operator, steward, values};
use tutela_web::{AppState, router};
use uuid::Uuid;

struct Fixture {
    h: Harness,
    app: Router,
    admin: String,
    alice: String,
    bob: String,
    support: String,
    auditor: String,
}

async fn fixture(backend: Backend) -> Fixture {
    let h = Harness::new(backend).await;
    for (email, roles) in [
        ("admin@example.com", &["administrator"][..]),
        ("alice@example.com", &["sales"]),
        ("bob@example.com", &["sales"]),
        ("support@example.com", &["support"]),
        ("auditor@example.com", &["auditor"]),
        ("steward@example.com", &["data-steward"]),
    ] {
        create_user(&h, email, roles).await;
    }
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    Fixture {
        admin: sign_in(&h, "admin@example.com").await,
        alice: sign_in(&h, "alice@example.com").await,
        bob: sign_in(&h, "bob@example.com").await,
        support: sign_in(&h, "support@example.com").await,
        auditor: sign_in(&h, "auditor@example.com").await,
        h,
        app,
    }
}

async fn post(app: &Router, path: &str, session: &str, lang: &str, body: &[(&str, &str)]) -> Answer {
    call(
        app,
        Method::POST,
        path,
        Call { session: Some(session), lang: Some(lang), form: Some(form(body)), ..Call::default() },
    )
    .await
}

async fn user_id(h: &Harness, email: &str) -> Uuid {
    h.tutela.users(&operator()).await.unwrap().into_iter().find(|u| u.email == email).unwrap().id
}

async fn role_id(h: &Harness, name: &str) -> Uuid {
    h.tutela.roles(&operator()).await.unwrap().into_iter().find(|r| r.name == name).unwrap().id
}

/// A customer owned by `session`'s user.
async fn customer_of(h: &Harness, session: &str, name: &str) -> Uuid {
    let owner = h.tutela.session_principal(session, None).await.unwrap();
    h.tutela.create_customer(&owner, values(&[("name", name), ("phone", "13900001111")])).await.unwrap().id
}

/// `<script` only with a `src` under /assets; no inline handlers or styles.
fn assert_no_inline_code(path: &str, html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/assets/"), "{path}: inline or foreign script {tag}");
    }
    for bad in [" style=", "<style", " hx-on", " onclick=", " onload=", " onsubmit=", "javascript:"] {
        assert!(!html.contains(bad), "{path} contains {bad}");
    }
}

/// Whether `needle` stands after `after` and before `before` on the page.
fn between(body: &str, after: &str, needle: &str, before: &str) -> bool {
    let (Some(a), Some(n), Some(b)) = (body.find(after), body.find(needle), body.find(before)) else {
        return false;
    };
    a < n && n < b
}

async fn pages_in_both_languages_for_the_right_roles(backend: Backend) {
    let f = fixture(backend).await;
    let customer = customer_of(&f.h, &f.alice, "王五").await;
    let explain = format!("/customers/{customer}/access");
    let pages: Vec<(&str, &str, &str, &str)> = vec![
        ("/org", f.admin.as_str(), "Who belongs where", "人员归属"),
        ("/access", f.admin.as_str(), "Sharing rules", "共享规则"),
        ("/access", f.auditor.as_str(), "Separation of duties", "职责分离"),
        ("/roles", f.admin.as_str(), "Data scope", "数据范围"),
        (explain.as_str(), f.alice.as_str(), "Why can this user see this record?", "该用户为何能看到此记录？"),
    ];
    for (path, session, en, zh) in pages {
        let a = get(&f.app, path, Some(session), "en").await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        assert!(a.body.contains(en) && a.body.contains("<html lang=\"en\">"), "{path} in English: {}", a.body);
        assert_no_inline_code(path, &a.body);
        let a = get(&f.app, path, Some(session), "zh-CN").await;
        assert!(a.body.contains(zh) && a.body.contains("<html lang=\"zh-CN\">"), "{path} in Chinese: {}", a.body);
    }
    // The auditor reads separation of duties only: the sharing rules are role and user
    // administration, and nothing is offered to change.
    let a = get(&f.app, "/access", Some(&f.auditor), "en").await;
    assert!(!a.body.contains("Sharing rules") && !a.body.contains("action=\"/access/sod\""), "{}", a.body);
    assert!(a.body.contains("id=\"read-only\""));
    // Refused without the permission, and sign-in first when signed out.
    for (path, session) in
        [("/org", &f.alice), ("/org", &f.auditor), ("/access", &f.alice), ("/roles", &f.alice), ("/roles", &f.auditor)]
    {
        assert_eq!(get(&f.app, path, Some(session), "en").await.status, StatusCode::FORBIDDEN, "{path}");
    }
    for path in ["/org", "/access", "/roles", explain.as_str()] {
        assert_eq!(get(&f.app, path, None, "en").await.location(), "/login", "{path}");
    }
    let a = post(&f.app, "/org/departments", &f.alice, "en", &[("name", "Sneaky")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // The navigation offers the pages to whom they are for.
    let admin = get(&f.app, "/users", Some(&f.admin), "en").await;
    assert!(admin.body.contains("href=\"/org\"") && admin.body.contains("href=\"/access\""));
    let sales = get(&f.app, "/customers", Some(&f.alice), "en").await;
    assert!(!sales.body.contains("href=\"/org\"") && !sales.body.contains("href=\"/access\""));
    assert_eq!(get(&f.app, "/", Some(&f.auditor), "en").await.location(), "/audit", "the auditor still starts there");
    f.h.close().await;
}

async fn departments_teams_and_a_refused_cycle(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/org", Some(&f.admin), "en").await.csrf();
    let save = |name: &'static str, parent: String, id: Option<String>| {
        let mut body = vec![("_csrf", csrf.clone()), ("name", name.to_owned()), ("parent_id", parent)];
        if let Some(id) = id {
            body.push(("id", id));
        }
        let pairs: Vec<(String, String)> = body.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let session = f.admin.clone();
        let app = f.app.clone();
        async move {
            let body = serde_html_form::to_string(&pairs).unwrap();
            call(
                &app,
                Method::POST,
                "/org/departments",
                Call { session: Some(&session), lang: Some("en"), form: Some(body), ..Call::default() },
            )
            .await
        }
    };
    assert_eq!(save("Sales", String::new(), None).await.location(), "/org?notice=department-saved");
    let settings = f.h.tutela.access_settings(&operator()).await.unwrap();
    let sales = settings.org.departments().iter().find(|d| d.name == "Sales").unwrap().id;
    assert_eq!(save("North", sales.to_string(), None).await.location(), "/org?notice=department-saved");
    let settings = f.h.tutela.access_settings(&operator()).await.unwrap();
    let north = settings.org.departments().iter().find(|d| d.name == "North").unwrap().id;
    let page = get(&f.app, "/org", Some(&f.admin), "en").await;
    assert!(page.body.contains("The department was saved.") || page.status == StatusCode::OK);
    assert!(page.body.contains("<td class=\"tree depth-1\">North</td>"), "North is under Sales: {}", page.body);
    // Sales under North would be a cycle: refused next to the parent, the input kept.
    let a = save("Sales renamed", north.to_string(), Some(sales.to_string())).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(
        between(&a.body, "id=\"parent_id\"", "the tree would go round in a circle", "id=\"save-department\""),
        "the message stands next to the parent: {}",
        a.body
    );
    assert!(a.body.contains("value=\"Sales renamed\""), "what was typed is kept");
    let settings = f.h.tutela.access_settings(&operator()).await.unwrap();
    let stored = settings.org.department(sales).unwrap();
    assert_eq!((stored.name.as_str(), stored.parent_id), ("Sales", None), "nothing was changed");
    let zh = call(
        &f.app,
        Method::POST,
        "/org/departments",
        Call {
            session: Some(&f.admin),
            lang: Some("zh-CN"),
            form: Some(form(&[
                ("_csrf", &csrf),
                ("id", &sales.to_string()),
                ("name", "Sales"),
                ("parent_id", &north.to_string()),
            ])),
            ..Call::default()
        },
    )
    .await;
    assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh.body.contains("部门树将形成循环"), "{}", zh.body);
    f.h.close().await;
}

async fn teams_and_membership(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/org", Some(&f.admin), "en").await.csrf();
    let input = |name: &str, parent| tutela_core::access::DepartmentInput { name: name.into(), parent_id: parent };
    let sales = f.h.tutela.put_department(&operator(), None, input("Sales", None)).await.unwrap().id;
    let north = f.h.tutela.put_department(&operator(), None, input("North", Some(sales))).await.unwrap().id;
    // A team in North, Bob placed in North and the team; North is then not empty.
    let a = post(
        &f.app,
        "/org/teams",
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("team_name", "Key accounts"), ("department_id", &north.to_string())],
    )
    .await;
    assert_eq!(a.location(), "/org?notice=team-saved");
    let a = post(&f.app, "/org/teams", &f.admin, "en", &[("_csrf", &csrf), ("team_name", " "), ("department_id", "")])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(between(&a.body, "id=\"team_name\"", "a name is 1 to 100 characters", "id=\"create-team\""), "{}", a.body);
    let settings = f.h.tutela.access_settings(&operator()).await.unwrap();
    let team = settings.org.teams().iter().find(|t| t.name == "Key accounts").unwrap().id;
    let bob = user_id(&f.h, "bob@example.com").await;
    let a = post(
        &f.app,
        &format!("/org/members/{bob}"),
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("department_id", &north.to_string()), ("team_id", &team.to_string())],
    )
    .await;
    assert_eq!(a.location(), "/org?notice=member-saved#members");
    let settings = f.h.tutela.access_settings(&operator()).await.unwrap();
    assert_eq!(settings.org.department_of(bob), Some(north));
    assert_eq!(settings.org.team_of(bob), Some(team));
    // The members table filters and sorts.
    let page = get(&f.app, "/org?q=north", Some(&f.admin), "en").await;
    assert!(
        page.body.contains("bob@example.com") && !page.body.contains("<td>alice@example.com</td>"),
        "{}",
        page.body
    );
    let page = get(&f.app, "/org?sort=email&order=desc", Some(&f.admin), "en").await;
    assert!(
        page.body.find("<td>support@example.com</td>").unwrap() < page.body.find("<td>alice@example.com</td>").unwrap()
    );
    let a = post(&f.app, &format!("/org/departments/{north}/delete"), &f.admin, "en", &[("_csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("North has teams"), "{}", a.body);
    assert!(f.h.tutela.access_settings(&operator()).await.unwrap().org.department(north).is_some());
    f.h.close().await;
}

async fn sharing_a_record_lets_the_other_user_open_it(backend: Backend) {
    let f = fixture(backend).await;
    // Sales reaches its own records only, set on the roles page.
    let csrf = get(&f.app, "/roles", Some(&f.admin), "en").await.csrf();
    let sales = role_id(&f.h, "sales").await;
    let a = post(&f.app, &format!("/roles/{sales}"), &f.admin, "en", &[("_csrf", &csrf), ("scope", "own")]).await;
    assert_eq!(a.location(), format!("/roles?role={sales}&notice=saved"));
    let customer = customer_of(&f.h, &f.alice, "王五").await;
    let path = format!("/customers/{customer}");
    assert_eq!(get(&f.app, &path, Some(&f.bob), "en").await.status, StatusCode::NOT_FOUND, "not Bob's");
    let page = get(&f.app, &path, Some(&f.alice), "en").await;
    assert!(page.body.contains("This record is not shared with anyone."), "{}", page.body);
    let csrf = page.csrf();
    let until = (f.h.tutela.clock().now() + time::Duration::days(7)).date().to_string();
    let share = |user: &'static str, until: String, reason: &'static str| {
        let body = vec![
            ("_csrf", csrf.clone()),
            ("user", user.to_owned()),
            ("access", "read".to_owned()),
            ("until", until),
            ("reason", reason.to_owned()),
        ];
        let app = f.app.clone();
        let session = f.alice.clone();
        let path = format!("{path}/shares");
        async move {
            let body = serde_html_form::to_string(&body).unwrap();
            call(
                &app,
                Method::POST,
                &path,
                Call { session: Some(&session), lang: Some("en"), form: Some(body), ..Call::default() },
            )
            .await
        }
    };
    let a = share("nobody@example.com", until.clone(), "covering the account").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(between(
        &a.body,
        "id=\"share-user\"",
        "Enter the e-mail address of another active user.",
        "id=\"share-access\""
    ));
    assert!(a.body.contains("covering the account"), "the reason is kept");
    let a = share("bob@example.com", "2001-01-01".to_owned(), "covering the account").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(between(&a.body, "id=\"share-until\"", "Choose a day from today to 90 days ahead.", "id=\"share-reason\""));
    assert!(f.h.tutela.customer_shares(&steward(), customer).await.unwrap().is_empty(), "nothing half-applied");
    let a = share("bob@example.com", until, "covering the account while Alice is away").await;
    assert_eq!(a.location(), format!("{path}?notice=shared#sharing"), "{}", a.body);
    let page = get(&f.app, &format!("{path}?notice=shared"), Some(&f.alice), "en").await;
    assert!(
        between(&page.body, "id=\"shares\"", "bob@example.com", "id=\"share-form\"")
            && page.body.contains("covering the account while Alice is away")
            && page.body.contains("The record was shared."),
        "{}",
        page.body
    );
    assert!(get(&f.app, &path, Some(&f.alice), "zh-CN").await.body.contains("结束共享"));
    let bob = get(&f.app, &path, Some(&f.bob), "en").await;
    assert_eq!(bob.status, StatusCode::OK, "Bob can open it now");
    assert!(bob.body.contains("王五"));
    let why = get(&f.app, &format!("{path}/access"), Some(&f.bob), "en").await;
    assert!(why.body.contains("Shared with them") && why.body.contains("id=\"can-read\""), "{}", why.body);
    // Ending the share closes the record to Bob again.
    let share_id = f.h.tutela.customer_shares(&steward(), customer).await.unwrap()[0].id;
    let a = post(&f.app, &format!("{path}/shares/{share_id}/end"), &f.alice, "en", &[("_csrf", &csrf)]).await;
    assert_eq!(a.location(), format!("{path}?notice=unshared#sharing"));
    assert_eq!(get(&f.app, &path, Some(&f.bob), "en").await.status, StatusCode::NOT_FOUND);
    f.h.close().await;
}

async fn the_explanation_names_the_deciding_role(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/roles", Some(&f.admin), "en").await.csrf();
    let support_role = role_id(&f.h, "support").await;
    // A field rule: support sees the phone masked, and may not reveal it any more.
    let a = post(
        &f.app,
        &format!("/roles/{support_role}"),
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("scope", "all"), ("level-phone", "masked")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let page = get(&f.app, &format!("/roles?role={support_role}"), Some(&f.admin), "en").await;
    assert!(page.body.contains("<option value=\"masked\" selected>"), "the rule is shown: {}", page.body);
    let a = post(
        &f.app,
        &format!("/roles/{support_role}"),
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("scope", "galaxy"), ("level-phone", "masked")],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(between(&a.body, "id=\"scope\"", "galaxy", "id=\"field-levels\""), "{}", a.body);
    let customer = h_customer(&f).await;
    let path = format!("/customers/{customer}/access");
    let a = get(&f.app, &path, Some(&f.support), "en").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let phone = row(&a.body, "access-phone");
    assert!(phone.contains("<strong>support</strong>: masked") && phone.contains("field rule"), "{phone}");
    let name = row(&a.body, "access-name");
    assert!(name.contains("<strong>support</strong>: read") && name.contains("role default"), "{name}");
    assert!(
        between(&a.body, "id=\"row-reasons\"", "<strong>support</strong>", "id=\"field-access\""),
        "the scope opens it"
    );
    assert!(a.body.contains("Role&#39;s data scope") || a.body.contains("Role's data scope"), "{}", a.body);
    // Administrators ask about anyone; others only about themselves.
    let support = user_id(&f.h, "support@example.com").await;
    let a = get(&f.app, &format!("{path}?user={support}"), Some(&f.admin), "zh-CN").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("support@example.com") && a.body.contains("字段规则"), "{}", a.body);
    let alice = user_id(&f.h, "alice@example.com").await;
    assert_eq!(
        get(&f.app, &format!("{path}?user={alice}"), Some(&f.support), "en").await.status,
        StatusCode::FORBIDDEN
    );
    f.h.close().await;
}

async fn h_customer(f: &Fixture) -> Uuid {
    f.h.tutela.create_customer(&steward(), values(&[("name", "赵六"), ("phone", "13812345678")])).await.unwrap().id
}

/// The `<tr id="…">` row of a table.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no row {id}"));
    &body[start..start + body[start..].find("</tr>").unwrap()]
}

async fn the_access_policy_forms(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/access", Some(&f.admin), "en").await.csrf();
    let rule = |field: &'static str, grantee: String| {
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("name".to_owned(), "East region".to_owned()),
            ("field_id".to_owned(), field.to_owned()),
            ("value".to_owned(), "East".to_owned()),
            ("grantee".to_owned(), grantee),
            ("access".to_owned(), "read".to_owned()),
        ]
    };
    let support = role_id(&f.h, "support").await;
    let send = |body: Vec<(String, String)>| {
        let app = f.app.clone();
        let session = f.admin.clone();
        async move {
            let body = serde_html_form::to_string(&body).unwrap();
            call(
                &app,
                Method::POST,
                "/access/rules",
                Call { session: Some(&session), lang: Some("en"), form: Some(body), ..Call::default() },
            )
            .await
        }
    };
    // A sealed field cannot be a condition: named next to the field, the input kept.
    let a = send(rule("phone", format!("role:{support}"))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        between(
            &a.body,
            "id=\"field_id\"",
            "a rule&#39;s condition must be on a public or internal field",
            "id=\"value\""
        ) || between(
            &a.body,
            "id=\"field_id\"",
            "a rule's condition must be on a public or internal field",
            "id=\"value\""
        ),
        "{}",
        a.body
    );
    assert!(a.body.contains("value=\"East region\""));
    let a = send(rule("region", "role:not-an-id".to_owned())).await;
    assert!(between(&a.body, "id=\"grantee\"", "Choose who the rule is for.", "id=\"access\""), "{}", a.body);
    let a = send(rule("region", format!("role:{support}"))).await;
    assert_eq!(a.location(), "/access?notice=rule-saved");
    let page = get(&f.app, "/access", Some(&f.admin), "en").await;
    assert!(between(&page.body, "id=\"sharing-rules\"", "East region", "id=\"rule-form\""), "{}", page.body);
    assert_eq!(f.h.tutela.access_settings(&operator()).await.unwrap().rules.len(), 1);
    // The organisation default.
    let a = post(&f.app, "/access/default", &f.admin, "en", &[("_csrf", &csrf), ("default", "read_only")]).await;
    assert_eq!(a.location(), "/access?notice=default-saved");
    assert_eq!(f.h.tutela.access_settings(&operator()).await.unwrap().org_default, OrgDefault::ReadOnly);
    let a = post(&f.app, "/access/default", &f.admin, "en", &[("_csrf", &csrf), ("default", "everyone")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    f.h.close().await;
}

async fn separation_of_duties(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/access", Some(&f.admin), "en").await.csrf();
    // Separation of duties: a pair the data steward already joins shows as a violation.
    let a = post(
        &f.app,
        "/access/sod",
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("first", "customer.export"), ("second", "customer.erase"), ("reason", " ")],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(between(&a.body, "id=\"reason\"", "give a reason", "id=\"add-sod\""), "{}", a.body);
    let a = post(
        &f.app,
        "/access/sod",
        &f.admin,
        "en",
        &[
            ("_csrf", &csrf),
            ("first", "customer.export"),
            ("second", "customer.erase"),
            ("reason", "who exports does not erase"),
        ],
    )
    .await;
    assert_eq!(a.location(), "/access?notice=sod-saved#sod");
    let page = get(&f.app, "/access", Some(&f.admin), "en").await;
    let violations = &page.body[page.body.find("id=\"sod-violations\"").expect("violations listed")..];
    assert!(violations.contains("<tr class=\"violation\"><td>steward@example.com</td>"), "{violations}");
    let auditor = get(&f.app, "/access", Some(&f.auditor), "zh-CN").await;
    assert!(auditor.body.contains("steward@example.com") && auditor.body.contains("当前违规"));
    let a = post(
        &f.app,
        "/access/sod/remove",
        &f.admin,
        "en",
        &[("_csrf", &csrf), ("first", "customer.export"), ("second", "customer.erase")],
    )
    .await;
    assert_eq!(a.location(), "/access?notice=sod-saved#sod");
    assert!(get(&f.app, "/access", Some(&f.admin), "en").await.body.contains("id=\"no-violations\""));
    // The auditor changes nothing.
    let auditor_csrf = auditor.csrf();
    let a =
        post(&f.app, "/access/default", &f.auditor, "en", &[("_csrf", &auditor_csrf), ("default", "read_write")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    f.h.close().await;
}

/// Emergency access: a request with too short a reason is refused next to its field and kept;
/// a good one opens the record to its requester, read only, until it is ended.
async fn emergency_access_opens_a_record_for_a_while(backend: Backend) {
    let f = fixture(backend).await;
    let csrf = get(&f.app, "/roles", Some(&f.admin), "en").await.csrf();
    let sales = role_id(&f.h, "sales").await;
    post(&f.app, &format!("/roles/{sales}"), &f.admin, "en", &[("_csrf", &csrf), ("scope", "own")]).await;
    let customer = customer_of(&f.h, &f.alice, "急救").await.to_string();
    let record = format!("/customers/{customer}");
    assert_eq!(get(&f.app, &record, Some(&f.bob), "en").await.status, StatusCode::NOT_FOUND);

    let page = get(&f.app, "/break-glass", Some(&f.bob), "zh-CN").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("紧急访问"), "{}", page.body);
    assert_no_inline_code("/break-glass", &page.body);
    let csrf = page.csrf();
    let short = [("_csrf", csrf.as_str()), ("customer", &customer), ("justification", "need it"), ("minutes", "30")];
    let a = post(&f.app, "/break-glass", &f.bob, "en", &short).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("need it"), "the justification is kept");
    assert_eq!(get(&f.app, &record, Some(&f.bob), "en").await.status, StatusCode::NOT_FOUND, "nothing granted");

    let why = "the customer is on the phone about a fraudulent order";
    let good = [("_csrf", csrf.as_str()), ("customer", &customer), ("justification", why), ("minutes", "10")];
    let a = post(&f.app, "/break-glass", &f.bob, "en", &good).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(get(&f.app, &record, Some(&f.bob), "en").await.status, StatusCode::OK, "opened");
    let listed = get(&f.app, "/break-glass", Some(&f.bob), "en").await;
    assert!(listed.body.contains(why) && listed.body.contains("bob@example.com"), "{}", listed.body);

    // Within the session's idle time, past the access's ten minutes.
    f.h.clock.advance(time::Duration::minutes(11));
    assert_eq!(get(&f.app, &record, Some(&f.bob), "en").await.status, StatusCode::NOT_FOUND, "ended on its own");
    f.h.close().await;
}

tutela_core::on_both_stores! {
    emergency_access_opens_a_record_for_a_while_ => emergency_access_opens_a_record_for_a_while;
    pages_in_both_languages_for_the_right_roles_ => pages_in_both_languages_for_the_right_roles;
    departments_teams_and_a_refused_cycle_ => departments_teams_and_a_refused_cycle;
    sharing_a_record_lets_the_other_user_open_it_ => sharing_a_record_lets_the_other_user_open_it;
    the_explanation_names_the_deciding_role_ => the_explanation_names_the_deciding_role;
    the_access_policy_forms_ => the_access_policy_forms;
    teams_and_membership_ => teams_and_membership;
    separation_of_duties_ => separation_of_duties;
}
