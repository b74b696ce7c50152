//! The write transaction: mutations and audit records committed together.
//!
//! Every transaction first takes the audit-chain advisory lock ([`crate::AUDIT_CHAIN_LOCK`]),
//! so writers on all nodes take turns. It runs at READ COMMITTED: each statement after the
//! lock sees everything committed before the lock was granted, in particular the chain head.
//!
//! A failed statement aborts a `PostgreSQL` transaction, and `COMMIT` would then quietly roll
//! back; so after one, `commit` reports an error instead. (The domain drops a transaction on
//! any error and retries its requests one by one.)

use async_trait::async_trait;
use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use tutela_store::{
    AuditCheckpoint, AuditRecord, BlindEntry, CustomerRow, KeyRewrap, Mutation, SessionRow, StoreError, StoreResult,
    UserRow, WriteTx, sealed_codec,
};
use uuid::Uuid;

use crate::AUDIT_CHAIN_LOCK;
use crate::convert::{backend_err, json_list, json_map, write_err};

/// Audit events per `INSERT` (12 parameters each, far below `PostgreSQL`'s 65 535).
const AUDIT_BATCH: usize = 1000;

pub(crate) struct PgWriteTx {
    tx: Transaction<'static, Postgres>,
    /// A statement failed: `PostgreSQL` has aborted the transaction.
    failed: bool,
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

impl PgWriteTx {
    pub(crate) async fn begin(pool: &PgPool) -> StoreResult<Box<dyn WriteTx>> {
        let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await.map_err(backend_err)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_CHAIN_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        Ok(Box::new(Self { tx, failed: false }))
    }

    pub(crate) async fn exec(&mut self, q: Query<'_>) -> StoreResult<u64> {
        match q.execute(&mut *self.tx).await {
            Ok(done) => Ok(done.rows_affected()),
            Err(e) => {
                self.failed = true;
                Err(write_err(e))
            }
        }
    }

    async fn put_customer(&mut self, row: &CustomerRow, blind: &[BlindEntry], insert: bool) -> StoreResult<()> {
        let plain = serde_json::to_string(&row.plain).expect("a string map serialises");
        let sealed = sealed_codec::encode(&row.sealed);
        if insert {
            self.exec(
                sqlx::query(
                    "INSERT INTO customers (id, version, kek_version, wrapped_dek, plain, sealed, created_at, updated_at,
                     owner_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)",
                )
                .bind(row.id)
                .bind(row.version)
                .bind(i64::from(row.kek_version))
                .bind(&row.wrapped_dek)
                .bind(plain)
                .bind(sealed)
                .bind(row.created_at)
                .bind(row.updated_at)
                .bind(row.owner_id),
            )
            .await?;
        } else {
            let changed = self
                .exec(
                    sqlx::query(
                        "UPDATE customers SET version = $2, kek_version = $3, wrapped_dek = $4, plain = $5::jsonb,
                         sealed = $6, updated_at = $7, owner_id = $8 WHERE id = $1 AND version = $2 - 1",
                    )
                    .bind(row.id)
                    .bind(row.version)
                    .bind(i64::from(row.kek_version))
                    .bind(&row.wrapped_dek)
                    .bind(plain)
                    .bind(sealed)
                    .bind(row.updated_at)
                    .bind(row.owner_id),
                )
                .await?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!("customer {} was changed or removed meanwhile", row.id)));
            }
            self.exec(sqlx::query("DELETE FROM customer_blind WHERE customer_id = $1").bind(row.id)).await?;
        }
        if !blind.is_empty() {
            let fields: Vec<&str> = blind.iter().map(|b| b.field_id.as_str()).collect();
            let hashes: Vec<i64> = blind.iter().map(|b| i64::from(b.hash)).collect();
            self.exec(
                sqlx::query(
                    "INSERT INTO customer_blind (field_id, hash, customer_id)
                     SELECT f, h, $3 FROM UNNEST($1::text[], $2::bigint[]) AS b (f, h) ON CONFLICT DO NOTHING",
                )
                .bind(fields)
                .bind(hashes)
                .bind(row.id),
            )
            .await?;
        }
        Ok(())
    }

    async fn put_user(&mut self, u: &UserRow, insert: bool) -> StoreResult<()> {
        let sql = if insert {
            "INSERT INTO users (id, email, display_name, password_hash, status, kek_version, wrapped_dek, totp_secret,
             totp_enabled, totp_last_step, locale, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        } else {
            "UPDATE users SET email = $2, display_name = $3, password_hash = $4, status = $5, kek_version = $6,
             wrapped_dek = $7, totp_secret = $8, totp_enabled = $9, totp_last_step = $10, locale = $11,
             created_at = $12, updated_at = $13 WHERE id = $1"
        };
        let n = self
            .exec(
                sqlx::query(sql)
                    .bind(u.id)
                    .bind(&u.email)
                    .bind(&u.display_name)
                    .bind(&u.password_hash)
                    .bind(u.status.as_str())
                    .bind(i64::from(u.kek_version))
                    .bind(&u.wrapped_dek)
                    .bind(&u.totp_secret)
                    .bind(u.totp_enabled)
                    .bind(u.totp_last_step)
                    .bind(&u.locale)
                    .bind(u.created_at)
                    .bind(u.updated_at),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn rewrap(&mut self, table: &str, r: &KeyRewrap) -> StoreResult<()> {
        self.exec(
            sqlx::query(&format!(
                "UPDATE {table} SET kek_version = $2, wrapped_dek = $3 WHERE id = $1 AND kek_version = $4"
            ))
            .bind(r.id)
            .bind(i64::from(r.to_version))
            .bind(&r.wrapped_dek)
            .bind(i64::from(r.from_version)),
        )
        .await?;
        Ok(())
    }

    async fn delete_by(&mut self, sql: &str, id: Uuid) -> StoreResult<u64> {
        self.exec(sqlx::query(sql).bind(id)).await
    }

    async fn insert_session(&mut self, s: &SessionRow) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent, id,
                                       factor, authenticated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&s.token_hash[..])
            .bind(s.user_id)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .bind(s.mfa_done)
            .bind(&s.source)
            .bind(&s.user_agent)
            .bind(s.id)
            .bind(&s.factor)
            .bind(s.authenticated_at),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl WriteTx for PgWriteTx {
    async fn audit_head(&mut self) -> StoreResult<Option<(i64, [u8; 32])>> {
        let head = crate::audit::head(&mut *self.tx).await;
        self.failed |= head.is_err();
        head
    }

    #[allow(clippy::too_many_lines)] // one arm per mutation reads better than a dispatch table
    async fn apply(&mut self, mutation: &Mutation) -> StoreResult<()> {
        match mutation {
            Mutation::PutMeta { key, value } => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
                    )
                    .bind(key)
                    .bind(value),
                )
                .await?;
            }
            Mutation::InsertKey(k) => {
                self.exec(
                    sqlx::query("INSERT INTO keys (purpose, version, wrapped, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(&k.purpose)
                        .bind(i64::from(k.version))
                        .bind(&k.wrapped)
                        .bind(k.created_at),
                )
                .await?;
            }
            Mutation::PutField(f) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO fields (id, label_en, label_zh, kind, classification, required, position)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (id) DO UPDATE SET label_en = $2, label_zh = $3, kind = $4, classification = $5,
                         required = $6, position = $7",
                    )
                    .bind(&f.id)
                    .bind(&f.label_en)
                    .bind(&f.label_zh)
                    .bind(f.kind.as_str())
                    .bind(f.classification.as_str())
                    .bind(f.required)
                    .bind(f.position),
                )
                .await?;
            }
            Mutation::DeleteField { id } => {
                if self.exec(sqlx::query("DELETE FROM fields WHERE id = $1").bind(id)).await? == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::InsertCustomer { row, blind } => self.put_customer(row, blind, true).await?,
            Mutation::UpdateCustomer { row, blind } => self.put_customer(row, blind, false).await?,
            Mutation::EraseCustomer(e) => {
                if self.delete_by("DELETE FROM customers WHERE id = $1", e.customer_id).await? == 0 {
                    return Err(StoreError::NotFound);
                }
                self.delete_by("DELETE FROM customer_blind WHERE customer_id = $1", e.customer_id).await?;
                self.exec(
                    sqlx::query(
                        "INSERT INTO erasures (customer_id, erased_at, actor_id, reason) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(e.customer_id)
                    .bind(e.erased_at)
                    .bind(e.actor_id)
                    .bind(&e.reason),
                )
                .await?;
            }
            Mutation::RewrapCustomerKey(r) => self.rewrap("customers", r).await?,
            Mutation::RewrapUserKey(r) => self.rewrap("users", r).await?,
            Mutation::AdvanceTotpStep { user_id, step } => {
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE users SET totp_last_step = $2
                             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                        )
                        .bind(user_id)
                        .bind(step),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Conflict("one-time code already used".into()));
                }
            }
            Mutation::InsertUser(u) => self.put_user(u, true).await?,
            Mutation::UpdateUser(u) => self.put_user(u, false).await?,
            Mutation::SetUserRoles { user_id, role_ids } => {
                self.delete_by("DELETE FROM user_roles WHERE user_id = $1", *user_id).await?;
                if !role_ids.is_empty() {
                    self.exec(
                        sqlx::query(
                            "INSERT INTO user_roles (user_id, role_id) SELECT $1, r FROM UNNEST($2::uuid[]) AS r",
                        )
                        .bind(user_id)
                        .bind(role_ids),
                    )
                    .await?;
                }
            }
            Mutation::InsertRecoveryCodes { user_id, hashes } => {
                self.delete_by("DELETE FROM recovery_codes WHERE user_id = $1", *user_id).await?;
                if !hashes.is_empty() {
                    let hashes: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
                    self.exec(
                        sqlx::query(
                            "INSERT INTO recovery_codes (user_id, hash) SELECT $1, h FROM UNNEST($2::bytea[]) AS h",
                        )
                        .bind(user_id)
                        .bind(hashes),
                    )
                    .await?;
                }
            }
            Mutation::UseRecoveryCode { user_id, hash, at } => {
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND hash = $2 AND used_at IS NULL",
                        )
                        .bind(user_id)
                        .bind(&hash[..])
                        .bind(*at),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::PutRole(r) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO roles (id, name, description, builtin, permissions, data_scope, field_rules)
                         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb)
                         ON CONFLICT (id) DO UPDATE SET name = $2, description = $3, builtin = $4,
                         permissions = $5::jsonb, data_scope = $6, field_rules = $7::jsonb",
                    )
                    .bind(r.id)
                    .bind(&r.name)
                    .bind(&r.description)
                    .bind(r.builtin)
                    .bind(json_list(&r.permissions))
                    .bind(&r.data_scope)
                    .bind(json_map(&r.field_rules)),
                )
                .await?;
            }
            Mutation::DeleteRole { id } => {
                if self.delete_by("DELETE FROM roles WHERE id = $1", *id).await? == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::InsertSession(s) => self.insert_session(s).await?,
            Mutation::PromoteSession { old_hash, new } => {
                self.exec(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&old_hash[..])).await?;
                self.insert_session(new).await?;
            }
            Mutation::DeleteSession { token_hash } => {
                self.exec(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&token_hash[..])).await?;
            }
            Mutation::ReauthenticateSession { token_hash, at, factor } => {
                let n = self
                    .exec(
                        sqlx::query("UPDATE sessions SET authenticated_at = $2, factor = $3 WHERE token_hash = $1")
                            .bind(&token_hash[..])
                            .bind(*at)
                            .bind(factor),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::DeleteUserSessions { user_id, keep } => {
                self.exec(
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
                        .bind(user_id)
                        .bind(keep),
                )
                .await?;
            }
            Mutation::InsertApiToken(t) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at, factor)
                         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)",
                    )
                    .bind(t.id)
                    .bind(t.user_id)
                    .bind(&t.name)
                    .bind(&t.token_hash[..])
                    .bind(json_list(&t.scopes))
                    .bind(t.created_at)
                    .bind(t.expires_at)
                    .bind(&t.factor),
                )
                .await?;
            }
            Mutation::RevokeApiToken { id, at } => {
                let n = self
                    .exec(
                        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                            .bind(id)
                            .bind(*at),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::RevokeUserApiTokens { user_id, at } => {
                self.exec(
                    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                        .bind(user_id)
                        .bind(*at),
                )
                .await?;
            }
            Mutation::InsertPasskey(p) => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, sign_count, created_at,
                         last_used_at, suspended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(p.id)
                    .bind(p.user_id)
                    .bind(&p.credential_id)
                    .bind(&p.name)
                    .bind(&p.passkey)
                    .bind(i64::from(p.sign_count))
                    .bind(p.created_at)
                    .bind(p.last_used_at)
                    .bind(p.suspended_at),
                )
                .await?;
            }
            Mutation::UsePasskey { id, expected_sign_count, sign_count, passkey, at } => {
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE passkeys SET passkey = $2, sign_count = $3, last_used_at = $4
                             WHERE id = $1 AND sign_count = $5 AND suspended_at IS NULL",
                        )
                        .bind(id)
                        .bind(passkey)
                        .bind(i64::from(*sign_count))
                        .bind(*at)
                        .bind(i64::from(*expected_sign_count)),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Conflict("the passkey was used or suspended meanwhile".into()));
                }
            }
            Mutation::SuspendPasskey { id, at } => {
                let n = self
                    .exec(
                        sqlx::query("UPDATE passkeys SET suspended_at = $2 WHERE id = $1 AND suspended_at IS NULL")
                            .bind(id)
                            .bind(*at),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::DeletePasskey { id, user_id } => {
                let n = self
                    .exec(sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2").bind(id).bind(user_id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            Mutation::Org(change) => self.apply_org(change).await?,
            Mutation::PutExportRequest(request) => self.put_export_request(request).await?,
            Mutation::Review(change) => self.apply_review(change).await?,
            Mutation::Notify(notice) => self.enqueue_notice(notice).await?,
            Mutation::SeenDevice { device, notices } => self.seen_device(device, notices).await?,
            Mutation::InsertSsoIdentity(row) => self.insert_sso_identity(row).await?,
            Mutation::TouchSsoIdentity { issuer, subject, at } => {
                self.touch_sso_identity(issuer, subject, *at).await?;
            }
        }
        Ok(())
    }

    async fn append_audit(&mut self, records: &[AuditRecord]) -> StoreResult<()> {
        for chunk in records.chunks(AUDIT_BATCH) {
            let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO audit_events (seq, at, actor_id, actor, action, outcome, customer_id, fields, purpose,
                 source, detail, hash) ",
            );
            sql.push_values(chunk, |mut row, r| {
                row.push_bind(r.seq)
                    .push_bind(r.at)
                    .push_bind(r.actor_id)
                    .push_bind(r.actor.clone())
                    .push_bind(r.action.clone())
                    .push_bind(r.outcome.clone())
                    .push_bind(r.customer_id)
                    .push_bind(json_list(&r.fields))
                    .push_unseparated("::jsonb")
                    .push_bind(r.purpose.clone())
                    .push_bind(r.source.clone())
                    .push_bind(r.detail.clone())
                    .push_bind(r.hash.to_vec());
            });
            if let Err(e) = sql.build().execute(&mut *self.tx).await {
                self.failed = true;
                return Err(write_err(e));
            }
        }
        Ok(())
    }

    async fn put_checkpoint(&mut self, c: &AuditCheckpoint) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO audit_checkpoints (seq, hash, at, key_version, signature) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (seq) DO UPDATE SET hash = $2, at = $3, key_version = $4, signature = $5",
            )
            .bind(c.seq)
            .bind(&c.hash[..])
            .bind(c.at)
            .bind(i64::from(c.key_version))
            .bind(&c.signature),
        )
        .await?;
        Ok(())
    }

    async fn delete_checkpoint(&mut self, seq: i64) -> StoreResult<()> {
        self.exec(sqlx::query("DELETE FROM audit_checkpoints WHERE seq = $1").bind(seq)).await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        if self.failed {
            // Dropping the transaction rolls it back.
            return Err(StoreError::Backend("a statement of this transaction failed; nothing was committed".into()));
        }
        self.tx.commit().await.map_err(backend_err)
    }
}
