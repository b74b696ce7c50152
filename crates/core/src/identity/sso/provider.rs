//! The seam between the sign-in policy (this module) and the protocol that talks to the
//! identity provider (crate `tutela-oidc`): discovery, the authorisation request, the code
//! exchange and the checks on what comes back.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An OpenID provider as the sign-in needs it.
#[async_trait]
pub trait IdentityProvider: Send + Sync + fmt::Debug + 'static {
    /// The provider's issuer identifier, under which its users are linked.
    fn issuer(&self) -> &str;

    /// Where to send the browser, with the secrets of this one sign-in.
    async fn authorization(&self) -> Result<Authorization, ProviderError>;

    /// Redeems the authorisation code with the secrets made for it and returns whom the
    /// provider vouches for. An implementation verifies the ID token's signature, issuer,
    /// audience, expiry and nonce before answering, and sends the PKCE verifier.
    async fn redeem(&self, code: &str, flow: &FlowSecrets) -> Result<VerifiedIdentity, ProviderError>;
}

/// The start of a sign-in at the provider.
#[derive(Debug)]
pub struct Authorization {
    /// The provider's authorisation endpoint with this sign-in's parameters.
    pub url: String,
    pub flow: FlowSecrets,
}

/// What only the browser that began a sign-in may finish it with: the `state` it must bring
/// back, the `nonce` the ID token must carry, and the PKCE verifier the code is redeemed with.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl fmt::Debug for FlowSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowSecrets(…)")
    }
}

/// The claims of a verified ID token (and of the user-info answer, for what the token left out).
#[derive(Debug, Clone, Default)]
pub struct VerifiedIdentity {
    pub subject: String,
    pub email: Option<String>,
    /// `None` when the provider does not say.
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    /// The values of the configured groups claim.
    pub groups: Vec<String>,
    /// Authentication methods references (`amr`), e.g. `pwd`, `otp`, `mfa`, `hwk`.
    pub amr: Vec<String>,
    /// The authentication context class reference (`acr`).
    pub acr: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider did not answer, or not in a form that could be read (its discovery
    /// document, its keys, its token endpoint).
    #[error("the identity provider could not be reached: {0}")]
    Unavailable(String),
    /// The provider answered, and the answer is refused: an error from its token endpoint
    /// (a used or foreign code) or an ID token that fails a check.
    #[error("{0}")]
    Refused(String),
}
