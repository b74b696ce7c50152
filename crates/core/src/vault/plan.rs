//! The schema's fields as one principal may use them, worked out once per request: which
//! are shown, which in clear, which may be revealed or changed.

use tutela_store::FieldDef;

use super::Schema;
use crate::access::{FieldCaps, Reach};
use crate::{CoreError, CoreResult};

pub struct FieldPlan<'a> {
    schema: &'a Schema,
    /// In schema order, beside `schema.fields()`.
    caps: Vec<FieldCaps>,
}

impl<'a> FieldPlan<'a> {
    pub fn new(schema: &'a Schema, reach: &Reach) -> Self {
        Self { schema, caps: schema.fields().iter().map(|def| reach.field(def)).collect() }
    }

    /// The fields the principal sees, with their capabilities, in schema order.
    pub fn visible(&self) -> impl Iterator<Item = (&'a FieldDef, FieldCaps)> + '_ {
        self.schema.fields().iter().zip(self.caps.iter().copied()).filter(|(_, c)| c.visible)
    }

    /// A field the principal sees; a hidden field is as unknown as one not in the schema.
    pub fn require_visible(&self, id: &str, what: &str) -> CoreResult<(&'a FieldDef, FieldCaps)> {
        self.visible()
            .find(|(def, _)| def.id == id)
            .ok_or_else(|| CoreError::invalid(what, format!("unknown field {id:?}")))
    }

    /// A field usable for filtering and sorting: shown in clear, so the order and the matches
    /// give away nothing the principal cannot read anyway.
    pub fn require_clear(&self, id: &str, what: &str) -> CoreResult<()> {
        let (def, caps) = self.require_visible(id, what)?;
        if def.classification.is_sealed() {
            return Err(CoreError::invalid(
                what,
                format!("{id} is {} and sealed: only exact lookup works on it", def.classification),
            ));
        }
        if !caps.clear {
            return Err(CoreError::invalid(what, format!("{id} is masked for your roles")));
        }
        Ok(())
    }

    /// Refuses changes to fields the principal may not write, naming them.
    pub fn require_writable<'k>(&self, fields: impl IntoIterator<Item = &'k String>) -> CoreResult<()> {
        let mut refused = Vec::new();
        for id in fields {
            let (_, caps) = self.require_visible(id, id)?;
            if !caps.write {
                refused.push(id.as_str());
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!("your roles may not change: {}", refused.join(", "))))
        }
    }

    pub fn schema(&self) -> &'a Schema {
        self.schema
    }
}
