use async_trait::async_trait;
use uuid::Uuid;

use crate::SsoIdentityRow;
use crate::{
    ApiTokenRow, AuditCheckpoint, AuditFilter, AuditRecord, BreakGlassRow, CustomerQuery, CustomerRow, DepartmentRow,
    ErasureRecord, ExportRequestRow, FieldDef, MembershipRow, Mutation, NetworkRuleRow, PasskeyRow, RecordShareRow,
    RoleRow, RowScope, SessionRow, SharingRuleRow, StoreResult, StoredKey, TeamRow, UserRow, WrappedKeyRef,
};
use crate::{JobLeaseRow, JobRunRow, ReviewCampaignRow, ReviewItemRow};

/// Persistence for Tutela. Reads are methods here; every write goes through [`WriteTx`].
/// The notifier's part is [`crate::NotifyStore`].
#[async_trait]
pub trait Store: crate::NotifyStore + Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and metrics.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
    /// Opens a write transaction. On `PostgreSQL` it also takes the audit-chain lock, so that
    /// several nodes append to one chain in turn.
    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>>;

    async fn meta_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn keys_list(&self) -> StoreResult<Vec<StoredKey>>;

    async fn fields_list(&self) -> StoreResult<Vec<FieldDef>>;

    async fn customer_get(&self, id: Uuid) -> StoreResult<Option<CustomerRow>>;
    /// At most `query.limit` rows in the query's order, after the cursor.
    async fn customers_query(&self, query: &CustomerQuery) -> StoreResult<Vec<CustomerRow>>;
    /// How many customers the scope holds.
    async fn customers_count(&self, scope: &RowScope) -> StoreResult<u64>;
    /// Candidate records whose blind index for the field equals `hash` (false positives possible).
    async fn blind_lookup(&self, field_id: &str, hash: u32) -> StoreResult<Vec<Uuid>>;
    /// Records whose data key is wrapped under a key-encryption key older than `version`,
    /// in id order after `after`: the work list of a key rotation.
    async fn customer_keys_below(
        &self,
        version: u32,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<WrappedKeyRef>>;
    /// Key-encryption key versions in use, with how many records and users each wraps.
    async fn kek_usage(&self) -> StoreResult<Vec<(u32, u64)>>;
    async fn erasures_since(&self, after_seq: i64) -> StoreResult<Vec<ErasureRecord>>;

    /// The newest event's sequence number and hash, if any.
    async fn audit_head(&self) -> StoreResult<Option<(i64, [u8; 32])>>;
    /// Events in sequence order with `seq > after_seq`, at most `limit`.
    async fn audit_scan(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_search(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpoint>>;

    async fn user_get(&self, id: Uuid) -> StoreResult<Option<UserRow>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>>;
    async fn users_list(&self) -> StoreResult<Vec<UserRow>>;
    async fn user_count(&self) -> StoreResult<u64>;
    async fn user_keys_below(&self, version: u32, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<WrappedKeyRef>>;
    async fn user_roles(&self, user_id: Uuid) -> StoreResult<Vec<RoleRow>>;
    async fn roles_list(&self) -> StoreResult<Vec<RoleRow>>;

    async fn session_get(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRow>>;
    /// A session by its public id.
    async fn session_by_id(&self, id: Uuid) -> StoreResult<Option<SessionRow>>;
    /// The user's sessions, pending or signed in, newest first.
    async fn sessions_for_user(&self, user_id: Uuid) -> StoreResult<Vec<SessionRow>>;
    /// Records activity for the idle timeout. Not audited: it changes no data.
    async fn session_touch(&self, token_hash: &[u8; 32], at: time::OffsetDateTime) -> StoreResult<()>;
    async fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRow>>;
    async fn api_token_by_id(&self, id: Uuid) -> StoreResult<Option<ApiTokenRow>>;
    async fn api_tokens_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ApiTokenRow>>;

    async fn departments_list(&self) -> StoreResult<Vec<DepartmentRow>>;
    async fn teams_list(&self) -> StoreResult<Vec<TeamRow>>;
    async fn memberships_list(&self) -> StoreResult<Vec<MembershipRow>>;
    /// Every user's roles as (user id, role id) pairs.
    async fn role_assignments(&self) -> StoreResult<Vec<(Uuid, Uuid)>>;
    async fn sharing_rules_list(&self) -> StoreResult<Vec<SharingRuleRow>>;
    /// Shares given to the user, expired ones included (the domain compares with its clock).
    async fn record_shares_for_user(&self, user_id: Uuid) -> StoreResult<Vec<RecordShareRow>>;
    async fn record_shares_for_customer(&self, customer_id: Uuid) -> StoreResult<Vec<RecordShareRow>>;
    /// Every address-range restriction, of roles, users and tokens.
    async fn network_rules_list(&self) -> StoreResult<Vec<NetworkRuleRow>>;
    async fn break_glass_get(&self, id: Uuid) -> StoreResult<Option<BreakGlassRow>>;
    /// The user's break-glass requests, newest first.
    async fn break_glass_for_user(&self, user_id: Uuid) -> StoreResult<Vec<BreakGlassRow>>;
    /// The newest `limit` break-glass requests of everyone.
    async fn break_glass_recent(&self, limit: u32) -> StoreResult<Vec<BreakGlassRow>>;
    async fn export_request_get(&self, id: Uuid) -> StoreResult<Option<ExportRequestRow>>;
    /// The user's export requests, newest first.
    async fn export_requests_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ExportRequestRow>>;
    /// The newest `limit` export requests of everyone.
    async fn export_requests_recent(&self, limit: u32) -> StoreResult<Vec<ExportRequestRow>>;
    async fn passkey_get(&self, id: Uuid) -> StoreResult<Option<PasskeyRow>>;
    /// The user linked to an identity provider's account, by the provider's issuer and subject.
    async fn sso_identity(&self, issuer: &str, subject: &str) -> StoreResult<Option<SsoIdentityRow>>;
    async fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRow>>;
    /// The user's passkeys, oldest first.
    async fn passkeys_for_user(&self, user_id: Uuid) -> StoreResult<Vec<PasskeyRow>>;

    /// Every access-review campaign, newest first.
    async fn review_campaigns(&self) -> StoreResult<Vec<ReviewCampaignRow>>;
    async fn review_campaign_get(&self, id: Uuid) -> StoreResult<Option<ReviewCampaignRow>>;
    /// A campaign's items, in the order they were snapshotted.
    async fn review_items(&self, campaign_id: Uuid) -> StoreResult<Vec<ReviewItemRow>>;
    /// Undecided items assigned to the reviewer in open campaigns.
    async fn review_items_open_for(&self, reviewer_id: Uuid) -> StoreResult<Vec<ReviewItemRow>>;
    /// When each reviewer of the campaign was last reminded.
    async fn review_reminders(&self, campaign_id: Uuid) -> StoreResult<Vec<(Uuid, time::OffsetDateTime)>>;

    // Jobs. Leases and run records are the scheduler's bookkeeping, not changes to protected
    // data or access: they are written outside `WriteTx` (no audit event, and no wait for the
    // audit-chain lock every write transaction takes), each statement committed on its own,
    // like `session_touch`. What a job changes goes through `WriteTx` with its audit events.

    /// Takes or renews the lease on a job kind: succeeds when nobody holds it, its holder's
    /// lease ended at or before `now`, or `holder` holds it already. One atomic conditional
    /// upsert, so that of several nodes asking at once exactly one gets it.
    async fn job_lease_acquire(
        &self,
        kind: &str,
        holder: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Gives the lease up, if `holder` holds it.
    async fn job_lease_release(&self, kind: &str, holder: &str) -> StoreResult<()>;
    async fn job_leases(&self) -> StoreResult<Vec<JobLeaseRow>>;
    /// Inserts or updates a run (its progress and end change the row).
    async fn job_run_put(&self, run: &JobRunRow) -> StoreResult<()>;
    /// The newest `limit` runs of the kind (of every kind with `None`), newest first.
    async fn job_runs(&self, kind: Option<&str>, limit: u32) -> StoreResult<Vec<JobRunRow>>;
}

/// One atomic write: mutations and the audit records describing them, committed together.
#[async_trait]
pub trait WriteTx: Send {
    /// The chain head as this transaction sees it (under the chain lock).
    async fn audit_head(&mut self) -> StoreResult<Option<(i64, [u8; 32])>>;
    async fn apply(&mut self, mutation: &Mutation) -> StoreResult<()>;
    async fn append_audit(&mut self, records: &[AuditRecord]) -> StoreResult<()>;
    async fn put_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> StoreResult<()>;
    /// Removes the checkpoint at `seq`, if there is one (a newer one vouches for it).
    async fn delete_checkpoint(&mut self, seq: i64) -> StoreResult<()>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
