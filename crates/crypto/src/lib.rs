//! Cryptography for Tutela: the key hierarchy, authenticated encryption with context,
//! blind indexes, password hashing, TOTP, bearer tokens and the audit hash chain.
//!
//! # Key hierarchy
//!
//! ```text
//! root key ── provider::{KeyFileProvider, PassphraseProvider} (never leaves the provider)
//!   ├─ wraps KEK v1, v2, …      aad = context::root_wrap_aad("kek", v)
//!   │    └─ wrap per-record data keys     aad = context::data_key_aad(record, v)
//!   │         └─ seal the record's fields   aad = context::field_aad(record, field)
//!   ├─ wraps the blind-index key  aad = context::root_wrap_aad("blind-index", v)
//!   └─ wraps the audit signing seed aad = context::root_wrap_aad("audit-signing", v)
//! ```
//!
//! # Principles
//!
//! * Only vetted primitives: aws-lc-rs (AES-256-GCM, HMAC-SHA-256, SHA-256, Ed25519),
//!   `argon2` (Argon2id) and `totp-rs`. Nothing is hand-written.
//! * Every ciphertext is bound to where it belongs by associated data, so rows cannot be
//!   swapped by someone with write access to the database.
//! * Secrets are zeroized on drop and print as `…` in `Debug`; secrets are compared in
//!   constant time.
//! * Bad input returns an error; the only panics are on failure of the system random number
//!   generator, which is a platform fault.

pub mod aead;
pub mod blind;
pub mod chain;
pub mod context;
mod error;
mod hash;
pub mod keyring;
pub mod password;
pub mod provider;
pub mod secret;
pub mod token;
pub mod totp;

pub use blind::BlindIndexer;
pub use chain::CheckpointSigner;
pub use error::CryptoError;
pub use keyring::{DataKey, Keyring, WrappedKey};
pub use password::PasswordHasher;
pub use provider::{KeyFileProvider, PassphraseProvider, RootKeyProvider};
pub use secret::SecretKey;

#[cfg(test)]
mod tests {
    /// The types that other crates keep in shared, async state must stay thread-safe.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::Keyring>();
        assert_send_sync::<crate::DataKey>();
        assert_send_sync::<crate::BlindIndexer>();
        assert_send_sync::<crate::PasswordHasher>();
        assert_send_sync::<crate::CheckpointSigner>();
        assert_send_sync::<crate::KeyFileProvider>();
        assert_send_sync::<crate::PassphraseProvider>();
        assert_send_sync::<crate::CryptoError>();
    }
}
