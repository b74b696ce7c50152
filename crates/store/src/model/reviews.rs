use time::OffsetDateTime;
use uuid::Uuid;

/// An access-review campaign: reviewers certify or revoke each in-scope user's roles and
/// standing grants (record shares) before `deadline`; what nobody reviewed is then revoked
/// or flagged according to `policy`, and the report is kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCampaignRow {
    pub id: Uuid,
    pub name: String,
    /// The department whose subtree is reviewed; `None`: every user.
    pub department_id: Option<Uuid>,
    /// `manager` (each user's department manager) or `reviewer` (one named reviewer).
    pub routing: String,
    /// The named reviewer, or under `manager` routing who reviews users without a manager.
    pub reviewer_id: Option<Uuid>,
    /// What happens to unreviewed items at the deadline: `revoke` or `flag`.
    pub policy: String,
    /// Starts the next campaign this many days after this one's deadline closed it.
    pub recur_days: Option<i64>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub deadline: OffsetDateTime,
    /// `open` or `closed`.
    pub status: String,
    pub closed_at: Option<OffsetDateTime>,
    /// The report (JSON), written once when the campaign closes and never changed after.
    pub report: Option<String>,
}

/// One thing under review: a user's role (`kind` `role`, `subject_id` the role) or a record
/// share given to them (`share`, `subject_id` the share), as it stood when the campaign began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItemRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub subject_id: Uuid,
    /// What it is, in words, as it stood (role name; record, access and end of a share).
    pub label: String,
    pub reviewer_id: Option<Uuid>,
    /// `certify` or `revoke`; `None` while nobody decided.
    pub decision: Option<String>,
    pub note: Option<String>,
    /// Why someone certified their own access.
    pub justification: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<OffsetDateTime>,
    /// What became of it: `kept`, `revoked`, `flagged` or `gone` (ended before it was
    /// revoked); `None` while undecided.
    pub outcome: Option<String>,
}

/// Changes to access reviews.
#[derive(Debug, Clone)]
pub enum ReviewChange {
    /// A new campaign with the items snapshotted at its start.
    InsertCampaign { campaign: ReviewCampaignRow, items: Vec<ReviewItemRow> },
    /// Records a reviewer's decision. Fails with `Conflict` unless the item is undecided and
    /// its campaign open, so that two decisions, or a decision and the close, cannot both land.
    DecideItem(ReviewItemRow),
    /// Closes an open campaign with its report, setting the outcome of the items nobody
    /// decided. Fails with `Conflict` unless the campaign is open: a report is written once.
    CloseCampaign {
        id: Uuid,
        closed_at: OffsetDateTime,
        report: String,
        /// (item, outcome) of the undecided items.
        settled: Vec<(Uuid, String)>,
    },
    /// Records that a reviewer was reminded of their open items.
    Remind { campaign_id: Uuid, reviewer_id: Uuid, at: OffsetDateTime },
}
