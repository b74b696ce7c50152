//! Opening an installation from its configuration: the store (SQLite or PostgreSQL by URL),
//! the root-key provider, and the domain handle.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use secrecy::SecretString;
use tutela_core::clock::SystemClock;
use tutela_core::identity::RelyingParty;
use tutela_core::{Config as CoreConfig, Tutela};
use tutela_crypto::password::PasswordHasher;
use tutela_crypto::provider::{KeyFileProvider, PassphraseProvider, RootKeyProvider};
use tutela_store::Store;
use tutela_store_postgres::PgStore;
use tutela_store_sqlite::SqliteStore;

use crate::config::Config;

/// Creates `dir` (and parents) readable by the owner only.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url.trim();
    if url.is_empty() || url.starts_with("sqlite:") {
        let path = match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(p) if !p.is_empty() => Path::new(p).to_path_buf(),
            _ => config.data_dir.join("tutela.db"),
        };
        if let Some(parent) = path.parent() {
            private_dir(parent)?;
        }
        let store =
            SqliteStore::open(&path).await.with_context(|| format!("opening SQLite database {}", path.display()))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await.context("connecting to PostgreSQL")?))
    } else {
        anyhow::bail!(
            "--database-url: use postgres://… or sqlite:PATH (or leave it empty for SQLite in the data directory)"
        )
    }
}

/// The root key provider. `create` allows making a new key file (first start only).
pub fn open_provider(config: &Config, create: bool) -> anyhow::Result<Arc<dyn RootKeyProvider>> {
    match config.keys.provider.as_str() {
        "file" => {
            let path = config.key_file();
            let provider = if create {
                if let Some(parent) = path.parent() {
                    private_dir(parent)?;
                }
                KeyFileProvider::open_or_create(&path)
            } else {
                KeyFileProvider::open(&path)
            };
            Ok(Arc::new(provider.with_context(|| format!("root key file {}", path.display()))?))
        }
        "passphrase" => {
            let file = config
                .keys
                .passphrase_file
                .as_ref()
                .context("keys.passphrase_file must name the file holding the passphrase")?;
            let passphrase = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let passphrase = SecretString::from(passphrase.trim_end_matches(['\n', '\r']).to_owned());
            let salt_path = config.data_dir.join("keys").join("root.salt");
            let salt = match std::fs::read(&salt_path) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    private_dir(salt_path.parent().expect("a parent"))?;
                    let salt = PassphraseProvider::new_salt().to_vec();
                    std::fs::write(&salt_path, &salt).with_context(|| format!("writing {}", salt_path.display()))?;
                    salt
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("reading {}", salt_path.display()));
                }
            };
            Ok(Arc::new(PassphraseProvider::derive(&passphrase, &salt)?))
        }
        other => anyhow::bail!("keys.provider: unknown provider {other:?}; use file or passphrase"),
    }
}

pub async fn open_tutela(config: &Config, create: bool) -> anyhow::Result<Arc<Tutela>> {
    private_dir(&config.data_dir)?;
    let store = open_store(config).await?;
    let provider = open_provider(config, create)?;
    let core = CoreConfig {
        session_idle: time::Duration::minutes(i64::from(config.session.idle_minutes)),
        session_absolute: time::Duration::hours(i64::from(config.session.absolute_hours)),
        password_min_length: config.password.min_length,
        relying_party: relying_party(config),
        sso: crate::sso::sso_config(config)?,
        notify: crate::notify::notify_config(config)?,
        ..CoreConfig::default()
    };
    let tutela = Tutela::open(store, provider, Arc::new(SystemClock), PasswordHasher::new(), core).await?;
    Ok(Arc::new(tutela))
}

/// The console's address: `server.public_url`, or the console on this machine as `localhost`.
pub fn console_url(config: &Config) -> String {
    config.server.public_url.clone().unwrap_or_else(|| {
        let scheme = if config.server.insecure_http { "http" } else { "https" };
        format!("{scheme}://localhost:{}", config.server.listen.port())
    })
}

/// Where passkeys are bound: `server.public_url`, or without one the console on this machine
/// as `localhost` (WebAuthn refuses IP addresses). A public URL passkeys cannot use (an IP
/// address, plain http elsewhere than localhost) turns them off, with a warning, rather than
/// keeping the server from starting.
pub fn relying_party(config: &Config) -> Option<RelyingParty> {
    match RelyingParty::for_url(&console_url(config), "server.public_url") {
        Ok(rp) => Some(rp),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_follow_the_public_url() {
        let mut config = Config::default();
        let rp = relying_party(&config).expect("localhost by default");
        assert_eq!((rp.id.as_str(), rp.origin.as_str()), ("localhost", "https://localhost:8443"));
        config.server.insecure_http = true;
        config.server.listen = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(relying_party(&config).unwrap().origin, "http://localhost:8080");
        config.server.public_url = Some("https://tutela.example.com".into());
        assert_eq!(relying_party(&config).unwrap().id, "tutela.example.com");
        config.server.public_url = Some("https://10.0.0.5:8443".into());
        assert!(relying_party(&config).is_none(), "an IP address turns passkeys off");
    }
}
