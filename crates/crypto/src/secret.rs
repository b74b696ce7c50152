//! Key material and small helpers for handling secrets.
//!
//! [`SecretKey`] is the only type in this crate that holds raw symmetric key bytes. It is
//! wiped on drop and never printed, so that keys do not linger in freed memory or end up in
//! logs and panic messages.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::CryptoError;

/// Length of every symmetric key in this crate: 256 bits.
pub const KEY_LEN: usize = 32;

/// 32 bytes of key material (an AES-256 key, an HMAC key or an Ed25519 seed).
///
/// Zeroized on drop; a clone is a separate `SecretKey` and is zeroized on its own drop.
/// `Debug` prints `SecretKey(…)`. There is deliberately no `PartialEq`: compare with
/// [`ct_eq`] on [`SecretKey::expose`] if you really must.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// If the system random number generator fails, which is a platform fault: carrying on
    /// without randomness would be worse than stopping.
    pub fn generate() -> Self {
        let mut key = Self([0; KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// Wraps existing key bytes. Prefer [`SecretKey::try_from_slice`] when the bytes are in a
    /// buffer you can zeroize, since this by-value array may leave a copy on the stack.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Copies key bytes out of a slice, refusing any length other than 32.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKeyMaterial("a key must be exactly 32 bytes"));
        }
        let mut key = Self([0; KEY_LEN]);
        key.0.copy_from_slice(bytes);
        Ok(key)
    }

    /// Builds a key in place by letting `fill` write its bytes, so that derived or read key
    /// material never passes through an unzeroized temporary. On error the partial key is
    /// zeroized by drop.
    pub(crate) fn try_fill<E>(fill: impl FnOnce(&mut [u8; KEY_LEN]) -> Result<(), E>) -> Result<Self, E> {
        let mut key = Self([0; KEY_LEN]);
        fill(&mut key.0)?;
        Ok(key)
    }

    /// The raw key bytes, for handing to a primitive. Do not copy them anywhere that is not
    /// zeroized.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on their
/// contents, so that comparing a secret (a hash, a MAC, a code) does not reveal how many
/// leading bytes an attacker got right. Lengths are not treated as secret.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// `N` bytes from the operating system's CSPRNG.
///
/// # Panics
/// If the system random number generator fails (see [`SecretKey::generate`]).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    fill_random(&mut bytes);
    bytes
}

/// Fills `buf` from the system CSPRNG (via aws-lc-rs).
pub(crate) fn fill_random(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("the system random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ() {
        assert!(!ct_eq(SecretKey::generate().expose(), SecretKey::generate().expose()));
    }

    #[test]
    fn debug_hides_the_key() {
        let key = SecretKey::from_bytes([0xab; KEY_LEN]);
        let printed = format!("{key:?}");
        assert_eq!(printed, "SecretKey(…)");
        assert!(!printed.to_lowercase().contains("ab"));
    }

    #[test]
    fn slice_of_wrong_length_is_refused() {
        assert!(SecretKey::try_from_slice(&[0; 31]).is_err());
        assert!(SecretKey::try_from_slice(&[0; 33]).is_err());
        assert!(SecretKey::try_from_slice(&[]).is_err());
        let key = SecretKey::try_from_slice(&[7; 32]).unwrap();
        assert_eq!(key.expose(), &[7; 32]);
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn random_bytes_are_not_constant() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
