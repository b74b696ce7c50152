//! Export of customers to CSV or JSON lines, as the caller may see them: sealed fields in
//! plaintext only where the caller may reveal them and has stated a purpose, masked elsewhere.
//!
//! The export is audited before the first byte leaves, and produced a page at a time so that
//! a million rows stream to a file or an HTTP response without being held in memory (and
//! without a temporary file, which would put revealed values on disk).

use std::sync::Arc;

use serde::Serialize;
use tutela_store::{CustomerQuery, FieldKind, RowScope};
use uuid::Uuid;

use super::{FieldPlan, SealedRecord, mask};
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const PAGE: u32 = 500;

/// A column of the export and how its values leave.
struct ExportedField {
    id: String,
    kind: FieldKind,
    /// In plaintext: a field the caller reads in clear, or a sealed one revealed for the
    /// stated purpose.
    clear: bool,
    revealed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub rows: u64,
    /// Sealed fields exported in plaintext.
    pub revealed: Vec<String>,
}

/// An export under way; call [`Export::next_chunk`] until it returns `None`.
pub struct Export {
    tutela: Arc<Tutela>,
    format: ExportFormat,
    /// `id`, then the fields the caller sees.
    columns: Vec<String>,
    /// The fields of `columns` after `id`, with how each leaves: in clear or masked.
    fields: Vec<ExportedField>,
    /// The rows the caller may read.
    scope: RowScope,
    revealed: Vec<String>,
    after: Option<Uuid>,
    header_written: bool,
    finished: bool,
    rows: u64,
}

impl Tutela {
    /// Checks the permission, audits the export (which fields leave in plaintext, and why),
    /// and returns the export to be drained.
    pub async fn begin_export(
        self: &Arc<Self>,
        principal: &Principal,
        format: ExportFormat,
        purpose: Option<&str>,
    ) -> CoreResult<Export> {
        self.require(principal, Permission::CustomerExport, "customer.export").await?;
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        let purpose = purpose.map(str::trim).filter(|p| !p.is_empty());
        if purpose.is_some_and(|p| p.chars().count() > 500) {
            return Err(CoreError::invalid("purpose", "state the purpose in at most 500 characters"));
        }
        let fields: Vec<ExportedField> = plan
            .visible()
            .map(|(def, caps)| {
                let revealed = def.classification.is_sealed() && purpose.is_some() && caps.reveal;
                ExportedField { id: def.id.clone(), kind: def.kind, clear: caps.clear || revealed, revealed }
            })
            .collect();
        let revealed: Vec<String> = fields.iter().filter(|f| f.revealed).map(|f| f.id.clone()).collect();
        let mut event = AuditEvent::by(principal, "customer.export").fields(revealed.clone());
        if let Some(p) = purpose {
            event = event.purpose(p);
        }
        self.audit.record(event).await?;
        let columns = std::iter::once("id".to_owned()).chain(fields.iter().map(|f| f.id.clone())).collect();
        Ok(Export {
            tutela: self.clone(),
            format,
            columns,
            fields,
            scope: principal.reach.readable(self.clock.now()),
            revealed,
            after: None,
            header_written: false,
            finished: false,
            rows: 0,
        })
    }
}

impl Export {
    /// The next page of output, or `None` at the end.
    pub async fn next_chunk(&mut self) -> CoreResult<Option<Vec<u8>>> {
        if self.finished {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.header_written && self.format == ExportFormat::Csv {
            write_csv_record(&mut out, &self.columns)?;
        }
        self.header_written = true;
        let query = CustomerQuery {
            after: self.after.map(|id| (String::new(), id)),
            ..CustomerQuery::within(self.scope.clone(), PAGE)
        };
        let page = self.tutela.store.customers_query(&query).await?;
        self.after = page.last().map(|r| r.id);
        if page.len() < PAGE as usize {
            self.finished = true;
        }
        for row in page {
            let values = self.values(row).await?;
            match self.format {
                ExportFormat::Csv => write_csv_record(&mut out, &values)?,
                ExportFormat::JsonLines => {
                    let object: serde_json::Map<String, serde_json::Value> =
                        self.columns.iter().cloned().zip(values.into_iter().map(serde_json::Value::String)).collect();
                    serde_json::to_writer(&mut out, &object).map_err(io)?;
                    out.push(b'\n');
                }
            }
            self.rows += 1;
        }
        Ok(if out.is_empty() && self.finished { None } else { Some(out) })
    }

    async fn values(&self, row: tutela_store::CustomerRow) -> CoreResult<Vec<String>> {
        let id = row.id;
        let record = SealedRecord::open(&self.tutela.keys, row).await?;
        let mut values = vec![id.to_string()];
        for field in &self.fields {
            let value = record.plaintext(&field.id)?.unwrap_or_default();
            values.push(if field.clear || value.is_empty() { value } else { mask(field.kind, &value) });
        }
        Ok(values)
    }

    pub fn report(&self) -> ExportReport {
        ExportReport { rows: self.rows, revealed: self.revealed.clone() }
    }
}

fn write_csv_record(out: &mut Vec<u8>, values: &[String]) -> CoreResult<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(values.iter().map(|v| neutralise_formula(v).into_owned())).map_err(io)?;
    writer.flush().map_err(io)
}

fn io(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("writing the export: {e}"))
}

/// A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection):
/// prefix it with an apostrophe, which spreadsheets show as text.
fn neutralise_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(super::neutralise_formula("=1+1"), "'=1+1");
        assert_eq!(super::neutralise_formula("+86 138"), "'+86 138");
        assert_eq!(super::neutralise_formula("张三"), "张三");
    }
}
