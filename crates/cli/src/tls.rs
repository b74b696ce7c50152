//! The first certificate: self-signed for localhost, made once in the data directory, so
//! that a fresh installation serves HTTPS from its first start.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tutela_web::TlsFiles;

pub fn self_signed(data_dir: &Path) -> anyhow::Result<TlsFiles> {
    let dir = data_dir.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok(TlsFiles { cert, key });
    }
    crate::open::private_dir(&dir)?;
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
    write_private(&key, generated.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, generated.cert.pem()).with_context(|| format!("writing {}", cert.display()))?;
    tracing::info!(cert = %cert.display(), "made a self-signed certificate for localhost");
    Ok(TlsFiles { cert, key })
}

fn write_private(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("writing {}", path.display()))
}
