//! Users, roles, the password policy, sign-in with a second factor and its lockout, sessions
//! and API tokens.

mod lockout;
mod login;
mod password;
mod sessions;
mod setup;
mod tokens;
mod unlock;
mod users;

pub(crate) use lockout::Lockouts;
pub use lockout::{LockoutRule, SignInLimits};
pub use login::{LoginStart, SessionInfo, TotpEnrolment};
pub use password::{PasswordPolicy, PasswordRejection};
pub use sessions::SessionView;
pub use tokens::{ApiTokenView, NewApiToken};
pub(crate) use users::normalise_email;
pub use users::{NewUser, UserView};
