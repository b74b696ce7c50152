use time::OffsetDateTime;
use uuid::Uuid;

/// A user's account at an identity provider: the provider's issuer and its subject
/// identifier for the user. The pair, never the e-mail address, is what single sign-on
/// recognises a user by: addresses are reassigned, subjects are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoIdentityRow {
    pub issuer: String,
    pub subject: String,
    pub user_id: Uuid,
    /// The provider's e-mail claim when the link was made, for the administrators' record.
    pub email: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_sign_in_at: Option<OffsetDateTime>,
}
