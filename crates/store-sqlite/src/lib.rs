//! The `SQLite` backend of the Tutela store: one file in WAL mode, `synchronous = FULL` so an
//! acknowledged commit survives a crash, `secure_delete` so erased rows are overwritten.
//!
//! Built on rusqlite, which calls `SQLite` in the calling thread, rather than on sqlx, whose
//! `SQLite` driver sends every statement to a worker thread and waits for the answer: measured
//! here at about 34 µs per statement against a few µs for the statement itself (see
//! docs/BENCHMARKS.md), which made every protected request cost several times its work.
//! How connections are shared between the async tasks is in [`connections`].

mod audit;
mod audit_index;
mod connections;
mod convert;
mod customers;
mod exports;
mod identity;
mod jobs;
mod notify;
mod org;
mod query_text;
mod reviews;
mod sso;
mod write;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;
use rusqlite_migration::{M, Migrations};
use tutela_store::SsoIdentityRow;
use tutela_store::{
    ApiTokenRow, AuditCheckpoint, AuditFilter, AuditRecord, BreakGlassRow, CustomerQuery, CustomerRow, DepartmentRow,
    ErasureRecord, ExportRequestRow, FieldDef, MembershipRow, NetworkRuleRow, PasskeyRow, RecordShareRow, RoleRow,
    RowScope, SessionRow, SharingRuleRow, Store, StoreResult, StoredKey, TeamRow, UserRow, WrappedKeyRef, WriteTx,
};
use tutela_store::{JobLeaseRow, JobRunRow, ReviewCampaignRow, ReviewItemRow};
use uuid::Uuid;

use connections::Connections;
use convert::{all_rows, backend_err, col, count, first_row, from_micros, to_micros, to_u32};

/// The schema, one entry per version; `PRAGMA user_version` records how far a file has come.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_foundation.sql")),
        M::up(include_str!("../migrations/0002_session_ids.sql")),
        M::up(include_str!("../migrations/0003_audit_customer_index.sql")),
        M::up(include_str!("../migrations/0004_access.sql")),
        M::up(include_str!("../migrations/0005_passkeys.sql")),
        M::up(include_str!("../migrations/0006_break_glass.sql")),
        M::up(include_str!("../migrations/0007_export_requests.sql")),
        M::up(include_str!("../migrations/0008_sso_identities.sql")),
        M::up(include_str!("../migrations/0009_network_rules.sql")),
        M::up(include_str!("../migrations/0010_jobs_and_reviews.sql")),
        M::up(include_str!("../migrations/0011_notifications.sql")),
        M::up(include_str!("../migrations/0012_session_factors.sql")),
        M::up(include_str!("../migrations/0013_audit_filed_indexes.sql")),
    ])
}

/// A database made before this store moved to rusqlite recorded its schema version in sqlx's
/// table, not in `user_version`; carry the count over, so that the migrations it already has
/// (the same files) are not run again.
fn adopt_sqlx_versions(conn: &rusqlite::Connection) -> StoreResult<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(backend_err)?;
    let sqlx_table: bool = conn
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = '_sqlx_migrations')", [], |r| r.get(0))
        .map_err(backend_err)?;
    if version == 0 && sqlx_table {
        let applied: i64 = conn
            .query_row("SELECT COUNT(*) FROM _sqlx_migrations WHERE success", [], |r| r.get(0))
            .map_err(backend_err)?;
        conn.pragma_update(None, "user_version", applied).map_err(backend_err)?;
    }
    Ok(())
}

/// A Tutela store in one `SQLite` database file.
#[derive(Clone)]
pub struct SqliteStore {
    connections: Arc<Connections>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let path = path.to_owned();
        let connections = tokio::task::spawn_blocking(move || {
            Connections::open(&path, |conn| {
                adopt_sqlx_versions(conn)?;
                migrations().to_latest(conn).map_err(backend_err)
            })
        })
        .await
        .map_err(backend_err)??;
        Ok(Self { connections: Arc::new(connections) })
    }

    /// Copies WAL frames back into the database and truncates the WAL, so that pages
    /// overwritten by an erasure no longer linger there.
    pub async fn checkpoint_wal(&self) -> StoreResult<()> {
        self.connections
            .with_writer(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(backend_err))
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.connections.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.connections.read(|c| c.execute_batch("SELECT 1").map_err(backend_err))
    }

    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
        write::SqliteWriteTx::begin(&self.connections).await
    }

    async fn meta_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.connections.read(|c| first_row(c, "SELECT value FROM meta WHERE key = ?1", [key], |r| col(r, 0)))
    }

    async fn keys_list(&self) -> StoreResult<Vec<StoredKey>> {
        self.connections.read(|c| {
            all_rows(c, "SELECT purpose, version, wrapped, created_at FROM keys ORDER BY purpose, version", [], |r| {
                Ok(StoredKey {
                    purpose: col(r, 0)?,
                    version: to_u32(col(r, 1)?)?,
                    wrapped: col(r, 2)?,
                    created_at: from_micros(col(r, 3)?)?,
                })
            })
        })
    }

    async fn fields_list(&self) -> StoreResult<Vec<FieldDef>> {
        self.connections.read(customers::fields_list)
    }

    async fn customer_get(&self, id: Uuid) -> StoreResult<Option<CustomerRow>> {
        self.connections.read(|c| customers::get(c, id))
    }

    async fn customers_query(&self, query: &CustomerQuery) -> StoreResult<Vec<CustomerRow>> {
        // Fetching a few known ids (the candidates of a blind-index lookup) is a point read.
        if query.filters.is_empty() && query.ids.as_ref().is_some_and(|ids| ids.len() <= 16) {
            return self.connections.read(|c| customers::query(c, query));
        }
        let query = query.clone();
        self.connections.scan(move |c| customers::query(c, &query)).await
    }

    async fn customers_count(&self, scope: &RowScope) -> StoreResult<u64> {
        let scope = scope.clone();
        self.connections.scan(move |c| customers::count(c, &scope)).await
    }

    async fn blind_lookup(&self, field_id: &str, hash: u32) -> StoreResult<Vec<Uuid>> {
        self.connections.read(|c| customers::blind_lookup(c, field_id, hash))
    }

    async fn customer_keys_below(
        &self,
        version: u32,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<WrappedKeyRef>> {
        self.connections.scan(move |c| customers::keys_below(c, "customers", version, after, limit)).await
    }

    async fn kek_usage(&self) -> StoreResult<Vec<(u32, u64)>> {
        self.connections
            .scan(|c| {
                all_rows(
                    c,
                    "SELECT kek_version, SUM(n) FROM (
                        SELECT kek_version, COUNT(*) AS n FROM customers GROUP BY kek_version
                        UNION ALL SELECT kek_version, COUNT(*) AS n FROM users GROUP BY kek_version
                     ) GROUP BY kek_version ORDER BY kek_version",
                    [],
                    |r| Ok((to_u32(col(r, 0)?)?, col::<i64>(r, 1)?.unsigned_abs())),
                )
            })
            .await
    }

    async fn erasures_since(&self, after_seq: i64) -> StoreResult<Vec<ErasureRecord>> {
        self.connections
            .scan(move |c| {
                all_rows(
                    c,
                    "SELECT seq, customer_id, erased_at, actor_id, reason FROM erasures WHERE seq > ?1 ORDER BY seq",
                    [after_seq],
                    |r| {
                        Ok(ErasureRecord {
                            seq: col(r, 0)?,
                            customer_id: col(r, 1)?,
                            erased_at: from_micros(col(r, 2)?)?,
                            actor_id: col(r, 3)?,
                            reason: col(r, 4)?,
                        })
                    },
                )
            })
            .await
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, [u8; 32])>> {
        self.connections.read(audit::head)
    }

    async fn audit_scan(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
        self.connections.scan(move |c| audit::scan(c, after_seq, limit)).await
    }

    async fn audit_search(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let filter = filter.clone();
        self.connections.scan(move |c| audit::search(c, &filter)).await
    }

    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpoint>> {
        self.connections.scan(audit::checkpoints).await
    }

    async fn user_get(&self, id: Uuid) -> StoreResult<Option<UserRow>> {
        self.connections.read(|c| identity::user_where(c, "id = ?1", &id))
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        self.connections.read(|c| identity::user_where(c, "email = ?1", &email))
    }

    async fn users_list(&self) -> StoreResult<Vec<UserRow>> {
        self.connections.scan(identity::users_list).await
    }

    async fn user_count(&self) -> StoreResult<u64> {
        self.connections.read(|c| count(c, "SELECT COUNT(*) FROM users"))
    }

    async fn user_keys_below(&self, version: u32, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<WrappedKeyRef>> {
        self.connections.scan(move |c| customers::keys_below(c, "users", version, after, limit)).await
    }

    async fn user_roles(&self, user_id: Uuid) -> StoreResult<Vec<RoleRow>> {
        self.connections.read(|c| identity::user_roles(c, user_id))
    }

    async fn roles_list(&self) -> StoreResult<Vec<RoleRow>> {
        self.connections.read(identity::roles_list)
    }

    async fn session_get(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRow>> {
        self.connections.read(|c| identity::session_where(c, "token_hash = ?1", &&token_hash[..])).map(|mut v| v.pop())
    }

    async fn session_by_id(&self, id: Uuid) -> StoreResult<Option<SessionRow>> {
        self.connections.read(|c| identity::session_where(c, "id = ?1", &id)).map(|mut v| v.pop())
    }

    async fn sessions_for_user(&self, user_id: Uuid) -> StoreResult<Vec<SessionRow>> {
        self.connections.read(|c| identity::session_where(c, "user_id = ?1", &user_id))
    }

    async fn session_touch(&self, token_hash: &[u8; 32], at: time::OffsetDateTime) -> StoreResult<()> {
        // A write of its own (with its own fsync), so it waits for the writer like any other.
        let token_hash = *token_hash;
        self.connections
            .with_writer(move |c| {
                c.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1")
                    .and_then(|mut s| s.execute(params![&token_hash[..], to_micros(at)]))
                    .map_err(backend_err)
            })
            .await?;
        Ok(())
    }

    async fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRow>> {
        self.connections
            .read(|c| identity::api_token_where(c, "token_hash = ?1", &&token_hash[..]))
            .map(|mut v| v.pop())
    }

    async fn api_token_by_id(&self, id: Uuid) -> StoreResult<Option<ApiTokenRow>> {
        self.connections.read(|c| identity::api_token_where(c, "id = ?1", &id)).map(|mut v| v.pop())
    }

    async fn api_tokens_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ApiTokenRow>> {
        self.connections.read(|c| identity::api_token_where(c, "user_id = ?1", &user_id))
    }

    async fn departments_list(&self) -> StoreResult<Vec<DepartmentRow>> {
        self.connections.read(org::departments)
    }

    async fn teams_list(&self) -> StoreResult<Vec<TeamRow>> {
        self.connections.read(org::teams)
    }

    async fn memberships_list(&self) -> StoreResult<Vec<MembershipRow>> {
        self.connections.read(org::memberships)
    }

    async fn role_assignments(&self) -> StoreResult<Vec<(Uuid, Uuid)>> {
        self.connections.read(org::role_assignments)
    }

    async fn sharing_rules_list(&self) -> StoreResult<Vec<SharingRuleRow>> {
        self.connections.read(org::sharing_rules)
    }

    async fn record_shares_for_user(&self, user_id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
        self.connections.read(|c| org::shares_where(c, "user_id", user_id))
    }

    async fn record_shares_for_customer(&self, customer_id: Uuid) -> StoreResult<Vec<RecordShareRow>> {
        self.connections.read(|c| org::shares_where(c, "customer_id", customer_id))
    }

    async fn network_rules_list(&self) -> StoreResult<Vec<NetworkRuleRow>> {
        self.connections.read(org::network_rules)
    }

    async fn break_glass_get(&self, id: Uuid) -> StoreResult<Option<BreakGlassRow>> {
        self.connections.read(|c| org::break_glass_where(c, Some(("id", id)), 1)).map(|mut v| v.pop())
    }

    async fn break_glass_for_user(&self, user_id: Uuid) -> StoreResult<Vec<BreakGlassRow>> {
        self.connections.read(|c| org::break_glass_where(c, Some(("user_id", user_id)), u32::MAX))
    }

    async fn break_glass_recent(&self, limit: u32) -> StoreResult<Vec<BreakGlassRow>> {
        self.connections.read(|c| org::break_glass_where(c, None, limit))
    }

    async fn export_request_get(&self, id: Uuid) -> StoreResult<Option<ExportRequestRow>> {
        self.connections.read(|c| exports::requests_where(c, Some(("id", id)), 1)).map(|mut v| v.pop())
    }

    async fn export_requests_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ExportRequestRow>> {
        self.connections.read(|c| exports::requests_where(c, Some(("user_id", user_id)), u32::MAX))
    }

    async fn export_requests_recent(&self, limit: u32) -> StoreResult<Vec<ExportRequestRow>> {
        self.connections.read(|c| exports::requests_where(c, None, limit))
    }

    async fn sso_identity(&self, issuer: &str, subject: &str) -> StoreResult<Option<SsoIdentityRow>> {
        self.connections.read(|c| sso::get(c, issuer, subject))
    }

    async fn passkey_get(&self, id: Uuid) -> StoreResult<Option<PasskeyRow>> {
        self.connections.read(|c| identity::passkey_where(c, "id = ?1", &id)).map(|mut v| v.pop())
    }

    async fn passkey_by_credential(&self, credential_id: &[u8]) -> StoreResult<Option<PasskeyRow>> {
        self.connections.read(|c| identity::passkey_where(c, "credential_id = ?1", &credential_id)).map(|mut v| v.pop())
    }

    async fn passkeys_for_user(&self, user_id: Uuid) -> StoreResult<Vec<PasskeyRow>> {
        self.connections.read(|c| identity::passkey_where(c, "user_id = ?1", &user_id))
    }

    async fn review_campaigns(&self) -> StoreResult<Vec<ReviewCampaignRow>> {
        self.connections.read(|c| reviews::campaigns(c, None))
    }

    async fn review_campaign_get(&self, id: Uuid) -> StoreResult<Option<ReviewCampaignRow>> {
        self.connections.read(|c| reviews::campaigns(c, Some(id))).map(|mut v| v.pop())
    }

    async fn review_items(&self, campaign_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
        self.connections.read(|c| reviews::items(c, campaign_id))
    }

    async fn review_items_open_for(&self, reviewer_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
        self.connections.read(|c| reviews::open_items_for(c, reviewer_id))
    }

    async fn review_reminders(&self, campaign_id: Uuid) -> StoreResult<Vec<(Uuid, time::OffsetDateTime)>> {
        self.connections.read(|c| reviews::reminders(c, campaign_id))
    }

    async fn job_lease_acquire(
        &self,
        kind: &str,
        holder: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        let (kind, holder) = (kind.to_owned(), holder.to_owned());
        Ok(self.connections.with_writer(move |c| jobs::lease_acquire(c, &kind, &holder, now, until)).await?.1)
    }

    async fn job_lease_release(&self, kind: &str, holder: &str) -> StoreResult<()> {
        let (kind, holder) = (kind.to_owned(), holder.to_owned());
        self.connections.with_writer(move |c| jobs::lease_release(c, &kind, &holder)).await?;
        Ok(())
    }

    async fn job_leases(&self) -> StoreResult<Vec<JobLeaseRow>> {
        self.connections.read(jobs::leases)
    }

    async fn job_run_put(&self, run: &JobRunRow) -> StoreResult<()> {
        let run = run.clone();
        self.connections.with_writer(move |c| jobs::run_put(c, &run)).await?;
        Ok(())
    }

    async fn job_runs(&self, kind: Option<&str>, limit: u32) -> StoreResult<Vec<JobRunRow>> {
        self.connections.read(|c| jobs::runs(c, kind, limit))
    }
}
