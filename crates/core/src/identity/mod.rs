//! Users, roles, sign-in with a second factor, sessions and API tokens.

mod login;
mod setup;
mod tokens;
mod users;

pub use login::{LoginStart, SessionInfo, TotpEnrolment};
pub use tokens::{ApiTokenView, NewApiToken};
pub use users::{NewUser, UserView};
