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
