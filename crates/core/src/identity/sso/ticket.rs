//! The sign-in ticket: the flow's secrets, kept by the browser between leaving for the
//! provider and coming back, in an HttpOnly cookie.
//!
//! Sealed with AES-256-GCM under a data key of its own, wrapped by the keyring like a
//! record's, so that every node of an installation can open it (and nobody else can read
//! or forge one), bound to its random id, and refused once older than [`LIFETIME`]. Keeping
//! it in the browser rather than in one node's memory lets any node finish a sign-in that
//! another began; keeping it in that browser's cookie is what ties the provider's answer to
//! the browser that asked (login CSRF).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tutela_crypto::keyring::WrappedKey;
use zeroize::Zeroizing;

use super::{FlowSecrets, SsoError};
use crate::Tutela;

/// How long a sign-in at the provider may take.
pub const LIFETIME: time::Duration = time::Duration::minutes(10);
const FIELD: &str = "sso.ticket";

#[derive(Serialize, Deserialize)]
struct Content {
    issuer: String,
    issued_at: i64,
    flow: FlowSecrets,
}

fn refused() -> SsoError {
    SsoError::Refused("the sign-in in this browser could not be read or has expired; start again".into())
}

impl Tutela {
    pub(super) fn seal_ticket(&self, issuer: &str, flow: &FlowSecrets) -> String {
        let id: [u8; 16] = tutela_crypto::secret::random_bytes();
        let (key, wrapped) = self.keys.new_data_key(&id);
        let content =
            Content { issuer: issuer.to_owned(), issued_at: self.clock.now().unix_timestamp(), flow: flow.clone() };
        let plain = Zeroizing::new(serde_json::to_vec(&content).expect("the ticket serialises"));
        let sealed = key.seal_field(&id, FIELD, &plain);
        let wrapped_len = u16::try_from(wrapped.bytes.len()).expect("a wrapped key is a few dozen bytes");
        let mut out = Vec::with_capacity(22 + wrapped.bytes.len() + sealed.len());
        out.extend_from_slice(&id);
        out.extend_from_slice(&wrapped.kek_version.to_be_bytes());
        out.extend_from_slice(&wrapped_len.to_be_bytes());
        out.extend_from_slice(&wrapped.bytes);
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// The flow of a ticket this installation sealed for `issuer` less than [`LIFETIME`] ago.
    pub(super) async fn open_ticket(&self, issuer: &str, ticket: &str) -> Result<FlowSecrets, SsoError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(ticket.trim()).map_err(|_| refused())?;
        let (id, rest) = bytes.split_first_chunk::<16>().ok_or_else(refused)?;
        let (version, rest) = rest.split_first_chunk::<4>().ok_or_else(refused)?;
        let (len, rest) = rest.split_first_chunk::<2>().ok_or_else(refused)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(refused());
        }
        let (wrapped, sealed) = rest.split_at(len);
        let wrapped = WrappedKey { kek_version: u32::from_be_bytes(*version), bytes: wrapped.to_vec() };
        // A forged or altered ticket fails here; so would a real fault of the keyring, which
        // is logged rather than shown.
        let key = self.keys.data_key(id, &wrapped).await.map_err(|e| {
            tracing::warn!(error = %e, "a single sign-on ticket did not open");
            refused()
        })?;
        let plain = key.open_field(id, FIELD, sealed).map_err(|_| refused())?;
        let content: Content = serde_json::from_slice(&plain).map_err(|_| refused())?;
        let age = self.clock.now().unix_timestamp() - content.issued_at;
        if content.issuer != issuer || !(0..=LIFETIME.whole_seconds()).contains(&age) {
            return Err(refused());
        }
        Ok(content.flow.clone())
    }
}
