//! Links between users and identity-provider accounts (single sign-on).

use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use tutela_store::{SsoIdentityRow, StoreError, StoreResult};

use crate::convert::backend_err;
use crate::write::PgWriteTx;

pub(crate) async fn get(pool: &PgPool, issuer: &str, subject: &str) -> StoreResult<Option<SsoIdentityRow>> {
    let row = sqlx::query(
        "SELECT issuer, subject, user_id, email, created_at, last_sign_in_at FROM sso_identities
         WHERE issuer = $1 AND subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    Ok(row.map(|r| SsoIdentityRow {
        issuer: r.get(0),
        subject: r.get(1),
        user_id: r.get(2),
        email: r.get(3),
        created_at: r.get(4),
        last_sign_in_at: r.get(5),
    }))
}

impl PgWriteTx {
    pub(crate) async fn insert_sso_identity(&mut self, row: &SsoIdentityRow) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sso_identities (issuer, subject, user_id, email, created_at, last_sign_in_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&row.issuer)
            .bind(&row.subject)
            .bind(row.user_id)
            .bind(&row.email)
            .bind(row.created_at)
            .bind(row.last_sign_in_at),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn touch_sso_identity(
        &mut self,
        issuer: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let changed = self
            .exec(
                sqlx::query("UPDATE sso_identities SET last_sign_in_at = $3 WHERE issuer = $1 AND subject = $2")
                    .bind(issuer)
                    .bind(subject)
                    .bind(at),
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
