//! The customer vault: records whose confidential and restricted fields are sealed under a
//! per-record data key, read masked by default, revealed only with permission and purpose.

mod export;
pub mod import;
mod mask;
mod plan;
mod record;
pub mod values;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{CustomerQuery, FieldDef, FilterOp, Mutation, PlainFilter, RowScope, SortKey};
use uuid::Uuid;

use crate::access::RowFacts;
use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::stamp_cache::STAMP_KEY;
use crate::{CoreError, CoreResult, Tutela};

pub use export::{Export, ExportFormat, ExportReport, WATERMARK_COLUMN};
pub(crate) use export::{ExportPlan, export_purpose};
pub use mask::mask;
pub use plan::FieldPlan;
pub use record::{Schema, SealedRecord};

/// A customer as a caller may see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustomerView {
    pub id: Uuid,
    pub version: i64,
    /// The user the record belongs to (data scopes are reckoned from it).
    pub owner_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub fields: Vec<FieldValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldValue {
    pub id: String,
    pub value: String,
    /// True when `value` is a masked rendering of a sealed value.
    pub masked: bool,
}

impl CustomerView {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.id == field).map(|f| f.value.as_str())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub filters: Vec<PlainFilter>,
    pub sort: SortKey,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerPage {
    pub items: Vec<CustomerView>,
    pub next_cursor: Option<String>,
}

const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;
const MAX_PURPOSE: usize = 500;

impl Tutela {
    /// The schema, from memory unless a change has been committed since it was read.
    pub(crate) async fn schema(&self) -> CoreResult<Arc<Schema>> {
        let stamp = self.store.meta_get(STAMP_KEY).await?;
        if let Some(schema) = self.cache.schema(&stamp) {
            return Ok(schema);
        }
        let schema = Arc::new(Schema::new(self.store.fields_list().await?));
        self.cache.keep_schema(&stamp, schema.clone());
        Ok(schema)
    }

    /// Creates a record owned by the caller. Every field given must be one the caller may write.
    pub async fn create_customer(
        &self,
        principal: &Principal,
        values: BTreeMap<String, String>,
    ) -> CoreResult<CustomerView> {
        self.require(principal, Permission::CustomerWrite, "customer.create").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        plan.require_writable(values.keys())?;
        let values = schema.validate_new(&values)?;
        let now = self.clock.now();
        let record = SealedRecord::seal_new(&self.keys, &schema, &values, principal.user_id, now)?;
        let view = record.view_from_plaintext(&plan, &values);
        let event = AuditEvent::by(principal, "customer.create").customer(record.row.id).fields(values.keys().cloned());
        let mutation = record.into_insert_with(&self.keys, &schema)?;
        self.audit.commit(vec![mutation], vec![event]).await?;
        Ok(view)
    }

    pub async fn customer(&self, principal: &Principal, id: Uuid) -> CoreResult<CustomerView> {
        self.require(principal, Permission::CustomerRead, "customer.read").await?;
        let row = self.readable_row(principal, id, "customer.read").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        let record = SealedRecord::open(&self.keys, row).await?;
        let view = record.view(&plan)?;
        let sealed: Vec<String> =
            view.fields.iter().filter(|f| record.row.sealed.contains_key(&f.id)).map(|f| f.id.clone()).collect();
        self.audit.record(AuditEvent::by(principal, "customer.read").customer(id).fields(sealed)).await?;
        Ok(view)
    }

    /// Plaintext of the named fields. Sealed fields need the reveal right of the field (its
    /// level and its classification's permission); a refusal is audited like a success,
    /// with the purpose given.
    pub async fn reveal(
        &self,
        principal: &Principal,
        id: Uuid,
        fields: &[String],
        purpose: &str,
    ) -> CoreResult<BTreeMap<String, String>> {
        self.require(principal, Permission::CustomerRead, "customer.reveal").await?;
        let purpose = purpose.trim();
        if purpose.chars().count() < 3 || purpose.chars().count() > MAX_PURPOSE {
            return Err(CoreError::invalid("purpose", format!("state the purpose in 3 to {MAX_PURPOSE} characters")));
        }
        if fields.is_empty() {
            return Err(CoreError::invalid("fields", "name at least one field to reveal"));
        }
        self.require_recent_sign_in(principal, "customer.reveal").await?;
        let row = self.readable_row(principal, id, "customer.reveal").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        let mut denied = Vec::new();
        for field in fields {
            let (def, caps) = plan.require_visible(field, "fields")?;
            let allowed = if def.classification.is_sealed() { caps.reveal } else { caps.clear };
            if !allowed {
                denied.push(field.clone());
            }
        }
        let event =
            AuditEvent::by(principal, "customer.reveal").customer(id).fields(fields.iter().cloned()).purpose(purpose);
        if !denied.is_empty() {
            self.audit.record(event.outcome(Outcome::Denied)).await?;
            return Err(CoreError::Forbidden(format!("your roles may not reveal: {}", denied.join(", "))));
        }
        let record = SealedRecord::open(&self.keys, row).await?;
        let mut revealed = BTreeMap::new();
        for field in fields {
            if let Some(value) = record.plaintext(field)? {
                revealed.insert(field.clone(), value);
            }
        }
        self.audit.record(event).await?;
        Ok(revealed)
    }

    /// Applies changes (`None` clears a field) if the record is still at `version`.
    pub async fn update_customer(
        &self,
        principal: &Principal,
        id: Uuid,
        version: i64,
        changes: BTreeMap<String, Option<String>>,
    ) -> CoreResult<CustomerView> {
        self.require(principal, Permission::CustomerWrite, "customer.update").await?;
        let row = self.writable_row(principal, id, "customer.update").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        plan.require_writable(changes.keys())?;
        let changes = schema.validate_changes(&changes)?;
        if row.version != version {
            return Err(CoreError::Conflict(format!(
                "customer {id} is at version {}, not {version}: reload it and apply your change again",
                row.version
            )));
        }
        let mut record = SealedRecord::open(&self.keys, row).await?;
        record.apply_changes(&schema, &changes, self.clock.now())?;
        let view = record.view(&plan)?;
        let event = AuditEvent::by(principal, "customer.update").customer(id).fields(changes.keys().cloned());
        let mutation = record.into_update(&self.keys, &schema)?;
        self.audit.commit(vec![mutation], vec![event]).await?;
        Ok(view)
    }

    /// Crypto-shredding: the record and its data key are deleted, and the erasure is kept in
    /// a ledger so that a restored backup can apply it again.
    pub async fn erase_customer(&self, principal: &Principal, id: Uuid, reason: &str) -> CoreResult<()> {
        self.require(principal, Permission::CustomerErase, "customer.erase").await?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_PURPOSE {
            return Err(CoreError::invalid("reason", format!("give a reason in 1 to {MAX_PURPOSE} characters")));
        }
        self.writable_row(principal, id, "customer.erase").await?;
        let erasure = tutela_store::ErasureRecord {
            seq: 0,
            customer_id: id,
            erased_at: self.clock.now(),
            actor_id: principal.user_id,
            reason: reason.to_owned(),
        };
        let event =
            AuditEvent::by(principal, "customer.erase").customer(id).detail(serde_json::json!({ "reason": reason }));
        self.audit.commit(vec![Mutation::EraseCustomer(erasure)], vec![event]).await.map_err(|e| match e {
            CoreError::NotFound(_) => CoreError::NotFound("customer"),
            other => other,
        })
    }

    pub async fn list_customers(&self, principal: &Principal, request: ListRequest) -> CoreResult<CustomerPage> {
        self.require(principal, Permission::CustomerRead, "customer.list").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        for filter in &request.filters {
            plan.require_clear(&filter.field_id, "filter")?;
        }
        if let Some(field) = &request.sort.field_id {
            plan.require_clear(field, "sort")?;
        }
        let limit = request.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(CoreError::invalid("limit", format!("a page holds 1 to {MAX_PAGE} customers")));
        }
        let query = CustomerQuery {
            filters: request.filters.clone(),
            sort: request.sort.clone(),
            after: request.cursor.as_deref().map(decode_cursor).transpose()?,
            ..CustomerQuery::within(principal.reach.readable(self.clock.now()), limit + 1)
        };
        let mut rows = self.store.customers_query(&query).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| encode_cursor(&request.sort, r)) } else { None };
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(SealedRecord::open(&self.keys, row).await?.view(&plan)?);
        }
        let filtered: Vec<&str> = request.filters.iter().map(|f| f.field_id.as_str()).collect();
        let event = AuditEvent::by(principal, "customer.list")
            .detail(serde_json::json!({ "count": items.len(), "filters": filtered }));
        self.audit.record(event).await?;
        Ok(CustomerPage { items, next_cursor })
    }

    /// Exact-match search on a sealed, blind-indexed field (e-mail, phone, national ID), or
    /// on a plaintext field. Candidates from the truncated index are confirmed by decrypting.
    pub async fn lookup_customers(
        &self,
        principal: &Principal,
        field: &str,
        value: &str,
    ) -> CoreResult<Vec<CustomerView>> {
        self.require(principal, Permission::CustomerRead, "customer.lookup").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        let (def, _) = plan.require_visible(field, "field")?;
        let scope = principal.reach.readable(self.clock.now());
        let rows = if def.classification.is_sealed() {
            self.blind_candidates(def, value, scope).await?
        } else {
            let filter =
                PlainFilter { field_id: field.to_owned(), op: FilterOp::Equals, value: value.trim().to_owned() };
            self.store
                .customers_query(&CustomerQuery { filters: vec![filter], ..CustomerQuery::within(scope, MAX_PAGE) })
                .await?
        };
        let wanted = values::normalise_for_index(def.kind, value);
        let mut items = Vec::new();
        for row in rows {
            let record = SealedRecord::open(&self.keys, row).await?;
            let matches = match (&wanted, record.plaintext(field)?) {
                (Some(w), Some(v)) => values::normalise_for_index(def.kind, &v).as_ref() == Some(w),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if matches {
                items.push(record.view(&plan)?);
            }
        }
        let event = AuditEvent::by(principal, "customer.lookup")
            .fields([field.to_owned()])
            .detail(serde_json::json!({ "matches": items.len() }));
        self.audit.record(event).await?;
        Ok(items)
    }

    async fn blind_candidates(
        &self,
        def: &FieldDef,
        value: &str,
        scope: RowScope,
    ) -> CoreResult<Vec<tutela_store::CustomerRow>> {
        let Some(normalised) = values::normalise_for_index(def.kind, value) else {
            return Err(CoreError::invalid(
                "field",
                format!("{} is sealed and has no search index; only e-mail, phone and national ID fields do", def.id),
            ));
        };
        let ids = self.store.blind_lookup(&def.id, self.keys.blind_index(&def.id, &normalised)).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let limit = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        Ok(self.store.customers_query(&CustomerQuery { ids: Some(ids), ..CustomerQuery::within(scope, limit) }).await?)
    }

    /// How many customers the principal can see.
    pub async fn count_customers(&self, principal: &Principal) -> CoreResult<u64> {
        self.require(principal, Permission::CustomerRead, "customer.count").await?;
        Ok(self.store.customers_count(&principal.reach.readable(self.clock.now())).await?)
    }

    /// How many customers the store holds, for the operator and health checks: a number,
    /// never a record.
    pub async fn customer_count(&self) -> CoreResult<u64> {
        Ok(self.store.customers_count(&RowScope::All).await?)
    }

    /// The record if the principal may read it. One it may not is as absent as one that does
    /// not exist (so that no answer tells it exists); the attempt is audited.
    pub(crate) async fn readable_row(
        &self,
        principal: &Principal,
        id: Uuid,
        action: &'static str,
    ) -> CoreResult<tutela_store::CustomerRow> {
        self.row_with(principal, id, action, false).await
    }

    /// The record if the principal may change it. One it may read but not change is
    /// `Forbidden` (its existence is no secret to the caller); otherwise as
    /// [`Self::readable_row`].
    pub(crate) async fn writable_row(
        &self,
        principal: &Principal,
        id: Uuid,
        action: &'static str,
    ) -> CoreResult<tutela_store::CustomerRow> {
        self.row_with(principal, id, action, true).await
    }

    async fn row_with(
        &self,
        principal: &Principal,
        id: Uuid,
        action: &'static str,
        write: bool,
    ) -> CoreResult<tutela_store::CustomerRow> {
        let row = self.store.customer_get(id).await?.ok_or(CoreError::NotFound("customer"))?;
        let facts = RowFacts { id: row.id, owner_id: row.owner_id, plain: &row.plain };
        let access = principal.reach.row(facts, self.clock.now());
        if access.read && (access.write || !write) {
            return Ok(row);
        }
        let reason = if access.read { "the data scope allows reading only" } else { "outside the data scope" };
        let event = AuditEvent::by(principal, action)
            .customer(id)
            .outcome(Outcome::Denied)
            .detail(serde_json::json!({ "reason": reason }));
        self.audit.record(event).await?;
        if access.read {
            Err(CoreError::Forbidden("your roles may read this customer but not change it".into()))
        } else {
            Err(CoreError::NotFound("customer"))
        }
    }
}

fn encode_cursor(sort: &SortKey, row: &tutela_store::CustomerRow) -> String {
    let value = sort.field_id.as_ref().and_then(|f| row.plain.get(f)).cloned().unwrap_or_default();
    let json = serde_json::to_vec(&(value, row.id)).expect("a cursor serialises");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str) -> CoreResult<(String, Uuid)> {
    let bad = || CoreError::invalid("cursor", "not a cursor returned by a previous page");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}
