use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(()),
        }
    }
}

/// A user. The TOTP secret is sealed under the user's own data key, like a customer field.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: Uuid,
    /// Lower-cased; unique.
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub status: UserStatus,
    pub kek_version: u32,
    pub wrapped_dek: Vec<u8>,
    pub totp_secret: Option<Vec<u8>>,
    /// Enrolment is confirmed with a first valid code; until then the secret is pending.
    pub totp_enabled: bool,
    /// The last accepted TOTP time step: a code at or before it is a replay.
    pub totp_last_step: Option<i64>,
    pub locale: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field("totp_enabled", &self.totp_enabled)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    /// Which customers the role's customer permissions reach: `own`, `team`, `department`
    /// (and below) or `all`.
    pub data_scope: String,
    /// Per-field access (`hidden`, `masked`, `read`, `reveal`, `write`) overriding the default
    /// the role's permissions give for the field's classification.
    pub field_rules: BTreeMap<String, String>,
}

/// A console session, found by the SHA-256 of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// A random public name for the session, shown in lists and used to end it. Unrelated
    /// to the token, so that showing it gives nothing towards the cookie or its hash.
    pub id: Uuid,
    pub token_hash: [u8; 32],
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// False while the password is checked but the second factor is not yet.
    pub mfa_done: bool,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    /// How the second factor was proved (`totp`, `recovery-code`, `passkey`, `sso`); none
    /// while pending, and for sessions older than the record.
    pub factor: Option<String>,
    /// When the user last proved who they are in this session: the sign-in, or a later
    /// re-authentication.
    pub authenticated_at: OffsetDateTime,
}

/// An API token for programs, found by the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: [u8; 32],
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// The second factor of the session that made the token: a token is worth no more
    /// than the sign-in behind it.
    pub factor: Option<String>,
}

/// A user's passkey (a WebAuthn credential), found by its credential id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The authenticator's id for the credential; unique across all users.
    pub credential_id: Vec<u8>,
    /// What the user called it ("security key", "work laptop").
    pub name: String,
    /// The WebAuthn library's serialised credential (JSON): public key, counter, flags.
    pub passkey: String,
    /// The signature counter last accepted (0 for authenticators that keep none).
    pub sign_count: u32,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    /// Set when the counter went backwards (a possibly cloned authenticator): refused since.
    pub suspended_at: Option<OffsetDateTime>,
}
