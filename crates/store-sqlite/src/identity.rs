//! Users, roles, sessions and API tokens.

use sqlx::sqlite::SqliteRow;
use sqlx::{Encode, Row, Sqlite, SqlitePool, Type};
use tutela_store::{ApiTokenRow, RoleRow, SessionRow, StoreResult, UserRow, parse_stored};
use uuid::Uuid;

use crate::convert::{backend_err, from_micros, hash32, opt_from_micros, parse_json_list, to_u32};

const USER_COLUMNS: &str = "id, email, display_name, password_hash, status, kek_version, wrapped_dek, totp_secret, \
                            totp_enabled, totp_last_step, locale, created_at, updated_at";

fn user_from_row(r: &SqliteRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: r.get(0),
        email: r.get(1),
        display_name: r.get(2),
        password_hash: r.get(3),
        status: parse_stored("users.status", r.get(4))?,
        kek_version: to_u32(r.get(5))?,
        wrapped_dek: r.get(6),
        totp_secret: r.get(7),
        totp_enabled: r.get(8),
        totp_last_step: r.get(9),
        locale: r.get(10),
        created_at: from_micros(r.get(11))?,
        updated_at: from_micros(r.get(12))?,
    })
}

pub(crate) async fn user_where<T>(pool: &SqlitePool, condition: &str, value: T) -> StoreResult<Option<UserRow>>
where
    T: Send + for<'q> Encode<'q, Sqlite> + Type<Sqlite>,
{
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
    let row = sqlx::query(&sql).bind(value).fetch_optional(pool).await.map_err(backend_err)?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn users_list(pool: &SqlitePool) -> StoreResult<Vec<UserRow>> {
    let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"))
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter().map(user_from_row).collect()
}

fn role_from_row(r: &SqliteRow) -> StoreResult<RoleRow> {
    Ok(RoleRow {
        id: r.get(0),
        name: r.get(1),
        description: r.get(2),
        builtin: r.get(3),
        permissions: parse_json_list("roles.permissions", r.get(4))?,
    })
}

pub(crate) async fn user_roles(pool: &SqlitePool, user_id: Uuid) -> StoreResult<Vec<RoleRow>> {
    let rows = sqlx::query(
        "SELECT r.id, r.name, r.description, r.builtin, r.permissions FROM roles r
         JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = ?1 ORDER BY r.name",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter().map(role_from_row).collect()
}

pub(crate) async fn roles_list(pool: &SqlitePool) -> StoreResult<Vec<RoleRow>> {
    let rows = sqlx::query("SELECT id, name, description, builtin, permissions FROM roles ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter().map(role_from_row).collect()
}

pub(crate) async fn session_get(pool: &SqlitePool, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRow>> {
    let row = sqlx::query(
        "SELECT token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent
         FROM sessions WHERE token_hash = ?1",
    )
    .bind(&token_hash[..])
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.map(|r| {
        Ok(SessionRow {
            token_hash: hash32(r.get(0))?,
            user_id: r.get(1),
            created_at: from_micros(r.get(2))?,
            last_seen_at: from_micros(r.get(3))?,
            expires_at: from_micros(r.get(4))?,
            mfa_done: r.get(5),
            source: r.get(6),
            user_agent: r.get(7),
        })
    })
    .transpose()
}

pub(crate) async fn api_token_where<T>(pool: &SqlitePool, condition: &str, value: T) -> StoreResult<Vec<ApiTokenRow>>
where
    T: Send + for<'q> Encode<'q, Sqlite> + Type<Sqlite>,
{
    let sql = format!(
        "SELECT id, user_id, name, token_hash, scopes, created_at, expires_at, last_used_at, revoked_at
         FROM api_tokens WHERE {condition} ORDER BY created_at"
    );
    let rows = sqlx::query(&sql).bind(value).fetch_all(pool).await.map_err(backend_err)?;
    rows.iter()
        .map(|r| {
            Ok(ApiTokenRow {
                id: r.get(0),
                user_id: r.get(1),
                name: r.get(2),
                token_hash: hash32(r.get(3))?,
                scopes: parse_json_list("api_tokens.scopes", r.get(4))?,
                created_at: from_micros(r.get(5))?,
                expires_at: opt_from_micros(r.get(6))?,
                last_used_at: opt_from_micros(r.get(7))?,
                revoked_at: opt_from_micros(r.get(8))?,
            })
        })
        .collect()
}
