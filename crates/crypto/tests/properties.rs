//! Property tests of the sealing layer: what holds for every input, not just examples.

use proptest::prelude::*;
use tutela_crypto::aead;
use tutela_crypto::context::{data_key_aad, field_aad, root_wrap_aad};
use tutela_crypto::secret::SecretKey;
use tutela_crypto::{CryptoError, Keyring};

fn key_from(bytes: [u8; 32]) -> SecretKey {
    SecretKey::from_bytes(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn seal_then_open_returns_the_plaintext(
        key in any::<[u8; 32]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let key = key_from(key);
        let sealed = aead::seal(&key, &aad, &plaintext);
        prop_assert_eq!(sealed.len(), plaintext.len() + aead::OVERHEAD);
        let opened = aead::open(&key, &aad, &sealed).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
    }

    #[test]
    fn a_different_aad_never_opens(
        key in any::<[u8; 32]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        other in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        prop_assume!(aad != other);
        let key = key_from(key);
        let sealed = aead::seal(&key, &aad, &plaintext);
        prop_assert!(matches!(aead::open(&key, &other, &sealed), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn any_single_bit_flip_is_detected(
        plaintext in proptest::collection::vec(any::<u8>(), 0..128),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = SecretKey::generate();
        let mut sealed = aead::seal(&key, b"ctx", &plaintext);
        let at = position.index(sealed.len());
        sealed[at] ^= 1 << bit;
        prop_assert!(matches!(aead::open(&key, b"ctx", &sealed), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn arbitrary_input_never_panics_and_never_opens(
        garbage in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        prop_assert!(aead::open(&SecretKey::generate(), b"ctx", &garbage).is_err());
    }

    #[test]
    fn field_seal_is_bound_to_record_and_field(
        record in any::<[u8; 16]>(),
        other_record in any::<[u8; 16]>(),
        field in "[a-z_]{0,12}",
        other_field in "[a-z_]{0,12}",
        value in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let ring = Keyring::new(vec![(1, SecretKey::generate())], SecretKey::generate()).unwrap();
        let (data_key, wrapped) = ring.new_data_key(&record);
        let sealed = data_key.seal_field(&record, &field, &value);
        let reopened = ring.unwrap_data_key(&record, &wrapped).unwrap();
        let opened = reopened.open_field(&record, &field, &sealed).unwrap();
        prop_assert_eq!(opened.as_slice(), value.as_slice());
        if other_record != record {
            prop_assert!(reopened.open_field(&other_record, &field, &sealed).is_err());
            prop_assert!(ring.unwrap_data_key(&other_record, &wrapped).is_err());
        }
        if other_field != field {
            prop_assert!(reopened.open_field(&record, &other_field, &sealed).is_err());
        }
    }

    #[test]
    fn context_encodings_are_injective(
        record_a in any::<[u8; 16]>(),
        record_b in any::<[u8; 16]>(),
        field_a in ".{0,16}",
        field_b in ".{0,16}",
        version_a in any::<u32>(),
        version_b in any::<u32>(),
    ) {
        prop_assert_eq!(field_aad(&record_a, &field_a) == field_aad(&record_b, &field_b),
            record_a == record_b && field_a == field_b);
        prop_assert_eq!(data_key_aad(&record_a, version_a) == data_key_aad(&record_b, version_b),
            record_a == record_b && version_a == version_b);
        prop_assert_eq!(root_wrap_aad(&field_a, version_a) == root_wrap_aad(&field_b, version_b),
            field_a == field_b && version_a == version_b);
        // Different purposes never collide, whatever the inputs.
        prop_assert_ne!(field_aad(&record_a, &field_a), data_key_aad(&record_b, version_b));
        prop_assert_ne!(field_aad(&record_a, &field_a), root_wrap_aad(&field_b, version_b));
        prop_assert_ne!(data_key_aad(&record_a, version_a), root_wrap_aad(&field_b, version_b));
    }
}
