//! Keyed blind indexes: exact-match search over sealed fields without decrypting them all.
//!
//! `index(field, value)` = first 32 bits of HMAC-SHA-256(subkey(field), value), where
//! subkey(field) = HMAC-SHA-256(blind-index key, `"tutela blind-index v1"` || field id). The
//! per-field subkey keeps indexes of different fields unrelated, so equal values in two
//! fields (a phone number that is also a customer number) cannot be linked through the index.
//!
//! **Truncation to 32 bits is deliberate.** Equal values always get equal indexes, so a
//! search finds every match; but with only 2^32 buckets, a given index is shared by many
//! possible values, so someone holding the index (and even a guess) cannot confirm the guess
//! from the index alone. The price is false candidates, which the caller removes by
//! decrypting the candidate records and comparing the real values:
//!
//! > expected false candidates per lookup = N / 2^32 for N indexed records — about
//! > 0.00023 at one million records, about 0.23 at a billion.
//!
//! Callers must normalise values identically on write and on search (case, whitespace,
//! phone formatting…); this module hashes exactly the bytes it is given.

use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

use aws_lc_rs::hmac;

use crate::secret::SecretKey;

/// Domain-separation prefix of the per-field subkey derivation.
const SUBKEY_LABEL: &[u8] = b"tutela blind-index v1";

/// Most per-field subkeys kept in the cache. Field ids come from the schema, so the real
/// number is small; the bound only stops an unexpected caller from growing memory without
/// limit (beyond it, subkeys are derived per call: slower, still correct).
const MAX_CACHED_FIELDS: usize = 1024;

/// Computes blind indexes under one blind-index key.
pub struct BlindIndexer {
    key: hmac::Key,
    subkeys: RwLock<HashMap<String, hmac::Key>>,
}

impl BlindIndexer {
    /// An indexer for `key` (the installation's blind-index key). Takes the key by value so
    /// that the caller's copy ends (and is zeroized) here.
    #[allow(clippy::needless_pass_by_value, reason = "consuming the key is the point")]
    pub fn new(key: SecretKey) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, key.expose()), subkeys: RwLock::new(HashMap::new()) }
    }

    /// The 32-bit blind index of `normalised_value` in field `field_id`.
    pub fn index(&self, field_id: &str, normalised_value: &str) -> u32 {
        // The cache only ever holds complete entries, so a panic elsewhere while holding the
        // lock cannot leave it inconsistent: ignoring poisoning is safe.
        let cached = {
            let subkeys = self.subkeys.read().unwrap_or_else(PoisonError::into_inner);
            subkeys.get(field_id).map(|subkey| truncated_mac(subkey, normalised_value))
        };
        if let Some(index) = cached {
            return index;
        }
        let subkey = self.derive_subkey(field_id);
        let index = truncated_mac(&subkey, normalised_value);
        let mut subkeys = self.subkeys.write().unwrap_or_else(PoisonError::into_inner);
        if subkeys.len() < MAX_CACHED_FIELDS {
            subkeys.entry(field_id.to_owned()).or_insert(subkey);
        }
        index
    }

    fn derive_subkey(&self, field_id: &str) -> hmac::Key {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(SUBKEY_LABEL);
        context.update(field_id.as_bytes());
        hmac::Key::new(hmac::HMAC_SHA256, context.sign().as_ref())
    }
}

/// First four bytes of HMAC-SHA-256(`subkey`, `value`), big-endian.
fn truncated_mac(subkey: &hmac::Key, value: &str) -> u32 {
    let tag = hmac::sign(subkey, value.as_bytes());
    let mut first = [0u8; 4];
    first.copy_from_slice(&tag.as_ref()[..4]);
    u32::from_be_bytes(first)
}

impl fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexer(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexer(byte: u8) -> BlindIndexer {
        BlindIndexer::new(SecretKey::from_bytes([byte; 32]))
    }

    #[test]
    fn deterministic_per_field() {
        let a = indexer(1);
        let first = a.index("email", "alice@example.org");
        assert_eq!(a.index("email", "alice@example.org"), first);
        assert_eq!(indexer(1).index("email", "alice@example.org"), first);
    }

    #[test]
    fn differs_across_fields_values_and_keys() {
        let a = indexer(1);
        let email = a.index("email", "alice@example.org");
        assert_ne!(a.index("phone", "alice@example.org"), email);
        assert_ne!(a.index("email", "bob@example.org"), email);
        assert_ne!(indexer(2).index("email", "alice@example.org"), email);
    }

    #[test]
    fn matches_the_documented_construction() {
        let key = [9u8; 32];
        let master = hmac::Key::new(hmac::HMAC_SHA256, &key);
        let subkey_bytes = hmac::sign(&master, b"tutela blind-index v1email");
        let subkey = hmac::Key::new(hmac::HMAC_SHA256, subkey_bytes.as_ref());
        let tag = hmac::sign(&subkey, b"x@y.z");
        let expected = u32::from_be_bytes(tag.as_ref()[..4].try_into().unwrap());
        assert_eq!(BlindIndexer::new(SecretKey::from_bytes(key)).index("email", "x@y.z"), expected);
    }

    #[test]
    fn uncached_fields_still_index_correctly() {
        let a = indexer(3);
        for n in 0..MAX_CACHED_FIELDS + 10 {
            a.index(&format!("f{n}"), "v");
        }
        let late = format!("f{}", MAX_CACHED_FIELDS + 5);
        assert_eq!(a.index(&late, "v"), indexer(3).index(&late, "v"));
        assert!(a.subkeys.read().unwrap().len() <= MAX_CACHED_FIELDS);
    }

    #[test]
    fn subkeys_are_cached_per_field() {
        // A lookup must cost one HMAC: the subkey is derived once per field, then reused.
        let a = indexer(4);
        a.index("email", "a");
        a.index("email", "b");
        a.index("phone", "c");
        let cached = a.subkeys.read().unwrap();
        assert_eq!(cached.len(), 2);
        assert!(cached.contains_key("email") && cached.contains_key("phone"));
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", indexer(5)), "BlindIndexer(…)");
    }
}
