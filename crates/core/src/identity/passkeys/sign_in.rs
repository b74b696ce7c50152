//! Signing in with a passkey: as the second factor of a pending session (after the
//! password), or passwordless, where a discoverable passkey with user verification is both
//! factors at once.
//!
//! Either way an accepted assertion is committed together with its audit event and the
//! passkey's new counter (a compare-and-swap, see [`Mutation::UsePasskey`]). A counter that
//! went backwards — the library's sign of a cloned authenticator — suspends the passkey, as
//! the WebAuthn specification and the library advise ("invalidate and reject").
//!
//! Passwordless sign-in follows the password's lockout discipline: the account and address
//! counters are checked first, a refused attempt counts against them (an unknown passkey
//! against the address, under one made-up account name), and every refusal — unknown,
//! someone else's or suspended passkey, bad signature, paused or disabled account — gets
//! one answer.

use secrecy::SecretString;
use tutela_store::{Mutation, PasskeyRow, UserRow, UserStatus};
use uuid::Uuid;
use webauthn_rs::prelude::{Passkey, WebauthnError};

use super::{Owner, PasskeyChallenge, PublicKeyCredential, RequestChallengeResponse, State, parse_passkey};
use crate::audit::{AuditEvent, Outcome};
use crate::identity::Factor;
use crate::identity::login::PasskeyAttempt;
use crate::{CoreError, CoreResult, Tutela};

/// The account name that refused passwordless sign-ins with no known passkey count under,
/// per address: unknown credentials are counted and locked like wrong passwords.
const UNKNOWN_PASSKEY_ACCOUNT: &str = "(unknown passkey)";

impl Tutela {
    /// Whether the user of a pending session has a passkey to use as the second factor.
    pub async fn pending_has_passkey(&self, pending_token: &str) -> CoreResult<bool> {
        let (_, user) = self.live_session(pending_token).await?;
        Ok(self.passkeys_available()
            && self.store.passkeys_for_user(user.id).await?.iter().any(|p| p.suspended_at.is_none()))
    }

    /// Starts the passkey second factor of a pending session.
    pub async fn begin_passkey_second_factor(
        &self,
        pending_token: &str,
    ) -> CoreResult<PasskeyChallenge<RequestChallengeResponse>> {
        let (row, user) = self.live_session(pending_token).await?;
        if row.mfa_done {
            return Err(CoreError::Conflict("this session is signed in already".into()));
        }
        self.start_assertion(user.id, Owner::Pending(row.id)).await
    }

    /// The passkey as the second factor: promotes the pending session like a TOTP code does
    /// (a new session id), audited as `auth.second_factor` with `factor: passkey`.
    pub async fn finish_passkey_second_factor(
        &self,
        pending_token: &str,
        ceremony: &str,
        answer: &PublicKeyCredential,
    ) -> CoreResult<SecretString> {
        let (row, user) = self.live_session(pending_token).await?;
        let state = self.ceremonies.take(ceremony, Owner::Pending(row.id), self.clock.now());
        let mut event = AuditEvent::anonymous(&user.email, "auth.second_factor", row.source.clone());
        event.actor_id = Some(user.id);
        let (session, promote) = self.promote(&row, Factor::Passkey);
        let seen =
            self.sign_in_device(&user, row.source.as_deref(), row.user_agent.as_deref(), Factor::Passkey).await?;
        self.finish_assertion(&user, state, answer, event, vec![promote, seen]).await?;
        Ok(session)
    }

    /// Starts an assertion over the user's live passkeys, for `owner` to finish.
    pub(in crate::identity) async fn start_assertion(
        &self,
        user_id: Uuid,
        owner: Owner,
    ) -> CoreResult<PasskeyChallenge<RequestChallengeResponse>> {
        let webauthn = self.webauthn()?;
        let passkeys = self
            .store
            .passkeys_for_user(user_id)
            .await?
            .iter()
            .filter(|p| p.suspended_at.is_none())
            .map(parse_passkey)
            .collect::<CoreResult<Vec<Passkey>>>()?;
        if passkeys.is_empty() {
            return Err(CoreError::invalid("passkey", "no passkey is registered for this account; use a code"));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| CoreError::Internal(format!("starting a passkey assertion: {e}")))?;
        let ceremony = self.ceremonies.start(owner, State::SecondFactor(state), self.clock.now());
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Checks the answer to an assertion started by [`Self::start_assertion`] (`state`, as
    /// taken from the ceremonies) and commits the mutations `then` with the passkey's new
    /// counter and `event` (given `factor: passkey`). A refusal is audited as `event` failed.
    pub(in crate::identity) async fn finish_assertion(
        &self,
        user: &UserRow,
        state: Option<State>,
        answer: &PublicKeyCredential,
        event: AuditEvent,
        then: Vec<Mutation>,
    ) -> CoreResult<()> {
        let webauthn = self.webauthn()?;
        let Some(State::SecondFactor(state)) = state else {
            return Err(CoreError::invalid("ceremony", "the ceremony expired or was already answered; start again"));
        };
        let base = event.clone();
        let refuse = |passkey: Option<Uuid>, reason: &str| {
            base.clone().outcome(Outcome::Failed).detail(serde_json::json!({
                "factor": "passkey", "passkey": passkey, "reason": reason,
            }))
        };
        let not_accepted = || CoreError::invalid("credential", "the passkey was not accepted");
        // Only the user's own, live passkeys: the library checks the allowed list too.
        let stored = self
            .store
            .passkey_by_credential(&answer.raw_id)
            .await?
            .filter(|p| p.user_id == user.id && p.suspended_at.is_none());
        let Some(stored) = stored else {
            self.audit.record(refuse(None, "not one of the user's passkeys")).await?;
            return Err(not_accepted());
        };
        let passkey = parse_passkey(&stored)?;
        let result = match webauthn.finish_passkey_authentication(answer, &state) {
            Ok(r) => r,
            Err(e) => {
                self.passkey_refused(&stored, &e, &user.email, Some(refuse(Some(stored.id), &e.to_string()))).await?;
                return Err(not_accepted());
            }
        };
        let recorded = self.passkey_use(&stored, passkey, &result)?;
        let event = event.detail(serde_json::json!({ "factor": "passkey", "passkey": stored.id }));
        match self.audit.commit(std::iter::once(recorded).chain(then).collect(), vec![event]).await {
            Ok(()) => Ok(()),
            Err(CoreError::Conflict(_) | CoreError::NotFound(_)) => {
                self.audit.record(refuse(Some(stored.id), "used or suspended meanwhile")).await?;
                Err(not_accepted())
            }
            Err(e) => Err(e),
        }
    }

    /// Starts a passwordless sign-in: any discoverable passkey of this relying party.
    pub fn begin_passkey_sign_in(&self) -> CoreResult<PasskeyChallenge<RequestChallengeResponse>> {
        let webauthn = self.webauthn()?;
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| CoreError::Internal(format!("starting a passkey sign-in: {e}")))?;
        // The library asks for conditional mediation (autofill); the console asks with a
        // button, which is the browser's ordinary (modal) prompt.
        options.mediation = None;
        let ceremony = self.ceremonies.start(Owner::Anyone, State::Passwordless(state), self.clock.now());
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Completes a passwordless sign-in: a fully signed-in session, audited as
    /// `auth.passkey_sign_in`. Every refusal is the same `Unauthenticated`.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        answer: &PublicKeyCredential,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> CoreResult<SecretString> {
        let webauthn = self.webauthn()?;
        let now = self.clock.now();
        let Some(State::Passwordless(state)) = self.ceremonies.take(ceremony, Owner::Anyone, now) else {
            return Err(CoreError::invalid("ceremony", "the sign-in expired or was already answered; start again"));
        };
        let (stored, user) = self.claimed_by(answer).await?;
        let claimed = user.as_ref().map_or(UNKNOWN_PASSKEY_ACCOUNT, |u| u.email.as_str()).to_owned();
        let refusal = self.lockouts.refusal(&claimed, source.as_deref(), now);
        let attempt = |reason| PasskeyAttempt { passkey: stored.as_ref().map(|p| p.id), reason };
        let (Some(stored), Some(user), None) = (stored.as_ref(), user, refusal) else {
            let reason = if refusal.is_some() { "sign-in paused" } else { "unknown passkey" };
            return self.refuse_login(&claimed, source, refusal, Some(attempt(reason))).await;
        };
        if user.status != UserStatus::Active || stored.suspended_at.is_some() {
            let reason = if stored.suspended_at.is_some() { "suspended passkey" } else { "disabled account" };
            return self.refuse_login(&claimed, source, None, Some(attempt(reason))).await;
        }
        let passkey = parse_passkey(stored)?;
        let result = match webauthn.finish_discoverable_authentication_v2(answer, state, &passkey) {
            Ok(r) => r,
            Err(e) => {
                // The refusal below audits the attempt; a cloned authenticator is suspended too.
                self.passkey_refused(stored, &e, &user.email, None).await?;
                return self.refuse_login(&claimed, source, None, Some(attempt("assertion not valid"))).await;
            }
        };
        self.lockouts.succeeded(&claimed, source.as_deref(), now);
        let recorded = self.passkey_use(stored, passkey, &result)?;
        let (token, session) = self.open_session(user.id, Some(Factor::Passkey), source.clone(), user_agent);
        let seen =
            self.sign_in_device(&user, source.as_deref(), session.user_agent.as_deref(), Factor::Passkey).await?;
        let mut event = AuditEvent::anonymous(&user.email, "auth.passkey_sign_in", source.clone())
            .detail(serde_json::json!({ "factor": "passkey", "passkey": stored.id, "user_verified": true }));
        event.actor_id = Some(user.id);
        match self.audit.commit(vec![recorded, Mutation::InsertSession(session), seen], vec![event]).await {
            Ok(()) => Ok(token),
            Err(CoreError::Conflict(_) | CoreError::NotFound(_)) => {
                self.refuse_login(&claimed, source, None, Some(attempt("used or suspended meanwhile"))).await
            }
            Err(e) => Err(e),
        }
    }

    /// The stored passkey an answer names, and its user, when the user handle it carries is
    /// that passkey's owner. Anything else is `None`: the caller refuses it like an unknown
    /// passkey.
    async fn claimed_by(&self, answer: &PublicKeyCredential) -> CoreResult<(Option<PasskeyRow>, Option<UserRow>)> {
        let Some(handle) = answer.get_user_unique_id().and_then(|h| Uuid::from_slice(h).ok()) else {
            return Ok((None, None));
        };
        let Some(stored) = self.store.passkey_by_credential(&answer.raw_id).await?.filter(|p| p.user_id == handle)
        else {
            return Ok((None, None));
        };
        let user = self.store.user_get(stored.user_id).await?;
        Ok((user.is_some().then_some(stored), user))
    }

    /// Audits a refused assertion (`failed`, unless the caller audits it itself); a counter
    /// that went backwards also suspends the passkey, in the same commit.
    async fn passkey_refused(
        &self,
        stored: &PasskeyRow,
        e: &WebauthnError,
        actor: &str,
        failed: Option<AuditEvent>,
    ) -> CoreResult<()> {
        if !matches!(e, WebauthnError::CredentialPossibleCompromise) {
            return match failed {
                Some(event) => self.audit.record(event).await,
                None => Ok(()),
            };
        }
        let mut suspend = AuditEvent::anonymous(actor, "passkey.suspend", None).detail(serde_json::json!({
            "passkey": stored.id,
            "reason": "signature counter went backwards: possibly a cloned authenticator",
            "stored_sign_count": stored.sign_count,
        }));
        suspend.actor_id = Some(stored.user_id);
        let events = failed.into_iter().chain([suspend]).collect();
        match self.audit.commit(vec![Mutation::SuspendPasskey { id: stored.id, at: self.clock.now() }], events).await {
            // Suspended meanwhile by another attempt: nothing more to do.
            Ok(()) | Err(CoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
