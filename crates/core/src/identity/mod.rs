//! Users, roles, the password policy, sign-in with a second factor (TOTP or a passkey) or a
//! passkey alone, or single sign-on with the company's identity provider; lockout, sessions and
//! API tokens.

mod lockout;
mod login;
mod passkeys;
mod password;
mod sessions;
mod setup;
mod sso;
mod tokens;
mod unlock;
mod users;

pub(crate) use lockout::Lockouts;
pub use lockout::{LockoutRule, SignInLimits};
pub use login::{LoginStart, SessionInfo, TotpEnrolment};
pub(crate) use passkeys::Ceremonies;
pub use passkeys::{
    CreationChallengeResponse, PasskeyChallenge, PasskeyView, PublicKeyCredential, RegisterPublicKeyCredential,
    RelyingParty, RequestChallengeResponse,
};
pub use password::{PasswordPolicy, PasswordRejection};
pub use sessions::SessionView;
pub use sso::{
    Authorization, FlowSecrets, IdentityProvider, ProviderError, SsoCallback, SsoConfig, SsoError, SsoOutcome,
    SsoPolicy, SsoStart, TICKET_LIFETIME, UnknownUsers, VerifiedIdentity,
};
pub use tokens::{ApiTokenView, NewApiToken};
pub(crate) use users::normalise_email;
pub use users::{NewUser, UserView};
