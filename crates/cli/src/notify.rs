//! The `[smtp]` section into the notifier's settings. The password comes from a file or
//! `TUTELA_SMTP_PASSWORD`, never from the configuration file itself or a flag.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;
use tutela_core::notify::{NotifyConfig, SmtpSettings};

use crate::config::{Config, SmtpConfig};

/// The environment variable that may hold the SMTP password instead of a file.
const PASSWORD_ENV: &str = "TUTELA_SMTP_PASSWORD";

fn password(smtp: &SmtpConfig) -> anyhow::Result<Option<SecretString>> {
    if let Some(file) = &smtp.password_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("smtp.password_file: reading {}", file.display()))?;
        let secret = text.trim_end_matches(['\n', '\r']);
        anyhow::ensure!(!secret.is_empty(), "smtp.password_file: {} is empty", file.display());
        return Ok(Some(SecretString::from(secret.to_owned())));
    }
    Ok(std::env::var(PASSWORD_ENV).ok().filter(|s| !s.is_empty()).map(SecretString::from))
}

/// The e-mail settings, when `[smtp]` is there.
pub fn smtp_settings(config: &Config) -> anyhow::Result<Option<SmtpSettings>> {
    let Some(smtp) = &config.smtp else { return Ok(None) };
    Ok(Some(SmtpSettings {
        host: smtp.host.clone(),
        port: smtp.port,
        security: smtp.security,
        username: smtp.username.clone(),
        password: password(smtp)?,
        from: smtp.from.clone(),
        timeout: Duration::from_secs(smtp.timeout_seconds),
        ca_file: smtp.ca_file.clone(),
    }))
}

pub fn notify_config(config: &Config) -> anyhow::Result<NotifyConfig> {
    Ok(NotifyConfig {
        smtp: smtp_settings(config)?,
        max_attempts: config.smtp.as_ref().map_or(NotifyConfig::default().max_attempts, |s| s.max_attempts),
        public_url: Some(crate::open::console_url(config)),
    })
}
