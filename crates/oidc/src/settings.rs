//! What the relying party is configured with, checked before anything is fetched.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer identifier; `<issuer>/.well-known/openid-configuration` is fetched.
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client (PKCE alone; most company providers issue a secret).
    pub client_secret: Option<SecretString>,
    /// Where the provider sends the browser back: the console's `/login/sso/callback`.
    pub redirect_url: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The claim that lists the person's groups.
    pub groups_claim: String,
    /// How long one request to the provider may take.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("oidc.{field}: {message}")]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An https URL, or plain http on this machine only (a provider or console under test).
fn checked_url(field: &'static str, text: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(text).map_err(|e| SettingsError::new(field, format!("{text:?} is not a URL: {e}")))?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !secure {
        return Err(SettingsError::new(field, "must be an https URL (plain http only on a loopback address)"));
    }
    if url.fragment().is_some() || url.query().is_some() {
        return Err(SettingsError::new(field, "must have no query or fragment"));
    }
    Ok(url)
}

impl OidcSettings {
    pub(crate) fn check(&self) -> Result<(), SettingsError> {
        checked_url("issuer", &self.issuer)?;
        checked_url("redirect_url", &self.redirect_url)?;
        if self.client_id.trim().is_empty() {
            return Err(SettingsError::new("client_id", "must not be empty"));
        }
        if self.groups_claim.trim().is_empty() {
            return Err(SettingsError::new("groups_claim", "must not be empty"));
        }
        if let Some(bad) = self.scopes.iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return Err(SettingsError::new("scopes", format!("{bad:?} is not a scope")));
        }
        if self.timeout.is_zero() {
            return Err(SettingsError::new("timeout_seconds", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OidcSettings {
        OidcSettings {
            issuer: "https://idp.example.com/realms/acme".into(),
            client_id: "tutela".into(),
            client_secret: None,
            redirect_url: "https://tutela.example.com/login/sso/callback".into(),
            scopes: vec!["email".into(), "groups".into()],
            groups_claim: "groups".into(),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert!(settings().check().is_ok());
        let remote = OidcSettings { issuer: "http://idp.example.com".into(), ..settings() };
        assert_eq!(remote.check().unwrap_err().field, "issuer");
        let local = OidcSettings { issuer: "http://127.0.0.1:8080".into(), ..settings() };
        assert!(local.check().is_ok());
        let callback = OidcSettings { redirect_url: "http://tutela.example.com/cb".into(), ..settings() };
        assert_eq!(callback.check().unwrap_err().field, "redirect_url");
    }

    #[test]
    fn malformed_settings_name_their_key() {
        let cases = [
            (OidcSettings { client_id: " ".into(), ..settings() }, "client_id"),
            (OidcSettings { scopes: vec!["two words".into()], ..settings() }, "scopes"),
            (OidcSettings { groups_claim: String::new(), ..settings() }, "groups_claim"),
            (OidcSettings { issuer: "idp.example.com".into(), ..settings() }, "issuer"),
            (OidcSettings { issuer: "https://idp.example.com/?x=1".into(), ..settings() }, "issuer"),
            (OidcSettings { timeout: Duration::ZERO, ..settings() }, "timeout_seconds"),
        ];
        for (s, field) in cases {
            assert_eq!(s.check().unwrap_err().field, field, "{s:?}");
        }
    }
}
