//! Configuration: defaults, then `tutela.toml`, then `TUTELA_*` environment variables, then
//! flags, in rising precedence. Secrets are read from files, never from the command line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tutela_core::identity::UnknownUsers;
use tutela_core::notify::SmtpSecurity;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Empty: SQLite in the data directory. `postgres://…` for PostgreSQL.
    pub database_url: String,
    pub server: ServerConfig,
    pub session: SessionConfig,
    pub password: PasswordConfig,
    pub keys: KeysConfig,
    pub oidc: OidcConfig,
    /// E-mail for notices; absent: notices stay in the console's inbox.
    pub smtp: Option<SmtpConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// PEM files; when absent a self-signed certificate is made in the data directory.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Plain HTTP, refused unless `listen` is a loopback address.
    pub insecure_http: bool,
    /// Prometheus metrics on their own listener; empty string disables.
    pub metrics_listen: Option<SocketAddr>,
    /// The URL people use to reach the console: for the setup link, and the origin and
    /// relying-party id (its domain) that passkeys are bound to.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    pub idle_minutes: u32,
    pub absolute_hours: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfig {
    /// The shortest password accepted, in characters (8 to 64; checked when Tutela opens).
    pub min_length: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// `file` (a 32-byte key file, default) or `passphrase` (Argon2id over a passphrase file).
    pub provider: String,
    /// Default: `<data_dir>/keys/root.key`.
    pub key_file: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
}

/// Single sign-on with an OpenID provider (see `tutela.toml.example`, which explains each key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub enabled: bool,
    pub issuer: String,
    pub client_id: String,
    /// A file holding the client secret (else `TUTELA_OIDC_CLIENT_SECRET`; neither: a
    /// public client, PKCE alone).
    pub client_secret_file: Option<PathBuf>,
    pub scopes: Vec<String>,
    pub groups_claim: String,
    pub group_roles: BTreeMap<String, Vec<String>>,
    pub unknown_users: UnknownUsers,
    pub link_by_email: bool,
    pub mfa_amr: Vec<String>,
    pub mfa_acr: Vec<String>,
    pub timeout_seconds: u64,
}

/// The SMTP server notices are e-mailed through (see `tutela.toml.example`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls`, or `none` (only to a relay on loopback).
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// A file holding the password (else `TUTELA_SMTP_PASSWORD`).
    pub password_file: Option<PathBuf>,
    pub from: String,
    pub timeout_seconds: u64,
    /// PEM certificates to trust besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// Attempts of one delivery before it is given up.
    pub max_attempts: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: None,
            password_file: None,
            from: String::new(),
            timeout_seconds: 10,
            ca_file: None,
            max_attempts: 8,
        }
    }
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            issuer: String::new(),
            client_id: String::new(),
            client_secret_file: None,
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            groups_claim: "groups".into(),
            group_roles: BTreeMap::new(),
            unknown_users: UnknownUsers::Refuse,
            link_by_email: false,
            mfa_amr: Vec::new(),
            mfa_acr: Vec::new(),
            timeout_seconds: 10,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./tutela-data"),
            database_url: String::new(),
            server: ServerConfig {
                listen: "127.0.0.1:8443".parse().expect("a valid default address"),
                tls_cert: None,
                tls_key: None,
                insecure_http: false,
                metrics_listen: Some("127.0.0.1:9464".parse().expect("a valid default address")),
                public_url: None,
            },
            session: SessionConfig { idle_minutes: 30, absolute_hours: 12 },
            password: PasswordConfig { min_length: 12 },
            keys: KeysConfig { provider: "file".into(), key_file: None, passphrase_file: None },
            oidc: OidcConfig::default(),
            smtp: None,
        }
    }
}

/// Whether an environment key (after the `TUTELA_` prefix) names a configuration setting.
fn is_config_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["data_dir", "database_url"].contains(&key.as_str())
        || ["server__", "session__", "password__", "keys__", "oidc__", "smtp__"]
            .iter()
            .any(|section| key.starts_with(section))
}

impl Config {
    /// Layers the sources. The file is `--config`, else `<data dir>/tutela.toml` if present.
    pub fn load(
        config_file: Option<&Path>,
        data_dir: Option<&Path>,
        database_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let dir = data_dir.map_or_else(|| Config::default().data_dir, Path::to_path_buf);
        let file = config_file.map_or_else(|| dir.join("tutela.toml"), Path::to_path_buf);
        if config_file.is_some() && !file.exists() {
            anyhow::bail!("config file {} does not exist", file.display());
        }
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(
                Env::prefixed("TUTELA_")
                    // Other TUTELA_* variables (TUTELA_LOG, TUTELA_TOKEN_FILE, test settings)
                    // belong to other readers; only the configuration's own keys are taken.
                    .filter(|key| is_config_key(key.as_str()))
                    .split("__"),
            )
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if let Some(dir) = data_dir {
            config.data_dir = dir.to_path_buf();
        }
        if let Some(url) = database_url {
            url.clone_into(&mut config.database_url);
        }
        Ok(config)
    }

    pub fn key_file(&self) -> PathBuf {
        self.keys.key_file.clone().unwrap_or_else(|| self.data_dir.join("keys").join("root.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample configuration is the reference: it must load, and say the defaults.
    #[test]
    fn the_sample_config_loads_with_the_defaults() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tutela.toml.example");
        let loaded = Config::load(Some(&sample), None, None).unwrap();
        let default = Config::default();
        assert_eq!(loaded.password.min_length, default.password.min_length);
        assert_eq!(loaded.session.idle_minutes, default.session.idle_minutes);
        assert_eq!(loaded.keys.provider, default.keys.provider);
        let (oidc, default_oidc) = (&loaded.oidc, &default.oidc);
        assert_eq!(
            (oidc.enabled, &oidc.scopes, &oidc.groups_claim),
            (false, &default_oidc.scopes, &default_oidc.groups_claim)
        );
        assert_eq!((oidc.unknown_users, oidc.link_by_email), (default_oidc.unknown_users, default_oidc.link_by_email));
        assert_eq!((&oidc.mfa_amr, oidc.timeout_seconds), (&default_oidc.mfa_amr, default_oidc.timeout_seconds));
    }
}
