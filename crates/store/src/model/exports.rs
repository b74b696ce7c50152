use time::OffsetDateTime;
use uuid::Uuid;

/// A request to export customers that policy puts before an approver (too many rows, or
/// restricted fields in plaintext). `pending` until decided, then `approved` (downloadable
/// by the requester until `expires_at`) or `denied`; `cancelled` by the requester. A request
/// that needs no approval is stored `approved` with no decider, so that every bulk export
/// leaves the same evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequestRow {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `csv` or `jsonl`.
    pub format: String,
    pub purpose: Option<String>,
    /// Sealed fields approved to leave in plaintext.
    pub revealed: Vec<String>,
    /// Rows within the requester's reach when asked.
    pub rows: i64,
    /// Why approval was needed: `rows`, `restricted`; empty when it was not.
    pub reasons: Vec<String>,
    pub status: String,
    pub requested_at: OffsetDateTime,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<OffsetDateTime>,
    /// The approver's remark, shown to the requester.
    pub note: Option<String>,
    /// Until when an approved export may be downloaded.
    pub expires_at: Option<OffsetDateTime>,
}
