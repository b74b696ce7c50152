//! The first administrator: by a one-time link printed at first start, or by `tutela init`.

use secrecy::SecretString;
use time::OffsetDateTime;
use tutela_crypto::{secret::ct_eq, token};
use tutela_store::Mutation;

use super::{NewUser, UserView};
use crate::audit::AuditEvent;
use crate::{CoreError, CoreResult, Tutela};

const SETUP_KEY: &str = "setup_token";
const SETUP_VALIDITY: time::Duration = time::Duration::hours(24);

impl Tutela {
    /// A one-time setup token, if no user exists yet (a new one each call: the latest wins).
    pub async fn setup_token(&self) -> CoreResult<Option<SecretString>> {
        if self.store.user_count().await? > 0 {
            return Ok(None);
        }
        let (token, hash) = token::new_token("setup_");
        let expires = self.clock.now() + SETUP_VALIDITY;
        let mut value = hash.to_vec();
        value.extend_from_slice(&expires.unix_timestamp().to_be_bytes());
        let event = AuditEvent::anonymous("system", "setup.link", None);
        self.audit.commit(vec![Mutation::PutMeta { key: SETUP_KEY.into(), value }], vec![event]).await?;
        Ok(Some(token))
    }

    /// Creates the first administrator with a setup token.
    pub async fn complete_setup(&self, setup_token: &str, admin: NewUser) -> CoreResult<UserView> {
        let invalid = || CoreError::Unauthenticated("the setup link is invalid, used or expired".into());
        let stored = self.store.meta_get(SETUP_KEY).await?.filter(|v| v.len() == 40).ok_or_else(invalid)?;
        let expires = i64::from_be_bytes(stored[32..].try_into().expect("8 bytes"));
        let fresh = OffsetDateTime::from_unix_timestamp(expires).is_ok_and(|e| self.clock.now() < e);
        if !fresh || !ct_eq(&stored[..32], &token::hash_token(setup_token)) {
            return Err(invalid());
        }
        let user = self.init_admin(admin).await?;
        self.audit.commit(vec![Mutation::PutMeta { key: SETUP_KEY.into(), value: Vec::new() }], Vec::new()).await?;
        Ok(user)
    }

    /// Creates the first administrator (for `tutela init`); refused once any user exists.
    pub async fn init_admin(&self, admin: NewUser) -> CoreResult<UserView> {
        if self.store.user_count().await? > 0 {
            return Err(CoreError::Conflict("this installation already has users".into()));
        }
        let admin = NewUser { roles: vec!["administrator".into()], ..admin };
        self.insert_user(None, admin).await
    }
}
