//! Users, roles, the password policy, sign-in with a second factor (TOTP or a passkey) or a
//! passkey alone, or single sign-on with the company's identity provider; lockout, sessions and
//! API tokens.

mod lockout;
mod login;
mod passkeys;
mod password;
mod reauth;
mod sessions;
mod setup;
mod sign_in_policy;
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
pub use sign_in_policy::{Factor, FactorRequirement, RoleSignInPolicy, RoleSignInPolicyView};
pub(crate) use sign_in_policy::{SessionLimits, SignInPolicies};
pub use sso::{
    Authorization, FlowSecrets, IdentityProvider, ProviderError, SsoCallback, SsoConfig, SsoError, SsoOutcome,
    SsoPolicy, SsoStart, TICKET_LIFETIME, UnknownUsers, VerifiedIdentity,
};
pub use tokens::{ApiTokenView, NewApiToken};
pub use users::{NewUser, UserView};
pub(crate) use users::{normalise_email, role_change};
