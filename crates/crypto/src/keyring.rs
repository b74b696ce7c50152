//! The unwrapped middle of the key hierarchy.
//!
//! ```text
//! root key (provider)  ──wraps──▶  KEK v1, v2, …   ──wrap──▶  per-record data keys  ──seal──▶  fields
//!                      ──wraps──▶  blind-index key
//! ```
//!
//! Each record has its own random data key (DEK), stored wrapped under a versioned
//! key-encryption key (KEK). Rotation adds a KEK version and re-wraps every DEK under it;
//! the sealed fields themselves are never re-encrypted. All wrapping and sealing binds its
//! context (record, field, KEK version) as associated data, see [`crate::context`].

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::CryptoError;
use crate::aead;
use crate::blind::BlindIndexer;
use crate::context::{data_key_aad, field_aad};
use crate::secret::SecretKey;

/// The KEKs by version and the blind indexer, built at start-up from the keys the store holds
/// wrapped under the root key.
pub struct Keyring {
    /// Never empty (checked by [`Keyring::new`], only grown by [`Keyring::add_kek`]).
    keks: BTreeMap<u32, SecretKey>,
    blind_indexer: BlindIndexer,
}

/// A data key wrapped under KEK `kek_version`, as the store keeps it. The bytes are
/// ciphertext, so printing them would be harmless; `Debug` shows only their length anyway.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_version: u32,
    pub bytes: Vec<u8>,
}

/// One record's data key (DEK). Zeroized on drop; `Debug` prints `DataKey(…)`.
#[derive(ZeroizeOnDrop)]
pub struct DataKey(SecretKey);

impl Keyring {
    /// Builds a keyring from `(version, key)` pairs and the blind-index key. The current KEK,
    /// used for new data keys, is the one with the highest version.
    pub fn new(keks: Vec<(u32, SecretKey)>, blind_index_key: SecretKey) -> Result<Self, CryptoError> {
        if keks.is_empty() {
            return Err(CryptoError::InvalidKeyMaterial("a keyring needs at least one KEK"));
        }
        let mut by_version = BTreeMap::new();
        for (version, key) in keks {
            match by_version.entry(version) {
                Entry::Vacant(slot) => {
                    slot.insert(key);
                }
                Entry::Occupied(_) => {
                    return Err(CryptoError::InvalidKeyMaterial("duplicate KEK version"));
                }
            }
        }
        Ok(Self { keks: by_version, blind_indexer: BlindIndexer::new(blind_index_key) })
    }

    /// Version of the KEK that wraps new data keys (the highest).
    pub fn current_version(&self) -> u32 {
        self.current().0
    }

    /// All KEK versions held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keks.keys().copied().collect()
    }

    /// Adds a KEK, which becomes current. Its version must be above every existing one, so
    /// that an existing KEK is never replaced and "current = highest" always holds.
    pub fn add_kek(&mut self, version: u32, key: SecretKey) -> Result<(), CryptoError> {
        let current = self.current_version();
        if version <= current {
            return Err(CryptoError::KekVersionNotNewer { version, current });
        }
        self.keks.insert(version, key);
        Ok(())
    }

    /// A new random data key for `record_id`, and the same key wrapped under the current KEK.
    pub fn new_data_key(&self, record_id: &[u8; 16]) -> (DataKey, WrappedKey) {
        let data_key = DataKey(SecretKey::generate());
        let wrapped = self.wrap_under_current(record_id, &data_key);
        (data_key, wrapped)
    }

    /// Unwraps a record's data key.
    ///
    /// An unknown version is [`CryptoError::UnknownKekVersion`] (the keyring may need a
    /// reload after a rotation elsewhere); a key wrapped for another record, or whose version
    /// was altered, is [`CryptoError::Decrypt`].
    pub fn unwrap_data_key(&self, record_id: &[u8; 16], wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
        let kek = self.keks.get(&wrapped.kek_version).ok_or(CryptoError::UnknownKekVersion(wrapped.kek_version))?;
        let plaintext = aead::open(kek, &data_key_aad(record_id, wrapped.kek_version), &wrapped.bytes)?;
        SecretKey::try_from_slice(&plaintext).map(DataKey)
    }

    /// Re-wraps a data key under the current KEK, for rotation. A key already under the
    /// current version is still checked (unwrapped), then returned as is, so a rotation pass
    /// also detects damaged wrapped keys.
    pub fn rewrap(&self, record_id: &[u8; 16], wrapped: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let data_key = self.unwrap_data_key(record_id, wrapped)?;
        if wrapped.kek_version == self.current_version() {
            return Ok(wrapped.clone());
        }
        Ok(self.wrap_under_current(record_id, &data_key))
    }

    /// The blind indexer for exact-match search.
    pub fn blind_indexer(&self) -> &BlindIndexer {
        &self.blind_indexer
    }

    fn current(&self) -> (u32, &SecretKey) {
        let (version, key) =
            self.keks.last_key_value().expect("a keyring always holds at least one KEK (checked in Keyring::new)");
        (*version, key)
    }

    fn wrap_under_current(&self, record_id: &[u8; 16], data_key: &DataKey) -> WrappedKey {
        let (version, kek) = self.current();
        WrappedKey {
            kek_version: version,
            bytes: aead::seal(kek, &data_key_aad(record_id, version), data_key.0.expose()),
        }
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("versions", &self.versions()).finish_non_exhaustive()
    }
}

impl DataKey {
    /// Seals one field of this key's record, bound to `(record_id, field_id)`.
    pub fn seal_field(&self, record_id: &[u8; 16], field_id: &str, plaintext: &[u8]) -> Vec<u8> {
        aead::seal(&self.0, &field_aad(record_id, field_id), plaintext)
    }

    /// Opens a field sealed by [`DataKey::seal_field`] for the same record and field.
    pub fn open_field(
        &self,
        record_id: &[u8; 16],
        field_id: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        aead::open(&self.0, &field_aad(record_id, field_id), sealed)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey").field("kek_version", &self.kek_version).field("len", &self.bytes.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: [u8; 16] = [7; 16];
    const OTHER_RECORD: [u8; 16] = [8; 16];

    fn keyring() -> Keyring {
        Keyring::new(vec![(1, SecretKey::generate())], SecretKey::generate()).unwrap()
    }

    #[test]
    fn new_refuses_empty_and_duplicates() {
        assert!(matches!(Keyring::new(vec![], SecretKey::generate()), Err(CryptoError::InvalidKeyMaterial(_))));
        let dup = vec![(1, SecretKey::generate()), (1, SecretKey::generate())];
        assert!(matches!(Keyring::new(dup, SecretKey::generate()), Err(CryptoError::InvalidKeyMaterial(_))));
    }

    #[test]
    fn current_is_highest_version() {
        let keks = vec![(3, SecretKey::generate()), (1, SecretKey::generate()), (2, SecretKey::generate())];
        let ring = Keyring::new(keks, SecretKey::generate()).unwrap();
        assert_eq!(ring.current_version(), 3);
        assert_eq!(ring.versions(), vec![1, 2, 3]);
        assert_eq!(ring.new_data_key(&RECORD).1.kek_version, 3);
    }

    #[test]
    fn data_key_round_trip_and_field_sealing() {
        let ring = keyring();
        let (key, wrapped) = ring.new_data_key(&RECORD);
        let sealed = key.seal_field(&RECORD, "email", b"alice@example.org");
        let unwrapped = ring.unwrap_data_key(&RECORD, &wrapped).unwrap();
        assert_eq!(unwrapped.open_field(&RECORD, "email", &sealed).unwrap().as_slice(), b"alice@example.org");
    }

    #[test]
    fn field_fails_under_other_record_field_or_key() {
        let ring = keyring();
        let (key, _) = ring.new_data_key(&RECORD);
        let sealed = key.seal_field(&RECORD, "email", b"x");
        assert!(matches!(key.open_field(&OTHER_RECORD, "email", &sealed), Err(CryptoError::Decrypt)));
        assert!(matches!(key.open_field(&RECORD, "phone", &sealed), Err(CryptoError::Decrypt)));
        let (other_key, _) = ring.new_data_key(&RECORD);
        assert!(matches!(other_key.open_field(&RECORD, "email", &sealed), Err(CryptoError::Decrypt)));
        assert!(matches!(key.open_field(&RECORD, "email", &[]), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn wrapped_key_fails_under_other_record() {
        let ring = keyring();
        let (_, wrapped) = ring.new_data_key(&RECORD);
        assert!(matches!(ring.unwrap_data_key(&OTHER_RECORD, &wrapped), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn wrapped_key_fails_when_claimed_version_changes() {
        let mut ring = keyring();
        let (_, wrapped) = ring.new_data_key(&RECORD);
        ring.add_kek(2, SecretKey::generate()).unwrap();
        let relabelled = WrappedKey { kek_version: 2, ..wrapped.clone() };
        assert!(matches!(ring.unwrap_data_key(&RECORD, &relabelled), Err(CryptoError::Decrypt)));
        let unknown = WrappedKey { kek_version: 9, ..wrapped };
        assert!(matches!(ring.unwrap_data_key(&RECORD, &unknown), Err(CryptoError::UnknownKekVersion(9))));
    }

    #[test]
    fn same_kek_under_two_versions_still_binds_the_version() {
        // Even if two versions held the same key bytes, the version in the AAD would refuse
        // a relabelled wrapped key.
        let kek = SecretKey::from_bytes([5; 32]);
        let ring = Keyring::new(vec![(1, kek.clone()), (2, kek)], SecretKey::generate()).unwrap();
        let (_, wrapped) = ring.new_data_key(&RECORD);
        assert_eq!(wrapped.kek_version, 2);
        let relabelled = WrappedKey { kek_version: 1, ..wrapped };
        assert!(matches!(ring.unwrap_data_key(&RECORD, &relabelled), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn rotation_rewraps_and_old_still_unwraps() {
        let mut ring = keyring();
        let (key, old) = ring.new_data_key(&RECORD);
        let sealed = key.seal_field(&RECORD, "name", b"Alice");

        ring.add_kek(2, SecretKey::generate()).unwrap();
        assert_eq!(ring.current_version(), 2);
        let new = ring.rewrap(&RECORD, &old).unwrap();
        assert_eq!(new.kek_version, 2);
        assert_ne!(new.bytes, old.bytes);

        for wrapped in [&old, &new] {
            let key = ring.unwrap_data_key(&RECORD, wrapped).unwrap();
            assert_eq!(key.open_field(&RECORD, "name", &sealed).unwrap().as_slice(), b"Alice");
        }
        // Already current: returned as is.
        assert_eq!(ring.rewrap(&RECORD, &new).unwrap(), new);
        // Damaged input is reported, not silently passed through.
        let mut damaged = new.clone();
        damaged.bytes[20] ^= 1;
        assert!(matches!(ring.rewrap(&RECORD, &damaged), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn add_kek_must_be_newer() {
        let mut ring = keyring();
        assert!(matches!(
            ring.add_kek(1, SecretKey::generate()),
            Err(CryptoError::KekVersionNotNewer { version: 1, current: 1 })
        ));
        assert!(matches!(ring.add_kek(0, SecretKey::generate()), Err(CryptoError::KekVersionNotNewer { .. })));
        ring.add_kek(5, SecretKey::generate()).unwrap();
        assert_eq!(ring.versions(), vec![1, 5]);
    }

    #[test]
    fn debug_prints_nothing_secret() {
        let ring = keyring();
        let (key, wrapped) = ring.new_data_key(&RECORD);
        assert_eq!(format!("{key:?}"), "DataKey(…)");
        assert_eq!(format!("{ring:?}"), "Keyring { versions: [1], .. }");
        assert_eq!(format!("{wrapped:?}"), format!("WrappedKey {{ kek_version: 1, len: {} }}", 32 + aead::OVERHEAD));
    }
}
