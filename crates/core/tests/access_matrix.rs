//! A generated matrix — an organisation, roles of every data scope with field rules, records
//! with owners and regions, sharing rules, record shares and the organisation-wide default —
//! checked against an oracle written here, independently of `tutela_core::access`. Every
//! user's read, list, search, lookup, count, export, reveal and update must give exactly
//! what the policy allows: nothing more, and a record out of reach is "not found", never
//! "forbidden".

// The world and each user's checks read best as one piece each; t, w, p are the harness,
// the world and the principal throughout.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

use std::collections::{BTreeMap, BTreeSet};

use secrecy::ExposeSecret;
use time::Duration;
use tutela_core::CoreError;
use tutela_core::access::{
    DepartmentInput, ExportApprovalPolicy, MembershipInput, OrgDefault, ShareInput, SharingRuleInput, TeamInput,
};
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::testing::{Backend, Harness, principal, values};
use tutela_core::vault::{ExportFormat, ListRequest};
use tutela_store::{FilterOp, PlainFilter, RoleRow};
use uuid::Uuid;

const REGIONS: [&str; 4] = ["华东", "华北", "华南", "西南"];
/// The fields the records carry, with whether each is sealed (from the default schema).
const FIELDS: [(&str, bool); 5] =
    [("name", false), ("region", false), ("email", true), ("phone", true), ("national_id", true)];

/// Field levels in their order, as the oracle ranks them.
fn rank(level: &str) -> u8 {
    match level {
        "hidden" => 0,
        "masked" => 1,
        "read" => 2,
        "reveal" => 3,
        "write" => 4,
        other => panic!("level {other}"),
    }
}

struct RoleSpec {
    name: &'static str,
    perms: &'static [Permission],
    scope: &'static str,
    rules: &'static [(&'static str, &'static str)],
}

use Permission::{CustomerExport as Export, CustomerRead as Read, CustomerWrite as Write};
use Permission::{RevealConfidential as RevealC, RevealRestricted as RevealR};

const ROLES: [RoleSpec; 8] = [
    RoleSpec { name: "own-rw", perms: &[Read, Write, RevealC], scope: "own", rules: &[] },
    RoleSpec { name: "team-r", perms: &[Read], scope: "team", rules: &[("region", "masked")] },
    RoleSpec {
        name: "dept-rw",
        perms: &[Read, Write, RevealC, RevealR, Export],
        scope: "department",
        rules: &[("phone", "hidden")],
    },
    RoleSpec {
        name: "all-r",
        perms: &[Read, Export],
        scope: "all",
        rules: &[("national_id", "hidden"), ("name", "masked")],
    },
    RoleSpec {
        name: "dept-r",
        perms: &[Read, RevealR],
        scope: "department",
        rules: &[("national_id", "reveal"), ("phone", "read"), ("region", "write")],
    },
    RoleSpec {
        name: "own-w",
        perms: &[Read, Write],
        scope: "own",
        rules: &[("name", "read"), ("national_id", "write")],
    },
    RoleSpec { name: "no-read", perms: &[Export], scope: "all", rules: &[] },
    RoleSpec { name: "team-rw", perms: &[Read, Write, RevealC], scope: "team", rules: &[("email", "hidden")] },
];

/// Departments as (name, parent index).
const DEPARTMENTS: [(&str, Option<usize>); 6] = [
    ("总部", None),
    ("销售部", Some(0)),
    ("华东销售", Some(1)),
    ("华北销售", Some(1)),
    ("客服部", Some(0)),
    ("独立部", None),
];
/// Teams as (name, department index).
const TEAMS: [(&str, Option<usize>); 3] = [("东一组", Some(2)), ("北一组", Some(3)), ("项目组", None)];
/// Users as (roles, department, team).
const USERS: [(&[usize], Option<usize>, Option<usize>); 10] = [
    (&[0], Some(2), Some(0)),
    (&[1], Some(2), Some(0)),
    (&[2], Some(1), None),
    (&[3], Some(4), None),
    (&[4], Some(3), Some(1)),
    (&[5, 1], Some(3), Some(1)),
    (&[6], Some(5), None),
    (&[7, 3], Some(2), Some(2)),
    (&[0, 4], None, None),
    (&[], Some(2), Some(0)),
];

#[derive(Clone, Copy)]
enum Grantee {
    Department(usize),
    Team(usize),
    Role(usize),
    User(usize),
}

/// Sharing rules as (region, grantee, write).
const RULES: [(&str, Grantee, bool); 4] = [
    ("华南", Grantee::Department(1), false),
    ("西南", Grantee::Team(2), true),
    ("华北", Grantee::Role(3), false),
    ("华东", Grantee::User(6), false),
];

struct World {
    departments: Vec<(Uuid, Option<Uuid>)>,
    teams: Vec<Uuid>,
    users: Vec<User>,
    records: Vec<Record>,
    shares: Vec<Share>,
}

struct User {
    id: Uuid,
    roles: Vec<usize>,
    department: Option<Uuid>,
    team: Option<Uuid>,
    /// An API token holding every permission the user's roles give.
    token: String,
}

struct Record {
    id: Uuid,
    owner: Option<Uuid>,
    region: &'static str,
    phone: String,
}

struct Share {
    record: Uuid,
    user: Uuid,
    write: bool,
    expires_at: time::OffsetDateTime,
}

// ----- the oracle -------------------------------------------------------------------------

impl World {
    fn parent(&self, d: Uuid) -> Option<Uuid> {
        self.departments.iter().find(|(id, _)| *id == d).and_then(|(_, p)| *p)
    }

    /// Whether `d` is `root` or below it.
    fn within(&self, d: Uuid, root: Uuid) -> bool {
        let mut at = Some(d);
        while let Some(x) = at {
            if x == root {
                return true;
            }
            at = self.parent(x);
        }
        false
    }

    fn user(&self, id: Uuid) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    fn scope_admits(&self, user: &User, scope: &str, owner: Option<Uuid>) -> bool {
        let Some(owner) = owner else { return scope == "all" };
        let owner_user = self.user(owner);
        match scope {
            "all" => true,
            "own" => owner == user.id,
            "team" => owner == user.id || (user.team.is_some() && owner_user.and_then(|o| o.team) == user.team),
            "department" => {
                owner == user.id
                    || match (user.department, owner_user.and_then(|o| o.department)) {
                        (Some(mine), Some(theirs)) => self.within(theirs, mine),
                        _ => false,
                    }
            }
            other => panic!("scope {other}"),
        }
    }

    fn rule_applies(&self, user: &User, grantee: Grantee) -> bool {
        match grantee {
            Grantee::Department(d) => user.department.is_some_and(|mine| self.within(mine, self.departments[d].0)),
            Grantee::Team(t) => user.team == Some(self.teams[t]),
            Grantee::Role(r) => user.roles.contains(&r),
            Grantee::User(u) => self.users[u].id == user.id,
        }
    }

    fn holds(user: &User, p: Permission) -> bool {
        user.roles.iter().any(|&r| ROLES[r].perms.contains(&p))
    }

    /// (read, write) of a record for a user.
    fn row(&self, user: &User, rec: &Record, default: OrgDefault, now: time::OffsetDateTime) -> (bool, bool) {
        let by_role = |p: Permission| {
            user.roles
                .iter()
                .any(|&r| ROLES[r].perms.contains(&p) && self.scope_admits(user, ROLES[r].scope, rec.owner))
        };
        let through_rule = |need_write: bool| {
            RULES.iter().any(|(region, grantee, write)| {
                *region == rec.region && (*write || !need_write) && self.rule_applies(user, *grantee)
            })
        };
        let by_share = |need_write: bool| {
            self.shares
                .iter()
                .any(|s| s.user == user.id && s.record == rec.id && s.expires_at > now && (s.write || !need_write))
        };
        let read = Self::holds(user, Read)
            && (default != OrgDefault::Private || by_role(Read) || through_rule(false) || by_share(false));
        let write = read
            && Self::holds(user, Write)
            && (default == OrgDefault::ReadWrite || by_role(Write) || through_rule(true) || by_share(true));
        (read, write)
    }

    /// (visible, clear, reveal, write) of a field for a user: any one role suffices.
    fn field(user: &User, field: &str, sealed: bool, restricted: bool) -> (bool, bool, bool, bool) {
        let mut caps = (false, false, false, false);
        for &r in &user.roles {
            let role = &ROLES[r];
            if !role.perms.contains(&Read) {
                continue;
            }
            let reveal_perm = if restricted { RevealR } else { RevealC };
            let level = role.rules.iter().find(|(f, _)| *f == field).map_or_else(
                || {
                    if role.perms.contains(&Write) {
                        4
                    } else if sealed && role.perms.contains(&reveal_perm) {
                        3
                    } else {
                        2
                    }
                },
                |(_, l)| rank(l),
            );
            caps.0 |= level >= 1;
            caps.1 |= level >= 2 && !sealed;
            caps.2 |= sealed && level >= 3 && role.perms.contains(&reveal_perm);
            caps.3 |= level >= 4 && role.perms.contains(&Write);
        }
        caps
    }

    fn field_of(user: &User, field: &str) -> (bool, bool, bool, bool) {
        let sealed = FIELDS.iter().find(|(f, _)| *f == field).is_some_and(|(_, s)| *s);
        Self::field(user, field, sealed, field == "national_id")
    }

    fn readable(&self, user: &User, default: OrgDefault, now: time::OffsetDateTime) -> BTreeSet<Uuid> {
        self.records.iter().filter(|r| self.row(user, r, default, now).0).map(|r| r.id).collect()
    }
}

// ----- building the world through the domain -----------------------------------------------

/// A resident ID from its first 17 digits, with the GB 11643 check character.
fn national_id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

async fn build(h: &Harness) -> World {
    let t = &h.tutela;
    let admin = principal("admin@example.com", &[Permission::UserManage, Permission::RoleManage]);
    let mut departments: Vec<(Uuid, Option<Uuid>)> = Vec::new();
    for (name, parent) in DEPARTMENTS {
        let parent_id = parent.map(|p| departments[p].0);
        let d = t.put_department(&admin, None, DepartmentInput { name: name.into(), parent_id }).await.unwrap();
        departments.push((d.id, parent_id));
    }
    let mut teams = Vec::new();
    for (name, dept) in TEAMS {
        let team = TeamInput { name: name.into(), department_id: dept.map(|d| departments[d].0) };
        teams.push(t.put_team(&admin, None, team).await.unwrap().id);
    }
    let mut roles = Vec::new();
    for spec in &ROLES {
        let role = RoleRow {
            id: Uuid::now_v7(),
            name: spec.name.into(),
            description: String::new(),
            builtin: false,
            permissions: spec.perms.iter().map(|p| p.as_str().to_owned()).collect(),
            data_scope: spec.scope.into(),
            field_rules: spec.rules.iter().map(|(f, l)| ((*f).to_owned(), (*l).to_owned())).collect(),
        };
        roles.push(t.put_role(&admin, role).await.unwrap().id);
    }
    let mut users = Vec::new();
    for (i, (role_idx, dept, team)) in USERS.iter().enumerate() {
        let email = format!("u{i}@example.com");
        let new = NewUser {
            email: email.clone(),
            display_name: format!("用户{i}"),
            password: "a long enough passphrase 2026".to_owned().into(),
            roles: role_idx.iter().map(|&r| ROLES[r].name.to_owned()).collect(),
        };
        let id = t.create_user(&admin, new).await.unwrap().id;
        let membership =
            MembershipInput { department_id: dept.map(|d| departments[d].0), team_id: team.map(|x| teams[x]) };
        t.set_membership(&admin, id, membership).await.unwrap();
        // The user's own principal, through an API token holding every permission it may.
        let all: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
        let owner =
            Principal::direct(Some(id), email, Permission::ALL.into_iter().collect(), Credential::Session, None);
        let token = t.create_api_token(&owner, "matrix", &all, None).await.unwrap();
        users.push(User {
            id,
            roles: role_idx.to_vec(),
            department: dept.map(|d| departments[d].0),
            team: team.map(|x| teams[x]),
            token: token.token.expose_secret().to_owned(),
        });
    }
    let mut records = Vec::new();
    for i in 0..33 {
        let owner = if i % 11 == 10 { None } else { Some(users[i % 11].id) };
        let maker = Principal::direct(
            owner,
            "maker",
            [Read, Write, RevealC, RevealR].into_iter().collect(),
            Credential::Session,
            None,
        );
        let region = REGIONS[i % REGIONS.len()];
        let phone = format!("1380013{i:04}");
        let v = values(&[
            ("name", &format!("客户{i:02}")),
            ("region", region),
            ("email", &format!("c{i}@example.com")),
            ("phone", &phone),
            ("national_id", &national_id(&format!("1101051949123{i:04}"))),
        ]);
        let id = t.create_customer(&maker, v).await.unwrap().id;
        records.push(Record { id, owner, region, phone });
    }
    for (region, grantee, write) in RULES {
        let (kind, grantee_id) = match grantee {
            Grantee::Department(d) => ("department", departments[d].0),
            Grantee::Team(x) => ("team", teams[x]),
            Grantee::Role(r) => ("role", roles[r]),
            Grantee::User(u) => ("user", users[u].id),
        };
        let rule = SharingRuleInput {
            name: format!("{region} for {kind}"),
            field_id: "region".into(),
            value: region.into(),
            grantee_kind: kind.into(),
            grantee_id,
            access: if write { "write" } else { "read" }.into(),
        };
        t.put_sharing_rule(&admin, None, rule).await.unwrap();
    }
    let lender = Principal::direct(None, "lender", [Read, Write].into_iter().collect(), Credential::Session, None);
    let now = t.clock().now();
    let mut shares = Vec::new();
    for (record, user, write, hours) in
        [(3, 1, false, 24 * 7), (3, 4, false, 1), (7, 8, true, 24 * 7), (9, 9, false, 24)]
    {
        let share =
            Share { record: records[record].id, user: users[user].id, write, expires_at: now + Duration::hours(hours) };
        let input = ShareInput {
            user_id: share.user,
            access: if write { "write" } else { "read" }.into(),
            expires_at: share.expires_at,
            reason: "covering a colleague".into(),
        };
        t.share_customer(&lender, share.record, input).await.unwrap();
        shares.push(share);
    }
    World { departments, teams, users, records, shares }
}

// ----- the checks ------------------------------------------------------------------------

async fn check_everyone(h: &Harness, w: &World, default: OrgDefault) {
    let now = h.tutela.clock().now();
    for (i, user) in w.users.iter().enumerate() {
        // As a request would: the principal behind the token, cached until the stamp changes.
        let p = h.tutela.token_principal(&user.token, None).await.unwrap();
        check_user(h, w, user, &p, default, now).await.unwrap_or_else(|e| panic!("user u{i} ({default}): {e}"));
    }
}

async fn check_user(
    harness: &Harness,
    world: &World,
    user: &User,
    p: &Principal,
    default: OrgDefault,
    now: time::OffsetDateTime,
) -> Result<(), String> {
    let (t, w) = (&harness.tutela, world);
    let can_read = World::holds(user, Read);
    let expected = w.readable(user, default, now);

    // List, with every field as the oracle says it shows.
    match t.list_customers(p, ListRequest { limit: Some(500), ..Default::default() }).await {
        Ok(page) => {
            let got: BTreeSet<Uuid> = page.items.iter().map(|c| c.id).collect();
            if got != expected {
                return Err(format!("list: got {} records, oracle {}", got.len(), expected.len()));
            }
            for item in &page.items {
                for (field, _) in FIELDS {
                    let (visible, clear, _, _) = World::field_of(user, field);
                    let shown = item.fields.iter().find(|f| f.id == field);
                    match (visible, shown) {
                        (false, None) => {}
                        (true, Some(f)) if f.masked != clear => {}
                        (v, s) => return Err(format!("list: field {field} visible={v} clear={clear}, shown {s:?}")),
                    }
                }
            }
        }
        Err(CoreError::Forbidden(_)) if !can_read => {}
        Err(e) => return Err(format!("list: {e}")),
    }

    // Count.
    match t.count_customers(p).await {
        Ok(n) if n == expected.len() as u64 => {}
        Err(CoreError::Forbidden(_)) if !can_read => {}
        other => return Err(format!("count: {other:?}, oracle {}", expected.len())),
    }

    // Search by region, where the user sees the region in clear.
    let (_, region_clear, _, _) = World::field_of(user, "region");
    let search = ListRequest {
        filters: vec![PlainFilter { field_id: "region".into(), op: FilterOp::Equals, value: "华东".into() }],
        limit: Some(500),
        ..Default::default()
    };
    match t.list_customers(p, search).await {
        Ok(page) => {
            let want: BTreeSet<Uuid> =
                w.records.iter().filter(|r| r.region == "华东" && expected.contains(&r.id)).map(|r| r.id).collect();
            let got: BTreeSet<Uuid> = page.items.iter().map(|c| c.id).collect();
            if !region_clear || got != want {
                return Err(format!("search: clear={region_clear}, got {} want {}", got.len(), want.len()));
            }
        }
        Err(CoreError::Invalid { .. }) if can_read && !region_clear => {}
        Err(CoreError::Forbidden(_)) if !can_read => {}
        Err(e) => return Err(format!("search: {e}")),
    }

    let (phone_visible, _, phone_reveal, _) = World::field_of(user, "phone");
    let (_, _, id_reveal, _) = World::field_of(user, "national_id");
    let (_, _, _, name_write) = World::field_of(user, "name");
    for rec in &w.records {
        let (read, write) = w.row(user, rec, default, now);

        // Read one.
        match (t.customer(p, rec.id).await, read) {
            (Ok(_), true) => {}
            (Err(CoreError::NotFound(_)), false) if can_read => {}
            (Err(CoreError::Forbidden(_)), false) if !can_read => {}
            (got, _) => return Err(format!("read {}: {:?}, oracle read={read}", rec.id, got.map(|c| c.id))),
        }

        // Lookup by the blind-indexed phone.
        match t.lookup_customers(p, "phone", &rec.phone).await {
            Ok(found) => {
                let ids: Vec<Uuid> = found.iter().map(|c| c.id).collect();
                let want = if read { vec![rec.id] } else { vec![] };
                if !phone_visible || ids != want {
                    return Err(format!("lookup {}: {ids:?}, oracle read={read} visible={phone_visible}", rec.id));
                }
            }
            Err(CoreError::Invalid { .. }) if can_read && !phone_visible => {}
            Err(CoreError::Forbidden(_)) if !can_read => {}
            Err(e) => return Err(format!("lookup {}: {e}", rec.id)),
        }

        // Reveal a confidential and a restricted field.
        for (field, allowed) in [("phone", phone_reveal), ("national_id", id_reveal)] {
            let (visible, _, _, _) = World::field_of(user, field);
            let got = t.reveal(p, rec.id, &[field.to_owned()], "matrix check").await;
            let ok = match &got {
                Ok(values) => read && allowed && values.contains_key(field),
                Err(CoreError::NotFound(_)) => can_read && !read,
                Err(CoreError::Invalid { .. }) => read && !visible,
                Err(CoreError::Forbidden(_)) => !can_read || (read && visible && !allowed),
                Err(_) => false,
            };
            if !ok {
                return Err(format!("reveal {field} of {}: {got:?}, oracle read={read} allowed={allowed}", rec.id));
            }
        }

        // Update the name.
        let version = t.store().customer_get(rec.id).await.unwrap().unwrap().version;
        let change = BTreeMap::from([("name".to_owned(), Some(format!("改{}", rec.id.simple())))]);
        let got = t.update_customer(p, rec.id, version, change).await;
        let ok = match &got {
            Ok(_) => write && name_write,
            Err(CoreError::NotFound(_)) => World::holds(user, Write) && !read,
            Err(CoreError::Forbidden(_)) => !World::holds(user, Write) || (read && (!write || !name_write)),
            Err(CoreError::Invalid { .. }) => write && !World::field_of(user, "name").0,
            Err(_) => false,
        };
        if !ok {
            return Err(format!("update {}: {got:?}, oracle read={read} write={write} field={name_write}", rec.id));
        }
    }

    // Export: the readable rows, the visible columns, plaintext only where revealed.
    if World::holds(user, Export) {
        let mut export =
            t.begin_export(p, ExportFormat::Csv, Some("matrix export")).await.map_err(|e| e.to_string())?;
        let mut csv = Vec::new();
        while let Some(chunk) = export.next_chunk().await.map_err(|e| e.to_string())? {
            csv.extend(chunk);
        }
        let csv = String::from_utf8(csv).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let schema = t.fields().await.unwrap();
        let want_header: Vec<String> = std::iter::once("id".to_owned())
            .chain(
                schema
                    .iter()
                    .filter(|def| {
                        World::field(
                            user,
                            &def.id,
                            def.classification.is_sealed(),
                            def.classification.as_str() == "restricted",
                        )
                        .0
                    })
                    .map(|def| def.id.clone()),
            )
            .collect();
        if header != want_header {
            return Err(format!("export header {header:?}, oracle {want_header:?}"));
        }
        let rows: BTreeSet<Uuid> = lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
        if rows != expected {
            return Err(format!("export: {} rows, oracle {}", rows.len(), expected.len()));
        }
        let id_column = want_header.iter().any(|c| c == "national_id");
        let plain_ids = csv.contains("1101051949123");
        if plain_ids != (id_reveal && id_column && !expected.is_empty()) {
            return Err(format!("export: national ids in plaintext {plain_ids}, oracle reveal={id_reveal}"));
        }
        let plain_phones = csv.contains("1380013");
        if plain_phones != (phone_reveal && phone_visible && !expected.is_empty()) {
            return Err(format!("export: phones in plaintext {plain_phones}, oracle reveal={phone_reveal}"));
        }
    }
    Ok(())
}

async fn policy_holds_across_the_matrix(backend: Backend) {
    let h = Harness::new(backend).await;
    let w = build(&h).await;
    let admin = principal("policy@example.com", &[Permission::RoleManage]);
    // The matrix checks what an export contains; when it needs an approver is checked in
    // export_approval.rs.
    let no_approval = ExportApprovalPolicy { max_rows: None, restricted: false, valid_hours: 24 };
    h.tutela.set_export_approval_policy(&admin, no_approval).await.unwrap();
    check_everyone(&h, &w, OrgDefault::Private).await;
    // The one-hour share has run out; the others hold.
    h.clock.advance(Duration::hours(2));
    check_everyone(&h, &w, OrgDefault::Private).await;
    for default in [OrgDefault::ReadOnly, OrgDefault::ReadWrite] {
        h.tutela.set_org_default(&admin, default).await.unwrap();
        check_everyone(&h, &w, default).await;
    }
    h.close().await;
}

tutela_core::on_both_stores! {
    policy_holds_across_the_matrix_ => policy_holds_across_the_matrix;
}
