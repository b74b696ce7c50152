//! Authenticated encryption: AES-256-GCM (aws-lc-rs) with a random 96-bit nonce.
//!
//! Sealed layout: `[version = 1][12-byte nonce][ciphertext || 16-byte tag]`. The version byte
//! lets the format change later without guessing; the nonce travels with the ciphertext so
//! that no nonce state has to be kept anywhere.
//!
//! Random nonces are safe up to about 2^32 messages per key (NIST SP 800-38D). Every key in
//! Tutela stays far below that: a data key seals the fields of one record, and a
//! key-encryption key wraps one data key per record.
//!
//! The associated data (see [`crate::context`]) is authenticated but not stored: the opener
//! must present the same context, so a ciphertext moved to another record or field fails.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::secret::{SecretKey, random_bytes};

/// First byte of every sealed value.
pub const FORMAT_VERSION: u8 = 1;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM authentication tag length.
pub const TAG_LEN: usize = 16;
/// Bytes that [`seal`] adds to the plaintext.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Encrypts and authenticates `plaintext`, binding it to `aad`.
///
/// # Panics
/// Only if the system random number generator fails, or if `plaintext` exceeds AES-GCM's
/// limit of about 64 GiB — neither can be caused by a customer record.
pub fn seal(key: &SecretKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = random_bytes();
    // Reserve the full size up front: the buffer briefly holds plaintext, and a reallocation
    // would free a copy of it without zeroizing.
    let mut out = Vec::with_capacity(OVERHEAD.saturating_add(plaintext.len()));
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher(key)
        .and_then(|cipher| {
            cipher.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[HEADER_LEN..],
            )
        })
        .expect("AES-256-GCM sealing cannot fail for a 32-byte key and an in-memory plaintext");
    out.extend_from_slice(tag.as_ref());
    out
}

/// Checks and decrypts a value made by [`seal`] with the same key and `aad`.
///
/// Every failure — wrong key, wrong `aad`, unknown version, truncation, any flipped bit — is
/// the same [`CryptoError::Decrypt`].
pub fn open(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < OVERHEAD {
        return Err(CryptoError::Decrypt);
    }
    let (header, body) = sealed.split_at(HEADER_LEN);
    let (version, nonce) = header.split_at(1);
    if version != [FORMAT_VERSION] {
        return Err(CryptoError::Decrypt);
    }
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let plaintext_len = cipher(key)
        .and_then(|cipher| cipher.open_in_place(nonce, Aad::from(aad), buffer.as_mut_slice()))
        .map_err(|_| CryptoError::Decrypt)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

fn cipher(key: &SecretKey) -> Result<LessSafeKey, aws_lc_rs::error::Unspecified> {
    UnboundKey::new(&AES_256_GCM, key.expose()).map(LessSafeKey::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::generate()
    }

    #[test]
    fn round_trip() {
        let key = key();
        let sealed = seal(&key, b"ctx", b"hello");
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(open(&key, b"ctx", &sealed).unwrap().as_slice(), b"hello");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let key = key();
        let sealed = seal(&key, b"", b"");
        assert_eq!(sealed.len(), OVERHEAD);
        assert!(open(&key, b"", &sealed).unwrap().is_empty());
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let key = key();
        assert_ne!(seal(&key, b"a", b"same"), seal(&key, b"a", b"same"));
    }

    #[test]
    fn other_key_fails() {
        let sealed = seal(&key(), b"ctx", b"hello");
        assert!(matches!(open(&key(), b"ctx", &sealed), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn other_aad_fails() {
        let key = key();
        let sealed = seal(&key, b"ctx", b"hello");
        assert!(matches!(open(&key, b"ctx2", &sealed), Err(CryptoError::Decrypt)));
        assert!(matches!(open(&key, b"", &sealed), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn every_flipped_bit_fails() {
        let key = key();
        let sealed = seal(&key, b"ctx", b"hello world");
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut damaged = sealed.clone();
                damaged[byte] ^= 1 << bit;
                assert!(
                    matches!(open(&key, b"ctx", &damaged), Err(CryptoError::Decrypt)),
                    "flip at byte {byte} bit {bit} was accepted"
                );
            }
        }
    }

    #[test]
    fn truncated_and_empty_inputs_fail() {
        let key = key();
        let sealed = seal(&key, b"ctx", b"hello");
        for len in 0..sealed.len() {
            assert!(matches!(open(&key, b"ctx", &sealed[..len]), Err(CryptoError::Decrypt)));
        }
        assert!(matches!(open(&key, b"ctx", &[]), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn appended_bytes_fail() {
        let key = key();
        let mut sealed = seal(&key, b"ctx", b"hello");
        sealed.push(0);
        assert!(matches!(open(&key, b"ctx", &sealed), Err(CryptoError::Decrypt)));
    }
}
