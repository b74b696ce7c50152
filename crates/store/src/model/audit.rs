use time::OffsetDateTime;
use uuid::Uuid;

/// One event of the audit log, as chained: `hash` covers the canonical encoding of every
/// other column plus the previous event's hash (see `tutela_core::audit::canonical`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub customer_id: Option<Uuid>,
    pub fields: Vec<String>,
    pub purpose: Option<String>,
    pub source: Option<String>,
    /// Further structured detail, as canonical JSON text.
    pub detail: Option<String>,
    pub hash: [u8; 32],
}

/// A signed statement that the chain had `hash` at `seq`, written with every commit so that
/// even the newest events cannot be rewritten without the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    pub seq: i64,
    pub hash: [u8; 32],
    pub at: OffsetDateTime,
    pub key_version: u32,
    pub signature: Vec<u8>,
}

/// A search of the log, newest first, with `before_seq` as the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub customer_id: Option<Uuid>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}
