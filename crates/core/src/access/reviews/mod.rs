//! Access reviews: campaigns in which each in-scope user's manager, or a named reviewer,
//! certifies or revokes each of the user's roles and standing grants (record shares that
//! have not ended), before a deadline. At the deadline the scheduler's job
//! (`access.review.deadlines`) revokes or flags what nobody reviewed, closes the campaign and
//! keeps its report as evidence; another job (`access.review.reminders`) works out which
//! reviewers to remind.
//!
//! What is reviewed is snapshotted when the campaign starts. Break-glass grants are left out:
//! each was justified and decided on its own and lapses within hours. API tokens are left
//! out too: a token never holds more than its owner's roles, which are reviewed.
//!
//! A revocation takes effect at once, through the same mutations as an administrator's
//! change (the role set without the role, which also ends the user's sessions; the share
//! deleted), committed with the decision and its audit events.

mod close;
mod create;
mod decide;
mod remind;
mod report;
mod routing;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_store::{ReviewCampaignRow, ReviewItemRow, parse_stored};
use uuid::Uuid;

use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

pub use create::CampaignInput;
pub use decide::DecisionInput;
pub use remind::ReviewReminder;
pub use report::ReviewReport;

/// The longest note or justification.
pub const MAX_TEXT: usize = 1000;

/// Who reviews a user's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewRouting {
    /// The manager of the user's department, or of the nearest department above it that
    /// names one (never the user themselves); the campaign's reviewer for users with none.
    Manager,
    /// The campaign's named reviewer.
    Reviewer,
}

/// What happens at the deadline to items nobody reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlinePolicy {
    Revoke,
    Flag,
}

macro_rules! text_enum {
    ($ty:ty, $field:literal, $($variant:ident => $text:literal),*) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = CoreError;
            fn from_str(s: &str) -> CoreResult<Self> {
                match s.trim() {
                    $($text => Ok(Self::$variant),)*
                    other => Err(CoreError::invalid(
                        $field,
                        format!("unknown value {other:?}; known: {}", [$($text),*].join(", ")),
                    )),
                }
            }
        }
    };
}
text_enum!(ReviewRouting, "routing", Manager => "manager", Reviewer => "reviewer");
text_enum!(DeadlinePolicy, "policy", Revoke => "revoke", Flag => "flag");
text_enum!(ReviewDecision, "decision", Certify => "certify", Revoke => "revoke");

/// A reviewer's decision on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Certify,
    Revoke,
}

/// Where a campaign stands, with its deadline taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Open,
    /// Past its deadline, waiting for the deadline job to close it; no more decisions.
    Overdue,
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCounts {
    pub items: usize,
    /// Still waiting for a decision.
    pub open: usize,
    pub certified: usize,
    pub revoked: usize,
    /// Unreviewed at the deadline and flagged (under the `flag` policy).
    pub flagged: usize,
    /// Unreviewed at the deadline and revoked (under the `revoke` policy).
    pub revoked_at_deadline: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub department_id: Option<Uuid>,
    /// The department's name, when the campaign covers one.
    pub department: Option<String>,
    pub routing: ReviewRouting,
    pub reviewer_id: Option<Uuid>,
    pub reviewer_email: Option<String>,
    pub policy: DeadlinePolicy,
    pub recur_days: Option<i64>,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    pub state: CampaignState,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub counts: CampaignCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewItemView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    /// `role` or `share`.
    pub kind: String,
    pub subject_id: Uuid,
    /// The role's name, or the share's record, access and end, as it stood at the start.
    pub label: String,
    pub reviewer_id: Option<Uuid>,
    pub reviewer_email: Option<String>,
    pub decision: Option<ReviewDecision>,
    pub note: Option<String>,
    pub justification: Option<String>,
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// `kept`, `revoked`, `flagged` or `gone`; absent while undecided.
    pub outcome: Option<String>,
}

/// A campaign with the items the caller may see: all of them for those who run or audit
/// reviews, their own for a reviewer.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    pub items: Vec<ReviewItemView>,
}

/// One of the caller's open items, with its campaign's name and deadline.
#[derive(Debug, Clone, Serialize)]
pub struct MyReviewItem {
    pub campaign_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    pub item: ReviewItemView,
}

pub(crate) fn campaign_state(row: &ReviewCampaignRow, now: OffsetDateTime) -> CampaignState {
    match row.status.as_str() {
        "open" if row.deadline > now => CampaignState::Open,
        "open" => CampaignState::Overdue,
        _ => CampaignState::Closed,
    }
}

fn counts(items: &[ReviewItemRow]) -> CampaignCounts {
    let mut c = CampaignCounts { items: items.len(), ..CampaignCounts::default() };
    for i in items {
        match (i.decision.as_deref(), i.outcome.as_deref()) {
            (None, None) => c.open += 1,
            (Some("certify"), _) => c.certified += 1,
            (Some(_), _) => c.revoked += 1,
            (None, Some("flagged")) => c.flagged += 1,
            (None, Some(_)) => c.revoked_at_deadline += 1,
        }
    }
    c
}

/// Whether the principal runs or audits reviews, and so sees every campaign and item.
fn oversees(principal: &Principal) -> bool {
    principal.has(Permission::AccessReview) || principal.has(Permission::AuditRead)
}

impl Tutela {
    async fn optional_email(&self, user: Option<Uuid>) -> CoreResult<Option<String>> {
        Ok(match user {
            Some(id) => Some(self.email_of(id).await?),
            None => None,
        })
    }

    pub(crate) async fn campaign_view(
        &self,
        row: &ReviewCampaignRow,
        items: &[ReviewItemRow],
    ) -> CoreResult<CampaignView> {
        let department = match row.department_id {
            Some(d) => self.access_snapshot().await?.org.department(d).map(|d| d.name.clone()),
            None => None,
        };
        Ok(CampaignView {
            id: row.id,
            name: row.name.clone(),
            department_id: row.department_id,
            department,
            routing: parse_stored("review_campaigns.routing", &row.routing)?,
            reviewer_id: row.reviewer_id,
            reviewer_email: self.optional_email(row.reviewer_id).await?,
            policy: parse_stored("review_campaigns.policy", &row.policy)?,
            recur_days: row.recur_days,
            created_by: self.optional_email(row.created_by).await?,
            created_at: row.created_at,
            deadline: row.deadline,
            state: campaign_state(row, self.clock.now()),
            closed_at: row.closed_at,
            counts: counts(items),
        })
    }

    pub(crate) async fn item_view(&self, row: &ReviewItemRow) -> CoreResult<ReviewItemView> {
        Ok(ReviewItemView {
            id: row.id,
            campaign_id: row.campaign_id,
            user_id: row.user_id,
            user_email: self.email_of(row.user_id).await?,
            kind: row.kind.clone(),
            subject_id: row.subject_id,
            label: row.label.clone(),
            reviewer_id: row.reviewer_id,
            reviewer_email: self.optional_email(row.reviewer_id).await?,
            decision: row.decision.as_deref().map(|d| parse_stored("review_items.decision", d)).transpose()?,
            note: row.note.clone(),
            justification: row.justification.clone(),
            decided_by: self.optional_email(row.decided_by).await?,
            decided_at: row.decided_at,
            outcome: row.outcome.clone(),
        })
    }

    /// Campaigns, newest first: all of them for those who run or audit reviews; those with
    /// items assigned to the caller otherwise.
    pub async fn review_campaigns(&self, principal: &Principal) -> CoreResult<Vec<CampaignView>> {
        let mut out = Vec::new();
        for row in self.store.review_campaigns().await? {
            let items = self.store.review_items(row.id).await?;
            if oversees(principal)
                || items.iter().any(|i| i.reviewer_id.is_some() && i.reviewer_id == principal.user_id)
            {
                out.push(self.campaign_view(&row, &items).await?);
            }
        }
        Ok(out)
    }

    /// One campaign with the items the caller may see; to anyone with none it does not exist.
    pub async fn review_campaign(&self, principal: &Principal, id: Uuid) -> CoreResult<CampaignDetail> {
        let row = self.store.review_campaign_get(id).await?.ok_or(CoreError::NotFound("review campaign"))?;
        let items = self.store.review_items(id).await?;
        let visible: Vec<&ReviewItemRow> = items
            .iter()
            .filter(|i| oversees(principal) || (i.reviewer_id.is_some() && i.reviewer_id == principal.user_id))
            .collect();
        if !oversees(principal) && visible.is_empty() {
            return Err(CoreError::NotFound("review campaign"));
        }
        let mut views = Vec::with_capacity(visible.len());
        for item in visible {
            views.push(self.item_view(item).await?);
        }
        Ok(CampaignDetail { campaign: self.campaign_view(&row, &items).await?, items: views })
    }

    /// The caller's items still waiting for a decision, in open campaigns.
    pub async fn my_reviews(&self, principal: &Principal) -> CoreResult<Vec<MyReviewItem>> {
        let Some(user) = principal.user_id else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        let mut campaigns: Vec<ReviewCampaignRow> = Vec::new();
        for item in self.store.review_items_open_for(user).await? {
            if !campaigns.iter().any(|c| c.id == item.campaign_id)
                && let Some(c) = self.store.review_campaign_get(item.campaign_id).await?
            {
                campaigns.push(c);
            }
            let Some(c) = campaigns.iter().find(|c| c.id == item.campaign_id) else { continue };
            out.push(MyReviewItem {
                campaign_name: c.name.clone(),
                deadline: c.deadline,
                item: self.item_view(&item).await?,
            });
        }
        Ok(out)
    }
}
