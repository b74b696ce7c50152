//! Export of customers to CSV or JSON lines, as the caller may see them: sealed fields in
//! plaintext only where the caller may reveal them and has stated a purpose, masked elsewhere.
//!
//! The export is audited before the first byte leaves, and produced a page at a time so that
//! a million rows stream to a file or an HTTP response without being held in memory (and
//! without a temporary file, which would put revealed values on disk).

use std::sync::Arc;

use serde::Serialize;
use tutela_store::{Classification, CustomerQuery, FieldKind, RowScope};
use uuid::Uuid;

use super::{FieldPlan, SealedRecord, mask};
use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const PAGE: u32 = 500;
/// The column of an approved export that names its requester, time and approval.
pub const WATERMARK_COLUMN: &str = "_watermark";

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
    /// `id`, then the fields the caller sees, then the watermark if there is one.
    columns: Vec<String>,
    /// The fields of `columns` after `id`, with how each leaves: in clear or masked.
    fields: Vec<ExportedField>,
    /// The rows the caller may read.
    scope: RowScope,
    revealed: Vec<String>,
    watermark: Option<String>,
    after: Option<Uuid>,
    header_written: bool,
    finished: bool,
    rows: u64,
}

/// What an export would release, worked out before anything leaves: the policy decides on it.
pub(crate) struct ExportPlan {
    fields: Vec<ExportedField>,
    /// The rows the caller may read.
    pub(crate) scope: RowScope,
    /// Sealed fields leaving in plaintext.
    pub(crate) revealed: Vec<String>,
    /// Those of `revealed` classified restricted.
    pub(crate) restricted: Vec<String>,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = CoreError;

    fn from_str(s: &str) -> CoreResult<Self> {
        match s {
            "csv" => Ok(Self::Csv),
            "jsonl" => Ok(Self::JsonLines),
            other => Err(CoreError::invalid("format", format!("{other:?}: use csv or jsonl"))),
        }
    }
}

/// The purpose as given, trimmed; `None` when blank.
pub(crate) fn export_purpose(purpose: Option<&str>) -> CoreResult<Option<&str>> {
    let purpose = purpose.map(str::trim).filter(|p| !p.is_empty());
    if purpose.is_some_and(|p| p.chars().count() > 500) {
        return Err(CoreError::invalid("purpose", "state the purpose in at most 500 characters"));
    }
    Ok(purpose)
}

impl Tutela {
    /// Which fields an export by `principal` shows and how. Sealed fields leave in plaintext
    /// only with a purpose, where the caller may reveal them, and (for an approved export)
    /// where the approval names them.
    pub(crate) async fn plan_export(
        &self,
        principal: &Principal,
        purpose: Option<&str>,
        approved: Option<&[String]>,
    ) -> CoreResult<ExportPlan> {
        let schema = self.schema().await?;
        let plan = FieldPlan::new(&schema, &principal.reach);
        let mut restricted = Vec::new();
        let fields: Vec<ExportedField> = plan
            .visible()
            .map(|(def, caps)| {
                let revealed = def.classification.is_sealed()
                    && purpose.is_some()
                    && caps.reveal
                    && approved.is_none_or(|a| a.contains(&def.id));
                if revealed && def.classification == Classification::Restricted {
                    restricted.push(def.id.clone());
                }
                ExportedField { id: def.id.clone(), kind: def.kind, clear: caps.clear || revealed, revealed }
            })
            .collect();
        let revealed = fields.iter().filter(|f| f.revealed).map(|f| f.id.clone()).collect();
        Ok(ExportPlan { fields, scope: principal.reach.readable(self.clock.now()), revealed, restricted })
    }

    /// Checks the permission and the approval policy, audits the export (which fields leave
    /// in plaintext, and why), and returns the export to be drained. An export the policy
    /// puts before an approver is refused with [`CoreError::ApprovalRequired`].
    pub async fn begin_export(
        self: &Arc<Self>,
        principal: &Principal,
        format: ExportFormat,
        purpose: Option<&str>,
    ) -> CoreResult<Export> {
        self.require(principal, Permission::CustomerExport, "customer.export").await?;
        let purpose = export_purpose(purpose)?;
        self.require_recent_sign_in(principal, "customer.export").await?;
        let plan = self.plan_export(principal, purpose, None).await?;
        let needs = self.export_needs_approval(&plan).await?;
        if !needs.reasons.is_empty() {
            self.audit
                .record(
                    AuditEvent::by(principal, "customer.export")
                        .fields(plan.revealed.clone())
                        .outcome(Outcome::Denied)
                        .detail(serde_json::json!({ "approval_required": needs.reasons })),
                )
                .await?;
            return Err(CoreError::ApprovalRequired(needs.explain()));
        }
        let mut event = AuditEvent::by(principal, "customer.export").fields(plan.revealed.clone());
        if let Some(p) = purpose {
            event = event.purpose(p);
        }
        self.audit.record(event).await?;
        Ok(Export::new(self.clone(), format, plan, None))
    }
}

impl Export {
    /// `watermark`, when given, goes into every row (column `_watermark`), so that rows
    /// copied out of the file still name who exported them and when.
    pub(crate) fn new(tutela: Arc<Tutela>, format: ExportFormat, plan: ExportPlan, watermark: Option<String>) -> Self {
        let columns = std::iter::once("id".to_owned())
            .chain(plan.fields.iter().map(|f| f.id.clone()))
            .chain(watermark.as_ref().map(|_| WATERMARK_COLUMN.to_owned()))
            .collect();
        Self {
            tutela,
            format,
            columns,
            fields: plan.fields,
            scope: plan.scope,
            revealed: plan.revealed,
            watermark,
            after: None,
            header_written: false,
            finished: false,
            rows: 0,
        }
    }

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
        values.extend(self.watermark.clone());
        Ok(values)
    }

    pub fn format(&self) -> ExportFormat {
        self.format
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
