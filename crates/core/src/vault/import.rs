//! Bulk import of customer files: all or nothing by default.
//!
//! Two passes over the file. The first parses and validates every row and writes nothing,
//! so a bad row (reported by line and column) leaves the store untouched. The second seals
//! and writes in batches, each batch committed with an audit event naming its lines; if a
//! write fails mid-way, the rows already written by this import are removed again. With
//! `skip_bad`, good rows are written and bad ones reported for a reject file.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::task::JoinHandle;
use tutela_import::{ImportReader, ImportRow, RowError};
use tutela_store::Mutation;
use uuid::Uuid;

use super::{FieldPlan, Schema, SealedRecord};
use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const BATCH: usize = 20_000;
/// Errors kept for the report; the count goes on beyond.
const MAX_REPORTED: usize = 1_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Write the good rows and report the bad ones instead of refusing the whole file.
    pub skip_bad: bool,
}

/// Where an import is: which pass, rows done, and bytes of the file read (for a bar).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ImportProgress {
    pub pass: ImportPass,
    pub rows: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportPass {
    Validating,
    Writing,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub import_id: Uuid,
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    /// The first rejected rows (up to 1,000), by line and column.
    pub errors: Vec<RowError>,
    /// True when nothing was written because of bad rows (without `skip_bad`).
    pub refused: bool,
}

impl Tutela {
    /// Imports customers. `open` yields a fresh reader of the same file for each pass.
    pub async fn import_customers(
        &self,
        principal: &Principal,
        open: impl Fn() -> Result<ImportReader, tutela_import::ImportError>,
        options: ImportOptions,
        mut progress: impl FnMut(ImportProgress),
    ) -> CoreResult<ImportReport> {
        self.require(principal, Permission::CustomerImport, "customer.import").await?;
        let schema = self.schema().await?;
        let import_id = Uuid::now_v7();
        let mut report =
            ImportReport { import_id, rows: 0, imported: 0, rejected: 0, errors: Vec::new(), refused: false };

        let reader = open().map_err(import_error)?;
        let columns: BTreeMap<String, String> =
            reader.mapped_columns().into_iter().map(|(field, headers)| (field, headers.join("+"))).collect();
        FieldPlan::new(&schema, &principal.reach).require_writable(columns.keys())?;
        let mut bad_lines = std::collections::HashSet::new();
        let mut reader = reader;
        while let Some(row) = reader.next() {
            report.rows += 1;
            if let Err(e) = row.and_then(|r| validate_row(&schema, &columns, &r).map(|_| ())) {
                bad_lines.insert(e.line);
                report.rejected += 1;
                if report.errors.len() < MAX_REPORTED {
                    report.errors.push(e);
                }
            }
            if report.rows.is_multiple_of(1024) {
                progress(ImportProgress {
                    pass: ImportPass::Validating,
                    rows: report.rows,
                    bytes_read: reader.bytes_read(),
                    total_bytes: reader.total_bytes(),
                });
            }
        }
        if report.rejected > 0 && !options.skip_bad {
            report.refused = true;
            let event = AuditEvent::by(principal, "customer.import").outcome(Outcome::Failed).detail(summary(&report));
            self.audit.record(event).await?;
            return Ok(report);
        }

        let mut written: Vec<Uuid> = Vec::new();
        if let Err(e) = self
            .write_pass(principal, &schema, &columns, &open, &bad_lines, &mut written, &mut report, &mut progress)
            .await
        {
            let committed = usize::try_from(report.imported).unwrap_or(written.len()).min(written.len());
            self.roll_back_import(principal, import_id, &written[..committed]).await?;
            return Err(e);
        }
        self.audit.record(AuditEvent::by(principal, "customer.import").detail(summary(&report))).await?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)] // one private step of `import_customers`, sharing its state
    async fn write_pass(
        &self,
        principal: &Principal,
        schema: &Schema,
        columns: &BTreeMap<String, String>,
        open: &impl Fn() -> Result<ImportReader, tutela_import::ImportError>,
        bad_lines: &std::collections::HashSet<u64>,
        written: &mut Vec<Uuid>,
        report: &mut ImportReport,
        progress: &mut impl FnMut(ImportProgress),
    ) -> CoreResult<()> {
        let mut reader = open().map_err(import_error)?;
        let mut pipeline = Pipeline { in_flight: None, committed: 0 };
        let sealed = self
            .seal_batches(principal, schema, columns, &mut reader, bad_lines, written, report, progress, &mut pipeline)
            .await;
        // Whatever happened, the batch handed to the writer must have landed or failed before
        // this returns, so that a rollback sees every row this import wrote.
        let landed = pipeline.wait().await;
        report.imported = pipeline.committed as u64;
        sealed.and(landed)?;
        progress(ImportProgress {
            pass: ImportPass::Writing,
            rows: report.rows,
            bytes_read: reader.total_bytes(),
            total_bytes: reader.total_bytes(),
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // the loop of `write_pass`
    async fn seal_batches(
        &self,
        principal: &Principal,
        schema: &Schema,
        columns: &BTreeMap<String, String>,
        reader: &mut ImportReader,
        bad_lines: &std::collections::HashSet<u64>,
        written: &mut Vec<Uuid>,
        report: &ImportReport,
        progress: &mut impl FnMut(ImportProgress),
        pipeline: &mut Pipeline,
    ) -> CoreResult<()> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut lines = (0, 0);
        let mut done = 0_u64;
        while let Some(row) = reader.next() {
            done += 1;
            let Ok(row) = row else { continue };
            if bad_lines.contains(&row.line) {
                continue;
            }
            let values = validate_row(schema, columns, &row)
                .map_err(|e| CoreError::invalid(format!("line {}", e.line), e.message))?;
            let record = SealedRecord::seal_new(&self.keys, schema, &values, principal.user_id, self.clock.now())?;
            written.push(record.row.id);
            if batch.is_empty() {
                lines.0 = row.line;
            }
            lines.1 = row.line;
            batch.push(record.into_insert_with(&self.keys, schema)?);
            if batch.len() == BATCH {
                pipeline.wait().await?;
                let batch = std::mem::take(&mut batch);
                pipeline.send(self.commit_import_batch(principal, report.import_id, batch, lines), BATCH);
                progress(ImportProgress {
                    pass: ImportPass::Writing,
                    rows: done,
                    bytes_read: reader.bytes_read(),
                    total_bytes: reader.total_bytes(),
                });
            }
        }
        if !batch.is_empty() {
            pipeline.wait().await?;
            let size = batch.len();
            pipeline.send(self.commit_import_batch(principal, report.import_id, batch, lines), size);
        }
        Ok(())
    }

    /// Hands a batch to the audit writer; the commit proceeds in the background.
    fn commit_import_batch(
        &self,
        principal: &Principal,
        import_id: Uuid,
        batch: Vec<Mutation>,
        lines: (u64, u64),
    ) -> JoinHandle<CoreResult<()>> {
        let event = AuditEvent::by(principal, "customer.import_batch")
            .detail(serde_json::json!({ "import": import_id, "rows": batch.len(), "first_line": lines.0, "last_line": lines.1 }));
        let audit = self.audit.clone();
        tokio::spawn(async move { audit.commit(batch, vec![event]).await })
    }

    /// Removes what a failed import wrote, so that nothing of it stays.
    async fn roll_back_import(&self, principal: &Principal, import_id: Uuid, written: &[Uuid]) -> CoreResult<()> {
        for chunk in written.chunks(BATCH) {
            let mutations = chunk
                .iter()
                .map(|id| {
                    Mutation::EraseCustomer(tutela_store::ErasureRecord {
                        seq: 0,
                        customer_id: *id,
                        erased_at: self.clock.now(),
                        actor_id: principal.user_id,
                        reason: format!("rollback of failed import {import_id}"),
                    })
                })
                .collect();
            self.audit.commit(mutations, Vec::new()).await?;
        }
        let event = AuditEvent::by(principal, "customer.import")
            .outcome(Outcome::Failed)
            .detail(serde_json::json!({ "import": import_id, "rolled_back": written.len() }));
        self.audit.record(event).await
    }
}

/// At most one batch being committed while the next is sealed: sealing is CPU work and a
/// commit mostly waits on the writer and the disk, so the two overlap.
struct Pipeline {
    in_flight: Option<(JoinHandle<CoreResult<()>>, usize)>,
    /// Rows in batches that have committed; they come first in `written`.
    committed: usize,
}

impl Pipeline {
    fn send(&mut self, commit: JoinHandle<CoreResult<()>>, rows: usize) {
        debug_assert!(self.in_flight.is_none(), "one batch in flight at a time");
        self.in_flight = Some((commit, rows));
    }

    async fn wait(&mut self) -> CoreResult<()> {
        if let Some((commit, rows)) = self.in_flight.take() {
            commit.await.map_err(|e| CoreError::Internal(format!("import batch: {e}")))??;
            self.committed += rows;
        }
        Ok(())
    }
}

fn summary(r: &ImportReport) -> serde_json::Value {
    serde_json::json!({ "import": r.import_id, "rows": r.rows, "imported": r.imported, "rejected": r.rejected })
}

#[allow(clippy::needless_pass_by_value)] // used as a map_err function
fn import_error(e: tutela_import::ImportError) -> CoreError {
    CoreError::invalid("file", e.to_string())
}

/// Validates one row against the schema; errors name the line and the source column.
fn validate_row(
    schema: &Schema,
    columns: &BTreeMap<String, String>,
    row: &ImportRow,
) -> Result<BTreeMap<String, String>, RowError> {
    let values: BTreeMap<String, String> = row.values.iter().cloned().collect();
    schema.validate_new(&values).map_err(|e| match e {
        CoreError::Invalid { field, message } => RowError {
            line: row.line,
            column: Some(columns.get(&field).cloned().unwrap_or(field.clone())),
            message: format!("{field}: {message}"),
        },
        other => RowError { line: row.line, column: None, message: other.to_string() },
    })
}
