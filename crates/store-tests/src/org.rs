//! The organisation, sharing rules, record shares, and queries limited to a `RowScope`.

use std::collections::BTreeSet;

use time::Duration;
use tutela_store::{
    BreakGlassRow, CustomerQuery, DepartmentRow, ErasureRecord, FilterOp, MembershipRow, Mutation, NetworkRuleRow,
    OrgChange, PlainFilter, RecordShareRow, RowScope, SharingRuleRow, Store, TeamRow,
};
use uuid::Uuid;

use crate::support::{assert_conflict, assert_not_found, customer, must_write, new_user, now, role, tag, write};

fn org(change: OrgChange) -> Mutation {
    Mutation::Org(change)
}

fn department(name: &str, parent_id: Option<Uuid>) -> DepartmentRow {
    DepartmentRow { id: Uuid::new_v4(), name: name.to_owned(), parent_id, created_at: now(), manager_id: None }
}

pub async fn structure(store: &dyn Store) {
    let run = tag();
    let sales = department(&format!("{run}-销售部"), None);
    let east = department(&format!("{run}-华东"), Some(sales.id));
    must_write(store, &[org(OrgChange::PutDepartment(sales.clone())), org(OrgChange::PutDepartment(east.clone()))])
        .await;
    let ours = |rows: Vec<DepartmentRow>| -> Vec<DepartmentRow> {
        rows.into_iter().filter(|d| d.name.starts_with(&run)).collect()
    };
    assert_eq!(ours(store.departments_list().await.unwrap()), vec![east.clone(), sales.clone()], "by name");
    let moved = DepartmentRow { parent_id: None, name: format!("{run}-华东区"), ..east.clone() };
    must_write(store, &[org(OrgChange::PutDepartment(moved.clone()))]).await;
    assert_eq!(ours(store.departments_list().await.unwrap()), vec![moved.clone(), sales.clone()], "upsert");
    assert_conflict(
        write(store, &[org(OrgChange::PutDepartment(department(&sales.name, None)))]).await,
        "duplicate department name",
    );

    let team =
        TeamRow { id: Uuid::new_v4(), name: format!("{run}-一组"), department_id: Some(sales.id), created_at: now() };
    must_write(store, &[org(OrgChange::PutTeam(team.clone()))]).await;
    assert!(store.teams_list().await.unwrap().contains(&team));

    let u = new_user(store, "member").await;
    let membership = MembershipRow { user_id: u.id, department_id: Some(moved.id), team_id: Some(team.id) };
    must_write(store, &[org(OrgChange::SetMembership(membership.clone()))]).await;
    let mine = |all: Vec<MembershipRow>| all.into_iter().find(|m| m.user_id == u.id);
    assert_eq!(mine(store.memberships_list().await.unwrap()), Some(membership.clone()));

    // Deleting a department or team clears the memberships that name it.
    must_write(store, &[org(OrgChange::DeleteDepartment { id: moved.id })]).await;
    assert_eq!(
        mine(store.memberships_list().await.unwrap()),
        Some(MembershipRow { department_id: None, ..membership.clone() })
    );
    must_write(store, &[org(OrgChange::DeleteTeam { id: team.id })]).await;
    assert_eq!(
        mine(store.memberships_list().await.unwrap()),
        Some(MembershipRow { user_id: u.id, department_id: None, team_id: None })
    );
    assert_not_found(write(store, &[org(OrgChange::DeleteTeam { id: team.id })]).await, "deleted team");
    assert_not_found(write(store, &[org(OrgChange::DeleteDepartment { id: moved.id })]).await, "deleted department");
    assert_conflict(
        write(
            store,
            &[org(OrgChange::SetMembership(MembershipRow {
                user_id: u.id,
                department_id: Some(Uuid::new_v4()),
                team_id: None,
            }))],
        )
        .await,
        "membership in an unknown department",
    );

    // Role assignments as pairs.
    let r = role(&format!("{run}-role"), &["customer.read"]);
    must_write(store, &[Mutation::PutRole(r.clone()), Mutation::SetUserRoles { user_id: u.id, role_ids: vec![r.id] }])
        .await;
    assert!(store.role_assignments().await.unwrap().contains(&(u.id, r.id)));
}

pub async fn rules_and_shares(store: &dyn Store) {
    let run = tag();
    let rule = SharingRuleRow {
        id: Uuid::new_v4(),
        name: format!("{run}-east"),
        field_id: "region".into(),
        value: "华东".into(),
        grantee_kind: "department".into(),
        grantee_id: Uuid::new_v4(),
        access: "read".into(),
        created_at: now(),
    };
    must_write(store, &[org(OrgChange::PutSharingRule(rule.clone()))]).await;
    let changed = SharingRuleRow { access: "write".into(), value: "华南".into(), ..rule.clone() };
    must_write(store, &[org(OrgChange::PutSharingRule(changed.clone()))]).await;
    let ours = |all: Vec<SharingRuleRow>| all.into_iter().filter(|r| r.name.starts_with(&run)).collect::<Vec<_>>();
    assert_eq!(ours(store.sharing_rules_list().await.unwrap()), vec![changed]);
    must_write(store, &[org(OrgChange::DeleteSharingRule { id: rule.id })]).await;
    assert!(ours(store.sharing_rules_list().await.unwrap()).is_empty());
    assert_not_found(write(store, &[org(OrgChange::DeleteSharingRule { id: rule.id })]).await, "deleted rule");

    let u = new_user(store, "share").await;
    let c = customer(&[("name", "Shared")], 1);
    must_write(store, &[Mutation::InsertCustomer { row: c.clone(), blind: Vec::new() }]).await;
    let share = RecordShareRow {
        id: Uuid::new_v4(),
        customer_id: c.id,
        user_id: u.id,
        access: "read".into(),
        reason: "covering while 李雷 is away".into(),
        granted_by: None,
        created_at: now(),
        expires_at: now() + Duration::days(7),
    };
    must_write(store, &[org(OrgChange::InsertRecordShare(share.clone()))]).await;
    assert_eq!(store.record_shares_for_user(u.id).await.unwrap(), vec![share.clone()]);
    assert_eq!(store.record_shares_for_customer(c.id).await.unwrap(), vec![share.clone()]);
    must_write(store, &[org(OrgChange::DeleteRecordShare { id: share.id })]).await;
    assert!(store.record_shares_for_user(u.id).await.unwrap().is_empty());
    assert_not_found(write(store, &[org(OrgChange::DeleteRecordShare { id: share.id })]).await, "deleted share");

    // A share goes with the record it shares.
    must_write(store, &[org(OrgChange::InsertRecordShare(RecordShareRow { id: Uuid::new_v4(), ..share }))]).await;
    let erasure = ErasureRecord { seq: 0, customer_id: c.id, erased_at: now(), actor_id: None, reason: "test".into() };
    must_write(store, &[Mutation::EraseCustomer(erasure)]).await;
    assert!(store.record_shares_for_customer(c.id).await.unwrap().is_empty(), "shares gone with the record");
}

pub async fn break_glass(store: &dyn Store) {
    let u = new_user(store, "glass").await;
    let c = customer(&[("name", "Glass")], 1);
    must_write(store, &[Mutation::InsertCustomer { row: c.clone(), blind: Vec::new() }]).await;
    let pending = BreakGlassRow {
        id: Uuid::new_v4(),
        customer_id: c.id,
        user_id: u.id,
        justification: "客户来电，账户异常".into(),
        status: "pending".into(),
        minutes: 30,
        requested_at: now(),
        decided_by: None,
        decided_at: None,
        expires_at: None,
    };
    must_write(store, &[org(OrgChange::PutBreakGlass(pending.clone()))]).await;
    assert_eq!(store.break_glass_get(pending.id).await.unwrap(), Some(pending.clone()));
    let active = BreakGlassRow {
        status: "active".into(),
        decided_by: Some(u.id),
        decided_at: Some(now()),
        expires_at: Some(now() + Duration::minutes(30)),
        // The request itself is kept as it was asked.
        justification: "changed".into(),
        ..pending.clone()
    };
    must_write(store, &[org(OrgChange::PutBreakGlass(active.clone()))]).await;
    let stored = store.break_glass_get(pending.id).await.unwrap().unwrap();
    assert_eq!(stored, BreakGlassRow { justification: pending.justification.clone(), ..active.clone() });
    let later = BreakGlassRow { id: Uuid::new_v4(), requested_at: now() + Duration::seconds(1), ..pending.clone() };
    must_write(store, &[org(OrgChange::PutBreakGlass(later.clone()))]).await;
    let mine: Vec<Uuid> = store.break_glass_for_user(u.id).await.unwrap().iter().map(|b| b.id).collect();
    assert_eq!(mine, vec![later.id, pending.id], "newest first");
    let recent: Vec<Uuid> = store.break_glass_recent(2).await.unwrap().iter().map(|b| b.id).collect();
    assert_eq!(recent.len(), 2);
    assert!(store.break_glass_get(Uuid::new_v4()).await.unwrap().is_none());
    assert_conflict(
        write(
            store,
            &[org(OrgChange::PutBreakGlass(BreakGlassRow {
                id: Uuid::new_v4(),
                customer_id: Uuid::new_v4(),
                ..pending
            }))],
        )
        .await,
        "a request for an unknown customer",
    );
}

/// Owners, ids and matching values each admit rows; the scope combines them with OR and
/// the query's own filters with AND; counts agree with the rows.
pub async fn scoped_queries(store: &dyn Store) {
    let run = tag();
    let (a, b) = (new_user(store, "owner-a").await.id, new_user(store, "owner-b").await.id);
    let mut rows = Vec::new();
    for (owner, region) in
        [(Some(a), "华东"), (Some(a), "华北"), (Some(b), "华东"), (Some(b), "华南"), (None, "华东"), (None, "西南")]
    {
        let mut row = customer(&[("run", run.as_str()), ("region", region)], 1);
        row.owner_id = owner;
        rows.push(row);
    }
    let inserts: Vec<Mutation> =
        rows.iter().map(|r| Mutation::InsertCustomer { row: r.clone(), blind: Vec::new() }).collect();
    must_write(store, &inserts).await;
    assert_eq!(store.customer_get(rows[0].id).await.unwrap().unwrap().owner_id, Some(a), "owner stored");

    let in_run = PlainFilter { field_id: "run".into(), op: FilterOp::Equals, value: run.clone() };
    let ids_of = |scope: RowScope| {
        let query = CustomerQuery { filters: vec![in_run.clone()], ..CustomerQuery::within(scope, 100) };
        async move { store.customers_query(&query).await.unwrap().into_iter().map(|r| r.id).collect::<BTreeSet<_>>() }
    };
    let expect = |indexes: &[usize]| indexes.iter().map(|&i| rows[i].id).collect::<BTreeSet<_>>();
    let only = |owners: Vec<Uuid>, ids: Vec<Uuid>, matching: Vec<(&str, &str)>| RowScope::Only {
        owners,
        ids,
        matching: matching.into_iter().map(|(f, v)| (f.to_owned(), v.to_owned())).collect(),
    };

    assert_eq!(ids_of(RowScope::All).await, expect(&[0, 1, 2, 3, 4, 5]));
    assert_eq!(ids_of(only(vec![a], vec![], vec![])).await, expect(&[0, 1]), "by owner");
    assert_eq!(ids_of(only(vec![a, b], vec![], vec![])).await, expect(&[0, 1, 2, 3]), "several owners");
    assert_eq!(ids_of(only(vec![], vec![rows[5].id], vec![])).await, expect(&[5]), "by id");
    assert_eq!(ids_of(only(vec![], vec![], vec![("region", "华东")])).await, expect(&[0, 2, 4]), "by value");
    assert_eq!(
        ids_of(only(vec![b], vec![rows[1].id], vec![("region", "西南")])).await,
        expect(&[1, 2, 3, 5]),
        "any of them"
    );
    assert_eq!(ids_of(only(vec![], vec![], vec![])).await, BTreeSet::new(), "an empty scope admits nothing");
    assert_eq!(ids_of(only(vec![Uuid::new_v4()], vec![], vec![("region", "无")])).await, BTreeSet::new());

    // With an id restriction (a blind-index lookup) the scope still applies.
    let query = CustomerQuery {
        ids: Some(vec![rows[0].id, rows[3].id]),
        ..CustomerQuery::within(only(vec![b], vec![], vec![]), 10)
    };
    let found: Vec<Uuid> = store.customers_query(&query).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(found, vec![rows[3].id], "ids and scope together");

    // Counts: differences, since other checks' rows share the store.
    let all = store.customers_count(&RowScope::All).await.unwrap();
    assert!(all >= 6);
    assert_eq!(store.customers_count(&only(vec![a], vec![], vec![])).await.unwrap(), 2);
    assert_eq!(
        store.customers_count(&only(vec![a], vec![rows[4].id], vec![("run", run.as_str())])).await.unwrap(),
        6,
        "owner, id or value: every row of the run once"
    );
    assert_eq!(store.customers_count(&only(vec![], vec![], vec![])).await.unwrap(), 0);

    // Changing the owner moves the row between scopes.
    let mut moved = rows[0].clone();
    moved.version = 2;
    moved.owner_id = Some(b);
    must_write(store, &[Mutation::UpdateCustomer { row: moved, blind: Vec::new() }]).await;
    assert_eq!(ids_of(only(vec![a], vec![], vec![])).await, expect(&[1]), "after the owner changed");
}

/// Address ranges: set, replaced, listed per subject, removed by an empty list.
pub async fn network_rules(store: &dyn Store) {
    let (subject_id, at) = (Uuid::new_v4(), now());
    let rule = |networks: &[&str]| NetworkRuleRow {
        subject_kind: "role".into(),
        subject_id,
        networks: networks.iter().map(|n| (*n).to_owned()).collect(),
        updated_at: at,
    };
    let ours = |rows: Vec<NetworkRuleRow>| rows.into_iter().filter(|r| r.subject_id == subject_id).collect::<Vec<_>>();
    must_write(store, &[org(OrgChange::SetNetworkRule(rule(&["10.0.0.0/8", "2001:db8::/32"])))]).await;
    assert_eq!(ours(store.network_rules_list().await.unwrap()), vec![rule(&["10.0.0.0/8", "2001:db8::/32"])]);
    let user_rule = NetworkRuleRow { subject_kind: "user".into(), ..rule(&["192.0.2.7/32"]) };
    must_write(
        store,
        &[org(OrgChange::SetNetworkRule(rule(&["172.16.0.0/12"]))), org(OrgChange::SetNetworkRule(user_rule.clone()))],
    )
    .await;
    assert_eq!(ours(store.network_rules_list().await.unwrap()), vec![rule(&["172.16.0.0/12"]), user_rule.clone()]);
    must_write(store, &[org(OrgChange::SetNetworkRule(rule(&[])))]).await;
    assert_eq!(ours(store.network_rules_list().await.unwrap()), vec![user_rule]);
}
