//! Closing a campaign, at its deadline or before: what nobody reviewed is revoked or flagged,
//! the report is written once, and a recurring campaign starts its successor.

use time::Duration;
use tutela_store::{Mutation, ReviewCampaignRow, ReviewChange};
use uuid::Uuid;

use super::create::{Settings, create_detail};
use super::report::ReviewReport;
use super::{CampaignState, CampaignView, DeadlinePolicy, campaign_state};
use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The actor of what the scheduler does on its own.
const SYSTEM: &str = "system";

impl Tutela {
    /// Closes an open campaign before its deadline (`access.review`), applying its policy to
    /// what nobody reviewed. Audited as `access.review.close`.
    pub async fn close_review_campaign(&self, principal: &Principal, id: Uuid) -> CoreResult<CampaignView> {
        self.require(principal, Permission::AccessReview, "access.review.close").await?;
        let row = self.store.review_campaign_get(id).await?.ok_or(CoreError::NotFound("review campaign"))?;
        if campaign_state(&row, self.clock.now()) == CampaignState::Closed {
            return Err(CoreError::Conflict("the campaign is closed already".into()));
        }
        self.close_campaign(row, &|action| AuditEvent::by(principal, action), principal.label.clone()).await
    }

    /// Closes every open campaign whose deadline has passed: the work of the
    /// `access.review.deadlines` job. Returns the closed campaigns.
    pub async fn close_due_review_campaigns(&self) -> CoreResult<Vec<CampaignView>> {
        let now = self.clock.now();
        let mut closed = Vec::new();
        for row in self.store.review_campaigns().await? {
            if campaign_state(&row, now) == CampaignState::Overdue {
                let system = |action| AuditEvent::anonymous(SYSTEM, action, None);
                closed.push(self.close_campaign(row, &system, "deadline".into()).await?);
            }
        }
        Ok(closed)
    }

    async fn close_campaign(
        &self,
        row: ReviewCampaignRow,
        event: &(dyn Fn(&'static str) -> AuditEvent + Sync),
        closed_by: String,
    ) -> CoreResult<CampaignView> {
        let now = self.clock.now();
        let mut items = self.store.review_items(row.id).await?;
        let undecided: Vec<_> = items.iter().filter(|i| i.decision.is_none() && i.outcome.is_none()).collect();
        let policy: DeadlinePolicy = tutela_store::parse_stored("review_campaigns.policy", &row.policy)?;
        let (mut mutations, mut events, settled): (Vec<Mutation>, Vec<AuditEvent>, Vec<(Uuid, String)>) = match policy {
            DeadlinePolicy::Flag => {
                (Vec::new(), Vec::new(), undecided.iter().map(|i| (i.id, "flagged".to_owned())).collect())
            }
            DeadlinePolicy::Revoke => {
                let r = self.revocations(row.id, &undecided, event).await?;
                (r.mutations, r.events, r.outcomes.into_iter().map(|(id, o)| (id, o.to_owned())).collect())
            }
        };
        for item in &mut items {
            if let Some((_, outcome)) = settled.iter().find(|(id, _)| *id == item.id) {
                item.outcome = Some(outcome.clone());
            }
        }
        let closed = ReviewCampaignRow { status: "closed".into(), closed_at: Some(now), ..row.clone() };
        let campaign = self.campaign_view(&closed, &items).await?;
        let mut views = Vec::with_capacity(items.len());
        for item in &items {
            views.push(self.item_view(item).await?);
        }
        let report =
            ReviewReport { campaign: campaign.clone(), closed_by: closed_by.clone(), closed_at: now, items: views };
        let report = serde_json::to_string(&report).map_err(|e| CoreError::Internal(e.to_string()))?;
        let of =
            |outcome: &str| -> Vec<Uuid> { settled.iter().filter(|(_, o)| o == outcome).map(|(id, _)| *id).collect() };
        events.insert(
            0,
            event("access.review.close").detail(serde_json::json!({
                "campaign": row.id, "name": row.name, "policy": row.policy, "closed_by": closed_by,
                "revoked": of("revoked"), "flagged": of("flagged"), "gone": of("gone"), "counts": campaign.counts
            })),
        );
        mutations
            .insert(0, Mutation::Review(ReviewChange::CloseCampaign { id: row.id, closed_at: now, report, settled }));
        self.audit.commit(mutations, events).await?;
        if let Some(days) = row.recur_days {
            self.start_next(&row, days).await?;
        }
        Ok(campaign)
    }

    /// Starts the successor of a recurring campaign, due `days` after its deadline (or
    /// later still, whole periods on, if it was closed that late). When it cannot start —
    /// nobody left in scope, a user without a reviewer — the failure is audited, and the
    /// series ends there.
    async fn start_next(&self, row: &ReviewCampaignRow, days: i64) -> CoreResult<()> {
        let now = self.clock.now();
        let mut deadline = row.deadline + Duration::days(days);
        while deadline <= now {
            deadline += Duration::days(days);
        }
        let settings = Settings {
            name: row.name.clone(),
            department_id: row.department_id,
            routing: tutela_store::parse_stored("review_campaigns.routing", &row.routing)?,
            reviewer_id: row.reviewer_id,
            policy: tutela_store::parse_stored("review_campaigns.policy", &row.policy)?,
            deadline,
            recur_days: Some(days),
        };
        match self.snapshot_campaign(&settings, row.created_by).await {
            Ok((campaign, items)) => {
                let detail = create_detail(&campaign, &items, Some(row.id));
                let event = AuditEvent::anonymous(SYSTEM, "access.review.create", None).detail(detail);
                self.insert_campaign(campaign, items, event).await?;
            }
            Err(CoreError::Invalid { field, message }) => {
                tracing::warn!(campaign = %row.id, %field, %message, "the next recurring access review cannot start");
                let event = AuditEvent::anonymous(SYSTEM, "access.review.create", None)
                    .outcome(Outcome::Failed)
                    .detail(serde_json::json!({ "recurrence_of": row.id, "field": field, "reason": message }));
                self.audit.record(event).await?;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
