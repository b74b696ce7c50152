//! Reading the audit log: search and verification, both audited themselves.

use tutela_store::{AuditFilter, AuditRecord};

use super::{AuditEvent, Outcome, VerifyReport};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const MAX_PAGE: u32 = 1000;

impl Tutela {
    /// Events matching the filter, newest first.
    pub async fn audit_events(&self, principal: &Principal, filter: &AuditFilter) -> CoreResult<Vec<AuditRecord>> {
        self.require(principal, Permission::AuditRead, "audit.search").await?;
        if !(1..=MAX_PAGE).contains(&filter.limit) {
            return Err(CoreError::invalid("limit", format!("a page holds 1 to {MAX_PAGE} events")));
        }
        let events = self.store.audit_search(filter).await?;
        self.audit
            .record(AuditEvent::by(principal, "audit.search").detail(serde_json::json!({ "results": events.len() })))
            .await?;
        Ok(events)
    }

    /// Verifies the chain on behalf of a user; the outcome is itself recorded.
    pub async fn verify_audit_as(&self, principal: &Principal) -> CoreResult<VerifyReport> {
        self.require(principal, Permission::AuditRead, "audit.verify").await?;
        let report = self.verify_audit(|_| {}).await?;
        let outcome = if report.problem.is_some() { Outcome::Failed } else { Outcome::Ok };
        let detail = serde_json::json!({
            "events": report.events,
            "problem": report.problem.as_ref().map(ToString::to_string),
        });
        self.audit.record(AuditEvent::by(principal, "audit.verify").outcome(outcome).detail(detail)).await?;
        Ok(report)
    }
}

/// An export of the whole log as JSON lines, page by page (see [`Tutela::begin_audit_export`]).
pub struct AuditExport {
    after: i64,
    finished: bool,
}

const EXPORT_PAGE: u32 = 5_000;

impl Tutela {
    /// Checks `audit.read`, records the export itself, and returns the export to drain with
    /// [`Tutela::next_audit_export_chunk`].
    pub async fn begin_audit_export(&self, principal: &Principal) -> CoreResult<AuditExport> {
        self.require(principal, Permission::AuditRead, "audit.export").await?;
        self.audit.record(AuditEvent::by(principal, "audit.export")).await?;
        Ok(AuditExport { after: 0, finished: false })
    }

    /// The next page of the log as JSON lines, oldest first, or `None` at the end.
    pub async fn next_audit_export_chunk(&self, export: &mut AuditExport) -> CoreResult<Option<Vec<u8>>> {
        if export.finished {
            return Ok(None);
        }
        let page = self.store.audit_scan(export.after, EXPORT_PAGE).await?;
        export.finished = page.len() < EXPORT_PAGE as usize;
        let Some(last) = page.last() else { return Ok(None) };
        export.after = last.seq;
        let mut out = Vec::with_capacity(page.len() * 256);
        for record in &page {
            serde_json::to_writer(&mut out, &json_line(record))
                .map_err(|e| CoreError::Internal(format!("encoding the audit export: {e}")))?;
            out.push(b'\n');
        }
        Ok(Some(out))
    }
}

/// One event as exported and shown: every column, the chain hash in hex.
pub fn json_line(r: &AuditRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "at": r.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "actor_id": r.actor_id,
        "actor": r.actor,
        "action": r.action,
        "outcome": r.outcome,
        "customer_id": r.customer_id,
        "fields": r.fields,
        "purpose": r.purpose,
        "source": r.source,
        "detail": r.detail.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()),
        "hash": hex::encode(r.hash),
    })
}
