//! The `[oidc]` settings turned into single sign-on: the provider (crate `tutela-oidc`) and
//! the sign-in policy. The client secret comes from a file or `TUTELA_OIDC_CLIENT_SECRET`,
//! never from the configuration file itself, and is never logged.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;
use tutela_core::identity::{SsoConfig, SsoPolicy};
use tutela_oidc::{OidcProvider, OidcSettings};

use crate::config::{Config, OidcConfig};

/// The environment variable that may hold the client secret instead of a file.
pub const SECRET_ENV: &str = "TUTELA_OIDC_CLIENT_SECRET";

/// Where the provider sends the browser back: the console's callback at its public URL.
pub fn redirect_url(config: &Config) -> String {
    format!("{}/login/sso/callback", crate::open::console_url(config).trim_end_matches('/'))
}

fn client_secret(oidc: &OidcConfig) -> anyhow::Result<Option<SecretString>> {
    if let Some(file) = &oidc.client_secret_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("oidc.client_secret_file: reading {}", file.display()))?;
        let secret = text.trim_end_matches(['\n', '\r']);
        anyhow::ensure!(!secret.is_empty(), "oidc.client_secret_file: {} is empty", file.display());
        return Ok(Some(SecretString::from(secret.to_owned())));
    }
    Ok(std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()).map(SecretString::from))
}

/// Single sign-on as configured, or `None` when `oidc.enabled` is false. Nothing is fetched
/// from the provider here: Tutela starts while it is down.
pub fn sso_config(config: &Config) -> anyhow::Result<Option<SsoConfig>> {
    let oidc = &config.oidc;
    if !oidc.enabled {
        return Ok(None);
    }
    let settings = OidcSettings {
        issuer: oidc.issuer.trim().to_owned(),
        client_id: oidc.client_id.trim().to_owned(),
        client_secret: client_secret(oidc)?,
        redirect_url: redirect_url(config),
        scopes: oidc.scopes.clone(),
        groups_claim: oidc.groups_claim.clone(),
        timeout: Duration::from_secs(oidc.timeout_seconds),
    };
    let provider = OidcProvider::new(settings)?;
    let policy = SsoPolicy {
        group_roles: oidc.group_roles.clone(),
        unknown_users: oidc.unknown_users,
        link_by_email: oidc.link_by_email,
        mfa_amr: oidc.mfa_amr.clone(),
        mfa_acr: oidc.mfa_acr.clone(),
    };
    Ok(Some(SsoConfig { provider: Arc::new(provider), policy }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_follows_the_public_url() {
        let mut config = Config::default();
        assert_eq!(redirect_url(&config), "https://localhost:8443/login/sso/callback");
        config.server.public_url = Some("https://tutela.example.com/".into());
        assert_eq!(redirect_url(&config), "https://tutela.example.com/login/sso/callback");
    }

    #[test]
    fn enabled_single_sign_on_needs_an_issuer() {
        let mut config = Config::default();
        assert!(sso_config(&config).unwrap().is_none(), "off by default");
        config.oidc.enabled = true;
        let e = sso_config(&config).unwrap_err().to_string();
        assert!(e.starts_with("oidc.issuer:"), "{e}");
        config.oidc.issuer = "https://idp.example.com".into();
        config.oidc.client_id = "tutela".into();
        assert!(sso_config(&config).unwrap().is_some());
    }
}
