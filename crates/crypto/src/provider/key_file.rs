//! Root key stored as 32 raw bytes in a file readable by its owner only.

use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{RootKeyProvider, unwrap_under, wrap_under};
use crate::CryptoError;
use crate::secret::SecretKey;

/// Mode of a new key file: owner read/write only.
const FILE_MODE: u32 = 0o600;
/// Mode of a key directory that this provider creates: owner only.
const DIR_MODE: u32 = 0o700;
/// Permission bits that must be clear on an existing key file: any access by group or others.
const GROUP_OTHER_BITS: u32 = 0o077;

/// Root key held in a file of exactly 32 random bytes.
///
/// The file is the single most sensitive artefact of an installation: whoever reads it (and
/// the database) reads every record; whoever loses it loses every record. So it is created
/// atomically with mode 0600, flushed to disk before use, and refused when group or others
/// can access it.
pub struct KeyFileProvider {
    path: PathBuf,
    root: SecretKey,
}

impl KeyFileProvider {
    /// Opens the key file at `path`, or creates it with a fresh random key if it does not
    /// exist (creating a missing parent directory with mode 0700).
    ///
    /// Creation uses `O_CREAT|O_EXCL`, so a file that appears concurrently is opened, never
    /// overwritten.
    pub fn open_or_create(path: &Path) -> Result<Self, CryptoError> {
        create_parent_dir(path).map_err(|source| key_file_error(path, source))?;
        match create_key_file(path) {
            Ok(root) => Ok(Self { path: path.to_owned(), root }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Self::open(path),
            Err(source) => Err(key_file_error(path, source)),
        }
    }

    /// Opens an existing key file; never creates one.
    ///
    /// Refuses a file whose mode grants any access to group or others
    /// ([`CryptoError::KeyFilePermissions`]), a non-regular file, and a file that does not
    /// hold exactly 32 bytes.
    pub fn open(path: &Path) -> Result<Self, CryptoError> {
        let mut file = File::open(path).map_err(|source| key_file_error(path, source))?;
        // Check the opened file itself (fstat), not the path, so the file checked is the file read.
        let metadata = file.metadata().map_err(|source| key_file_error(path, source))?;
        if !metadata.is_file() {
            return Err(key_file_error(path, io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")));
        }
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & GROUP_OTHER_BITS != 0 {
            return Err(CryptoError::KeyFilePermissions { path: path.to_owned(), mode });
        }
        let root = read_key(&mut file).map_err(|e| match e {
            ReadKeyError::Io(source) => key_file_error(path, source),
            ReadKeyError::WrongLength => CryptoError::InvalidKeyMaterial("the key file must hold exactly 32 bytes"),
        })?;
        Ok(Self { path: path.to_owned(), root })
    }

    /// The path of the key file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RootKeyProvider for KeyFileProvider {
    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }

    fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
        Ok(wrap_under(&self.root, aad, key))
    }

    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        unwrap_under(&self.root, aad, wrapped)
    }
}

impl fmt::Debug for KeyFileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFileProvider").field("path", &self.path).finish_non_exhaustive()
    }
}

fn key_file_error(path: &Path, source: io::Error) -> CryptoError {
    CryptoError::KeyFile { path: path.to_owned(), source }
}

fn create_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            DirBuilder::new().recursive(true).mode(DIR_MODE).create(parent)
        }
        _ => Ok(()),
    }
}

/// Creates the file exclusively, writes a fresh key and makes both durable. On a write
/// failure the half-written file is removed, so a later start does not find a short key.
fn create_key_file(path: &Path) -> io::Result<SecretKey> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)?;
    let root = SecretKey::generate();
    if let Err(e) = file.write_all(root.expose()).and_then(|()| file.sync_all()) {
        drop(file);
        // Best effort: the write error is the one worth reporting.
        let _ = fs::remove_file(path);
        return Err(e);
    }
    sync_parent_dir(path)?;
    Ok(root)
}

/// Flushes the directory entry, so that a crash right after the first keys are wrapped
/// cannot leave wrapped keys in the database and no key file on disk.
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => File::open(parent)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

enum ReadKeyError {
    Io(io::Error),
    WrongLength,
}

/// Reads exactly 32 bytes and checks that nothing follows.
fn read_key(file: &mut File) -> Result<SecretKey, ReadKeyError> {
    let root = SecretKey::try_fill(|bytes| match file.read_exact(bytes) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ReadKeyError::WrongLength),
        Err(e) => Err(ReadKeyError::Io(e)),
    })?;
    let mut extra = [0u8; 1];
    match file.read(&mut extra) {
        Ok(0) => Ok(root),
        Ok(_) => Err(ReadKeyError::WrongLength),
        Err(e) => Err(ReadKeyError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::root_wrap_aad;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_file_with_0600_and_dir_with_0700() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/root.key");
        let provider = KeyFileProvider::open_or_create(&path).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(path.parent().unwrap()), 0o700);
        assert_eq!(fs::read(&path).unwrap().len(), 32);
        assert_eq!(provider.describe(), format!("key file {}", path.display()));
    }

    #[test]
    fn reopening_yields_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let first = KeyFileProvider::open_or_create(&path).unwrap();
        let key = SecretKey::generate();
        let aad = root_wrap_aad("kek", 1);
        let wrapped = first.wrap(&aad, &key).unwrap();

        let again = KeyFileProvider::open_or_create(&path).unwrap();
        assert_eq!(again.unwrap(&aad, &wrapped).unwrap().expose(), key.expose());
        let opened = KeyFileProvider::open(&path).unwrap();
        assert_eq!(opened.unwrap(&aad, &wrapped).unwrap().expose(), key.expose());
    }

    #[test]
    fn open_never_creates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.key");
        assert!(matches!(KeyFileProvider::open(&path), Err(CryptoError::KeyFile { .. })));
        assert!(!path.exists());
    }

    #[test]
    fn refuses_a_file_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        KeyFileProvider::open_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        for result in [KeyFileProvider::open(&path), KeyFileProvider::open_or_create(&path)] {
            match result {
                Err(CryptoError::KeyFilePermissions { mode, .. }) => assert_eq!(mode, 0o644),
                other => panic!("expected KeyFilePermissions, got {other:?}"),
            }
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
        assert!(matches!(KeyFileProvider::open(&path), Err(CryptoError::KeyFilePermissions { .. })));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(KeyFileProvider::open(&path).is_ok());
    }

    #[test]
    fn refuses_wrong_length() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 31, 33, 64] {
            let path = dir.path().join(format!("k{len}"));
            fs::write(&path, vec![1u8; len]).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            assert!(matches!(KeyFileProvider::open(&path), Err(CryptoError::InvalidKeyMaterial(_))));
        }
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(KeyFileProvider::open(dir.path()), Err(CryptoError::KeyFile { .. })));
    }

    #[test]
    fn another_key_file_is_the_wrong_root_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeyFileProvider::open_or_create(&dir.path().join("a")).unwrap();
        let b = KeyFileProvider::open_or_create(&dir.path().join("b")).unwrap();
        let aad = root_wrap_aad("kek", 1);
        let wrapped = a.wrap(&aad, &SecretKey::generate()).unwrap();
        assert!(matches!(b.unwrap(&aad, &wrapped), Err(CryptoError::WrongRootKey)));
        assert!(matches!(a.unwrap(&root_wrap_aad("kek", 2), &wrapped), Err(CryptoError::WrongRootKey)));
    }

    #[test]
    fn debug_shows_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let provider = KeyFileProvider::open_or_create(&path).unwrap();
        let printed = format!("{provider:?}");
        assert!(printed.contains("root.key"));
        assert!(!printed.contains("SecretKey"));
    }
}
