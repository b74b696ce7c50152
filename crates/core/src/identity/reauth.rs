//! Re-authentication: a signed-in user proves again who they are, so that a role's
//! re-authentication window opens for reveals and exports (see `sign_in_policy`).
//!
//! The proof is a second factor, never the password alone: someone who found an unlocked
//! console or stole its cookie does not have the user's authenticator. A proof never lowers
//! what the session proved at sign-in: a session signed in with a passkey re-authenticates
//! with a passkey, while a passkey in a session signed in with a code raises it (step-up), so
//! roles that ask for a passkey join at the next request. Wrong codes count towards the
//! account's sign-in lockout, so a stolen session cannot be used to guess codes.

use tutela_store::{Mutation, SessionRow, UserRow};

use super::Factor;
use super::lockout::account_key;
use super::passkeys::{Owner, PasskeyChallenge, PublicKeyCredential, RequestChallengeResponse};
use crate::audit::{AuditEvent, Outcome};
use crate::{CoreError, CoreResult, Tutela};

impl Tutela {
    /// Re-authenticates a signed-in session with an authenticator code (each accepted once).
    pub async fn reauthenticate_with_code(&self, token: &str, code: &str) -> CoreResult<()> {
        let (row, user) = self.signed_in_row(token).await?;
        if row.factor.as_deref() == Some(Factor::Passkey.as_str()) {
            return Err(CoreError::invalid(
                "code",
                "this session was signed in with a passkey, so it is confirmed with a passkey too",
            ));
        }
        if !user.totp_enabled {
            return Err(CoreError::invalid("code", "no authenticator app is enrolled; confirm with a passkey"));
        }
        let claimed = account_key(&user.email);
        let now = self.clock.now();
        let event = reauth_event(&row, &user, Factor::Totp);
        if self.lockouts.refusal(&claimed, row.source.as_deref(), now).is_some() {
            self.audit.record(event.outcome(Outcome::Failed).detail(serde_json::json!({ "locked": true }))).await?;
            return Err(CoreError::invalid("code", "too many wrong codes; wait a while and try again"));
        }
        let step = match self.check_totp(&user, code.trim()).await {
            Ok(step) => step,
            Err(e) => {
                let failed = event.outcome(Outcome::Failed).detail(serde_json::json!({ "factor": "totp" }));
                let events = std::iter::once(failed).chain(self.count_failure(&claimed, row.source.as_ref())).collect();
                self.audit.commit(Vec::new(), events).await?;
                return Err(e);
            }
        };
        self.lockouts.succeeded(&claimed, row.source.as_deref(), now);
        let proved = Mutation::ReauthenticateSession {
            token_hash: row.token_hash,
            at: now,
            factor: Factor::Totp.as_str().into(),
        };
        match self
            .audit
            .commit(vec![Mutation::AdvanceTotpStep { user_id: user.id, step }, proved], vec![event.clone()])
            .await
        {
            Ok(()) => Ok(()),
            Err(CoreError::Conflict(_)) => {
                self.audit.record(event.outcome(Outcome::Failed)).await?;
                Err(CoreError::invalid("code", "that code was already used; wait for the next one"))
            }
            Err(e) => Err(e),
        }
    }

    /// Starts re-authentication with one of the user's passkeys.
    pub async fn begin_passkey_reauthentication(
        &self,
        token: &str,
    ) -> CoreResult<PasskeyChallenge<RequestChallengeResponse>> {
        let (row, user) = self.signed_in_row(token).await?;
        self.start_assertion(user.id, Owner::Reauth(row.id)).await
    }

    /// Completes re-authentication with a passkey; the session counts as passkey-signed from
    /// now on.
    pub async fn finish_passkey_reauthentication(
        &self,
        token: &str,
        ceremony: &str,
        answer: &PublicKeyCredential,
    ) -> CoreResult<()> {
        let (row, user) = self.signed_in_row(token).await?;
        let state = self.ceremonies.take(ceremony, Owner::Reauth(row.id), self.clock.now());
        let proved = Mutation::ReauthenticateSession {
            token_hash: row.token_hash,
            at: self.clock.now(),
            factor: Factor::Passkey.as_str().into(),
        };
        self.finish_assertion(&user, state, answer, reauth_event(&row, &user, Factor::Passkey), vec![proved]).await
    }

    async fn signed_in_row(&self, token: &str) -> CoreResult<(SessionRow, UserRow)> {
        let (row, user) = self.live_session(token).await?;
        if !row.mfa_done {
            return Err(CoreError::SecondFactorRequired);
        }
        Ok((row, user))
    }
}

fn reauth_event(row: &SessionRow, user: &UserRow, factor: Factor) -> AuditEvent {
    let mut event = AuditEvent::anonymous(&user.email, "auth.reauth", row.source.clone())
        .detail(serde_json::json!({ "session": row.id, "factor": factor.as_str() }));
    event.actor_id = Some(user.id);
    event
}
