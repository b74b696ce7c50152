use thiserror::Error;
use tutela_store::StoreError;

/// What a domain operation reports. The web edge maps each kind to one status and problem
/// type; the CLI to one exit code. Internal details stay in `Internal` and are logged, not shown.
#[derive(Debug, Error)]
pub enum CoreError {
    /// Bad input; `field` names the field, column or line at fault.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Missing, wrong or expired credentials.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// The second factor is required before this.
    #[error("second factor required")]
    SecondFactorRequired,
    /// Allowed, but policy puts it before an approver first; says why and what to do.
    #[error("approval required: {0}")]
    ApprovalRequired(String),
    /// Allowed, but the roles want a fresher proof of identity first: re-authenticate, then
    /// ask again.
    #[error("re-authentication required")]
    ReauthRequired,
    /// Authenticated, but the role does not allow it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::NotFound => Self::NotFound("record"),
            StoreError::Corrupt(m) => Self::Internal(format!("corrupt data: {m}")),
            StoreError::Backend(m) => Self::Internal(format!("store: {m}")),
        }
    }
}

impl From<tutela_crypto::CryptoError> for CoreError {
    fn from(e: tutela_crypto::CryptoError) -> Self {
        Self::Internal(format!("crypto: {e}"))
    }
}
