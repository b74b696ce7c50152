//! Export approval: a bulk export of more rows than the policy allows, or one that would
//! release restricted fields in plaintext, waits for an approver (`access.approve`, never the
//! requester). The requester then downloads it, watermarked with their name, the time and the
//! approval, until the approval expires. An export under the limits is approved at once, so
//! that every export through a request leaves the same evidence.
//!
//! The file is produced at download time from the live records, within the requester's reach
//! as it is then and with no more plaintext fields than were approved: no exported file is
//! ever kept on the server, where it would put revealed values on disk.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tutela_store::{ExportRequestRow, Mutation};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::policy::{Permission, Principal};
use crate::vault::{Export, ExportFormat, ExportPlan, export_purpose};
use crate::{CoreError, CoreResult, Tutela};

/// The `meta` key of the policy (JSON).
const POLICY_KEY: &str = "access.export_approval";
/// A request nobody decided on within this time can no longer be approved.
const PENDING_DAYS: i64 = 7;
const MAX_NOTE: usize = 500;
/// Requests listed for approvers and auditors.
const RECENT: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportApprovalPolicy {
    /// Exports of more rows than this need an approver; `None`: any number may leave.
    pub max_rows: Option<u64>,
    /// Whether releasing restricted fields in plaintext needs an approver.
    pub restricted: bool,
    /// How long an approved export may be downloaded, in hours.
    pub valid_hours: i64,
}

impl Default for ExportApprovalPolicy {
    fn default() -> Self {
        Self { max_rows: Some(1000), restricted: true, valid_hours: 24 }
    }
}

/// Why an export needs an approver, worked out from its plan.
pub(crate) struct ApprovalNeed {
    pub rows: u64,
    /// `rows`, `restricted`: empty when no approval is needed.
    pub reasons: Vec<String>,
    max_rows: Option<u64>,
    restricted: Vec<String>,
    /// How long an approval lasts under the policy that judged it.
    pub valid: Duration,
}

impl ApprovalNeed {
    /// For the requester: what crossed which limit, and what to do.
    pub fn explain(&self) -> String {
        let mut parts = Vec::new();
        if let (true, Some(max)) = (self.reasons.iter().any(|r| r == "rows"), self.max_rows) {
            parts.push(format!("{} rows, more than the {max} allowed without approval", self.rows));
        }
        if self.reasons.iter().any(|r| r == "restricted") {
            parts.push(format!("restricted fields in plaintext ({})", self.restricted.join(", ")));
        }
        format!("this export needs an approver's decision: {}; request it as an export request", parts.join("; "))
    }
}

/// Where a request stands, with expiry taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportRequestState {
    Pending,
    /// Approved and still downloadable.
    Approved,
    Expired,
    Denied,
    Cancelled,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportRequestView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The requester's e-mail address (their id when the account is gone).
    pub user_email: String,
    pub format: &'static str,
    pub purpose: Option<String>,
    /// Sealed fields that leave in plaintext.
    pub revealed: Vec<String>,
    /// Rows within the requester's reach when asked.
    pub rows: i64,
    /// Why an approver had to decide (`rows`, `restricted`); empty when nobody had to.
    pub reasons: Vec<String>,
    pub state: ExportRequestState,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// The approver's e-mail address.
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

fn state(row: &ExportRequestRow, now: OffsetDateTime) -> ExportRequestState {
    match row.status.as_str() {
        "pending" if now - row.requested_at < Duration::days(PENDING_DAYS) => ExportRequestState::Pending,
        "approved" if row.expires_at.is_some_and(|e| e > now) => ExportRequestState::Approved,
        "pending" | "approved" => ExportRequestState::Expired,
        "denied" => ExportRequestState::Denied,
        _ => ExportRequestState::Cancelled,
    }
}

impl Tutela {
    async fn export_request_view(&self, row: ExportRequestRow) -> CoreResult<ExportRequestView> {
        let decided_by = match row.decided_by {
            Some(id) => Some(self.email_of(id).await?),
            None => None,
        };
        Ok(ExportRequestView {
            state: state(&row, self.clock.now()),
            user_email: self.email_of(row.user_id).await?,
            format: if row.format == "jsonl" { "jsonl" } else { "csv" },
            id: row.id,
            user_id: row.user_id,
            purpose: row.purpose,
            revealed: row.revealed,
            rows: row.rows,
            reasons: row.reasons,
            requested_at: row.requested_at,
            decided_by,
            decided_at: row.decided_at,
            note: row.note,
            expires_at: row.expires_at,
        })
    }

    /// The policy, for those it concerns: who may export, decide, set or audit.
    pub async fn export_approval_policy(&self, principal: &Principal) -> CoreResult<ExportApprovalPolicy> {
        let concerned =
            [Permission::CustomerExport, Permission::AccessApprove, Permission::RoleManage, Permission::AuditRead];
        if !concerned.into_iter().any(|p| principal.has(p)) {
            self.require(principal, Permission::RoleManage, "access.export_approval.policy.read").await?;
        }
        self.export_policy_in_force().await
    }

    async fn export_policy_in_force(&self) -> CoreResult<ExportApprovalPolicy> {
        match self.store.meta_get(POLICY_KEY).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::Internal(format!("stored export approval policy: {e}"))),
            None => Ok(ExportApprovalPolicy::default()),
        }
    }

    pub async fn set_export_approval_policy(
        &self,
        principal: &Principal,
        policy: ExportApprovalPolicy,
    ) -> CoreResult<()> {
        self.require(principal, Permission::RoleManage, "access.export_approval.policy").await?;
        if !(1..=24 * 7).contains(&policy.valid_hours) {
            return Err(CoreError::invalid("valid_hours", "1 hour to 7 days (168 hours)"));
        }
        let value = serde_json::to_vec(&policy).map_err(|e| CoreError::Internal(e.to_string()))?;
        let event = AuditEvent::by(principal, "access.export_approval.policy").detail(serde_json::json!(policy));
        self.audit.commit(vec![Mutation::PutMeta { key: POLICY_KEY.to_owned(), value }], vec![event]).await
    }

    /// Whether, and why, an export with this plan needs an approver.
    pub(crate) async fn export_needs_approval(&self, plan: &ExportPlan) -> CoreResult<ApprovalNeed> {
        let policy = self.export_policy_in_force().await?;
        let rows = self.store.customers_count(&plan.scope).await?;
        let mut reasons = Vec::new();
        if policy.max_rows.is_some_and(|max| rows > max) {
            reasons.push("rows".to_owned());
        }
        if policy.restricted && !plan.restricted.is_empty() {
            reasons.push("restricted".to_owned());
        }
        Ok(ApprovalNeed {
            rows,
            reasons,
            max_rows: policy.max_rows,
            restricted: plan.restricted.clone(),
            valid: Duration::hours(policy.valid_hours),
        })
    }

    /// Asks to export the customers in the caller's reach. Approved at once when the policy
    /// asks for no approver; pending otherwise.
    pub async fn request_export(
        &self,
        principal: &Principal,
        format: ExportFormat,
        purpose: Option<&str>,
    ) -> CoreResult<ExportRequestView> {
        self.require(principal, Permission::CustomerExport, "customer.export.request").await?;
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users request exports".into()))?;
        let purpose = export_purpose(purpose)?;
        let plan = self.plan_export(principal, purpose, None).await?;
        let need = self.export_needs_approval(&plan).await?;
        let now = self.clock.now();
        let at_once = need.reasons.is_empty();
        let valid = need.valid;
        let row = ExportRequestRow {
            id: Uuid::now_v7(),
            user_id,
            format: format.as_str().to_owned(),
            purpose: purpose.map(str::to_owned),
            revealed: plan.revealed,
            rows: i64::try_from(need.rows).unwrap_or(i64::MAX),
            reasons: need.reasons,
            status: if at_once { "approved" } else { "pending" }.to_owned(),
            requested_at: now,
            decided_by: None,
            decided_at: at_once.then_some(now),
            note: None,
            expires_at: at_once.then(|| now + valid),
        };
        let mut event = AuditEvent::by(principal, "customer.export.request").fields(row.revealed.clone()).detail(
            serde_json::json!({
                "request": row.id, "status": row.status, "rows": row.rows, "reasons": row.reasons,
                "format": row.format
            }),
        );
        if let Some(p) = purpose {
            event = event.purpose(p);
        }
        self.audit.commit(vec![Mutation::PutExportRequest(row.clone())], vec![event]).await?;
        self.export_request_view(row).await
    }

    /// Approves or denies a pending request. The requester cannot decide their own.
    pub async fn decide_export(
        &self,
        principal: &Principal,
        id: Uuid,
        approve: bool,
        note: Option<&str>,
    ) -> CoreResult<ExportRequestView> {
        self.require(principal, Permission::AccessApprove, "customer.export.decide").await?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
            return Err(CoreError::invalid("note", format!("at most {MAX_NOTE} characters")));
        }
        let mut row = self.store.export_request_get(id).await?.ok_or(CoreError::NotFound("export request"))?;
        if principal.user_id == Some(row.user_id) {
            return Err(CoreError::Forbidden("an export is approved by someone other than its requester".into()));
        }
        let now = self.clock.now();
        match state(&row, now) {
            ExportRequestState::Pending => {}
            ExportRequestState::Expired if row.status == "pending" => {
                return Err(CoreError::Conflict(format!(
                    "the request expired undecided after {PENDING_DAYS} days; the requester must ask again"
                )));
            }
            _ => return Err(CoreError::Conflict(format!("the request is {}, not pending", row.status))),
        }
        let valid = Duration::hours(self.export_policy_in_force().await?.valid_hours);
        if approve { "approved" } else { "denied" }.clone_into(&mut row.status);
        row.decided_by = principal.user_id;
        row.decided_at = Some(now);
        row.note = note.map(str::to_owned);
        row.expires_at = approve.then(|| now + valid);
        let event = AuditEvent::by(principal, "customer.export.decide")
            .fields(row.revealed.clone())
            .detail(serde_json::json!({ "request": id, "user": row.user_id, "status": row.status, "note": row.note }));
        self.audit.commit(vec![Mutation::PutExportRequest(row.clone())], vec![event]).await?;
        self.export_request_view(row).await
    }

    /// Withdraws a pending request or an approval not used up yet: the requester, or an
    /// approver.
    pub async fn cancel_export(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let row = self.store.export_request_get(id).await?;
        let own = row.as_ref().is_some_and(|r| principal.user_id == Some(r.user_id));
        if !own {
            self.require(principal, Permission::AccessApprove, "customer.export.cancel").await?;
        }
        let mut row = row.ok_or(CoreError::NotFound("export request"))?;
        if !matches!(state(&row, self.clock.now()), ExportRequestState::Pending | ExportRequestState::Approved) {
            return Err(CoreError::Conflict("the request is no longer pending or approved".into()));
        }
        "cancelled".clone_into(&mut row.status);
        row.expires_at = None;
        let event = AuditEvent::by(principal, "customer.export.cancel")
            .detail(serde_json::json!({ "request": id, "user": row.user_id }));
        self.audit.commit(vec![Mutation::PutExportRequest(row)], vec![event]).await
    }

    /// One request: its requester, approvers, role administrators and auditors see it; to
    /// anyone else it does not exist.
    pub async fn export_request(&self, principal: &Principal, id: Uuid) -> CoreResult<ExportRequestView> {
        let row = self.store.export_request_get(id).await?.ok_or(CoreError::NotFound("export request"))?;
        if principal.user_id != Some(row.user_id) && !oversees(principal) {
            return Err(CoreError::NotFound("export request"));
        }
        self.export_request_view(row).await
    }

    /// Requests for the dashboard: everyone's (newest first) for approvers, role
    /// administrators and auditors; one's own otherwise.
    pub async fn export_requests(&self, principal: &Principal) -> CoreResult<Vec<ExportRequestView>> {
        let rows = match (oversees(principal), principal.user_id) {
            (true, _) => self.store.export_requests_recent(RECENT).await?,
            (false, Some(user)) => self.store.export_requests_for_user(user).await?,
            (false, None) => Vec::new(),
        };
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.export_request_view(row).await?);
        }
        Ok(views)
    }

    /// Starts the download of an approved export: only its requester, only while the approval
    /// lasts, within their reach as it is now, with no more fields in plaintext than were
    /// approved, and watermarked.
    pub async fn begin_approved_export(self: &Arc<Self>, principal: &Principal, id: Uuid) -> CoreResult<Export> {
        self.require(principal, Permission::CustomerExport, "customer.export").await?;
        let row = self.store.export_request_get(id).await?;
        let row = row.filter(|r| principal.user_id == Some(r.user_id)).ok_or(CoreError::NotFound("export request"))?;
        let now = self.clock.now();
        match state(&row, now) {
            ExportRequestState::Approved => {}
            ExportRequestState::Pending => {
                return Err(CoreError::Conflict("the request is waiting for an approver".into()));
            }
            ExportRequestState::Expired if row.status == "approved" => {
                return Err(CoreError::Conflict(format!(
                    "the approval expired at {}; ask again",
                    row.expires_at.map(rfc3339).unwrap_or_default()
                )));
            }
            _ => return Err(CoreError::Conflict(format!("the request is {}; nothing to download", row.status))),
        }
        self.require_recent_sign_in(principal, "customer.export").await?;
        let format: ExportFormat = row.format.parse()?;
        let plan = self.plan_export(principal, row.purpose.as_deref(), Some(&row.revealed)).await?;
        let watermark = format!("{} {} {}", principal.label, rfc3339(now), row.id);
        let mut event = AuditEvent::by(principal, "customer.export")
            .fields(plan.revealed.clone())
            .detail(serde_json::json!({ "request": row.id, "approved_by": row.decided_by, "watermark": watermark }));
        if let Some(p) = &row.purpose {
            event = event.purpose(p);
        }
        self.audit.record(event).await?;
        Ok(Export::new(self.clone(), format, plan, Some(watermark)))
    }
}

fn oversees(principal: &Principal) -> bool {
    [Permission::AccessApprove, Permission::RoleManage, Permission::AuditRead].into_iter().any(|p| principal.has(p))
}
