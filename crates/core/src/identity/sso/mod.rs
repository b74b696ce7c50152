//! Single sign-on with the company's identity provider: OpenID Connect, authorisation code
//! flow with PKCE. The protocol is behind [`IdentityProvider`] (crate `tutela-oidc`); here
//! is the policy: who may sign in and as which user, with which roles, and whether a second
//! factor is still due.
//!
//! A person is recognised by the provider's (issuer, subject), never by e-mail alone; an
//! existing account is linked by a verified e-mail only where the administrator allows it.
//! Group-mapped roles are re-applied at every sign-in, under the separation-of-duties rules
//! like any other grant. When the provider does not assert a second factor the administrator
//! trusts, the sign-in ends on the same pending session as a password, and the local second
//! factor (TOTP, a passkey, a recovery code) follows. Every sign-in, refused or not, and
//! every change it makes is audited: `auth.sso`, `auth.sso_link`, `user.create`,
//! `user.set_roles`.

mod account;
mod policy;
mod provider;
mod ticket;

use std::sync::Arc;

use secrecy::SecretString;
use tutela_crypto::secret::ct_eq;

pub use policy::{SsoPolicy, UnknownUsers};
pub use provider::{Authorization, FlowSecrets, IdentityProvider, ProviderError, VerifiedIdentity};
pub use ticket::LIFETIME as TICKET_LIFETIME;

use super::LoginStart;
use crate::audit::{AuditEvent, Outcome};
use crate::{CoreError, Tutela};

/// Single sign-on as configured: the provider and the policy.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    pub provider: Arc<dyn IdentityProvider>,
    pub policy: SsoPolicy,
}

/// Where to send the browser, and the ticket it must keep (in an HttpOnly cookie) until it
/// comes back.
#[derive(Debug)]
pub struct SsoStart {
    pub url: String,
    pub ticket: SecretString,
}

/// The provider's answer as the browser brings it back to the redirect URI, with the ticket
/// from its cookie. No `Debug`: the code and the ticket are not for logs.
#[derive(Default)]
pub struct SsoCallback {
    pub ticket: Option<String>,
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's `error` and `error_description` when it did not authenticate anyone.
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The `iss` parameter (RFC 9207), when the provider sends one.
    pub issuer: Option<String>,
}

/// A single sign-on that succeeded.
#[derive(Debug)]
pub enum SsoOutcome {
    /// The provider asserted a second factor: a signed-in session.
    SignedIn(SecretString),
    /// The local second factor is still due, on a pending session as after a password.
    SecondFactor(LoginStart),
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("single sign-on is not configured")]
    NotConfigured,
    #[error("single sign-on is unavailable: {0}")]
    Unavailable(String),
    /// The sign-in is refused (and audited); the message says why.
    #[error("single sign-on refused: {0}")]
    Refused(String),
    /// A refusal of the domain's own rules: a mapping that joins a separation-of-duties
    /// pair (`Conflict`), or a failure of the store.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<ProviderError> for SsoError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Unavailable(m) => {
                Self::Unavailable(format!("the identity provider could not be reached: {m}"))
            }
            ProviderError::Refused(m) => Self::Refused(m),
        }
    }
}

/// Who a failing sign-in was about, as far as it got.
#[derive(Debug, Default)]
struct Attempt {
    subject: Option<String>,
    email: Option<String>,
}

const ANONYMOUS: &str = "(single sign-on)";
/// Text from the provider put in messages and the audit log is cut to this many characters.
const MAX_PROVIDER_TEXT: usize = 200;

fn provider_text(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_PROVIDER_TEXT).collect()
}

impl Tutela {
    /// Whether single sign-on is configured (the console shows its button).
    pub fn sso_enabled(&self) -> bool {
        self.config.sso.is_some()
    }

    fn sso(&self) -> Result<&SsoConfig, SsoError> {
        self.config.sso.as_ref().ok_or(SsoError::NotConfigured)
    }

    /// Begins a sign-in at the provider. A provider that cannot be reached is audited as a
    /// failed `auth.sso`.
    pub async fn begin_sso(&self, source: Option<String>) -> Result<SsoStart, SsoError> {
        let sso = self.sso()?;
        let issuer = sso.provider.issuer();
        match sso.provider.authorization().await {
            Ok(auth) => {
                Ok(SsoStart { ticket: SecretString::from(self.seal_ticket(issuer, &auth.flow)), url: auth.url })
            }
            Err(e) => {
                let e = SsoError::from(e);
                self.audit_sso_refusal(issuer, &Attempt::default(), &e, source).await?;
                Err(e)
            }
        }
    }

    /// Finishes a sign-in with the provider's answer. Refusals are audited as failed
    /// `auth.sso` events naming the reason; nothing else is written for them.
    pub async fn finish_sso(
        &self,
        callback: SsoCallback,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SsoOutcome, SsoError> {
        let sso = self.sso()?;
        let issuer = sso.provider.issuer();
        let mut attempt = Attempt::default();
        match self.sso_sign_in(sso, callback, &mut attempt, source.clone(), user_agent).await {
            Ok(outcome) => Ok(outcome),
            Err(e) => {
                self.audit_sso_refusal(issuer, &attempt, &e, source).await?;
                Err(e)
            }
        }
    }

    async fn sso_sign_in(
        &self,
        sso: &SsoConfig,
        callback: SsoCallback,
        attempt: &mut Attempt,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SsoOutcome, SsoError> {
        let issuer = sso.provider.issuer();
        let ticket = callback.ticket.as_deref().ok_or_else(|| {
            SsoError::Refused("no sign-in was begun in this browser (its cookie is missing); start again".into())
        })?;
        let flow = self.open_ticket(issuer, ticket).await?;
        if let Some(error) = &callback.error {
            let description = callback.error_description.as_deref().map(provider_text).unwrap_or_default();
            return Err(SsoError::Refused(format!(
                "the identity provider answered {}: {description}",
                provider_text(error)
            )));
        }
        let state = callback.state.as_deref().unwrap_or_default();
        if !ct_eq(state.as_bytes(), flow.state.as_bytes()) {
            return Err(SsoError::Refused(
                "the answer does not belong to the sign-in begun in this browser (state mismatch)".into(),
            ));
        }
        if callback.issuer.as_deref().is_some_and(|iss| iss != issuer) {
            return Err(SsoError::Refused("the answer names another issuer than the configured provider".into()));
        }
        let code =
            callback.code.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| {
                SsoError::Refused("the identity provider's answer carries no authorisation code".into())
            })?;
        let identity = sso.provider.redeem(code, &flow).await?;
        attempt.subject = Some(identity.subject.clone());
        attempt.email.clone_from(&identity.email);
        self.sso_account(sso, &identity, source, user_agent).await
    }

    async fn audit_sso_refusal(
        &self,
        issuer: &str,
        attempt: &Attempt,
        e: &SsoError,
        source: Option<String>,
    ) -> Result<(), SsoError> {
        let actor = attempt.email.as_deref().or(attempt.subject.as_deref()).unwrap_or(ANONYMOUS);
        let event =
            AuditEvent::anonymous(actor, "auth.sso", source).outcome(Outcome::Failed).detail(serde_json::json!({
                "issuer": issuer,
                "subject": attempt.subject,
                "reason": e.to_string(),
            }));
        Ok(self.audit.record(event).await?)
    }
}
