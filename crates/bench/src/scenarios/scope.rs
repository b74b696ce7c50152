//! `scope`: a page of 100 customers for a user whose role reaches one department of four
//! (plus a sharing rule) and hides or masks some fields, beside the same page for a user
//! whose role reaches every record with no field rule. Both in-process through
//! `Tutela::list_customers`, so the difference is what data scopes and field permissions cost.

use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tutela_core::Tutela;
use tutela_core::access::{DepartmentInput, MembershipInput, SharingRuleInput};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::vault::ListRequest;
use tutela_store::RoleRow;
use uuid::Uuid;

use crate::Options;
use crate::data;
use crate::load::{self, Measured};
use crate::report::{Better, Report, Row, number};
use crate::setup::{Installation, assign_owners};

const DEPARTMENTS: usize = 4;
const USERS_PER_DEPARTMENT: usize = 10;
const PAGE: u32 = 100;

/// A role over the two reveal-free read permissions, with a scope and field rules.
fn role(name: &str, scope: &str, rules: &[(&str, &str)]) -> RoleRow {
    RoleRow {
        id: Uuid::now_v7(),
        name: name.into(),
        description: format!("bench: {scope} scope"),
        builtin: false,
        permissions: vec![Permission::CustomerRead.as_str().into(), Permission::RevealConfidential.as_str().into()],
        data_scope: scope.into(),
        field_rules: rules.iter().map(|(f, l)| ((*f).to_owned(), (*l).to_owned())).collect(),
    }
}

/// Creates a user with one role in a department, and returns the principal behind an API
/// token of theirs, as a request would see it.
async fn member(t: &Tutela, admin: &Principal, email: &str, role: &str, department: Uuid) -> anyhow::Result<Principal> {
    let user = t
        .create_user(
            admin,
            NewUser {
                email: email.into(),
                display_name: email.into(),
                password: "a long bench password".to_owned().into(),
                roles: vec![role.into()],
            },
        )
        .await?;
    t.set_membership(admin, user.id, MembershipInput { department_id: Some(department), team_id: None }).await?;
    let scopes = vec![Permission::CustomerRead.as_str().to_owned()];
    let owner = Principal::direct(
        Some(user.id),
        email,
        [Permission::CustomerRead].into_iter().collect(),
        Credential::Session,
        None,
    );
    let token = t.create_api_token(&owner, "bench", &scopes, None).await?.token;
    Ok(t.token_principal(token.expose_secret(), Some("127.0.0.1".into())).await?)
}

async fn measure(t: &Arc<Tutela>, p: &Principal, opts: &Options, callers: usize) -> Measured {
    let (t, p) = (t.clone(), p.clone());
    load::drive(callers, opts.warmup, opts.duration / opts.rounds, move |_, _| {
        let (t, p) = (t.clone(), p.clone());
        async move {
            let page = t.list_customers(&p, ListRequest { limit: Some(PAGE), ..Default::default() }).await?;
            anyhow::ensure!(page.items.len() == PAGE as usize, "{} customers on the page", page.items.len());
            Ok(())
        }
    })
    .await
}

#[allow(clippy::too_many_lines, reason = "one scenario told top to bottom, in the order it runs")]
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let n = opts.customers;
    let callers = 4;
    let mut report = Report::new("scope", "a page of 100 customers through data scope and field permissions");
    report.setting("customers", &number(n as f64));
    report.setting("users", &(DEPARTMENTS * USERS_PER_DEPARTMENT + 2));
    report.setting("concurrent callers", &callers);
    report.setting("duration per side", &opts.schedule());

    let inst = Installation::create(&opts.dir).await?;
    let csv = inst.dir.path().join("customers.csv");
    data::write_csv(&csv, 0, n)?;
    eprintln!("scope: importing {n} customers");
    inst.import(&csv).await?;
    std::fs::remove_file(&csv)?;

    let t = &inst.tutela;
    let admin = Principal::direct(
        None,
        "bench-admin",
        [Permission::UserManage, Permission::RoleManage].into_iter().collect(),
        Credential::LocalCli,
        None,
    );
    t.put_role(&admin, role("everything", "all", &[])).await?;
    let scoped_role =
        role("one-department", "department", &[("national_id", "hidden"), ("phone", "masked"), ("company", "masked")]);
    t.put_role(&admin, scoped_role).await?;
    let mut departments = Vec::new();
    for d in 0..DEPARTMENTS {
        let input = DepartmentInput { name: format!("Department {d}"), parent_id: None };
        departments.push(t.put_department(&admin, None, input).await?.id);
    }
    eprintln!("scope: creating {} record owners", DEPARTMENTS * USERS_PER_DEPARTMENT);
    let mut owners = Vec::new();
    for i in 0..DEPARTMENTS * USERS_PER_DEPARTMENT {
        let email = format!("owner{i}@bench.example");
        owners.push(member(t, &admin, &email, "everything", departments[i / USERS_PER_DEPARTMENT]).await?);
    }
    let owner_ids: Vec<Uuid> = owners.iter().filter_map(|p| p.user_id).collect();
    eprintln!("scope: giving the customers owners");
    assign_owners(&inst.db_path(), &owner_ids).await.context("assigning owners")?;
    let rule = SharingRuleInput {
        name: "Shanghai for department 0".into(),
        field_id: "region".into(),
        value: "上海".into(),
        grantee_kind: "department".into(),
        grantee_id: departments[0],
        access: "read".into(),
    };
    t.put_sharing_rule(&admin, None, rule).await?;
    let everything = member(t, &admin, "all@bench.example", "everything", departments[0]).await?;
    let scoped = member(t, &admin, "dept@bench.example", "one-department", departments[0]).await?;
    let visible = t.count_customers(&scoped).await?;
    report.setting("customers the scoped user may see", &number(visible as f64));

    let mut protected: Option<Measured> = None;
    let mut unprotected: Option<Measured> = None;
    for round in 0..opts.rounds {
        eprintln!("scope: round {} of {}", round + 1, opts.rounds);
        let m = measure(t, &scoped, opts, callers).await;
        protected = Some(protected.take().map_or(m.clone(), |before| before.merge(m)));
        let m = measure(t, &everything, opts, callers).await;
        unprotected = Some(unprotected.take().map_or(m.clone(), |before| before.merge(m)));
    }
    inst.close().await;
    let (prot, base) = (protected.expect("ran"), unprotected.expect("ran"));
    let ratio = base.per_second / prot.per_second;
    report.rows.push(
        Row::new("page of 100, scoped vs all-access", "pages/s", prot.per_second, base.per_second, Better::Higher)
            .extra("p50 µs (scoped / all)", format!("{} / {}", number(prot.p50_us), number(base.p50_us)))
            .extra("p99 µs (scoped / all)", format!("{} / {}", number(prot.p99_us), number(base.p99_us)))
            .extra("errors", format!("{} / {}", prot.errors, base.errors)),
    );
    report.target("permission cost", "≤ 1.2× the all-access page", format!("{ratio:.2}×"), Some(ratio <= 1.2));
    report.note(
        "Both sides: `list_customers(principal, limit 100)` in-process, each principal the one behind an API token \
         (roles, organisation and rules resolved, then cached until a change), records decrypted and masked, one \
         audit event each. Scoped: a role reaching the records of one department of four (ten owners each) plus a \
         sharing rule on region = 上海, with national_id hidden and phone and company masked. All-access: a role \
         with the same permissions reaching every record, no field rule. The owners are spread over the records \
         round-robin, so the scoped page is drawn from about 37% of the table.",
    );
    Ok(report)
}
