//! The `PostgreSQL` backend of the Tutela store: one database shared by any number of Tutela
//! nodes. Writers are serialised by a transaction-scoped advisory lock (see
//! [`AUDIT_CHAIN_LOCK`]), because every audit event's hash covers the previous one.
//!
//! The schema and queries mirror the `SQLite` backend one for one, in native types.

mod audit;
mod convert;
mod customers;
mod exports;
mod identity;
mod jobs;
mod notify;
mod org;
mod reviews;
mod sso;
mod write;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};
use tutela_store::SsoIdentityRow;
use tutela_store::{
    ApiTokenRow, AuditCheckpoint, AuditFilter, AuditRecord, BreakGlassRow, CustomerQuery, CustomerRow, DepartmentRow,
    ErasureRecord, ExportRequestRow, FieldDef, MembershipRow, NetworkRuleRow, PasskeyRow, RecordShareRow, RoleRow,
    RowScope, SessionRow, SharingRuleRow, Store, StoreResult, StoredKey, TeamRow, UserRow, WrappedKeyRef, WriteTx,
};
use tutela_store::{JobLeaseRow, JobRunRow, ReviewCampaignRow, ReviewItemRow};
use uuid::Uuid;

use convert::{backend_err, to_u32, to_u64};

/// The key of the advisory lock every write transaction takes first
/// (`pg_advisory_xact_lock`): the ASCII bytes of `Tutela` followed by `0x0001`, "lock 1 of
/// Tutela". While one node holds it, no other node can append to the audit chain, so the
/// head a transaction reads stays the head until it commits. It is released at commit or
/// rollback. Other software sharing the database must not use this key.
pub const AUDIT_CHAIN_LOCK: i64 = 0x5475_7465_6C61_0001;

/// Connections per node.
const MAX_CONNECTIONS: u32 = 16;

/// A Tutela store in a `PostgreSQL` database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) and applies pending migrations
    /// (sqlx takes its own advisory lock, so nodes starting together migrate once).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new().max_connections(MAX_CONNECTIONS).connect(url).await.map_err(backend_err)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(backend_err)?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }

    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
        write::PgWriteTx::begin(&self.pool).await
    }

    async fn meta_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn keys_list(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = sqlx::query("SELECT purpose, version, wrapped, created_at FROM keys ORDER BY purpose, version")
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey { purpose: r.get(0), version: to_u32(r.get(1))?, wrapped: r.get(2), created_at: r.get(3) })
            })
            .collect()
    }

    async fn fields_list(&self) -> StoreResult<Vec<FieldDef>> {
        customers::fields_list(&self.pool).await
    }

    async fn customer_get(&self, id: Uuid) -> StoreResult<Option<CustomerRow>> {
        customers::get(&self.pool, id).await
    }

    async fn customers_query(&self, query: &CustomerQuery) -> StoreResult<Vec<CustomerRow>> {
        customers::query(&self.pool, query).await
    }

    async fn customers_count(&self, scope: &RowScope) -> StoreResult<u64> {
        customers::count(&self.pool, scope).await
    }

    async fn blind_lookup(&self, field_id: &str, hash: u32) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar("SELECT customer_id FROM customer_blind WHERE field_id = $1 AND hash = $2")
            .bind(field_id)
            .bind(i64::from(hash))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)
    }

    async fn customer_keys_below(
        &self,
        version: u32,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<WrappedKeyRef>> {
        customers::keys_below(&self.pool, "customers", version, after, limit).await
    }

    async fn kek_usage(&self) -> StoreResult<Vec<(u32, u64)>> {
        // SUM over BIGINT is NUMERIC in PostgreSQL; cast it back.
        let rows = sqlx::query(
            "SELECT kek_version, SUM(n)::BIGINT FROM (
                SELECT kek_version, COUNT(*) AS n FROM customers GROUP BY kek_version
                UNION ALL SELECT kek_version, COUNT(*) AS n FROM users GROUP BY kek_version
             ) AS usage GROUP BY kek_version ORDER BY kek_version",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        rows.iter().map(|r| Ok((to_u32(r.get(0))?, to_u64(r.get(1))))).collect()
    }

    async fn erasures_since(&self, after_seq: i64) -> StoreResult<Vec<ErasureRecord>> {
        let rows = sqlx::query(
            "SELECT seq, customer_id, erased_at, actor_id, reason FROM erasures WHERE seq > $1 ORDER BY seq",
        )
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(rows
            .iter()
            .map(|r| ErasureRecord {
                seq: r.get(0),
                customer_id: r.get(1),
                erased_at: r.get(2),
                actor_id: r.get(3),
                reason: r.get(4),
            })
            .collect())
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, [u8; 32])>> {
        audit::head(&self.pool).await
    }

    async fn audit_scan(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
        audit::scan(&self.pool, after_seq, limit).await
    }

    async fn audit_search(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        audit::search(&self.pool, filter).await
    }

    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpoint>> {
        audit::checkpoints(&self.pool).await
    }

    async fn user_get(&self, id: Uuid) -> StoreResult<Option<UserRow>> {
        identity::user_where(&self.pool, "id = $1", id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        identity::user_where(&self.pool, "email = $1", email.to_owned()).await
    }

    async fn users_list(&self) -> StoreResult<Vec<UserRow>> {
        identity::users_list(&self.pool).await
    }

    async fn user_count(&self) -> StoreResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(backend_err)?;
        Ok(to_u64(n))
    }

    async fn user_keys_below(&self, version: u32, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<WrappedKeyRef>> {
        customers::keys_below(&self.pool, "users", version, after, limit).await
    }

    async fn user_roles(&self, user_id: Uuid) -> StoreResult<Vec<RoleRow>> {
        identity::user_roles(&self.pool, user_id).await
    }

    async fn roles_list(&self) -> StoreResult<Vec<RoleRow>> {
        identity::roles_list(&self.pool).await
    }

    async fn session_get(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRow>> {
        identity::session_where(&self.pool, "token_hash = $1", token_hash.to_vec()).await.map(|mut v| v.pop())
    }

    async fn session_by_id(&self, id: Uuid) -> StoreResult<Option<SessionRow>> {
        identity::session_where(&self.pool, "id = $1", id).await.map(|mut v| v.pop())
    }

    async fn sessions_for_user(&self, user_id: Uuid) -> StoreResult<Vec<SessionRow>> {
        identity::session_where(&self.pool, "user_id = $1", user_id).await
    }

    async fn session_touch(&self, token_hash: &[u8; 32], at: time::OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(&token_hash[..])
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRow>> {
        identity::api_token_where(&self.pool, "token_hash = $1", token_hash.to_vec()).await.map(|mut v| v.pop())
    }

    async fn api_token_by_id(&self, id: Uuid) -> StoreResult<Option<ApiTokenRow>> {
        identity::api_token_where(&self.pool, "id = $1", id).await.map(|mut v| v.pop())
    }

    async fn api_tokens_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ApiTokenRow>> {
        identity::api_token_where(&self.pool, "user_id = $1", user_id).await
    }

    async fn departments_list(&self) -> StoreResult<Vec<DepartmentRow>> {
        org::departments(&self.pool).await
    }

    async fn teams_list(&self) -> StoreResult<Vec<TeamRow>> {
        org::teams(&self.pool).await
    }

    async fn memberships_list(&self) -> StoreResult<Vec<MembershipRow>> {
        org::memberships(&self.pool).await
    }

    async fn role_assignments(&self) -> StoreResult<Vec<(Uuid, Uuid)>> {
        org::role_assignments(&self.pool).await
    }

    async fn sharing_rules_list(&self) -> StoreResult<Vec<SharingRuleRow>> {
        org::sharing_rules(&self.pool).await
    }

    async fn record_shares_for_user(&self, user_id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
        org::shares_where(&self.pool, "user_id", user_id).await
    }

    async fn record_shares_for_customer(&self, customer_id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
        org::shares_where(&self.pool, "customer_id", customer_id).await
    }

    async fn network_rules_list(&self) -> StoreResult<Vec<NetworkRuleRow>> {
        org::network_rules(&self.pool).await
    }

    async fn break_glass_get(&self, id: Uuid) -> StoreResult<Option<BreakGlassRow>> {
        org::break_glass_where(&self.pool, Some(("id", id)), 1).await.map(|mut v| v.pop())
    }

    async fn break_glass_for_user(&self, user_id: Uuid) -> StoreResult<Vec<BreakGlassRow>> {
        org::break_glass_where(&self.pool, Some(("user_id", user_id)), u32::MAX).await
    }

    async fn break_glass_recent(&self, limit: u32) -> StoreResult<Vec<BreakGlassRow>> {
        org::break_glass_where(&self.pool, None, limit).await
    }

    async fn export_request_get(&self, id: Uuid) -> StoreResult<Option<ExportRequestRow>> {
        exports::requests_where(&self.pool, Some(("id", id)), 1).await.map(|mut v| v.pop())
    }

    async fn export_requests_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ExportRequestRow>> {
        exports::requests_where(&self.pool, Some(("user_id", user_id)), u32::MAX).await
    }

    async fn export_requests_recent(&self, limit: u32) -> StoreResult<Vec<ExportRequestRow>> {
        exports::requests_where(&self.pool, None, limit).await
    }

    async fn sso_identity(&self, issuer: &str, subject: &str) -> StoreResult<Option<SsoIdentityRow>> {
        sso::get(&self.pool, issuer, subject).await
    }

    async fn passkey_get(&self, id: Uuid) -> StoreResult<Option<PasskeyRow>> {
        identity::passkey_where(&self.pool, "id = $1", id).await.map(|mut v| v.pop())
    }

    async fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRow>> {
        identity::passkey_where(&self.pool, "credential_id = $1", credential_id.to_vec()).await.map(|mut v| v.pop())
    }

    async fn passkeys_for_user(&self, user_id: Uuid) -> StoreResult<Vec<PasskeyRow>> {
        identity::passkey_where(&self.pool, "user_id = $1", user_id).await
    }

    async fn review_campaigns(&self) -> StoreResult<Vec<ReviewCampaignRow>> {
        reviews::campaigns(&self.pool, None).await
    }

    async fn review_campaign_get(&self, id: Uuid) -> StoreResult<Option<ReviewCampaignRow>> {
        reviews::campaigns(&self.pool, Some(id)).await.map(|mut v| v.pop())
    }

    async fn review_items(&self, campaign_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
        reviews::items(&self.pool, campaign_id).await
    }

    async fn review_items_open_for(&self, reviewer_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
        reviews::open_items_for(&self.pool, reviewer_id).await
    }

    async fn review_reminders(&self, campaign_id: Uuid) -> StoreResult<Vec<(Uuid, time::OffsetDateTime)>> {
        reviews::reminders(&self.pool, campaign_id).await
    }

    async fn job_lease_acquire(
        &self,
        kind: &str,
        holder: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        jobs::lease_acquire(&self.pool, kind, holder, now, until).await
    }

    async fn job_lease_release(&self, kind: &str, holder: &str) -> StoreResult<()> {
        jobs::lease_release(&self.pool, kind, holder).await
    }

    async fn job_leases(&self) -> StoreResult<Vec<JobLeaseRow>> {
        jobs::leases(&self.pool).await
    }

    async fn job_run_put(&self, run: &JobRunRow) -> StoreResult<()> {
        jobs::run_put(&self.pool, run).await
    }

    async fn job_runs(&self, kind: Option<&str>, limit: u32) -> StoreResult<Vec<JobRunRow>> {
        jobs::runs(&self.pool, kind, limit).await
    }
}
