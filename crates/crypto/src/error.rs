//! The one error type of this crate.
//!
//! Failures to open sealed data are deliberately collapsed into a single variant
//! ([`CryptoError::Decrypt`], or [`CryptoError::WrongRootKey`] at the root of the key
//! hierarchy): telling a caller *why* authentication failed (wrong key, wrong context, bit
//! flip, truncation) would hand an attacker an oracle and helps no legitimate user.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in this crate. No variant ever carries secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Opening sealed data failed: wrong key, wrong associated data, truncated or tampered
    /// input. One variant on purpose, so that callers cannot leak which.
    #[error("decryption failed (wrong key, wrong context, or damaged data)")]
    Decrypt,

    /// The root key file could not be created, opened or read. The I/O cause is repeated in
    /// the message because callers often flatten errors to one line, and "permission denied"
    /// versus "not found" is what an operator needs.
    #[error("cannot use key file {}: {source}", path.display())]
    KeyFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The root key file is readable or writable by group or others.
    #[error(
        "key file {} has mode {mode:04o}; it must be accessible by its owner only (chmod 600)",
        path.display()
    )]
    KeyFilePermissions { path: PathBuf, mode: u32 },

    /// The root key provider could not unwrap a key: most often the wrong key file or
    /// passphrase; a damaged wrapped key looks the same, by design.
    #[error("the root key cannot unwrap this key (wrong key file or passphrase, or damaged data)")]
    WrongRootKey,

    /// Key material of the wrong shape (length, emptiness, salt size…).
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(&'static str),

    /// A wrapped key names a key-encryption key version that this keyring does not hold.
    #[error("unknown key-encryption key version {0}")]
    UnknownKekVersion(u32),

    /// A new key-encryption key must have a version above every existing one, so that
    /// "current = highest" stays true and old versions are never overwritten.
    #[error("key-encryption key version {version} is not above the current version {current}")]
    KekVersionNotNewer { version: u32, current: u32 },

    /// Cost parameters refused by the key-derivation function.
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),

    /// Password hashing or verification failed for a reason other than a wrong password
    /// (a wrong password is `Ok(false)`, not an error).
    #[error("password hashing: {0}")]
    PasswordHash(String),

    /// A TOTP code was refused or a TOTP secret could not be used.
    #[error("TOTP: {0}")]
    Totp(String),
}
