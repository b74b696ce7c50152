//! The report a closed campaign keeps as evidence: the campaign, and every item with who
//! reviewed it, when, the decision, the note or justification and what became of it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{CampaignState, CampaignView, ReviewItemView, campaign_state};
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewReport {
    pub campaign: CampaignView,
    /// `deadline`, or who closed the campaign before it.
    pub closed_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub closed_at: OffsetDateTime,
    pub items: Vec<ReviewItemView>,
}

impl ReviewReport {
    pub fn from_json(text: &str) -> CoreResult<Self> {
        serde_json::from_str(text).map_err(|e| CoreError::Internal(format!("stored review report: {e}")))
    }

    /// One line per item, for spreadsheets.
    pub fn to_csv(&self) -> CoreResult<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| CoreError::Internal(format!("review report CSV: {e}"));
        w.write_record([
            "campaign",
            "user",
            "kind",
            "subject",
            "reviewer",
            "decision",
            "decided_by",
            "decided_at",
            "note",
            "justification",
            "outcome",
        ])
        .map_err(csv_err)?;
        for i in &self.items {
            let decision = i.decision.map(super::ReviewDecision::as_str).unwrap_or_default();
            let decided_at = i.decided_at.map(rfc3339).unwrap_or_default();
            w.write_record([
                self.campaign.name.as_str(),
                &i.user_email,
                &i.kind,
                &i.label,
                i.reviewer_email.as_deref().unwrap_or_default(),
                decision,
                i.decided_by.as_deref().unwrap_or_default(),
                &decided_at,
                i.note.as_deref().unwrap_or_default(),
                i.justification.as_deref().unwrap_or_default(),
                i.outcome.as_deref().unwrap_or_default(),
            ])
            .map_err(csv_err)?;
        }
        let bytes = w.into_inner().map_err(|e| CoreError::Internal(format!("review report CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| CoreError::Internal(e.to_string()))
    }
}

impl Tutela {
    /// The kept report of a closed campaign, exactly as stored when it closed: for those who
    /// run or audit reviews. Audited as `access.review.report`.
    pub async fn review_report(&self, principal: &Principal, id: Uuid) -> CoreResult<String> {
        if !principal.has(Permission::AuditRead) {
            self.require(principal, Permission::AccessReview, "access.review.report").await?;
        }
        let row = self.store.review_campaign_get(id).await?.ok_or(CoreError::NotFound("review campaign"))?;
        let (CampaignState::Closed, Some(report)) = (campaign_state(&row, self.clock.now()), row.report) else {
            return Err(CoreError::Conflict("the campaign is still open: its report is written when it closes".into()));
        };
        self.audit
            .record(AuditEvent::by(principal, "access.review.report").detail(serde_json::json!({ "campaign": id })))
            .await?;
        Ok(report)
    }
}
