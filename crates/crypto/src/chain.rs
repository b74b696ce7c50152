//! The audit log's hash chain and its signed checkpoints.
//!
//! Each event's hash is `SHA-256(previous hash || canonical event bytes)`, starting from
//! [`GENESIS`]; changing, removing or reordering any event changes every later hash. The
//! previous hash has a fixed length, so the concatenation is unambiguous. Periodic
//! checkpoints sign a chain head with Ed25519, so that even someone able to rewrite the whole
//! table cannot forge a consistent chain without the signing key, which is stored wrapped by
//! the root key.

use std::fmt;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

use crate::CryptoError;
use crate::hash::sha256;
use crate::secret::SecretKey;

/// The "previous hash" of the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The hash of an event given the hash of the one before it.
pub fn link(prev_hash: &[u8; 32], canonical_event: &[u8]) -> [u8; 32] {
    sha256(&[prev_hash, canonical_event])
}

/// Signs checkpoints with an Ed25519 key derived from a 32-byte seed.
pub struct CheckpointSigner {
    key_pair: Ed25519KeyPair,
}

impl CheckpointSigner {
    /// The signer for `seed` (RFC 8032 private key). The seed, not an expanded key, is what
    /// gets stored wrapped by the root key.
    pub fn from_seed(seed: &SecretKey) -> Result<Self, CryptoError> {
        let key_pair = Ed25519KeyPair::from_seed_unchecked(seed.expose())
            .map_err(|_| CryptoError::InvalidKeyMaterial("not a valid Ed25519 seed"))?;
        Ok(Self { key_pair })
    }

    /// The public key, for verifying checkpoints.
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.key_pair.public_key().as_ref());
        out
    }

    /// An Ed25519 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(self.key_pair.sign(msg).as_ref());
        out
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner").field("public_key", &hex::encode(self.public_key())).finish()
    }
}

/// True if `sig` is a valid Ed25519 signature of `msg` under `public_key`. Any malformed
/// input (wrong signature length, invalid point) is simply `false`.
pub fn verify_signature(public_key: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    sig.len() == SIGNATURE_LEN && UnparsedPublicKey::new(&ED25519, public_key).verify(msg, sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_known_answer() {
        // SHA-256 of 32 zero bytes followed by "abc", computed independently with
        // `python3 -c "import hashlib; print(hashlib.sha256(bytes(32) + b'abc').hexdigest())"`.
        assert_eq!(
            hex::encode(link(&GENESIS, b"abc")),
            "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370"
        );
    }

    #[test]
    fn link_depends_on_both_inputs() {
        let a = link(&GENESIS, b"event");
        assert_ne!(link(&a, b"event"), a);
        assert_ne!(link(&GENESIS, b"event2"), a);
    }

    #[test]
    fn rfc_8032_test_1() {
        // RFC 8032 §7.1, TEST 1: empty message.
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        let signer = CheckpointSigner::from_seed(&SecretKey::try_from_slice(&seed).unwrap()).unwrap();
        assert_eq!(
            hex::encode(signer.public_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(signer.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn sign_and_verify() {
        let signer = CheckpointSigner::from_seed(&SecretKey::generate()).unwrap();
        let sig = signer.sign(b"checkpoint 42");
        assert!(verify_signature(&signer.public_key(), b"checkpoint 42", &sig));
        assert!(!verify_signature(&signer.public_key(), b"checkpoint 43", &sig));
        let other = CheckpointSigner::from_seed(&SecretKey::generate()).unwrap();
        assert!(!verify_signature(&other.public_key(), b"checkpoint 42", &sig));
    }

    #[test]
    fn every_flipped_signature_bit_fails() {
        let signer = CheckpointSigner::from_seed(&SecretKey::generate()).unwrap();
        let sig = signer.sign(b"msg");
        for byte in 0..SIGNATURE_LEN {
            for bit in 0..8 {
                let mut bad = sig;
                bad[byte] ^= 1 << bit;
                assert!(!verify_signature(&signer.public_key(), b"msg", &bad), "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn malformed_signatures_and_keys_are_false() {
        let signer = CheckpointSigner::from_seed(&SecretKey::generate()).unwrap();
        let sig = signer.sign(b"msg");
        assert!(!verify_signature(&signer.public_key(), b"msg", &sig[..63]));
        assert!(!verify_signature(&signer.public_key(), b"msg", &[]));
        let mut long = sig.to_vec();
        long.push(0);
        assert!(!verify_signature(&signer.public_key(), b"msg", &long));
        assert!(!verify_signature(&[0xff; 32], b"msg", &sig));
    }

    #[test]
    fn same_seed_same_key_and_debug_shows_public_key_only() {
        let seed = SecretKey::from_bytes([3; 32]);
        let a = CheckpointSigner::from_seed(&seed).unwrap();
        let b = CheckpointSigner::from_seed(&seed).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.sign(b"x"), b.sign(b"x"));
        let printed = format!("{a:?}");
        assert!(printed.contains(&hex::encode(a.public_key())));
        assert!(!printed.contains(&hex::encode([3u8; 32])));
    }
}
