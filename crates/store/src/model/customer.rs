use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::RowScope;
use crate::sealed_codec::SealedFields;

/// A customer as stored: plaintext fields (public, internal) as a JSON object, sealed
/// fields as ciphertexts, and the record's data key wrapped by a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: Uuid,
    /// Incremented on every update; updates name the version they read (optimistic locking).
    pub version: i64,
    pub kek_version: u32,
    pub wrapped_dek: Vec<u8>,
    /// The user the record belongs to; data scopes (own, team, department) are reckoned from
    /// it. `None` for records from before ownership existed or whose creator was no user.
    pub owner_id: Option<Uuid>,
    pub plain: BTreeMap<String, String>,
    pub sealed: SealedFields,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One keyed blind-index entry of a record (see `tutela_crypto::blind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindEntry {
    pub field_id: String,
    pub hash: u32,
}

/// Where a record's data key is and under which key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeyRef {
    pub id: Uuid,
    pub kek_version: u32,
    pub wrapped_dek: Vec<u8>,
}

/// A data key re-wrapped under a newer key-encryption key, applied only if the record
/// still holds the wrap it was computed from (a concurrent update or erasure wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRewrap {
    pub id: Uuid,
    pub from_version: u32,
    pub to_version: u32,
    pub wrapped_dek: Vec<u8>,
}

/// An erasure, kept after the record and its key are gone so that a backup restored
/// later can apply it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRecord {
    pub seq: i64,
    pub customer_id: Uuid,
    pub erased_at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Equals,
    Prefix,
    Contains,
}

/// A filter on a plaintext (public or internal) field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainFilter {
    pub field_id: String,
    pub op: FilterOp,
    pub value: String,
}

/// Order of a listing: by a plaintext field's value or, with `None`, by creation (the id is
/// a `UUIDv7`, so id order is creation order). Ties are broken by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SortKey {
    pub field_id: Option<String>,
    pub descending: bool,
}

/// A page of customers. `after` is the (sort value, id) of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    /// The rows the caller may see at all; see [`RowScope`].
    pub scope: RowScope,
    pub filters: Vec<PlainFilter>,
    /// Restrict to these ids (the candidates of a blind-index lookup).
    pub ids: Option<Vec<Uuid>>,
    pub sort: SortKey,
    pub after: Option<(String, Uuid)>,
    pub limit: u32,
}

impl CustomerQuery {
    /// The first `limit` rows of `scope` in creation order, with no filter.
    pub fn within(scope: RowScope, limit: u32) -> Self {
        Self { scope, filters: Vec::new(), ids: None, sort: SortKey::default(), after: None, limit }
    }
}
