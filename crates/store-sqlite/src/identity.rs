//! Users, roles, sessions, API tokens and passkeys.

use rusqlite::{Connection, Row, ToSql};
use tutela_store::{ApiTokenRow, PasskeyRow, RoleRow, SessionRow, StoreError, StoreResult, UserRow, parse_stored};
use uuid::Uuid;

use crate::convert::{
    all_rows, col, first_row, from_micros, hash32, opt_from_micros, parse_json_list, parse_json_map, to_u32,
};

const USER_COLUMNS: &str = "id, email, display_name, password_hash, status, kek_version, wrapped_dek, totp_secret, \
                            totp_enabled, totp_last_step, locale, created_at, updated_at";

fn user_from_row(r: &Row<'_>) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: col(r, 0)?,
        email: col(r, 1)?,
        display_name: col(r, 2)?,
        password_hash: col(r, 3)?,
        status: parse_stored("users.status", &col::<String>(r, 4)?)?,
        kek_version: to_u32(col(r, 5)?)?,
        wrapped_dek: col(r, 6)?,
        totp_secret: col(r, 7)?,
        totp_enabled: col(r, 8)?,
        totp_last_step: col(r, 9)?,
        locale: col(r, 10)?,
        created_at: from_micros(col(r, 11)?)?,
        updated_at: from_micros(col(r, 12)?)?,
    })
}

pub(crate) fn user_where(conn: &Connection, condition: &str, value: &dyn ToSql) -> StoreResult<Option<UserRow>> {
    first_row(conn, &format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}"), [value], user_from_row)
}

pub(crate) fn users_list(conn: &Connection) -> StoreResult<Vec<UserRow>> {
    all_rows(conn, &format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"), [], user_from_row)
}

fn role_from_row(r: &Row<'_>) -> StoreResult<RoleRow> {
    Ok(RoleRow {
        id: col(r, 0)?,
        name: col(r, 1)?,
        description: col(r, 2)?,
        builtin: col(r, 3)?,
        permissions: parse_json_list("roles.permissions", &col::<String>(r, 4)?)?,
        data_scope: col(r, 5)?,
        field_rules: parse_json_map("roles.field_rules", &col::<String>(r, 6)?)?,
    })
}

const ROLE_COLUMNS: &str = "r.id, r.name, r.description, r.builtin, r.permissions, r.data_scope, r.field_rules";

pub(crate) fn user_roles(conn: &Connection, user_id: Uuid) -> StoreResult<Vec<RoleRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT {ROLE_COLUMNS} FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = ?1
             ORDER BY r.name"
        ),
        [user_id],
        role_from_row,
    )
}

pub(crate) fn roles_list(conn: &Connection) -> StoreResult<Vec<RoleRow>> {
    all_rows(conn, &format!("SELECT {ROLE_COLUMNS} FROM roles r ORDER BY r.name"), [], role_from_row)
}

const SESSION_COLUMNS: &str =
    "id, token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent, factor,
     COALESCE(authenticated_at, created_at)";

fn session_from_row(r: &Row<'_>) -> StoreResult<SessionRow> {
    Ok(SessionRow {
        id: col(r, 0)?,
        token_hash: hash32(&col::<Vec<u8>>(r, 1)?)?,
        user_id: col(r, 2)?,
        created_at: from_micros(col(r, 3)?)?,
        last_seen_at: from_micros(col(r, 4)?)?,
        expires_at: from_micros(col(r, 5)?)?,
        mfa_done: col(r, 6)?,
        source: col(r, 7)?,
        user_agent: col(r, 8)?,
        factor: col(r, 9)?,
        authenticated_at: from_micros(col(r, 10)?)?,
    })
}

pub(crate) fn session_where(conn: &Connection, condition: &str, value: &dyn ToSql) -> StoreResult<Vec<SessionRow>> {
    all_rows(
        conn,
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE {condition} ORDER BY created_at DESC, id"),
        [value],
        session_from_row,
    )
}

pub(crate) fn api_token_where(conn: &Connection, condition: &str, value: &dyn ToSql) -> StoreResult<Vec<ApiTokenRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT id, user_id, name, token_hash, scopes, created_at, expires_at, last_used_at, revoked_at, factor
             FROM api_tokens WHERE {condition} ORDER BY created_at"
        ),
        [value],
        |r| {
            Ok(ApiTokenRow {
                id: col(r, 0)?,
                user_id: col(r, 1)?,
                name: col(r, 2)?,
                token_hash: hash32(&col::<Vec<u8>>(r, 3)?)?,
                scopes: parse_json_list("api_tokens.scopes", &col::<String>(r, 4)?)?,
                created_at: from_micros(col(r, 5)?)?,
                expires_at: opt_from_micros(col(r, 6)?)?,
                last_used_at: opt_from_micros(col(r, 7)?)?,
                revoked_at: opt_from_micros(col(r, 8)?)?,
                factor: col(r, 9)?,
            })
        },
    )
}

pub(crate) fn passkey_where(conn: &Connection, condition: &str, value: &dyn ToSql) -> StoreResult<Vec<PasskeyRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at, suspended_at
             FROM passkeys WHERE {condition} ORDER BY created_at, id"
        ),
        [value],
        |r| {
            Ok(PasskeyRow {
                id: col(r, 0)?,
                user_id: col(r, 1)?,
                credential_id: col(r, 2)?,
                name: col(r, 3)?,
                passkey: col(r, 4)?,
                sign_count: u32::try_from(col::<i64>(r, 5)?)
                    .map_err(|_| StoreError::Corrupt("passkeys.sign_count out of range".into()))?,
                created_at: from_micros(col(r, 6)?)?,
                last_used_at: opt_from_micros(col(r, 7)?)?,
                suspended_at: opt_from_micros(col(r, 8)?)?,
            })
        },
    )
}
