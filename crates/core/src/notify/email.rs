//! The e-mail channel: SMTP through lettre over rustls (aws-lc-rs), no OpenSSL.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tutela_store::UserRow;

use super::{Channel, ChannelError, Rendered};
use crate::{CoreError, CoreResult};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a relay on this machine (loopback), never over a network.
    None,
}

/// The `[smtp]` section, with the password already read from its file or variable.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, `Tutela <tutela@example.com>` or a bare address.
    pub from: String,
    pub timeout: Duration,
    /// A PEM file of certificates to trust besides the public roots (a company's own CA).
    pub ca_file: Option<PathBuf>,
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends notices by e-mail, one connection per message (notices are few; a pool would keep
/// idle connections open to the relay for nothing).
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpChannel {
    /// Checks the settings: a sender that parses, `none` only to loopback, a CA file that
    /// reads. The server itself is first reached when something is sent.
    pub fn new(settings: &SmtpSettings) -> CoreResult<Self> {
        let from = settings
            .from
            .parse()
            .map_err(|e| CoreError::invalid("smtp.from", format!("not an e-mail address: {e}")))?;
        if settings.host.trim().is_empty() {
            return Err(CoreError::invalid("smtp.host", "the SMTP server's host name is required"));
        }
        let tls = |wrap: fn(TlsParameters) -> Tls| -> CoreResult<Tls> {
            let mut builder = TlsParameters::builder(settings.host.clone());
            if let Some(path) = &settings.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| CoreError::invalid("smtp.ca_file", format!("{}: {e}", path.display())))?;
                let certificate = Certificate::from_pem(&pem)
                    .map_err(|e| CoreError::invalid("smtp.ca_file", format!("{}: {e}", path.display())))?;
                builder = builder.add_root_certificate(certificate);
            }
            let parameters =
                builder.build_rustls().map_err(|e| CoreError::invalid("smtp.security", format!("TLS: {e}")))?;
            Ok(wrap(parameters))
        };
        let tls = match settings.security {
            SmtpSecurity::Starttls => tls(Tls::Required)?,
            SmtpSecurity::Tls => tls(Tls::Wrapper)?,
            SmtpSecurity::None if is_loopback(&settings.host) => Tls::None,
            SmtpSecurity::None => {
                return Err(CoreError::invalid(
                    "smtp.security",
                    "none (no encryption) is only allowed to a relay on this machine (localhost, 127.0.0.1, ::1)",
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some(user) = &settings.username {
            let password = settings.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self { transport: builder.build(), from })
    }
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn address(&self, user: &UserRow) -> Option<String> {
        Some(user.email.clone())
    }

    async fn send(&self, address: &str, message: &Rendered) -> Result<(), ChannelError> {
        let to = address.parse().map_err(|e| ChannelError(format!("recipient {address}: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| ChannelError(format!("building the message: {e}")))?;
        // lettre's errors name the server's reply or the network failure; the credentials
        // never appear in them.
        self.transport.send(email).await.map(drop).map_err(|e| ChannelError(format!("SMTP: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: SmtpSecurity) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 25,
            security,
            username: None,
            password: None,
            from: "Tutela <tutela@example.com>".into(),
            timeout: Duration::from_secs(5),
            ca_file: None,
        }
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(SmtpChannel::new(&settings("127.0.0.1", SmtpSecurity::None)).is_ok());
        assert!(SmtpChannel::new(&settings("localhost", SmtpSecurity::None)).is_ok());
        let Err(CoreError::Invalid { field, .. }) = SmtpChannel::new(&settings("mail.example.com", SmtpSecurity::None))
        else {
            panic!("plain SMTP over a network was accepted");
        };
        assert_eq!(field, "smtp.security");
        assert!(SmtpChannel::new(&settings("mail.example.com", SmtpSecurity::Starttls)).is_ok());
    }

    #[test]
    fn a_bad_sender_names_the_field() {
        let mut s = settings("127.0.0.1", SmtpSecurity::None);
        s.from = "not an address".into();
        assert!(matches!(SmtpChannel::new(&s), Err(CoreError::Invalid { field, .. }) if field == "smtp.from"));
    }
}
