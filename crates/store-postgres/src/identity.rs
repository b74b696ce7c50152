//! Users, roles, sessions, API tokens and passkeys.

use sqlx::postgres::PgRow;
use sqlx::{Encode, PgPool, Postgres, Row, Type};
use tutela_store::{ApiTokenRow, PasskeyRow, RoleRow, SessionRow, StoreError, StoreResult, UserRow, parse_stored};
use uuid::Uuid;

use crate::convert::{backend_err, hash32, parse_json_list, parse_json_map, to_u32};

const USER_COLUMNS: &str = "id, email, display_name, password_hash, status, kek_version, wrapped_dek, totp_secret, \
                            totp_enabled, totp_last_step, locale, created_at, updated_at";

fn user_from_row(r: &PgRow) -> StoreResult<UserRow> {
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
        created_at: r.get(11),
        updated_at: r.get(12),
    })
}

pub(crate) async fn user_where<T>(pool: &PgPool, condition: &str, value: T) -> StoreResult<Option<UserRow>>
where
    T: Send + for<'q> Encode<'q, Postgres> + Type<Postgres>,
{
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}"))
        .bind(value)
        .fetch_optional(pool)
        .await
        .map_err(backend_err)?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn users_list(pool: &PgPool) -> StoreResult<Vec<UserRow>> {
    let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"))
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter().map(user_from_row).collect()
}

fn role_from_row(r: &PgRow) -> StoreResult<RoleRow> {
    Ok(RoleRow {
        id: r.get(0),
        name: r.get(1),
        description: r.get(2),
        builtin: r.get(3),
        permissions: parse_json_list("roles.permissions", r.get(4))?,
        data_scope: r.get(5),
        field_rules: parse_json_map("roles.field_rules", r.get(6))?,
    })
}

const ROLE_COLUMNS: &str =
    "r.id, r.name, r.description, r.builtin, r.permissions::text, r.data_scope, r.field_rules::text";

pub(crate) async fn user_roles(pool: &PgPool, user_id: Uuid) -> StoreResult<Vec<RoleRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ROLE_COLUMNS} FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = $1
         ORDER BY r.name"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter().map(role_from_row).collect()
}

pub(crate) async fn roles_list(pool: &PgPool) -> StoreResult<Vec<RoleRow>> {
    let rows = sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM roles r ORDER BY r.name"))
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    rows.iter().map(role_from_row).collect()
}

pub(crate) async fn session_where<T>(pool: &PgPool, condition: &str, value: T) -> StoreResult<Vec<SessionRow>>
where
    T: Send + for<'q> Encode<'q, Postgres> + Type<Postgres>,
{
    let sql = format!(
        "SELECT id, token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent, factor,
         authenticated_at FROM sessions WHERE {condition} ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(&sql).bind(value).fetch_all(pool).await.map_err(backend_err)?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                id: r.get(0),
                token_hash: hash32(r.get(1))?,
                user_id: r.get(2),
                created_at: r.get(3),
                last_seen_at: r.get(4),
                expires_at: r.get(5),
                mfa_done: r.get(6),
                source: r.get(7),
                user_agent: r.get(8),
                factor: r.get(9),
                authenticated_at: r.get(10),
            })
        })
        .collect()
}

pub(crate) async fn api_token_where<T>(pool: &PgPool, condition: &str, value: T) -> StoreResult<Vec<ApiTokenRow>>
where
    T: Send + for<'q> Encode<'q, Postgres> + Type<Postgres>,
{
    let sql = format!(
        "SELECT id, user_id, name, token_hash, scopes::text, created_at, expires_at, last_used_at, revoked_at, factor
         FROM api_tokens WHERE {condition} ORDER BY created_at, id"
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
                created_at: r.get(5),
                expires_at: r.get(6),
                last_used_at: r.get(7),
                revoked_at: r.get(8),
                factor: r.get(9),
            })
        })
        .collect()
}

pub(crate) async fn passkey_where<T>(pool: &PgPool, condition: &str, value: T) -> StoreResult<Vec<PasskeyRow>>
where
    T: Send + for<'q> Encode<'q, Postgres> + Type<Postgres>,
{
    let sql = format!(
        "SELECT id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at, suspended_at
         FROM passkeys WHERE {condition} ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(value).fetch_all(pool).await.map_err(backend_err)?;
    rows.iter()
        .map(|r| {
            Ok(PasskeyRow {
                id: r.get(0),
                user_id: r.get(1),
                credential_id: r.get(2),
                name: r.get(3),
                passkey: r.get(4),
                sign_count: u32::try_from(r.get::<i64, _>(5))
                    .map_err(|_| StoreError::Corrupt("passkeys.sign_count out of range".into()))?,
                created_at: r.get(6),
                last_used_at: r.get(7),
                suspended_at: r.get(8),
            })
        })
        .collect()
}
