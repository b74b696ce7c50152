use time::OffsetDateTime;

/// A key wrapped by the root key: a key-encryption key version, the blind-index key or the
/// audit signing key. Only ciphertext is stored; the root key never is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// `kek`, `blind-index` or `audit-signing`.
    pub purpose: String,
    pub version: u32,
    pub wrapped: Vec<u8>,
    pub created_at: OffsetDateTime,
}
