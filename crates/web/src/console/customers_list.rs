//! The customer list: a search box (exact lookup on sealed e-mail, phone and resident ID,
//! else a name filter), a region filter, sortable plaintext columns and cursor paging.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Query;
use serde::Deserialize;
use tutela_core::policy::Permission;
use tutela_core::vault::{CustomerView, ListRequest};
use tutela_store::{FieldDef, FieldKind, FilterOp, PlainFilter, SortKey};

use super::error::{ConsoleResult, ok};
use super::fields::{label, lookup_kinds, ordered};
use super::forms::Errors;
use super::i18n::Lang;
use super::layout::{Chrome, Nav};
use super::session::{Console, ConsoleForm};
use crate::AppState;

const PAGE: u32 = 50;
const MAX_COLUMNS: usize = 7;
const NAME_FIELD: &str = "name";
const REGION_FIELD: &str = "region";

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
    sort: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

impl ListQuery {
    fn descending(&self) -> bool {
        self.order.as_deref() == Some("desc")
    }
}

pub struct Column {
    pub label: String,
    /// Where a click on the header goes; `None` for sealed fields, which cannot be sorted.
    pub sort_href: Option<String>,
    /// `asc`, `desc` or empty, for the arrow.
    pub sorted: &'static str,
}

pub struct Cell {
    pub value: String,
    pub masked: bool,
}

pub struct Row {
    pub href: String,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    region: String,
    has_region: bool,
    columns: Vec<Column>,
    rows: Vec<Row>,
    /// True when the search was an exact lookup (no paging then).
    lookup: bool,
    next_href: Option<String>,
    first_href: Option<String>,
    can_create: bool,
    notice: Option<String>,
    errors: Errors,
}

fn href(q: &ListQuery, sort: Option<&str>, order: Option<&str>, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if !q.q.is_empty() {
        pairs.push(("q", &q.q));
    }
    if !q.region.is_empty() {
        pairs.push(("region", &q.region));
    }
    if let Some(s) = sort {
        pairs.push(("sort", s));
    }
    if let Some(o) = order {
        pairs.push(("order", o));
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    match serde_html_form::to_string(&pairs) {
        Ok(qs) if !qs.is_empty() => format!("/customers?{qs}"),
        _ => "/customers".to_owned(),
    }
}

/// Searchable text kinds and the masked kinds people recognise a customer by.
fn columns_of(fields: &[FieldDef]) -> Vec<FieldDef> {
    fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Text | FieldKind::Email | FieldKind::Phone))
        .take(MAX_COLUMNS)
        .cloned()
        .collect()
}

fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "erased" => Some("customer-notice-erased"),
        _ => None,
    }
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ListQuery>,
) -> ConsoleResult<Response> {
    render_list(&state, &console, q).await
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
}

/// The search box posts: an e-mail address, phone number or ID number is answered here and
/// never becomes part of a URL, which browser history and proxy logs would keep. A name
/// search goes to the shareable list URL.
pub async fn search(
    State(state): State<AppState>,
    ConsoleForm { console, form }: ConsoleForm<SearchForm>,
) -> ConsoleResult<Response> {
    let q = ListQuery { q: form.q, region: form.region, ..ListQuery::default() };
    if lookup_kinds(&q.q).is_some() {
        render_list(&state, &console, q).await
    } else {
        Ok(Redirect::to(&href(&q, None, None, None)).into_response())
    }
}

/// Customers matching the query: an exact lookup in every field of the recognised kinds,
/// or a page of the (filtered, sorted) list with the cursor of the next page.
async fn find(
    state: &AppState,
    console: &Console,
    fields: &[FieldDef],
    q: &ListQuery,
    errors: &mut Errors,
) -> ConsoleResult<(Vec<CustomerView>, Option<String>)> {
    let (tutela, p) = (&state.tutela, &console.principal);
    let query = q.q.trim();
    let mut items: Vec<CustomerView> = Vec::new();
    if let Some(kinds) = lookup_kinds(query) {
        for def in fields.iter().filter(|f| kinds.contains(&f.kind)) {
            match tutela.lookup_customers(p, &def.id, query).await {
                Ok(found) => {
                    let new: Vec<_> = found.into_iter().filter(|v| !items.iter().any(|i| i.id == v.id)).collect();
                    items.extend(new);
                }
                Err(e) => errors.absorb(e).map_err(|e| console.core_error(e))?,
            }
        }
        if !q.region.is_empty() {
            items.retain(|v| v.get(REGION_FIELD) == Some(q.region.as_str()));
        }
        return Ok((items, None));
    }
    let mut filters = Vec::new();
    if !query.is_empty() {
        filters.push(PlainFilter { field_id: NAME_FIELD.into(), op: FilterOp::Contains, value: query.to_owned() });
    }
    let region = q.region.trim();
    if !region.is_empty() {
        filters.push(PlainFilter { field_id: REGION_FIELD.into(), op: FilterOp::Equals, value: region.to_owned() });
    }
    let request = ListRequest {
        filters,
        sort: SortKey { field_id: q.sort.clone().filter(|s| !s.is_empty()), descending: q.descending() },
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
        limit: Some(PAGE),
    };
    match tutela.list_customers(p, request).await {
        Ok(page) => Ok((page.items, page.next_cursor)),
        Err(e) => {
            errors.absorb(e).map_err(|e| console.core_error(e))?;
            Ok((Vec::new(), None))
        }
    }
}

fn column(def: &FieldDef, q: &ListQuery, lookup: bool, lang: Lang) -> Column {
    let current = q.sort.as_deref() == Some(def.id.as_str());
    let sorted = match (current, q.descending()) {
        (true, false) => "asc",
        (true, true) => "desc",
        (false, _) => "",
    };
    let order = if current && !q.descending() { "desc" } else { "asc" };
    let sortable = !def.classification.is_sealed() && !lookup;
    Column { label: label(def, lang), sort_href: sortable.then(|| href(q, Some(&def.id), Some(order), None)), sorted }
}

fn row(v: &CustomerView, shown: &[FieldDef]) -> Row {
    let cells = shown
        .iter()
        .map(|def| {
            let f = v.fields.iter().find(|f| f.id == def.id);
            Cell { value: f.map(|f| f.value.clone()).unwrap_or_default(), masked: f.is_some_and(|f| f.masked) }
        })
        .collect();
    Row { href: format!("/customers/{}", v.id), cells }
}

async fn render_list(state: &AppState, console: &Console, q: ListQuery) -> ConsoleResult<Response> {
    console.require(Permission::CustomerRead)?;
    let fields = ordered(state.tutela.fields().await.map_err(|e| console.core_error(e))?);
    let shown = columns_of(&fields);
    let mut errors = Errors::for_fields(["q", "region"]);
    let (items, next_cursor) = find(state, console, &fields, &q, &mut errors).await?;
    let lookup = lookup_kinds(&q.q).is_some();
    let chrome = console.chrome(Some(Nav::Customers)).with_watermark(state.tutela.clock().now());
    let page = ListPage {
        notice: notice_key(q.notice.as_deref()).map(|k| chrome.t(k)),
        next_href: next_cursor.as_deref().map(|c| href(&q, q.sort.as_deref(), q.order.as_deref(), Some(c))),
        first_href: q.cursor.is_some().then(|| href(&q, q.sort.as_deref(), q.order.as_deref(), None)),
        columns: shown.iter().map(|def| column(def, &q, lookup, console.lang)).collect(),
        rows: items.iter().map(|v| row(v, &shown)).collect(),
        lookup,
        can_create: console.can(Permission::CustomerWrite),
        has_region: fields.iter().any(|f| f.id == REGION_FIELD),
        q: q.q.clone(),
        region: q.region.clone(),
        chrome,
        errors,
    };
    Ok(ok(&page))
}
