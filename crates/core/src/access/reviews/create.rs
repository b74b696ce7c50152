//! Starting a campaign: checking its settings and snapshotting what it reviews.

use std::collections::HashMap;

use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tutela_store::{Mutation, ReviewCampaignRow, ReviewChange, ReviewItemRow, UserStatus};
use uuid::Uuid;

use super::routing::reviewer_for;
use super::{CampaignView, DeadlinePolicy, ReviewRouting};
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const MAX_NAME: usize = 100;
/// The longest a campaign may run, and the longest period between recurring ones.
const MAX_DAYS: i64 = 366;
/// The shortest period between recurring campaigns.
const MIN_RECUR_DAYS: i64 = 7;

#[derive(Debug, Clone, Deserialize)]
pub struct CampaignInput {
    pub name: String,
    /// Reviews the users of this department and the departments below it; `None`: everyone.
    pub department_id: Option<Uuid>,
    /// `manager` or `reviewer`.
    pub routing: String,
    /// The named reviewer; under `manager` routing, who reviews users without a manager.
    pub reviewer_id: Option<Uuid>,
    /// `revoke` or `flag`: what becomes of unreviewed items at the deadline.
    pub policy: String,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// When set, the campaign's close starts the next one, due this many days after this
    /// one's deadline (91 for quarterly reviews).
    pub recur_days: Option<i64>,
}

/// A campaign's settings, checked.
pub(super) struct Settings {
    pub name: String,
    pub department_id: Option<Uuid>,
    pub routing: ReviewRouting,
    pub reviewer_id: Option<Uuid>,
    pub policy: DeadlinePolicy,
    pub deadline: OffsetDateTime,
    pub recur_days: Option<i64>,
}

impl Tutela {
    /// Starts a campaign (`access.review`): every in-scope active user's roles and live record
    /// shares become items, each routed to its reviewer. Audited as `access.review.create`.
    pub async fn create_review_campaign(
        &self,
        principal: &Principal,
        input: CampaignInput,
    ) -> CoreResult<CampaignView> {
        self.require(principal, Permission::AccessReview, "access.review.create").await?;
        let now = self.clock.now();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(CoreError::invalid("name", format!("a name is 1 to {MAX_NAME} characters")));
        }
        let routing: ReviewRouting = input.routing.parse()?;
        let policy: DeadlinePolicy = input.policy.parse()?;
        if input.deadline <= now || input.deadline > now + Duration::days(MAX_DAYS) {
            return Err(CoreError::invalid("deadline", format!("a deadline in the future, within {MAX_DAYS} days")));
        }
        if input.recur_days.is_some_and(|d| !(MIN_RECUR_DAYS..=MAX_DAYS).contains(&d)) {
            return Err(CoreError::invalid("recur_days", format!("{MIN_RECUR_DAYS} to {MAX_DAYS} days")));
        }
        if let Some(reviewer) = input.reviewer_id {
            let user = self.store.user_get(reviewer).await?;
            if !user.is_some_and(|u| u.status == UserStatus::Active) {
                return Err(CoreError::invalid("reviewer_id", "name an active user as the reviewer"));
            }
        } else if routing == ReviewRouting::Reviewer {
            return Err(CoreError::invalid("reviewer_id", "a campaign routed to a reviewer names one"));
        }
        let settings = Settings {
            name: name.to_owned(),
            department_id: input.department_id,
            routing,
            reviewer_id: input.reviewer_id,
            policy,
            deadline: input.deadline,
            recur_days: input.recur_days,
        };
        let (campaign, items) = self.snapshot_campaign(&settings, principal.user_id).await?;
        let event = AuditEvent::by(principal, "access.review.create").detail(create_detail(&campaign, &items, None));
        self.insert_campaign(campaign, items, event).await
    }

    pub(super) async fn insert_campaign(
        &self,
        campaign: ReviewCampaignRow,
        items: Vec<ReviewItemRow>,
        event: AuditEvent,
    ) -> CoreResult<CampaignView> {
        let change = ReviewChange::InsertCampaign { campaign: campaign.clone(), items: items.clone() };
        self.audit.commit(vec![Mutation::Review(change)], vec![event]).await?;
        self.campaign_view(&campaign, &items).await
    }

    /// The campaign row and its items as things stand now.
    pub(super) async fn snapshot_campaign(
        &self,
        s: &Settings,
        created_by: Option<Uuid>,
    ) -> CoreResult<(ReviewCampaignRow, Vec<ReviewItemRow>)> {
        let now = self.clock.now();
        let snapshot = self.access_snapshot().await?;
        let org = &snapshot.org;
        let in_scope = match s.department_id {
            Some(d) if org.department(d).is_none() => {
                return Err(CoreError::invalid("department_id", "no such department"));
            }
            Some(d) => Some(org.subtree(d)),
            None => None,
        };
        let users: HashMap<Uuid, String> = self
            .store
            .users_list()
            .await?
            .into_iter()
            .filter(|u| u.status == UserStatus::Active)
            .map(|u| (u.id, u.email))
            .collect();
        let roles: HashMap<Uuid, String> = self.store.roles_list().await?.into_iter().map(|r| (r.id, r.name)).collect();
        let active = |id: Uuid| users.contains_key(&id);
        let campaign_id = Uuid::now_v7();
        let mut items = Vec::new();
        let mut in_campaign: Vec<Uuid> = users
            .keys()
            .copied()
            .filter(|u| in_scope.as_ref().is_none_or(|set| org.department_of(*u).is_some_and(|d| set.contains(&d))))
            .collect();
        in_campaign.sort_unstable();
        let assignments = self.store.role_assignments().await?;
        for user in in_campaign {
            let mut subjects: Vec<(&'static str, Uuid, String)> = assignments
                .iter()
                .filter(|(u, _)| *u == user)
                .map(|(_, role)| ("role", *role, roles.get(role).cloned().unwrap_or_else(|| role.to_string())))
                .collect();
            for share in self.store.record_shares_for_user(user).await? {
                if share.expires_at > now {
                    let label = format!(
                        "customer {} ({}) until {}",
                        share.customer_id,
                        share.access,
                        rfc3339(share.expires_at)
                    );
                    subjects.push(("share", share.id, label));
                }
            }
            if subjects.is_empty() {
                continue;
            }
            let reviewer = reviewer_for(org, &active, s.routing, s.reviewer_id, user).ok_or_else(|| {
                CoreError::invalid(
                    "reviewer_id",
                    format!(
                        "{} has no manager: name a reviewer for users without one",
                        users.get(&user).map_or("a user", String::as_str)
                    ),
                )
            })?;
            items.extend(subjects.into_iter().map(|(kind, subject_id, label)| ReviewItemRow {
                id: Uuid::now_v7(),
                campaign_id,
                user_id: user,
                kind: kind.to_owned(),
                subject_id,
                label,
                reviewer_id: Some(reviewer),
                decision: None,
                note: None,
                justification: None,
                decided_by: None,
                decided_at: None,
                outcome: None,
            }));
        }
        if items.is_empty() {
            return Err(CoreError::invalid("department_id", "nobody in scope holds a role or a record share"));
        }
        let campaign = ReviewCampaignRow {
            id: campaign_id,
            name: s.name.clone(),
            department_id: s.department_id,
            routing: s.routing.as_str().to_owned(),
            reviewer_id: s.reviewer_id,
            policy: s.policy.as_str().to_owned(),
            recur_days: s.recur_days,
            created_by,
            created_at: now,
            deadline: s.deadline,
            status: "open".into(),
            closed_at: None,
            report: None,
        };
        Ok((campaign, items))
    }
}

pub(super) fn create_detail(
    c: &ReviewCampaignRow,
    items: &[ReviewItemRow],
    recurrence_of: Option<Uuid>,
) -> serde_json::Value {
    serde_json::json!({
        "campaign": c.id, "name": c.name, "department": c.department_id, "routing": c.routing,
        "reviewer": c.reviewer_id, "policy": c.policy, "deadline": rfc3339(c.deadline),
        "recur_days": c.recur_days, "items": items.len(), "recurrence_of": recurrence_of
    })
}
