//! `customers_query`: filters, id restriction, ordering and cursor pagination.
//!
//! Each check inserts its own records, all carrying a `run` field unique to the check, and
//! filters on it, so other rows in the store never show up.

use tutela_store::{CustomerQuery, CustomerRow, FilterOp, Mutation, PlainFilter, RowScope, SortKey, Store};
use uuid::Uuid;

use crate::support::{customer, must_write, tag};

/// Names that exercise ties, case, `LIKE` metacharacters, the escape character itself,
/// non-ASCII text, an empty value and a missing field (`None`).
const NAMES: [Option<&str>; 14] = [
    Some("alice"),
    Some("Alicia"),
    Some("bob"),
    Some("bob"),
    Some("bob"),
    Some("carol_1"),
    Some("carol%2"),
    Some("carolX2"),
    Some("back\\slash"),
    Some("émile"),
    Some("Zoë"),
    Some(""),
    None,
    None,
];

/// Inserts one record per name with a fresh `run` value; returns the run and the rows.
async fn dataset(store: &dyn Store) -> (String, Vec<CustomerRow>) {
    let run = tag();
    let rows: Vec<CustomerRow> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let city = if i % 2 == 0 { "Oslo" } else { "Taipei" };
            let mut plain = vec![("run", run.as_str()), ("city", city)];
            if let Some(name) = name {
                plain.push(("name", name));
            }
            customer(&plain, 1)
        })
        .collect();
    let inserts: Vec<Mutation> =
        rows.iter().map(|row| Mutation::InsertCustomer { row: row.clone(), blind: Vec::new() }).collect();
    must_write(store, &inserts).await;
    (run, rows)
}

fn filter(field_id: &str, op: FilterOp, value: &str) -> PlainFilter {
    PlainFilter { field_id: field_id.to_owned(), op, value: value.to_owned() }
}

fn in_run(run: &str, more: Vec<PlainFilter>) -> CustomerQuery {
    let mut filters = vec![filter("run", FilterOp::Equals, run)];
    filters.extend(more);
    CustomerQuery { filters, limit: 1000, ..CustomerQuery::within(RowScope::All, 0) }
}

fn name_of(row: &CustomerRow) -> Option<&str> {
    row.plain.get("name").map(String::as_str)
}

/// The names a query returns, sorted, for comparison regardless of order.
async fn names(store: &dyn Store, query: &CustomerQuery) -> Vec<Option<String>> {
    let rows = store.customers_query(query).await.unwrap_or_else(|e| panic!("{query:?}: {e}"));
    let mut names: Vec<Option<String>> = rows.iter().map(|r| name_of(r).map(str::to_owned)).collect();
    names.sort();
    names
}

fn some(names: &[&str]) -> Vec<Option<String>> {
    let mut v: Vec<Option<String>> = names.iter().map(|n| Some((*n).to_owned())).collect();
    v.sort();
    v
}

pub async fn filters(store: &dyn Store) {
    use FilterOp::{Contains, Equals, Prefix};
    let (run, rows) = dataset(store).await;
    let q = |field: &str, op, value: &str| in_run(&run, vec![filter(field, op, value)]);

    assert_eq!(names(store, &in_run(&run, Vec::new())).await.len(), rows.len(), "the run alone");
    assert_eq!(names(store, &q("name", Equals, "bob")).await, some(&["bob", "bob", "bob"]));
    assert_eq!(names(store, &q("name", Equals, "Bob")).await, some(&[]), "equality is exact");
    assert_eq!(names(store, &q("name", Equals, "")).await, some(&[""]), "an empty value is not a missing field");
    assert_eq!(names(store, &q("name", Equals, "émile")).await, some(&["émile"]));
    assert_eq!(names(store, &q("nickname", Equals, "bob")).await, some(&[]), "a field no record has");

    // Prefix and contains ignore ASCII case.
    assert_eq!(names(store, &q("name", Prefix, "ali")).await, some(&["alice", "Alicia"]));
    assert_eq!(names(store, &q("name", Prefix, "ALI")).await, some(&["alice", "Alicia"]));
    assert_eq!(names(store, &q("name", Contains, "OL")).await, some(&["carol_1", "carol%2", "carolX2"]));
    assert_eq!(
        names(store, &q("name", Prefix, "")).await.len(),
        NAMES.iter().flatten().count(),
        "empty prefix: every present value"
    );

    // LIKE metacharacters and the escape character match literally.
    assert_eq!(names(store, &q("name", Prefix, "carol_")).await, some(&["carol_1"]), "prefix with _");
    assert_eq!(names(store, &q("name", Prefix, "carol%")).await, some(&["carol%2"]), "prefix with %");
    assert_eq!(names(store, &q("name", Contains, "_")).await, some(&["carol_1"]), "contains _");
    assert_eq!(names(store, &q("name", Contains, "%")).await, some(&["carol%2"]), "contains %");
    assert_eq!(names(store, &q("name", Contains, "l%2")).await, some(&["carol%2"]), "contains l%2");
    assert_eq!(names(store, &q("name", Contains, "\\")).await, some(&["back\\slash"]), "contains a backslash");
    assert_eq!(names(store, &q("name", Contains, "k\\s")).await, some(&["back\\slash"]), "contains k\\s");
    assert_eq!(names(store, &q("name", Prefix, "_")).await, some(&[]), "prefix _ is not a wildcard");
    assert_eq!(names(store, &q("name", Contains, "%%")).await, some(&[]), "%% is not a wildcard");

    // Filters combine with AND.
    let both = in_run(&run, vec![filter("city", Equals, "Oslo"), filter("name", Prefix, "bob")]);
    let expected = NAMES.iter().enumerate().filter(|(i, n)| i % 2 == 0 && *n == &Some("bob")).count();
    assert_eq!(names(store, &both).await.len(), expected, "city and name");
    let none = in_run(&run, vec![filter("name", Equals, "alice"), filter("name", Equals, "bob")]);
    assert_eq!(names(store, &none).await, some(&[]), "contradictory filters");
}

pub async fn ids(store: &dyn Store) {
    let (run, rows) = dataset(store).await;
    let mut wanted = vec![rows[0].id, rows[3].id, rows[12].id];
    let mut query = in_run(&run, Vec::new());
    query.ids = Some(vec![rows[12].id, Uuid::new_v4(), rows[0].id, rows[3].id]);
    let got: Vec<Uuid> = store.customers_query(&query).await.unwrap().iter().map(|r| r.id).collect();
    wanted.sort();
    assert_eq!(got, wanted, "restricted to the ids, in id order");

    // An empty candidate list matches nothing (not everything).
    query.ids = Some(Vec::new());
    assert!(store.customers_query(&query).await.unwrap().is_empty(), "empty ids");
    let unfiltered = CustomerQuery { ids: Some(Vec::new()), limit: 10, ..CustomerQuery::within(RowScope::All, 0) };
    assert!(store.customers_query(&unfiltered).await.unwrap().is_empty(), "empty ids without filters");

    // Many candidates (a common blind hash) in one query, with the other filters.
    let mut many: Vec<Uuid> = (0..3000).map(|_| Uuid::new_v4()).collect();
    many.push(rows[5].id);
    many.push(rows[6].id);
    query.ids = Some(many);
    query.filters.push(filter("name", FilterOp::Contains, "%"));
    let got: Vec<Uuid> = store.customers_query(&query).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(got, vec![rows[6].id], "ids and filters together");
}

/// The value a row sorts by: the field's value, or empty when it has none.
fn sort_value(row: &CustomerRow, field: Option<&str>) -> String {
    field.map_or_else(String::new, |f| row.plain.get(f).cloned().unwrap_or_default())
}

/// Walks every page of `query`, `page` rows at a time, following the cursor.
async fn walk(store: &dyn Store, mut query: CustomerQuery, page: u32) -> Vec<Uuid> {
    let field = query.sort.field_id.clone();
    query.limit = page;
    query.after = None;
    let mut seen = Vec::new();
    for _ in 0..=NAMES.len() + 1 {
        let rows = store.customers_query(&query).await.unwrap_or_else(|e| panic!("{query:?}: {e}"));
        assert!(rows.len() <= page as usize, "limit {page} exceeded: {}", rows.len());
        seen.extend(rows.iter().map(|r| r.id));
        match rows.last() {
            Some(last) if rows.len() == page as usize => {
                query.after = Some((sort_value(last, field.as_deref()), last.id));
            }
            _ => return seen,
        }
    }
    panic!("pagination did not end: {query:?}");
}

pub async fn sort_and_pages(store: &dyn Store) {
    let (run, rows) = dataset(store).await;
    for field in [Some("name"), Some("city"), Some("nickname"), None] {
        for descending in [false, true] {
            // Values compare by code point (bytes of UTF-8), ties by id.
            let mut expected: Vec<&CustomerRow> = rows.iter().collect();
            expected.sort_by_key(|r| (sort_value(r, field), r.id));
            if descending {
                expected.reverse();
            }
            let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
            let mut query = in_run(&run, Vec::new());
            query.sort = SortKey { field_id: field.map(str::to_owned), descending };
            for page in [1, 2, 3, 5, 100] {
                let seen = walk(store, query.clone(), page).await;
                assert_eq!(seen, expected, "sort by {field:?}, descending {descending}, pages of {page}");
            }
        }
    }

    // Limit zero returns nothing; the cursor is exclusive.
    let mut query = in_run(&run, Vec::new());
    query.limit = 0;
    assert!(store.customers_query(&query).await.unwrap().is_empty(), "limit 0");
    query.limit = 100;
    query.sort = SortKey { field_id: Some("name".into()), descending: false };
    let bob = rows.iter().filter(|r| name_of(r) == Some("bob")).map(|r| r.id).min().unwrap();
    query.after = Some(("bob".into(), bob));
    let after: Vec<Option<String>> =
        store.customers_query(&query).await.unwrap().iter().map(|r| name_of(r).map(str::to_owned)).collect();
    assert_eq!(
        after[..2],
        [Some("bob".to_owned()), Some("bob".to_owned())],
        "the rest of the tie, then larger: {after:?}"
    );
    assert_eq!(after[2].as_deref(), Some("carol%2"), "then larger values: {after:?}");
}
