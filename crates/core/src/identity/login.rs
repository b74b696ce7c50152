//! Sign-in: password, then TOTP (enrolled on first sign-in) or a recovery code; sessions.
//!
//! Every user enrols a second factor: the foundation's policy is stricter than "users who
//! reach sealed data", and per-role factor policies come with access governance.

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use tutela_crypto::keyring::WrappedKey;
use tutela_crypto::{token, totp};
use tutela_store::{Mutation, SessionRow, UserRow, UserStatus};
use uuid::Uuid;

use crate::audit::{AuditEvent, Outcome};
use crate::clock::rfc3339;
use crate::policy::{Credential, Principal};
use crate::{CoreError, CoreResult, Tutela};

use super::Factor;
use super::lockout::{ActiveLock, account_key};
use super::password;
use super::users::{normalise_email, principal_with};

const TOTP_FIELD: &str = "totp_secret";
/// The one answer to every refused sign-in. It mentions the pause after repeated failures
/// because a locked user needs to know why a right password fails; since unknown accounts
/// are paused alike, saying so gives nothing away.
const WRONG_CREDENTIALS: &str =
    "wrong e-mail or password; after repeated failures sign-in pauses for a while, so try again later";
/// The one answer to every refused passwordless sign-in, whether the passkey is unknown,
/// someone else's, suspended, or its account paused or disabled.
const WRONG_PASSKEY: &str =
    "the passkey was not accepted; after repeated failures sign-in pauses for a while, so try again later";

/// A passwordless sign-in being refused: the passkey it named, if known, and why.
#[derive(Debug, Clone, Copy)]
pub(super) struct PasskeyAttempt {
    pub passkey: Option<Uuid>,
    pub reason: &'static str,
}

/// A password accepted; the second factor is next, on a short-lived pending session.
#[derive(Debug)]
pub struct LoginStart {
    pub pending_token: SecretString,
    /// True when the user has no second factor yet and must enrol one now.
    pub must_enrol: bool,
}

/// What an authenticator app needs. Shown once, during enrolment.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub secret_base32: SecretString,
    pub otpauth_url: SecretString,
    pub qr_svg: String,
}

/// A live session, as resolved from its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The session's public id (see [`super::SessionView`]).
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub mfa_done: bool,
    pub totp_enabled: bool,
    pub expires_at: OffsetDateTime,
}

impl Tutela {
    /// Checks the password, unless failed sign-ins have locked this account or address (see
    /// `lockout`). A wrong password, an unknown user and a locked sign-in get the same answer
    /// and cost the same work, one Argon2id verification, so neither the answer nor its
    /// timing tells which accounts exist or are locked.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> CoreResult<LoginStart> {
        let claimed = account_key(email);
        let password = password::normalise(&password);
        let user = match normalise_email(email) {
            Ok(e) => self.store.user_by_email(&e).await?,
            Err(_) => None,
        };
        let refusal = self.lockouts.refusal(&claimed, source.as_deref(), self.clock.now());
        let ok = if let (Some(u), None) = (&user, refusal) {
            self.passwords.verify(password, &u.password_hash).await? && u.status == UserStatus::Active
        } else {
            self.passwords.verify_dummy(password).await;
            false
        };
        let Some(user) = user.filter(|_| ok) else {
            return self.refuse_login(&claimed, source, refusal, None).await;
        };
        let snapshot = self.access_snapshot().await?;
        match self.admit(&snapshot, (user.id, &user.email), None, Vec::new(), source.as_deref()).await {
            // The right password from an address the account may not be used from (audited
            // by `admit`): the answer of a wrong one, so that it does not confirm the password.
            Err(CoreError::Forbidden(_)) => return Err(CoreError::Unauthenticated(WRONG_CREDENTIALS.into())),
            other => other?,
        };
        let now = self.clock.now();
        self.lockouts.succeeded(&claimed, source.as_deref(), now);
        let (pending_token, session) = self.open_session(user.id, None, source.clone(), user_agent);
        let mut event = AuditEvent::anonymous(&user.email, "auth.password", source);
        event.actor_id = Some(user.id);
        self.audit.commit(vec![Mutation::InsertSession(session)], vec![event]).await?;
        Ok(LoginStart { pending_token, must_enrol: !user.totp_enabled })
    }

    /// A new session for `user_id`: signed in when a second factor is done (`factor`), else
    /// pending until it is, with the short window for it.
    pub(super) fn open_session(
        &self,
        user_id: Uuid,
        factor: Option<Factor>,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> (SecretString, SessionRow) {
        let now = self.clock.now();
        let mfa = factor.is_some();
        let (token, hash) = token::new_token(if mfa { "tss_" } else { "tps_" });
        let lifetime = if mfa { self.config.session_absolute } else { self.config.second_factor_window };
        let session = SessionRow {
            id: Uuid::new_v4(),
            token_hash: hash,
            user_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
            mfa_done: mfa,
            source,
            user_agent,
            factor: factor.map(|f| f.as_str().to_owned()),
            authenticated_at: now,
        };
        (token, session)
    }

    /// Audits a refused sign-in and, unless a lock refused it (which must not prolong the
    /// lock), counts it, auditing any lock it starts. Always the same error.
    ///
    /// `passkey` names the passkey of a refused passwordless sign-in, when it is known; the
    /// event then says the factor was a passkey. `message` is the one answer of that way in.
    pub(super) async fn refuse_login<T>(
        &self,
        claimed: &str,
        source: Option<String>,
        refusal: Option<ActiveLock>,
        passkey: Option<PasskeyAttempt>,
    ) -> CoreResult<T> {
        let failed = AuditEvent::anonymous(claimed, "auth.login", source.clone()).outcome(Outcome::Failed);
        let failed = match passkey {
            None => failed,
            Some(p) => {
                failed.detail(serde_json::json!({ "factor": "passkey", "passkey": p.passkey, "reason": p.reason }))
            }
        };
        let message = if passkey.is_some() { WRONG_PASSKEY } else { WRONG_CREDENTIALS };
        let events = if let Some(lock) = refusal {
            let mut detail = failed.detail.clone().unwrap_or_else(|| serde_json::json!({}));
            detail["locked"] = lock.scope.as_str().into();
            detail["until"] = rfc3339(lock.until).into();
            vec![failed.detail(detail)]
        } else {
            std::iter::once(failed).chain(self.count_failure(claimed, source.as_ref())).collect()
        };
        self.audit.commit(Vec::new(), events).await?;
        Err(CoreError::Unauthenticated(message.into()))
    }

    /// Counts a refused attempt against the account and the address; an `auth.lockout` event
    /// for each lock that starts.
    pub(super) fn count_failure(&self, claimed: &str, source: Option<&String>) -> Vec<AuditEvent> {
        let now = self.clock.now();
        let locks = self.lockouts.failed(claimed, source.map(String::as_str), now);
        locks
            .into_iter()
            .map(|lock| {
                AuditEvent::anonymous(claimed, "auth.lockout", source.cloned()).detail(serde_json::json!({
                    "scope": lock.scope.as_str(),
                    "until": rfc3339(lock.until),
                    "minutes": (lock.until - now).whole_minutes(),
                    "lockouts_in_a_row": lock.count,
                }))
            })
            .collect()
    }

    /// Resolves a session cookie, enforcing the idle and absolute timeouts.
    pub async fn session(&self, token: &str) -> CoreResult<SessionInfo> {
        let (row, user) = self.live_session(token).await?;
        Ok(SessionInfo {
            id: row.id,
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
            mfa_done: row.mfa_done,
            totp_enabled: user.totp_enabled,
            expires_at: row.expires_at.min(row.last_seen_at + self.config.session_idle),
        })
    }

    pub(super) async fn live_session(&self, token: &str) -> CoreResult<(SessionRow, UserRow)> {
        let hash = token::hash_token(token);
        let row = self.store.session_get(&hash).await?.ok_or_else(session_expired)?;
        let now = self.clock.now();
        if now >= row.expires_at || (row.mfa_done && now >= row.last_seen_at + self.config.session_idle) {
            self.audit.commit(vec![Mutation::DeleteSession { token_hash: hash }], Vec::new()).await?;
            return Err(session_expired());
        }
        let user = self
            .store
            .user_get(row.user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(session_expired)?;
        // Recording activity once a minute is enough for a 30-minute idle timeout.
        if now - row.last_seen_at > time::Duration::minutes(1) {
            self.store.session_touch(&hash, now).await?;
        }
        Ok((row, user))
    }

    /// The principal behind a fully signed-in session.
    pub async fn session_principal(&self, token: &str, source: Option<String>) -> CoreResult<Principal> {
        Ok(self.signed_in_session(token, source).await?.0)
    }

    /// The principal behind a fully signed-in session, with the session's public id (which
    /// marks "this session" among the user's). The roles' sign-in policies apply here: roles
    /// that want another factor are left out, a shorter session length or idle limit ends the
    /// session, and a re-authentication window is carried for reveals and exports.
    pub async fn signed_in_session(&self, token: &str, source: Option<String>) -> CoreResult<(Principal, Uuid)> {
        let (row, user) = self.live_session(token).await?;
        if !row.mfa_done {
            return Err(CoreError::SecondFactorRequired);
        }
        let factor = row.factor.as_deref().and_then(|f| f.parse().ok());
        let roles = self.store.user_roles(user.id).await?;
        let admitted = self.request_reach((user.id, &user.email), None, roles, source.as_deref(), factor).await?;
        if admitted.limits.ended(&row, self.clock.now()) {
            self.audit.commit(vec![Mutation::DeleteSession { token_hash: row.token_hash }], Vec::new()).await?;
            return Err(session_expired());
        }
        let principal = Principal {
            reauth_due: admitted.limits.reauth_due(&row),
            factor,
            ..principal_with(&user, Credential::Session, source, admitted.reach)
        };
        Ok((principal, row.id))
    }

    /// Starts TOTP enrolment on a pending session of a user without a second factor.
    pub async fn begin_totp_enrolment(&self, pending_token: &str) -> CoreResult<TotpEnrolment> {
        let (_, mut user) = self.live_session(pending_token).await?;
        if user.totp_enabled {
            return Err(CoreError::Conflict("a second factor is already enrolled".into()));
        }
        let secret = totp::generate_secret();
        let dek = self.user_key(&user).await?;
        user.totp_secret = Some(dek.seal_field(user.id.as_bytes(), TOTP_FIELD, &secret));
        user.updated_at = self.clock.now();
        let cfg = totp::TotpConfig { issuer: self.config.totp_issuer.clone(), account: user.email.clone() };
        let url = totp::otpauth_url(&secret, &cfg)?;
        let qr_svg = totp::qr_svg(&url)?;
        let secret_base32 = SecretString::from(data_encoding::BASE32_NOPAD.encode(&secret));
        let mut event = AuditEvent::anonymous(&user.email, "auth.totp_enrol_start", None);
        event.actor_id = Some(user.id);
        self.audit.commit(vec![Mutation::UpdateUser(user)], vec![event]).await?;
        Ok(TotpEnrolment { secret_base32, otpauth_url: SecretString::from(url), qr_svg })
    }

    /// Completes enrolment with a first code; returns the signed-in session and one-time
    /// recovery codes (shown once, stored hashed).
    pub async fn confirm_totp_enrolment(
        &self,
        pending_token: &str,
        code: &str,
    ) -> CoreResult<(SecretString, Vec<SecretString>)> {
        let (row, mut user) = self.live_session(pending_token).await?;
        if user.totp_enabled {
            return Err(CoreError::Conflict("a second factor is already enrolled".into()));
        }
        let step = self.check_totp(&user, code).await?;
        user.totp_enabled = true;
        user.totp_last_step = Some(step);
        user.updated_at = self.clock.now();
        let codes = token::recovery_codes(10);
        let hashes =
            codes.iter().map(|c| token::hash_token(&token::normalise_recovery_code(c.expose_secret()))).collect();
        let (session, mutation) = self.promote(&row, Factor::Totp);
        let seen = self.sign_in_device(&user, row.source.as_deref(), row.user_agent.as_deref(), Factor::Totp).await?;
        let mut event = AuditEvent::anonymous(&user.email, "auth.totp_enrolled", row.source.clone());
        event.actor_id = Some(user.id);
        let user_id = user.id;
        self.audit
            .commit(
                vec![Mutation::UpdateUser(user), Mutation::InsertRecoveryCodes { user_id, hashes }, mutation, seen],
                vec![event],
            )
            .await?;
        Ok((session, codes))
    }

    /// The second factor: a TOTP code (each accepted once) or an unused recovery code.
    pub async fn second_factor(&self, pending_token: &str, code: &str) -> CoreResult<SecretString> {
        let (row, user) = self.live_session(pending_token).await?;
        if !user.totp_enabled {
            return Err(CoreError::invalid("code", "no second factor is enrolled yet"));
        }
        let mut event = AuditEvent::anonymous(&user.email, "auth.second_factor", row.source.clone());
        event.actor_id = Some(user.id);
        let code = code.trim();
        let (spent, proved) = if code.chars().all(|c| c.is_ascii_digit()) {
            let step = match self.check_totp(&user, code).await {
                Ok(step) => step,
                Err(e) => {
                    self.audit
                        .record(event.outcome(Outcome::Failed).detail(serde_json::json!({ "factor": "totp" })))
                        .await?;
                    return Err(e);
                }
            };
            (Mutation::AdvanceTotpStep { user_id: user.id, step }, Factor::Totp)
        } else {
            let hash = token::hash_token(&token::normalise_recovery_code(code));
            (Mutation::UseRecoveryCode { user_id: user.id, hash, at: self.clock.now() }, Factor::RecoveryCode)
        };
        let (session, promote) = self.promote(&row, proved);
        let seen = self.sign_in_device(&user, row.source.as_deref(), row.user_agent.as_deref(), proved).await?;
        match self.audit.commit(vec![spent, promote, seen], vec![event.clone()]).await {
            Ok(()) => Ok(session),
            Err(CoreError::Conflict(_) | CoreError::NotFound(_)) => {
                self.audit.record(event.outcome(Outcome::Failed)).await?;
                Err(CoreError::invalid("code", "that code was already used or is not valid"))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn logout(&self, token: &str) -> CoreResult<()> {
        let hash = token::hash_token(token);
        if let Some(row) = self.store.session_get(&hash).await? {
            let mut event = AuditEvent::anonymous("", "auth.logout", row.source.clone());
            event.actor_id = Some(row.user_id);
            if let Some(user) = self.store.user_get(row.user_id).await? {
                event.actor = user.email;
            }
            self.audit.commit(vec![Mutation::DeleteSession { token_hash: hash }], vec![event]).await?;
        }
        Ok(())
    }

    /// A new session id for the signed-in session (session-fixation defence), recording the
    /// second factor that signed it in.
    pub(super) fn promote(&self, pending: &SessionRow, factor: Factor) -> (SecretString, Mutation) {
        let now = self.clock.now();
        let (token, hash) = token::new_token("tss_");
        let new = SessionRow {
            // A new public id too: the signed-in session is not the pending one.
            id: Uuid::new_v4(),
            token_hash: hash,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.config.session_absolute,
            mfa_done: true,
            factor: Some(factor.as_str().to_owned()),
            authenticated_at: now,
            ..pending.clone()
        };
        (token, Mutation::PromoteSession { old_hash: pending.token_hash, new })
    }

    async fn user_key(&self, user: &UserRow) -> CoreResult<tutela_crypto::keyring::DataKey> {
        let wrapped = WrappedKey { kek_version: user.kek_version, bytes: user.wrapped_dek.clone() };
        self.keys.data_key(user.id.as_bytes(), &wrapped).await
    }

    /// Verifies a TOTP code against the user's sealed secret, refusing replays.
    pub(super) async fn check_totp(&self, user: &UserRow, code: &str) -> CoreResult<i64> {
        let sealed = user.totp_secret.as_ref().ok_or_else(|| CoreError::invalid("code", "start enrolment first"))?;
        let secret = self.user_key(user).await?.open_field(user.id.as_bytes(), TOTP_FIELD, sealed)?;
        let now = u64::try_from(self.clock.now().unix_timestamp()).unwrap_or(0);
        let last = user.totp_last_step.and_then(|s| u64::try_from(s).ok());
        let step = totp::verify(&secret, code, now, last).map_err(|e| CoreError::invalid("code", e.to_string()))?;
        i64::try_from(step).map_err(|_| CoreError::invalid("code", "time step out of range"))
    }
}

fn session_expired() -> CoreError {
    CoreError::Unauthenticated("session expired or signed out; sign in again".into())
}
