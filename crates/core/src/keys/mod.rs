//! The key hierarchy at run time: the root key stays in its provider; key-encryption keys
//! (KEKs, versioned), the blind-index key and the audit signing key are stored wrapped by it
//! and unwrapped into memory at start; each record's data key is wrapped by a KEK.
//! See docs/KEYS.md.

mod rotation;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tutela_crypto::chain::CheckpointSigner;
use tutela_crypto::context::root_wrap_aad;
use tutela_crypto::keyring::{DataKey, Keyring, WrappedKey};
use tutela_crypto::provider::RootKeyProvider;
use tutela_crypto::secret::SecretKey;
use tutela_store::{Mutation, Store, StoredKey};

use crate::audit::Signer;
use crate::clock::Clock;
use crate::{CoreError, CoreResult};

pub use rotation::RotationReport;

pub const KEK: &str = "kek";
pub const BLIND_INDEX: &str = "blind-index";
pub const AUDIT_SIGNING: &str = "audit-signing";

/// The unwrapped keyring, reloaded when a record names a KEK version this node has not seen
/// (another node or the CLI rotated meanwhile).
pub struct Keys {
    store: Arc<dyn Store>,
    provider: Arc<dyn RootKeyProvider>,
    keyring: RwLock<Keyring>,
}

/// What opening the keys yields besides the keyring itself.
pub struct OpenedKeys {
    pub keys: Keys,
    pub signer: Signer,
    /// Checkpoint public keys by version, for `audit verify`.
    pub audit_public_keys: HashMap<u32, [u8; 32]>,
    /// True when this call created the key hierarchy (a new installation).
    pub created: bool,
}

impl Keys {
    /// Unwraps the stored keys with the root key, creating the hierarchy on first use.
    pub async fn open(
        store: Arc<dyn Store>,
        provider: Arc<dyn RootKeyProvider>,
        clock: &dyn Clock,
    ) -> CoreResult<OpenedKeys> {
        let mut stored = store.keys_list().await?;
        let created = stored.is_empty();
        if created {
            stored = create_hierarchy(store.as_ref(), provider.as_ref(), clock).await?;
        }
        let keyring = unwrap_keyring(provider.as_ref(), &stored)?;
        let (signer, audit_public_keys) = unwrap_signers(provider.as_ref(), &stored)?;
        Ok(OpenedKeys {
            keys: Keys { store, provider, keyring: RwLock::new(keyring) },
            signer,
            audit_public_keys,
            created,
        })
    }

    pub fn current_version(&self) -> u32 {
        self.read().current_version()
    }

    pub fn versions(&self) -> Vec<u32> {
        self.read().versions()
    }

    pub fn new_data_key(&self, record_id: &[u8; 16]) -> (DataKey, WrappedKey) {
        self.read().new_data_key(record_id)
    }

    /// Unwraps a record's data key, reloading the keyring once if the version is new here.
    pub async fn data_key(&self, record_id: &[u8; 16], wrapped: &WrappedKey) -> CoreResult<DataKey> {
        if !self.read().versions().contains(&wrapped.kek_version) {
            self.reload().await?;
        }
        Ok(self.read().unwrap_data_key(record_id, wrapped)?)
    }

    pub fn blind_index(&self, field_id: &str, normalised: &str) -> u32 {
        self.read().blind_indexer().index(field_id, normalised)
    }

    pub(crate) fn rewrap(&self, record_id: &[u8; 16], wrapped: &WrappedKey) -> CoreResult<WrappedKey> {
        Ok(self.read().rewrap(record_id, wrapped)?)
    }

    async fn reload(&self) -> CoreResult<()> {
        let stored = self.store.keys_list().await?;
        let fresh = unwrap_keyring(self.provider.as_ref(), &stored)?;
        *self.keyring.write().expect("keyring lock") = fresh;
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keyring> {
        self.keyring.read().expect("keyring lock")
    }

    fn wrap_new(&self, purpose: &str, version: u32, clock: &dyn Clock) -> CoreResult<(SecretKey, StoredKey)> {
        wrap_new(self.provider.as_ref(), purpose, version, clock)
    }
}

fn wrap_new(
    provider: &dyn RootKeyProvider,
    purpose: &str,
    version: u32,
    clock: &dyn Clock,
) -> CoreResult<(SecretKey, StoredKey)> {
    let key = SecretKey::generate();
    let wrapped = provider.wrap(&root_wrap_aad(purpose, version), &key)?;
    Ok((key, StoredKey { purpose: purpose.to_owned(), version, wrapped, created_at: clock.now() }))
}

async fn create_hierarchy(
    store: &dyn Store,
    provider: &dyn RootKeyProvider,
    clock: &dyn Clock,
) -> CoreResult<Vec<StoredKey>> {
    let mut stored = Vec::new();
    for purpose in [KEK, BLIND_INDEX, AUDIT_SIGNING] {
        stored.push(wrap_new(provider, purpose, 1, clock)?.1);
    }
    // The audit log cannot run before its signing key exists; its creation is recorded as
    // the first event once the log starts (see `Tutela::open`).
    let mut tx = store.begin_write().await?;
    for key in &stored {
        tx.apply(&Mutation::InsertKey(key.clone())).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

fn unwrap_one(provider: &dyn RootKeyProvider, key: &StoredKey) -> CoreResult<SecretKey> {
    provider.unwrap(&root_wrap_aad(&key.purpose, key.version), &key.wrapped).map_err(|e| match e {
        tutela_crypto::CryptoError::WrongRootKey => CoreError::Unauthenticated(
            "the root key does not open this installation's keys (wrong key file or passphrase)".into(),
        ),
        other => other.into(),
    })
}

fn unwrap_keyring(provider: &dyn RootKeyProvider, stored: &[StoredKey]) -> CoreResult<Keyring> {
    let mut keks = Vec::new();
    let mut blind = None;
    for key in stored {
        match key.purpose.as_str() {
            KEK => keks.push((key.version, unwrap_one(provider, key)?)),
            BLIND_INDEX => blind = Some(unwrap_one(provider, key)?),
            _ => {}
        }
    }
    let blind = blind.ok_or_else(|| CoreError::Internal("the blind-index key is missing".into()))?;
    Ok(Keyring::new(keks, blind)?)
}

fn unwrap_signers(
    provider: &dyn RootKeyProvider,
    stored: &[StoredKey],
) -> CoreResult<(Signer, HashMap<u32, [u8; 32]>)> {
    let mut public = HashMap::new();
    let mut newest = None;
    for key in stored.iter().filter(|k| k.purpose == AUDIT_SIGNING) {
        let signer = CheckpointSigner::from_seed(&unwrap_one(provider, key)?)?;
        public.insert(key.version, signer.public_key());
        newest = Some(Signer { version: key.version, key: signer });
    }
    let signer = newest.ok_or_else(|| CoreError::Internal("the audit signing key is missing".into()))?;
    Ok((signer, public))
}
