//! Associated data for [`crate::aead`]: what a ciphertext is *for*.
//!
//! AES-GCM authenticates the associated data, so binding a ciphertext to its purpose and
//! location means a database attacker cannot move sealed values around — swap two customers'
//! fields, move a data key to another record, or pass a blind-index key off as a KEK — without
//! the open failing.
//!
//! Encoding: a sequence of parts, each prefixed by its length as a big-endian `u64`. The
//! first part is a domain-separation label unique to the purpose. Length prefixes make the
//! encoding injective: no two different inputs (of the same or of different purposes) produce
//! the same bytes, whatever characters a field id or label contains.

/// Label of [`field_aad`].
const FIELD_DOMAIN: &str = "tutela/field/v1";
/// Label of [`data_key_aad`].
const DATA_KEY_DOMAIN: &str = "tutela/data-key/v1";
/// Label of [`root_wrap_aad`].
const ROOT_WRAP_DOMAIN: &str = "tutela/root-wrap/v1";

/// Context of one field of one record, sealed under that record's data key.
pub fn field_aad(record_id: &[u8; 16], field_id: &str) -> Vec<u8> {
    Encoder::new(FIELD_DOMAIN).part(record_id).part(field_id.as_bytes()).finish()
}

/// Context of a record's data key wrapped under key-encryption key `kek_version`. Including
/// the version means a wrapped key whose version column was altered no longer opens.
pub fn data_key_aad(record_id: &[u8; 16], kek_version: u32) -> Vec<u8> {
    Encoder::new(DATA_KEY_DOMAIN).part(record_id).part(&kek_version.to_be_bytes()).finish()
}

/// Context of a key wrapped by the root key: `label` names its purpose (`"kek"`,
/// `"blind-index"`, `"audit-signing"`), `version` its generation.
pub fn root_wrap_aad(label: &str, version: u32) -> Vec<u8> {
    Encoder::new(ROOT_WRAP_DOMAIN).part(label.as_bytes()).part(&version.to_be_bytes()).finish()
}

/// Length-prefixed concatenation.
struct Encoder(Vec<u8>);

impl Encoder {
    fn new(domain: &str) -> Self {
        Self(Vec::with_capacity(96)).part(domain.as_bytes())
    }

    fn part(mut self, bytes: &[u8]) -> Self {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: [u8; 16] = [1; 16];
    const R2: [u8; 16] = [2; 16];

    #[test]
    fn field_aad_depends_on_record_and_field() {
        assert_eq!(field_aad(&R1, "email"), field_aad(&R1, "email"));
        assert_ne!(field_aad(&R1, "email"), field_aad(&R2, "email"));
        assert_ne!(field_aad(&R1, "email"), field_aad(&R1, "phone"));
    }

    #[test]
    fn data_key_aad_depends_on_record_and_version() {
        assert_ne!(data_key_aad(&R1, 1), data_key_aad(&R2, 1));
        assert_ne!(data_key_aad(&R1, 1), data_key_aad(&R1, 2));
    }

    #[test]
    fn root_wrap_aad_depends_on_label_and_version() {
        assert_ne!(root_wrap_aad("kek", 1), root_wrap_aad("blind-index", 1));
        assert_ne!(root_wrap_aad("kek", 1), root_wrap_aad("kek", 2));
    }

    #[test]
    fn purposes_never_collide() {
        // Same raw inputs through different builders must differ (domain separation).
        let as_label = std::str::from_utf8(&R1).unwrap();
        assert_ne!(root_wrap_aad(as_label, 1), data_key_aad(&R1, 1));
        assert_ne!(field_aad(&R1, "\0\0\0\x01"), data_key_aad(&R1, 1));
    }

    #[test]
    fn encoding_is_length_prefixed() {
        let aad = root_wrap_aad("kek", 7);
        let mut expected = Vec::new();
        for part in [ROOT_WRAP_DOMAIN.as_bytes(), b"kek", &7u32.to_be_bytes()] {
            expected.extend_from_slice(&(part.len() as u64).to_be_bytes());
            expected.extend_from_slice(part);
        }
        assert_eq!(aad, expected);
    }
}
