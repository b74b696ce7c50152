//! Root key derived from an operator's passphrase with Argon2id.
//!
//! For installations that must not keep the root key on disk: the key exists only in memory,
//! derived at start-up from a passphrase and a stored salt. Argon2id is memory-hard, so each
//! guess of a stolen database's passphrase costs an attacker 64 MiB and several passes.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use super::{RootKeyProvider, unwrap_under, wrap_under};
use crate::CryptoError;
use crate::secret::{KEY_LEN, SecretKey, random_bytes};

/// Salt length produced by [`PassphraseProvider::new_salt`] and the minimum accepted.
pub const SALT_LEN: usize = 16;

/// Default Argon2id memory cost: 64 MiB.
pub const DEFAULT_MEMORY_KIB: u32 = 64 * 1024;
/// Default Argon2id passes.
pub const DEFAULT_ITERATIONS: u32 = 3;
/// Default Argon2id lanes.
pub const DEFAULT_PARALLELISM: u32 = 1;

/// Root key derived from a passphrase (Argon2id) and a 16-byte salt.
///
/// The salt is not secret: the caller stores it next to the data and passes the same salt at
/// every start. A new salt means a new root key.
pub struct PassphraseProvider {
    root: SecretKey,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl PassphraseProvider {
    /// Derives the root key with the default cost (m = 64 MiB, t = 3, p = 1).
    ///
    /// This takes a noticeable fraction of a second on purpose; from async code, call it on a
    /// blocking thread.
    pub fn derive(passphrase: &SecretString, salt: &[u8]) -> Result<Self, CryptoError> {
        Self::with_params(passphrase, salt, DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS, DEFAULT_PARALLELISM)
    }

    /// Derives the root key with explicit Argon2id cost (memory in KiB, passes, lanes) — for
    /// tests, which need small parameters to stay fast.
    pub fn with_params(
        passphrase: &SecretString,
        salt: &[u8],
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<Self, CryptoError> {
        let passphrase = passphrase.expose_secret().as_bytes();
        if passphrase.is_empty() {
            return Err(CryptoError::InvalidKeyMaterial("the passphrase is empty"));
        }
        if salt.len() < SALT_LEN {
            return Err(CryptoError::InvalidKeyMaterial("the salt must be at least 16 bytes"));
        }
        let params = Params::new(memory_kib, iterations, parallelism, Some(KEY_LEN))
            .map_err(|e| CryptoError::InvalidParameters(format!("Argon2id: {e}")))?;
        let kdf = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let root = SecretKey::try_fill(|out| {
            kdf.hash_password_into(passphrase, salt, out)
                .map_err(|e| CryptoError::InvalidParameters(format!("Argon2id: {e}")))
        })?;
        Ok(Self { root, memory_kib, iterations, parallelism })
    }

    /// A fresh random salt for a new installation.
    pub fn new_salt() -> [u8; SALT_LEN] {
        random_bytes()
    }
}

impl RootKeyProvider for PassphraseProvider {
    fn describe(&self) -> String {
        format!("passphrase (Argon2id m={} KiB, t={}, p={})", self.memory_kib, self.iterations, self.parallelism)
    }

    fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
        Ok(wrap_under(&self.root, aad, key))
    }

    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        unwrap_under(&self.root, aad, wrapped)
    }
}

impl fmt::Debug for PassphraseProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassphraseProvider")
            .field("memory_kib", &self.memory_kib)
            .field("iterations", &self.iterations)
            .field("parallelism", &self.parallelism)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::root_wrap_aad;

    fn derive(passphrase: &str, salt: &[u8]) -> Result<PassphraseProvider, CryptoError> {
        PassphraseProvider::with_params(&SecretString::from(passphrase), salt, 64, 1, 1)
    }

    #[test]
    fn same_passphrase_and_salt_unwrap() {
        let salt = PassphraseProvider::new_salt();
        let key = SecretKey::generate();
        let aad = root_wrap_aad("kek", 1);
        let wrapped = derive("correct horse", &salt).unwrap().wrap(&aad, &key).unwrap();
        let unwrapped = derive("correct horse", &salt).unwrap().unwrap(&aad, &wrapped).unwrap();
        assert_eq!(unwrapped.expose(), key.expose());
    }

    #[test]
    fn wrong_passphrase_is_wrong_root_key() {
        let salt = PassphraseProvider::new_salt();
        let aad = root_wrap_aad("kek", 1);
        let wrapped = derive("correct horse", &salt).unwrap().wrap(&aad, &SecretKey::generate()).unwrap();
        let wrong = derive("battery staple", &salt).unwrap();
        assert!(matches!(wrong.unwrap(&aad, &wrapped), Err(CryptoError::WrongRootKey)));
    }

    #[test]
    fn other_salt_is_wrong_root_key() {
        let aad = root_wrap_aad("kek", 1);
        let wrapped = derive("pw", &[1; 16]).unwrap().wrap(&aad, &SecretKey::generate()).unwrap();
        let other = derive("pw", &[2; 16]).unwrap();
        assert!(matches!(other.unwrap(&aad, &wrapped), Err(CryptoError::WrongRootKey)));
    }

    #[test]
    fn refuses_empty_passphrase_short_salt_and_bad_params() {
        assert!(matches!(derive("", &[0; 16]), Err(CryptoError::InvalidKeyMaterial(_))));
        assert!(matches!(derive("pw", &[0; 15]), Err(CryptoError::InvalidKeyMaterial(_))));
        let bad = PassphraseProvider::with_params(&SecretString::from("pw"), &[0; 16], 64, 0, 1);
        assert!(matches!(bad, Err(CryptoError::InvalidParameters(_))));
    }

    #[test]
    fn describe_and_debug_show_parameters_only() {
        let provider = derive("hunter2", &[0; 16]).unwrap();
        assert_eq!(provider.describe(), "passphrase (Argon2id m=64 KiB, t=1, p=1)");
        assert!(!format!("{provider:?}").contains("hunter2"));
    }

    #[test]
    fn default_parameters_are_accepted() {
        // One real derivation at full cost, to prove the defaults are valid parameters.
        let provider = PassphraseProvider::derive(&SecretString::from("pw"), &[0; 16]).unwrap();
        assert_eq!(provider.describe(), "passphrase (Argon2id m=65536 KiB, t=3, p=1)");
    }
}
