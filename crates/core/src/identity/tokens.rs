//! API tokens for programs: shown once, stored as a SHA-256 hash, limited by scopes.

use secrecy::SecretString;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_crypto::token;
use tutela_store::{ApiTokenRow, Mutation, UserStatus};
use uuid::Uuid;

use super::users::principal_with;
use crate::access::RequestReach;
use crate::audit::AuditEvent;
use crate::policy::{Credential, Permission, Principal, parse_permissions};
use crate::stamp_cache::{CachedToken, STAMP_KEY};
use crate::{CoreError, CoreResult, Tutela};

#[derive(Debug)]
pub struct NewApiToken {
    pub id: Uuid,
    pub token: SecretString,
    pub scopes: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Tutela {
    /// A token for the caller, whose scopes may only narrow the caller's own permissions.
    pub async fn create_api_token(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[String],
        valid_for: Option<time::Duration>,
    ) -> CoreResult<NewApiToken> {
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users hold API tokens".into()))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(CoreError::invalid("name", "a token name is 1 to 100 characters"));
        }
        let wanted = parse_permissions(scopes)?;
        if wanted.is_empty() {
            return Err(CoreError::invalid("scopes", "name at least one permission the token may use"));
        }
        if let Some(extra) = wanted.iter().find(|p| !principal.has(**p)) {
            return Err(CoreError::Forbidden(format!("you do not hold {extra}, so a token of yours cannot")));
        }
        if valid_for.is_some_and(|d| d <= time::Duration::ZERO || d > time::Duration::days(366)) {
            return Err(CoreError::invalid("valid_days", "a token is valid for 1 to 366 days"));
        }
        let now = self.clock.now();
        let (secret, hash) = token::new_token("tut_");
        let scopes: Vec<String> = wanted.iter().map(|p| p.as_str().to_owned()).collect();
        let row = ApiTokenRow {
            id: Uuid::now_v7(),
            user_id,
            name: name.to_owned(),
            token_hash: hash,
            scopes: scopes.clone(),
            created_at: now,
            expires_at: valid_for.map(|d| now + d),
            last_used_at: None,
            revoked_at: None,
            factor: principal.factor.map(|f| f.as_str().to_owned()),
        };
        let event = AuditEvent::by(principal, "token.create")
            .detail(serde_json::json!({ "token": row.id, "name": row.name, "scopes": scopes }));
        let out = NewApiToken { id: row.id, token: secret, scopes, expires_at: row.expires_at };
        self.audit.commit(vec![Mutation::InsertApiToken(row)], vec![event]).await?;
        Ok(out)
    }

    pub async fn api_tokens(&self, principal: &Principal) -> CoreResult<Vec<ApiTokenView>> {
        let user_id = principal.user_id.ok_or(CoreError::NotFound("token"))?;
        self.tokens_of(user_id).await
    }

    /// Any user's API tokens (administrators), so that they can be revoked.
    pub async fn user_api_tokens(&self, principal: &Principal, user_id: Uuid) -> CoreResult<Vec<ApiTokenView>> {
        self.require(principal, Permission::UserManage, "token.list").await?;
        self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        self.tokens_of(user_id).await
    }

    async fn tokens_of(&self, user_id: Uuid) -> CoreResult<Vec<ApiTokenView>> {
        Ok(self
            .store
            .api_tokens_for_user(user_id)
            .await?
            .into_iter()
            .map(|t| ApiTokenView {
                id: t.id,
                name: t.name,
                scopes: t.scopes,
                created_at: t.created_at,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
            })
            .collect())
    }

    /// Revokes one of the caller's tokens (administrators: anyone's). Someone else's or an
    /// unknown id needs `user.manage` first, as it always has; then an unknown or already
    /// revoked token is `NotFound`.
    pub async fn revoke_api_token(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let token = self.store.api_token_by_id(id).await?;
        let owner = token.as_ref().map(|t| t.user_id);
        if owner.is_none() || owner != principal.user_id {
            self.require(principal, Permission::UserManage, "token.revoke").await?;
        }
        let owner = owner.ok_or(CoreError::NotFound("token"))?;
        let event = AuditEvent::by(principal, "token.revoke").detail(serde_json::json!({ "token": id, "user": owner }));
        self.audit.commit(vec![Mutation::RevokeApiToken { id, at: self.clock.now() }], vec![event]).await.map_err(|e| {
            match e {
                CoreError::NotFound(_) => CoreError::NotFound("token"),
                other => other,
            }
        })
    }

    /// The principal behind a bearer token: the owner's permissions narrowed to the scopes.
    pub async fn token_principal(&self, bearer: &str, source: Option<String>) -> CoreResult<Principal> {
        let invalid = || CoreError::Unauthenticated("the API token is invalid, expired or revoked".into());
        let hash = token::hash_token(bearer);
        let now = self.clock.now();
        let stamp = self.store.meta_get(STAMP_KEY).await?;
        if let Some(cached) = self.cache.token(&stamp, &hash) {
            if cached.expires_at.is_some_and(|e| now >= e) {
                return Err(invalid());
            }
            return Ok(Principal { source, ..cached.principal });
        }
        let row = self.store.api_token_by_hash(&hash).await?.ok_or_else(invalid)?;
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| now >= e) {
            return Err(invalid());
        }
        let user =
            self.store.user_get(row.user_id).await?.filter(|u| u.status == UserStatus::Active).ok_or_else(invalid)?;
        let roles = self.store.user_roles(user.id).await?;
        // The token is worth the sign-in that made it: roles that ask for a stronger factor
        // than that session's stay out. Re-authentication is for people at a console, so a
        // token's principal has no re-authentication window.
        let factor = row.factor.as_deref().and_then(|f| f.parse().ok());
        let RequestReach { mut reach, bound, .. } =
            self.request_reach((user.id, &user.email), Some(row.id), roles, source.as_deref(), factor).await?;
        reach.narrow(&parse_permissions(&row.scopes).unwrap_or_default());
        let principal =
            Principal { factor, ..principal_with(&user, Credential::ApiToken { token_id: row.id }, source, reach) };
        // A principal that depends on the address is worked out for each request.
        if !bound {
            let cached = CachedToken { principal: principal.clone(), expires_at: row.expires_at };
            self.cache.keep_token(&stamp, hash, cached);
        }
        Ok(principal)
    }
}
