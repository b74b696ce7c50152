//! A customer record with its data key in hand: sealing, opening, masking.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use tutela_crypto::keyring::{DataKey, WrappedKey};
use tutela_store::{BlindEntry, CustomerRow, FieldDef, Mutation};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{CustomerView, FieldPlan, FieldValue, mask, values};
use crate::access::FieldCaps;
use crate::keys::Keys;
use crate::{CoreError, CoreResult};

/// The schema with lookup by field id.
pub struct Schema {
    fields: Vec<FieldDef>,
    by_id: HashMap<String, usize>,
}

impl Schema {
    pub fn new(fields: Vec<FieldDef>) -> Self {
        let by_id = fields.iter().enumerate().map(|(i, f)| (f.id.clone(), i)).collect();
        Self { fields, by_id }
    }

    pub fn get(&self, id: &str) -> Option<&FieldDef> {
        self.by_id.get(id).map(|&i| &self.fields[i])
    }

    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    fn known(&self, id: &str) -> CoreResult<&FieldDef> {
        self.get(id).ok_or_else(|| CoreError::invalid(id, "unknown field: not in the customer schema"))
    }

    pub fn require_plain(&self, id: &str, what: &str) -> CoreResult<()> {
        let def = self.get(id).ok_or_else(|| CoreError::invalid(what, format!("unknown field {id:?}")))?;
        if def.classification.is_sealed() {
            return Err(CoreError::invalid(
                what,
                format!("{id} is {} and sealed: only exact lookup works on it", def.classification),
            ));
        }
        Ok(())
    }

    /// Validates a new record's values: known fields, valid values, required fields present.
    /// Empty values are dropped.
    pub fn validate_new(&self, values: &BTreeMap<String, String>) -> CoreResult<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (id, value) in values {
            let def = self.known(id)?;
            if !value.trim().is_empty() {
                out.insert(id.clone(), values::validate(id, def.kind, value)?);
            }
        }
        for def in self.fields.iter().filter(|f| f.required) {
            if !out.contains_key(&def.id) {
                return Err(CoreError::invalid(&def.id, "required"));
            }
        }
        Ok(out)
    }

    /// Validates changes; `None` or an empty value clears the field, except a required one.
    pub fn validate_changes(
        &self,
        changes: &BTreeMap<String, Option<String>>,
    ) -> CoreResult<BTreeMap<String, Option<String>>> {
        let mut out = BTreeMap::new();
        for (id, value) in changes {
            let def = self.known(id)?;
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
            match value {
                None if def.required => {
                    return Err(CoreError::invalid(id, "required: it cannot be cleared"));
                }
                None => out.insert(id.clone(), None),
                Some(v) => out.insert(id.clone(), Some(values::validate(id, def.kind, v)?)),
            };
        }
        Ok(out)
    }
}

/// A record and its unwrapped data key (zeroized when dropped).
pub struct SealedRecord {
    pub row: CustomerRow,
    dek: DataKey,
}

impl SealedRecord {
    /// A new record with a fresh data key; sealed fields encrypted, bound to (id, field).
    pub fn seal_new(
        keys: &Keys,
        schema: &Schema,
        values: &BTreeMap<String, String>,
        owner_id: Option<Uuid>,
        now: OffsetDateTime,
    ) -> CoreResult<Self> {
        let id = Uuid::now_v7();
        let (dek, wrapped) = keys.new_data_key(id.as_bytes());
        let mut record = Self {
            row: CustomerRow {
                id,
                version: 1,
                kek_version: wrapped.kek_version,
                wrapped_dek: wrapped.bytes,
                owner_id,
                plain: BTreeMap::new(),
                sealed: BTreeMap::new(),
                created_at: now,
                updated_at: now,
            },
            dek,
        };
        for (field, value) in values {
            record.set(schema, field, Some(value))?;
        }
        Ok(record)
    }

    pub async fn open(keys: &Keys, row: CustomerRow) -> CoreResult<Self> {
        let wrapped = WrappedKey { kek_version: row.kek_version, bytes: row.wrapped_dek.clone() };
        let dek = keys
            .data_key(row.id.as_bytes(), &wrapped)
            .await
            .map_err(|e| CoreError::Internal(format!("customer {}: its data key does not open ({e})", row.id)))?;
        Ok(Self { row, dek })
    }

    fn set(&mut self, schema: &Schema, field: &str, value: Option<&str>) -> CoreResult<()> {
        let def = schema.known(field)?;
        let sealed = def.classification.is_sealed();
        self.row.plain.remove(field);
        self.row.sealed.remove(field);
        match (value, sealed) {
            (None, _) => {}
            (Some(v), false) => {
                self.row.plain.insert(field.to_owned(), v.to_owned());
            }
            (Some(v), true) => {
                let ct = self.dek.seal_field(self.row.id.as_bytes(), field, v.as_bytes());
                self.row.sealed.insert(field.to_owned(), ct);
            }
        }
        Ok(())
    }

    /// The plaintext of a field, if the record has it.
    pub fn plaintext(&self, field: &str) -> CoreResult<Option<String>> {
        if let Some(v) = self.row.plain.get(field) {
            return Ok(Some(v.clone()));
        }
        let Some(ct) = self.row.sealed.get(field) else {
            return Ok(None);
        };
        let bytes: Zeroizing<Vec<u8>> = self
            .dek
            .open_field(self.row.id.as_bytes(), field, ct)
            .map_err(|_| CoreError::Internal(format!("customer {}: field {field} does not open", self.row.id)))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CoreError::Internal(format!("customer {}: field {field} is not UTF-8", self.row.id)))?;
        Ok(Some(text.to_owned()))
    }

    /// The fields the plan shows, in schema order; masked unless shown in clear. Hidden
    /// fields are not even decrypted.
    pub fn view(&self, plan: &FieldPlan<'_>) -> CoreResult<CustomerView> {
        let mut fields = Vec::new();
        for (def, caps) in plan.visible() {
            if let Some(value) = self.plaintext(&def.id)? {
                fields.push(display(def, caps, &value));
            }
        }
        Ok(self.view_of(fields))
    }

    /// The same view from the plaintext just written, without decrypting it again.
    pub fn view_from_plaintext(&self, plan: &FieldPlan<'_>, values: &BTreeMap<String, String>) -> CustomerView {
        let fields =
            plan.visible().filter_map(|(def, caps)| values.get(&def.id).map(|v| display(def, caps, v))).collect();
        self.view_of(fields)
    }

    fn view_of(&self, fields: Vec<FieldValue>) -> CustomerView {
        CustomerView {
            id: self.row.id,
            version: self.row.version,
            owner_id: self.row.owner_id,
            created_at: self.row.created_at,
            updated_at: self.row.updated_at,
            fields,
        }
    }

    pub fn apply_changes(
        &mut self,
        schema: &Schema,
        changes: &BTreeMap<String, Option<String>>,
        now: OffsetDateTime,
    ) -> CoreResult<()> {
        for (field, value) in changes {
            self.set(schema, field, value.as_deref())?;
        }
        // Values of fields removed from the schema are dropped at the record's next write.
        self.row.plain.retain(|k, _| schema.get(k).is_some());
        self.row.sealed.retain(|k, _| schema.get(k).is_some());
        self.row.version += 1;
        self.row.updated_at = now;
        Ok(())
    }

    /// Blind-index entries for every indexed sealed field of the record.
    fn blind_entries(&self, keys: &Keys, schema: &Schema) -> CoreResult<Vec<BlindEntry>> {
        let mut entries = Vec::new();
        for field in self.row.sealed.keys() {
            let Some(def) = schema.get(field) else {
                continue;
            };
            if !def.kind.has_blind_index() {
                continue;
            }
            if let Some(value) = self.plaintext(field)?
                && let Some(normalised) = values::normalise_for_index(def.kind, &value)
            {
                entries.push(BlindEntry { field_id: field.clone(), hash: keys.blind_index(field, &normalised) });
            }
        }
        Ok(entries)
    }

    pub fn into_insert_with(self, keys: &Keys, schema: &Schema) -> CoreResult<Mutation> {
        let blind = self.blind_entries(keys, schema)?;
        Ok(Mutation::InsertCustomer { row: self.row, blind })
    }

    pub fn into_update(self, keys: &Keys, schema: &Schema) -> CoreResult<Mutation> {
        let blind = self.blind_entries(keys, schema)?;
        Ok(Mutation::UpdateCustomer { row: self.row, blind })
    }
}

fn display(def: &FieldDef, caps: FieldCaps, value: &str) -> FieldValue {
    FieldValue {
        id: def.id.clone(),
        value: if caps.clear { value.to_owned() } else { mask(def.kind, value) },
        masked: !caps.clear,
    }
}
