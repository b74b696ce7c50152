//! The organisation (departments, teams, who belongs where) and the rules that widen access to
//! customer records beyond a role's data scope: sharing rules and single-record shares.

use time::OffsetDateTime;
use uuid::Uuid;

/// A department; departments form a tree through `parent_id` (the store keeps no cycle out:
/// the domain checks before it writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    /// Who manages it: the reviewer of its members' access in access reviews.
    pub manager_id: Option<Uuid>,
}

/// A team: a group of users, optionally inside a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow {
    pub id: Uuid,
    pub name: String,
    pub department_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
}

/// Where a user sits in the organisation. A user with no row here belongs nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRow {
    pub user_id: Uuid,
    pub department_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

/// Gives a group (`grantee_kind` is `role`, `department`, `team` or `user`) access to every
/// record whose plaintext field `field_id` equals `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingRuleRow {
    pub id: Uuid,
    pub name: String,
    pub field_id: String,
    pub value: String,
    pub grantee_kind: String,
    pub grantee_id: Uuid,
    /// `read` or `write`.
    pub access: String,
    pub created_at: OffsetDateTime,
}

/// One record shared with one user until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordShareRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub user_id: Uuid,
    /// `read` or `write`.
    pub access: String,
    pub reason: String,
    pub granted_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A request for time-boxed access to one record beyond the user's reach ("break glass"):
/// `pending` until approved where policy asks for approval, then `active` until
/// `expires_at`; or `denied`, or `ended` early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub user_id: Uuid,
    pub justification: String,
    pub status: String,
    /// How long the access lasts once granted.
    pub minutes: i64,
    pub requested_at: OffsetDateTime,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<OffsetDateTime>,
    /// Set when the access is granted; moved to the moment it ends early.
    pub expires_at: Option<OffsetDateTime>,
}

/// The address ranges (CIDR) a role, a user or an API token may be used from. A role outside
/// its ranges does not apply to the request; a user or token outside theirs is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRuleRow {
    /// `role`, `user` or `token`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub networks: Vec<String>,
    pub updated_at: OffsetDateTime,
}

/// Which customer rows a query may return. Deliberately without a `Default`: every query
/// names its scope, so a forgotten one does not compile rather than showing everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    /// Rows owned by one of `owners`, or with one of `ids`, or whose plaintext field equals
    /// the value of one of `matching` (field id, value).
    Only {
        owners: Vec<Uuid>,
        ids: Vec<Uuid>,
        matching: Vec<(String, String)>,
    },
}

impl RowScope {
    /// Whether no row can match, so a backend can answer without asking the database.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Only { owners, ids, matching } if owners.is_empty() && ids.is_empty() && matching.is_empty())
    }
}
