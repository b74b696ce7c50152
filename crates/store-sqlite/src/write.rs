//! The write transaction: mutations and audit records committed together.
//!
//! Statements run on the calling task (each is a few microseconds of B-tree work in the page
//! cache); `BEGIN IMMEDIATE` and `COMMIT`, which may wait on another process's lock or on
//! `fsync`, run on a blocking thread.

use async_trait::async_trait;
use rusqlite::{Connection, params};
use tutela_store::{
    AuditCheckpoint, AuditRecord, BlindEntry, CustomerRow, KeyRewrap, Mutation, SessionRow, StoreError, StoreResult,
    UserRow, WriteTx, sealed_codec,
};
use uuid::Uuid;

use crate::connections::{BUSY_TIMEOUT, Connections, WriterGuard, on_blocking_thread};
use crate::convert::{backend_err, json_list, json_map, to_micros, write_err};

pub(crate) struct SqliteWriteTx {
    /// `None` once committed; a transaction dropped while `Some` is rolled back.
    conn: Option<WriterGuard>,
    /// Blind-index entries of inserted customers, written in key order before the next
    /// other mutation or the commit: an import batch's entries land at random places in the
    /// index, and inserting them sorted touches each page of it once.
    pending_blind: Vec<PendingBlind>,
}

impl SqliteWriteTx {
    pub(crate) async fn begin(connections: &Connections) -> StoreResult<Box<dyn WriteTx>> {
        // BEGIN IMMEDIATE takes the write lock up front, so a transaction that read the chain
        // head cannot later fail to upgrade its lock (SQLITE_BUSY mid-transaction).
        let conn = connections.writer().await;
        // A transaction whose thread died before COMMIT or ROLLBACK must not be carried
        // into this one.
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(backend_err)?;
        }
        // In this process the writer lock already orders transactions, so the file lock is
        // normally free and taken at once, here. Only when another process holds it (a CLI
        // command beside the server) is the wait, up to the busy timeout, left to a
        // blocking thread.
        let conn = match try_begin_now(&conn) {
            Ok(()) => conn,
            Err(e) if is_busy(&e) => {
                on_blocking_thread(conn, |c| c.execute_batch("BEGIN IMMEDIATE").map_err(backend_err)).await?.0
            }
            Err(e) => return Err(backend_err(e)),
        };
        Ok(Box::new(Self { conn: Some(conn), pending_blind: Vec::new() }))
    }

    fn conn(&self) -> StoreResult<&Connection> {
        live(self.conn.as_ref())
    }

    fn flush_blind(&mut self) -> StoreResult<()> {
        if self.pending_blind.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending_blind);
        pending.sort_unstable();
        insert_blind(self.conn()?, pending)
    }
}

impl Drop for SqliteWriteTx {
    fn drop(&mut self) {
        if let Some(conn) = &self.conn
            && !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rolling back an abandoned SQLite transaction failed");
        }
    }
}

/// The connection of a transaction that has not ended yet.
fn live(conn: Option<&WriterGuard>) -> StoreResult<&Connection> {
    conn.map(|c| &**c).ok_or_else(ended)
}

fn ended() -> StoreError {
    StoreError::Backend("the transaction has ended".into())
}

/// `BEGIN IMMEDIATE` without waiting for a lock held elsewhere.
fn try_begin_now(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let begun = conn.execute_batch("BEGIN IMMEDIATE");
    conn.busy_timeout(BUSY_TIMEOUT)?;
    begun
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Runs one cached statement and returns how many rows it changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<usize> {
    conn.prepare_cached(sql).map_err(backend_err)?.execute(params).map_err(write_err)
}

pub(crate) fn exactly_one(changed: usize, otherwise: impl FnOnce() -> StoreError) -> StoreResult<()> {
    if changed == 0 { Err(otherwise()) } else { Ok(()) }
}

/// A blind-index entry waiting to be written: field, hash, customer (the index's key order).
type PendingBlind = (String, u32, Uuid);

/// Writes the row. The blind entries of an update are written at once (after the old ones
/// are removed); those of an insert go to `pending`, written sorted later.
fn put_customer(
    conn: &Connection,
    row: &CustomerRow,
    blind: &[BlindEntry],
    insert: bool,
    pending: &mut Vec<PendingBlind>,
) -> StoreResult<()> {
    let plain = serde_json::to_string(&row.plain).expect("a string map serialises");
    let sealed = sealed_codec::encode(&row.sealed);
    if insert {
        exec(
            conn,
            "INSERT INTO customers (id, version, kek_version, wrapped_dek, plain, sealed, created_at, updated_at,
             owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.id,
                row.version,
                row.kek_version,
                row.wrapped_dek,
                plain,
                sealed,
                to_micros(row.created_at),
                to_micros(row.updated_at),
                row.owner_id
            ],
        )?;
    } else {
        let changed = exec(
            conn,
            "UPDATE customers SET version = ?2, kek_version = ?3, wrapped_dek = ?4, plain = ?5, sealed = ?6,
             updated_at = ?7, owner_id = ?8 WHERE id = ?1 AND version = ?2 - 1",
            params![
                row.id,
                row.version,
                row.kek_version,
                row.wrapped_dek,
                plain,
                sealed,
                to_micros(row.updated_at),
                row.owner_id
            ],
        )?;
        exactly_one(changed, || StoreError::Conflict(format!("customer {} was changed or removed meanwhile", row.id)))?;
        exec(conn, "DELETE FROM customer_blind WHERE customer_id = ?1", [row.id])?;
    }
    let entries = blind.iter().map(|e| (e.field_id.clone(), e.hash, row.id));
    if insert {
        pending.extend(entries);
        Ok(())
    } else {
        insert_blind(conn, entries)
    }
}

fn insert_blind(conn: &Connection, entries: impl IntoIterator<Item = PendingBlind>) -> StoreResult<()> {
    let mut insert = conn
        .prepare_cached("INSERT OR IGNORE INTO customer_blind (field_id, hash, customer_id) VALUES (?1, ?2, ?3)")
        .map_err(backend_err)?;
    for (field_id, hash, id) in entries {
        insert.execute(params![field_id, hash, id]).map_err(write_err)?;
    }
    Ok(())
}

fn put_user(conn: &Connection, u: &UserRow, insert: bool) -> StoreResult<()> {
    let sql = if insert {
        "INSERT INTO users (id, email, display_name, password_hash, status, kek_version, wrapped_dek, totp_secret,
         totp_enabled, totp_last_step, locale, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    } else {
        "UPDATE users SET email = ?2, display_name = ?3, password_hash = ?4, status = ?5, kek_version = ?6,
         wrapped_dek = ?7, totp_secret = ?8, totp_enabled = ?9, totp_last_step = ?10, locale = ?11,
         created_at = ?12, updated_at = ?13 WHERE id = ?1"
    };
    let changed = exec(
        conn,
        sql,
        params![
            u.id,
            u.email,
            u.display_name,
            u.password_hash,
            u.status.as_str(),
            u.kek_version,
            u.wrapped_dek,
            u.totp_secret,
            u.totp_enabled,
            u.totp_last_step,
            u.locale,
            to_micros(u.created_at),
            to_micros(u.updated_at)
        ],
    )?;
    exactly_one(changed, || StoreError::NotFound)
}

fn rewrap(conn: &Connection, table: &str, r: &KeyRewrap) -> StoreResult<()> {
    exec(
        conn,
        &format!("UPDATE {table} SET kek_version = ?2, wrapped_dek = ?3 WHERE id = ?1 AND kek_version = ?4"),
        params![r.id, r.to_version, r.wrapped_dek, r.from_version],
    )?;
    Ok(())
}

fn delete_by(conn: &Connection, sql: &str, id: Uuid) -> StoreResult<usize> {
    exec(conn, sql, [id])
}

fn insert_session(conn: &Connection, s: &SessionRow) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent, id,
                               factor, authenticated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            &s.token_hash[..],
            s.user_id,
            to_micros(s.created_at),
            to_micros(s.last_seen_at),
            to_micros(s.expires_at),
            s.mfa_done,
            s.source,
            s.user_agent,
            s.id,
            s.factor,
            to_micros(s.authenticated_at)
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_lines)] // one arm per mutation reads better than a dispatch table
fn apply(conn: &Connection, mutation: &Mutation, pending_blind: &mut Vec<PendingBlind>) -> StoreResult<()> {
    match mutation {
        Mutation::PutMeta { key, value } => {
            exec(
                conn,
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![key, value],
            )?;
        }
        Mutation::InsertKey(k) => {
            exec(
                conn,
                "INSERT INTO keys (purpose, version, wrapped, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![k.purpose, k.version, k.wrapped, to_micros(k.created_at)],
            )?;
        }
        Mutation::PutField(f) => {
            exec(
                conn,
                "INSERT INTO fields (id, label_en, label_zh, kind, classification, required, position)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET label_en = ?2, label_zh = ?3, kind = ?4, classification = ?5,
                 required = ?6, position = ?7",
                params![
                    f.id,
                    f.label_en,
                    f.label_zh,
                    f.kind.as_str(),
                    f.classification.as_str(),
                    f.required,
                    f.position
                ],
            )?;
        }
        Mutation::DeleteField { id } => {
            exactly_one(exec(conn, "DELETE FROM fields WHERE id = ?1", [id])?, || StoreError::NotFound)?;
        }
        Mutation::InsertCustomer { row, blind } => put_customer(conn, row, blind, true, pending_blind)?,
        Mutation::UpdateCustomer { row, blind } => put_customer(conn, row, blind, false, pending_blind)?,
        Mutation::EraseCustomer(e) => {
            let erased = delete_by(conn, "DELETE FROM customers WHERE id = ?1", e.customer_id)?;
            exactly_one(erased, || StoreError::NotFound)?;
            delete_by(conn, "DELETE FROM customer_blind WHERE customer_id = ?1", e.customer_id)?;
            exec(
                conn,
                "INSERT INTO erasures (customer_id, erased_at, actor_id, reason) VALUES (?1, ?2, ?3, ?4)",
                params![e.customer_id, to_micros(e.erased_at), e.actor_id, e.reason],
            )?;
        }
        Mutation::RewrapCustomerKey(r) => rewrap(conn, "customers", r)?,
        Mutation::RewrapUserKey(r) => rewrap(conn, "users", r)?,
        Mutation::AdvanceTotpStep { user_id, step } => {
            let changed = exec(
                conn,
                "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                params![user_id, step],
            )?;
            exactly_one(changed, || StoreError::Conflict("one-time code already used".into()))?;
        }
        Mutation::InsertUser(u) => put_user(conn, u, true)?,
        Mutation::UpdateUser(u) => put_user(conn, u, false)?,
        Mutation::SetUserRoles { user_id, role_ids } => {
            delete_by(conn, "DELETE FROM user_roles WHERE user_id = ?1", *user_id)?;
            for role in role_ids {
                exec(conn, "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2)", params![user_id, role])?;
            }
        }
        Mutation::InsertRecoveryCodes { user_id, hashes } => {
            delete_by(conn, "DELETE FROM recovery_codes WHERE user_id = ?1", *user_id)?;
            for hash in hashes {
                exec(conn, "INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)", params![user_id, &hash[..]])?;
            }
        }
        Mutation::UseRecoveryCode { user_id, hash, at } => {
            let changed = exec(
                conn,
                "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 AND hash = ?2 AND used_at IS NULL",
                params![user_id, &hash[..], to_micros(*at)],
            )?;
            exactly_one(changed, || StoreError::NotFound)?;
        }
        Mutation::PutRole(r) => {
            exec(
                conn,
                "INSERT INTO roles (id, name, description, builtin, permissions, data_scope, field_rules)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, description = ?3, builtin = ?4, permissions = ?5,
                 data_scope = ?6, field_rules = ?7",
                params![
                    r.id,
                    r.name,
                    r.description,
                    r.builtin,
                    json_list(&r.permissions),
                    r.data_scope,
                    json_map(&r.field_rules)
                ],
            )?;
        }
        Mutation::DeleteRole { id } => {
            exactly_one(delete_by(conn, "DELETE FROM roles WHERE id = ?1", *id)?, || StoreError::NotFound)?;
        }
        Mutation::InsertSession(s) => insert_session(conn, s)?,
        Mutation::PromoteSession { old_hash, new } => {
            exec(conn, "DELETE FROM sessions WHERE token_hash = ?1", [&old_hash[..]])?;
            insert_session(conn, new)?;
        }
        Mutation::DeleteSession { token_hash } => {
            exec(conn, "DELETE FROM sessions WHERE token_hash = ?1", [&token_hash[..]])?;
        }
        Mutation::ReauthenticateSession { token_hash, at, factor } => {
            let changed = exec(
                conn,
                "UPDATE sessions SET authenticated_at = ?2, factor = ?3 WHERE token_hash = ?1",
                params![&token_hash[..], to_micros(*at), factor],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
        }
        Mutation::DeleteUserSessions { user_id, keep } => {
            exec(conn, "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2", params![user_id, keep])?;
        }
        Mutation::InsertApiToken(t) => {
            exec(
                conn,
                "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at, factor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    t.id,
                    t.user_id,
                    t.name,
                    &t.token_hash[..],
                    json_list(&t.scopes),
                    to_micros(t.created_at),
                    t.expires_at.map(to_micros),
                    t.factor
                ],
            )?;
        }
        Mutation::RevokeApiToken { id, at } => {
            let changed = exec(
                conn,
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, to_micros(*at)],
            )?;
            exactly_one(changed, || StoreError::NotFound)?;
        }
        Mutation::RevokeUserApiTokens { user_id, at } => {
            exec(
                conn,
                "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, to_micros(*at)],
            )?;
        }
        Mutation::InsertPasskey(p) => {
            exec(
                conn,
                "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at,
                 suspended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    p.id,
                    p.user_id,
                    p.credential_id,
                    p.name,
                    p.passkey,
                    p.sign_count,
                    to_micros(p.created_at),
                    p.last_used_at.map(to_micros),
                    p.suspended_at.map(to_micros)
                ],
            )?;
        }
        Mutation::UsePasskey { id, expected_sign_count, sign_count, passkey, at } => {
            let changed = exec(
                conn,
                "UPDATE passkeys SET passkey = ?2, sign_count = ?3, last_used_at = ?4
                 WHERE id = ?1 AND sign_count = ?5 AND suspended_at IS NULL",
                params![id, passkey, sign_count, to_micros(*at), expected_sign_count],
            )?;
            exactly_one(changed, || StoreError::Conflict("the passkey was used or suspended meanwhile".into()))?;
        }
        Mutation::SuspendPasskey { id, at } => {
            let changed = exec(
                conn,
                "UPDATE passkeys SET suspended_at = ?2 WHERE id = ?1 AND suspended_at IS NULL",
                params![id, to_micros(*at)],
            )?;
            exactly_one(changed, || StoreError::NotFound)?;
        }
        Mutation::DeletePasskey { id, user_id } => {
            let changed = exec(conn, "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2", params![id, user_id])?;
            exactly_one(changed, || StoreError::NotFound)?;
        }
        Mutation::Org(change) => crate::org::apply(conn, change)?,
        Mutation::PutExportRequest(request) => crate::exports::put(conn, request)?,
        Mutation::Review(change) => crate::reviews::apply(conn, change)?,
        Mutation::Notify(notice) => crate::notify::enqueue(conn, notice)?,
        Mutation::SeenDevice { device, notices } => crate::notify::seen_device(conn, device, notices)?,
        Mutation::InsertSsoIdentity(row) => crate::sso::insert(conn, row)?,
        Mutation::TouchSsoIdentity { issuer, subject, at } => crate::sso::touch(conn, issuer, subject, *at)?,
    }
    Ok(())
}

fn append_audit(conn: &Connection, records: &[AuditRecord]) -> StoreResult<()> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO audit_events (seq, at, actor_id, actor, action, outcome, customer_id, fields, purpose,
             source, detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(backend_err)?;
    for r in records {
        insert
            .execute(params![
                r.seq,
                to_micros(r.at),
                r.actor_id,
                r.actor,
                r.action,
                r.outcome,
                r.customer_id,
                json_list(&r.fields),
                r.purpose,
                r.source,
                r.detail,
                &r.hash[..]
            ])
            .map_err(write_err)?;
    }
    match records.last() {
        Some(last) => crate::audit_index::file_if_due(conn, last.seq),
        None => Ok(()),
    }
}

#[async_trait]
impl WriteTx for SqliteWriteTx {
    async fn audit_head(&mut self) -> StoreResult<Option<(i64, [u8; 32])>> {
        crate::audit::head(self.conn()?)
    }

    async fn apply(&mut self, mutation: &Mutation) -> StoreResult<()> {
        // Whatever else the transaction does sees the index complete.
        if !matches!(mutation, Mutation::InsertCustomer { .. }) {
            self.flush_blind()?;
        }
        apply(live(self.conn.as_ref())?, mutation, &mut self.pending_blind)
    }

    async fn append_audit(&mut self, records: &[AuditRecord]) -> StoreResult<()> {
        append_audit(self.conn()?, records)
    }

    async fn put_checkpoint(&mut self, c: &AuditCheckpoint) -> StoreResult<()> {
        exec(
            self.conn()?,
            "INSERT INTO audit_checkpoints (seq, hash, at, key_version, signature) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (seq) DO UPDATE SET hash = ?2, at = ?3, key_version = ?4, signature = ?5",
            params![c.seq, &c.hash[..], to_micros(c.at), c.key_version, c.signature],
        )?;
        Ok(())
    }

    async fn delete_checkpoint(&mut self, seq: i64) -> StoreResult<()> {
        exec(self.conn()?, "DELETE FROM audit_checkpoints WHERE seq = ?1", [seq])?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        self.flush_blind()?;
        let Some(conn) = self.conn.take() else {
            return Err(ended());
        };
        let (conn, committed) = on_blocking_thread(conn, |c| Ok(c.execute_batch("COMMIT"))).await?;
        if let Err(e) = committed {
            // A failed COMMIT (disk full, I/O error) may leave the transaction open.
            self.conn = Some(conn);
            return Err(backend_err(e));
        }
        Ok(())
    }
}
