use time::OffsetDateTime;
use uuid::Uuid;

/// One run of a scheduled job: who ran it, when, how far it got and how it ended. The
/// summary or error is written by the domain and never holds a protected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRow {
    pub id: Uuid,
    /// The job's kind, such as `access.review.deadlines`.
    pub kind: String,
    /// The node that ran it.
    pub node: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub done: i64,
    /// How much there is to do, when known.
    pub total: Option<i64>,
    /// What a finished run did, or why it failed.
    pub summary: Option<String>,
}

/// Who may run a job kind until when: a node holds the lease while it runs the kind, so that
/// on a database shared by several nodes exactly one of them runs it at a time. A node that
/// dies simply stops renewing, and its lease lapses at `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLeaseRow {
    pub kind: String,
    pub holder: String,
    pub lease_until: OffsetDateTime,
}
