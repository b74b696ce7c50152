//! Request and response bodies, with their OpenAPI schemas. Kept apart from the domain's
//! types so that the wire format changes only on purpose.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::vault::{CustomerView, FieldValue};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldValueDto {
    pub id: String,
    pub value: String,
    /// True when `value` is a masked rendering; reveal it with a purpose.
    pub masked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDto {
    pub id: Uuid,
    pub version: i64,
    /// The user the record belongs to (its creator or importer): data scopes are reckoned
    /// from it.
    pub owner_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub fields: Vec<FieldValueDto>,
}

impl From<CustomerView> for CustomerDto {
    fn from(v: CustomerView) -> Self {
        Self {
            id: v.id,
            version: v.version,
            owner_id: v.owner_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
            fields: v
                .fields
                .into_iter()
                .map(|FieldValue { id, value, masked }| FieldValueDto { id, value, masked })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPageDto {
    pub items: Vec<CustomerDto>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Field id to value.
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChanges {
    /// The version the change was based on; a newer stored version answers 409.
    pub version: i64,
    /// Field id to new value; `null` clears the field.
    pub fields: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub fields: Vec<String>,
    /// Why the plaintext is needed; recorded in the audit log.
    pub purpose: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealResponse {
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDto {
    pub id: String,
    pub label_en: String,
    pub label_zh: String,
    /// One of: text, email, phone, `national_id`, date, number, `bank_account`, address, notes
    pub kind: String,
    /// public, internal, confidential, restricted
    pub classification: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub position: i32,
}
