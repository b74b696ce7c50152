//! Links between users and identity-provider accounts (single sign-on).

use rusqlite::{Connection, params};
use time::OffsetDateTime;
use tutela_store::{SsoIdentityRow, StoreError, StoreResult};

use crate::convert::{col, first_row, from_micros, opt_from_micros, to_micros};
use crate::write::{exactly_one, exec};

pub(crate) fn get(conn: &Connection, issuer: &str, subject: &str) -> StoreResult<Option<SsoIdentityRow>> {
    first_row(
        conn,
        "SELECT issuer, subject, user_id, email, created_at, last_sign_in_at FROM sso_identities
         WHERE issuer = ?1 AND subject = ?2",
        params![issuer, subject],
        |r| {
            Ok(SsoIdentityRow {
                issuer: col(r, 0)?,
                subject: col(r, 1)?,
                user_id: col(r, 2)?,
                email: col(r, 3)?,
                created_at: from_micros(col(r, 4)?)?,
                last_sign_in_at: opt_from_micros(col(r, 5)?)?,
            })
        },
    )
}

pub(crate) fn insert(conn: &Connection, row: &SsoIdentityRow) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO sso_identities (issuer, subject, user_id, email, created_at, last_sign_in_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            row.issuer,
            row.subject,
            row.user_id,
            row.email,
            to_micros(row.created_at),
            row.last_sign_in_at.map(to_micros)
        ],
    )?;
    Ok(())
}

pub(crate) fn touch(conn: &Connection, issuer: &str, subject: &str, at: OffsetDateTime) -> StoreResult<()> {
    let changed = exec(
        conn,
        "UPDATE sso_identities SET last_sign_in_at = ?3 WHERE issuer = ?1 AND subject = ?2",
        params![issuer, subject, to_micros(at)],
    )?;
    exactly_one(changed, || StoreError::NotFound)
}
