//! Which reviewers to remind of their open items: when a campaign starts, then once a day in
//! its last days: worked out here, recorded and handed to the notifier in one write.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tutela_store::{Mutation, ReviewChange};
use uuid::Uuid;

use super::{CampaignState, campaign_state};
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::notify::{Notice, NoticeKind};
use crate::{CoreResult, Tutela};

/// Where a reviewer finds their open items in the console.
const REVIEWS_LINK: &str = "/access/reviews/mine";

/// Reviewers are reminded daily in this many last days before a deadline.
pub const REMIND_LAST_DAYS: i64 = 3;

/// A reviewer to remind of a campaign's open items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewReminder {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    pub reviewer_id: Uuid,
    pub reviewer_email: String,
    /// Items still waiting for the reviewer's decision.
    pub open_items: usize,
}

/// Whether a reviewer last reminded at `last` is due one now: never reminded yet (the
/// campaign started), or in the last days before the deadline and not yet today (UTC).
fn due(last: Option<OffsetDateTime>, now: OffsetDateTime, deadline: OffsetDateTime) -> bool {
    match last {
        None => true,
        Some(last) => deadline - now <= Duration::days(REMIND_LAST_DAYS) && last.date() < now.date(),
    }
}

impl Tutela {
    /// The reminders due now, each recorded (so each reviewer is reminded at most once a
    /// day per campaign) and sent through the notifier (inbox, and e-mail when configured) in
    /// the same write. Called by the `access.review.reminders` job; audited as
    /// `access.review.remind`.
    pub async fn take_due_review_reminders(&self) -> CoreResult<Vec<ReviewReminder>> {
        let now = self.clock.now();
        let mut reminders = Vec::new();
        for campaign in self.store.review_campaigns().await? {
            if campaign_state(&campaign, now) != CampaignState::Open {
                continue;
            }
            let mut open: BTreeMap<Uuid, usize> = BTreeMap::new();
            for item in self.store.review_items(campaign.id).await? {
                if let (Some(reviewer), None, None) = (item.reviewer_id, &item.decision, &item.outcome) {
                    *open.entry(reviewer).or_default() += 1;
                }
            }
            let last: BTreeMap<Uuid, OffsetDateTime> =
                self.store.review_reminders(campaign.id).await?.into_iter().collect();
            for (reviewer, open_items) in open {
                if due(last.get(&reviewer).copied(), now, campaign.deadline) {
                    reminders.push(ReviewReminder {
                        campaign_id: campaign.id,
                        campaign_name: campaign.name.clone(),
                        deadline: campaign.deadline,
                        reviewer_id: reviewer,
                        reviewer_email: self.email_of(reviewer).await?,
                        open_items,
                    });
                }
            }
        }
        if reminders.is_empty() {
            return Ok(reminders);
        }
        let mut mutations = Vec::with_capacity(reminders.len() * 2);
        for r in &reminders {
            mutations.push(Mutation::Review(ReviewChange::Remind {
                campaign_id: r.campaign_id,
                reviewer_id: r.reviewer_id,
                at: now,
            }));
            // The reminder is recorded and sent in one write: none is marked sent without its notice.
            let notice = Notice::new(NoticeKind::ReviewReminder)
                .param("campaign", &r.campaign_name)
                .param("open", &r.open_items)
                .param("deadline", &rfc3339(r.deadline))
                .param("link", &REVIEWS_LINK);
            mutations.extend(self.notify_user(r.reviewer_id, &notice).await?);
        }
        let events = reminders
            .iter()
            .map(|r| {
                AuditEvent::anonymous("system", "access.review.remind", None).detail(serde_json::json!({
                    "campaign": r.campaign_id, "reviewer": r.reviewer_id, "open": r.open_items,
                    "deadline": rfc3339(r.deadline)
                }))
            })
            .collect();
        self.audit.commit(mutations, events).await?;
        Ok(reminders)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::due;

    #[test]
    fn reminded_at_start_then_daily_near_the_deadline() {
        let deadline = datetime!(2026-03-31 12:00 UTC);
        assert!(due(None, datetime!(2026-03-01 09:00 UTC), deadline), "at the start");
        let first = datetime!(2026-03-01 09:00 UTC);
        assert!(!due(Some(first), datetime!(2026-03-10 09:00 UTC), deadline), "not in the middle");
        assert!(due(Some(first), datetime!(2026-03-29 00:30 UTC), deadline), "in the last days");
        assert!(!due(Some(datetime!(2026-03-29 00:30 UTC)), datetime!(2026-03-29 23:59 UTC), deadline), "once a day");
        assert!(due(Some(datetime!(2026-03-29 23:59 UTC)), datetime!(2026-03-30 00:01 UTC), deadline), "next day");
    }
}
