//! Where the root key lives.
//!
//! The root key sits at the top of the key hierarchy and is only ever used to wrap and
//! unwrap other keys (the KEKs, the blind-index key, the audit signing seed). Because the
//! trait never hands the root key out, a hardware-backed provider (PKCS#11/HSM) can implement
//! it later without any caller changing.
//!
//! Both providers here keep the root key in process memory as a [`SecretKey`] and wrap with
//! [`crate::aead`]; the caller supplies the associated data
//! ([`crate::context::root_wrap_aad`]) so that wrapped keys cannot be swapped between
//! purposes or versions.

mod key_file;
mod passphrase;

pub use key_file::KeyFileProvider;
pub use passphrase::PassphraseProvider;

use crate::CryptoError;
use crate::aead;
use crate::secret::SecretKey;

/// A holder of the root key that can wrap and unwrap other keys with it.
pub trait RootKeyProvider: Send + Sync {
    /// A human-readable description for logs and diagnostics, e.g. `key file /path`. Never
    /// contains secret material.
    fn describe(&self) -> String;

    /// Encrypts `key` under the root key, bound to `aad`.
    fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, CryptoError>;

    /// Reverses [`RootKeyProvider::wrap`]. Any failure to open is
    /// [`CryptoError::WrongRootKey`]: with a correct database, the likely cause is the wrong
    /// key file or passphrase, and that is what the operator needs to hear.
    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, CryptoError>;
}

/// Wrapping shared by the in-memory providers.
fn wrap_under(root: &SecretKey, aad: &[u8], key: &SecretKey) -> Vec<u8> {
    aead::seal(root, aad, key.expose())
}

/// Unwrapping shared by the in-memory providers.
fn unwrap_under(root: &SecretKey, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
    let plaintext = aead::open(root, aad, wrapped).map_err(|_| CryptoError::WrongRootKey)?;
    SecretKey::try_from_slice(&plaintext)
}
