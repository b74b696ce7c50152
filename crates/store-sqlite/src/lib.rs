//! The `SQLite` backend of the Tutela store: one file in WAL mode, `synchronous = FULL` so an
//! acknowledged commit survives a crash, `secure_delete` so erased rows are overwritten.

mod audit;
mod convert;
mod customers;
mod identity;
mod write;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tutela_store::{
    ApiTokenRow, AuditCheckpoint, AuditFilter, AuditRecord, CustomerQuery, CustomerRow, ErasureRecord, FieldDef,
    RoleRow, SessionRow, Store, StoreResult, StoredKey, UserRow, WrappedKeyRef, WriteTx,
};
use uuid::Uuid;

use convert::{backend_err, from_micros, to_micros};

/// A Tutela store in one `SQLite` database file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(backend_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "ON")
            .pragma("temp_store", "MEMORY")
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(backend_err)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(backend_err)?;
        Ok(Self { pool })
    }

    /// Copies WAL frames back into the database and truncates the WAL, so that pages
    /// overwritten by an erasure no longer linger there.
    pub async fn checkpoint_wal(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend_err)?;
        Ok(())
    }

    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
        write::SqliteWriteTx::begin(&self.pool).await
    }

    async fn meta_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = ?1")
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
                Ok(StoredKey {
                    purpose: r.get(0),
                    version: convert::to_u32(r.get(1))?,
                    wrapped: r.get(2),
                    created_at: from_micros(r.get(3))?,
                })
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

    async fn customers_count(&self) -> StoreResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&self.pool).await.map_err(backend_err)?;
        Ok(n.unsigned_abs())
    }

    async fn blind_lookup(&self, field_id: &str, hash: u32) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar("SELECT customer_id FROM customer_blind WHERE field_id = ?1 AND hash = ?2")
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
        let rows = sqlx::query(
            "SELECT kek_version, SUM(n) FROM (
                SELECT kek_version, COUNT(*) AS n FROM customers GROUP BY kek_version
                UNION ALL SELECT kek_version, COUNT(*) AS n FROM users GROUP BY kek_version
             ) GROUP BY kek_version ORDER BY kek_version",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        rows.iter().map(|r| Ok((convert::to_u32(r.get(0))?, r.get::<i64, _>(1).unsigned_abs()))).collect()
    }

    async fn erasures_since(&self, after_seq: i64) -> StoreResult<Vec<ErasureRecord>> {
        let rows = sqlx::query(
            "SELECT seq, customer_id, erased_at, actor_id, reason FROM erasures WHERE seq > ?1 ORDER BY seq",
        )
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok(ErasureRecord {
                    seq: r.get(0),
                    customer_id: r.get(1),
                    erased_at: from_micros(r.get(2))?,
                    actor_id: r.get(3),
                    reason: r.get(4),
                })
            })
            .collect()
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
        identity::user_where(&self.pool, "id = ?1", id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        identity::user_where(&self.pool, "email = ?1", email.to_owned()).await
    }

    async fn users_list(&self) -> StoreResult<Vec<UserRow>> {
        identity::users_list(&self.pool).await
    }

    async fn user_count(&self) -> StoreResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(backend_err)?;
        Ok(n.unsigned_abs())
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
        identity::session_get(&self.pool, token_hash).await
    }

    async fn session_touch(&self, token_hash: &[u8; 32], at: time::OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1")
            .bind(&token_hash[..])
            .bind(to_micros(at))
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiTokenRow>> {
        identity::api_token_where(&self.pool, "token_hash = ?1", token_hash.to_vec()).await.map(|mut v| v.pop())
    }

    async fn api_tokens_for_user(&self, user_id: Uuid) -> StoreResult<Vec<ApiTokenRow>> {
        identity::api_token_where(&self.pool, "user_id = ?1", user_id).await
    }
}
