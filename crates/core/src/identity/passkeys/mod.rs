//! Passkeys (WebAuthn, through `webauthn-rs`): registered by a signed-in user, then used
//! either as the second factor after the password or on their own, passwordless (see
//! [`sign_in`]).
//!
//! Every passkey asks for user verification (a PIN or biometric on the authenticator), so one
//! passkey is two factors: something held and something known or been. Registration asks for
//! a discoverable (resident) credential, which passwordless sign-in needs.
//!
//! The relying party — its id, the domain passkeys are bound to, and the origin the browser
//! must report — comes from the configured public URL of the console ([`RelyingParty`]).
//! The ceremony state between the two round trips stays on the server ([`ceremonies`]).

mod ceremonies;
mod sign_in;

use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{Mutation, PasskeyRow, UserRow, UserStatus};
use uuid::Uuid;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, Url, Webauthn, WebauthnBuilder};
use webauthn_rs_proto::ResidentKeyRequirement;

pub(crate) use ceremonies::Ceremonies;
pub(in crate::identity) use ceremonies::{Owner, State};
pub use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Credential, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// Passkeys a user may hold: enough for every device and a spare, few enough to list.
const MAX_PASSKEYS_PER_USER: usize = 20;
/// The longest passkey name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Where passkeys are bound: the domain (`id`) and the exact origin the browser reports.
/// The id can never change without every registered passkey ceasing to work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// A domain name (WebAuthn refuses IP addresses), e.g. `tutela.example.com`.
    pub id: String,
    /// The console's origin, e.g. `https://tutela.example.com` (a port only if not the default).
    pub origin: String,
    /// Shown by some authenticators next to the account.
    pub name: String,
}

impl RelyingParty {
    /// The relying party of a console served at `url` (its scheme, host and port). Refused,
    /// naming `field`, unless the host is a domain name and the scheme https (or http on
    /// `localhost`, which browsers count as secure).
    pub fn for_url(url: &str, field: &str) -> CoreResult<Self> {
        let bad = |m: &str| CoreError::invalid(field, format!("{url:?}: {m}"));
        let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let Some(domain) = parsed.domain() else {
            return Err(bad("passkeys need a domain name (such as localhost), not an IP address"));
        };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        match parsed.scheme() {
            "https" => {}
            "http" if domain == "localhost" => {}
            _ => return Err(bad("passkeys need https (plain http only on localhost)")),
        }
        let origin = parsed.origin().ascii_serialization();
        Ok(Self { id: domain, origin, name: "Tutela".to_owned() })
    }

    /// The library's view of this relying party.
    pub(crate) fn webauthn(&self) -> CoreResult<Webauthn> {
        let origin = Url::parse(&self.origin)
            .map_err(|e| CoreError::invalid("relying_party.origin", format!("{:?}: {e}", self.origin)))?;
        WebauthnBuilder::new(&self.id, &origin).and_then(|b| b.rp_name(&self.name).build()).map_err(|e| {
            CoreError::invalid("relying_party.id", format!("{:?} for origin {}: {e}", self.id, self.origin))
        })
    }
}

/// A started ceremony: the options for `navigator.credentials.create`/`get`, and the id to
/// send back with the answer.
#[derive(Debug, Serialize)]
pub struct PasskeyChallenge<T> {
    pub ceremony: String,
    pub options: T,
}

/// A passkey as its owner sees it; the credential itself never leaves the server.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyView {
    pub id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Set when its signature counter went backwards (a possibly cloned authenticator): it
    /// is refused since, and can only be deleted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub suspended_at: Option<OffsetDateTime>,
}

impl From<PasskeyRow> for PasskeyView {
    fn from(p: PasskeyRow) -> Self {
        Self {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            suspended_at: p.suspended_at,
        }
    }
}

/// A passkey name: trimmed, 1 to 64 characters, no control characters.
fn passkey_name(raw: &str) -> CoreResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "give the passkey a name, such as the device it is on"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::invalid("name", format!("at most {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid("name", "no control characters"));
    }
    Ok(name.to_owned())
}

/// The counter inside a serialised passkey. The library keeps it private; the stored copy in
/// its own column is what a use compares and swaps.
fn counter_of(passkey: &Passkey) -> CoreResult<u32> {
    let value = serde_json::to_value(passkey).map_err(|e| CoreError::Internal(format!("passkey: {e}")))?;
    value
        .pointer("/cred/counter")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .ok_or_else(|| CoreError::Internal("passkey: no signature counter in the serialised credential".into()))
}

fn parse_passkey(row: &PasskeyRow) -> CoreResult<Passkey> {
    serde_json::from_str(&row.passkey).map_err(|e| CoreError::Internal(format!("passkey {}: {e}", row.id)))
}

impl Tutela {
    /// Whether passkeys can be used here (the public URL has a domain name).
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> CoreResult<&Webauthn> {
        self.webauthn.as_ref().ok_or_else(|| {
            CoreError::Conflict(
                "passkeys are not available: set server.public_url to the console's https URL with a domain name"
                    .into(),
            )
        })
    }

    /// The user behind a console session. Only a console session may register a passkey:
    /// an API token could otherwise mint a sign-in credential wider than its own scopes.
    async fn passkey_registrant(&self, principal: &Principal) -> CoreResult<UserRow> {
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users have passkeys".into()))?;
        if !matches!(principal.credential, Credential::Session) {
            return Err(CoreError::Forbidden("passkeys are registered from a signed-in console session".into()));
        }
        self.store
            .user_get(user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(|| CoreError::Unauthenticated("the account is disabled".into()))
    }

    /// Starts registering a passkey for the signed-in user.
    pub async fn begin_passkey_registration(
        &self,
        principal: &Principal,
    ) -> CoreResult<PasskeyChallenge<CreationChallengeResponse>> {
        let webauthn = self.webauthn()?;
        let user = self.passkey_registrant(principal).await?;
        let existing = self.store.passkeys_for_user(user.id).await?;
        if existing.len() >= MAX_PASSKEYS_PER_USER {
            return Err(CoreError::Conflict(format!(
                "at most {MAX_PASSKEYS_PER_USER} passkeys per user; delete one you no longer use first"
            )));
        }
        // The authenticators already registered are excluded: the browser says so at once
        // instead of registering the same one twice.
        let exclude = existing.into_iter().map(|p| p.credential_id).collect();
        let (mut options, state) = webauthn
            .start_passkey_registration(user.id, &user.email, &user.display_name, Some(exclude))
            .map_err(|e| CoreError::Internal(format!("starting a passkey registration: {e}")))?;
        // Passwordless sign-in finds the account through the credential, so it must be
        // discoverable (stored on the authenticator with the user handle).
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        let ceremony = self.ceremonies.start(Owner::User(user.id), State::Register(state), self.clock.now());
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Completes a registration with the browser's answer; audited as `passkey.register`.
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        ceremony: &str,
        name: &str,
        answer: &RegisterPublicKeyCredential,
    ) -> CoreResult<PasskeyView> {
        let webauthn = self.webauthn()?;
        let name = passkey_name(name)?;
        let user = self.passkey_registrant(principal).await?;
        let now = self.clock.now();
        let Some(State::Register(state)) = self.ceremonies.take(ceremony, Owner::User(user.id), now) else {
            return Err(CoreError::invalid(
                "ceremony",
                "the registration expired or was already answered; start again",
            ));
        };
        let event = AuditEvent::by(principal, "passkey.register");
        let passkey = match webauthn.finish_passkey_registration(answer, &state) {
            Ok(p) => p,
            Err(e) => {
                let reason = e.to_string();
                self.audit
                    .record(
                        event.outcome(Outcome::Failed).detail(serde_json::json!({ "name": name, "reason": reason })),
                    )
                    .await?;
                return Err(CoreError::invalid("credential", format!("the passkey was not accepted: {reason}")));
            }
        };
        let row = PasskeyRow {
            id: Uuid::now_v7(),
            user_id: user.id,
            credential_id: passkey.cred_id().clone(),
            name,
            passkey: serde_json::to_string(&passkey).map_err(|e| CoreError::Internal(format!("passkey: {e}")))?,
            sign_count: counter_of(&passkey)?,
            created_at: now,
            last_used_at: None,
            suspended_at: None,
        };
        let event = event.detail(serde_json::json!({ "passkey": row.id, "name": row.name }));
        match self.audit.commit(vec![Mutation::InsertPasskey(row.clone())], vec![event]).await {
            Ok(()) => Ok(row.into()),
            // The credential id is unique: this authenticator is registered already.
            Err(CoreError::Conflict(_)) => Err(CoreError::invalid("credential", "this passkey is registered already")),
            Err(e) => Err(e),
        }
    }

    /// The caller's passkeys, oldest first.
    pub async fn my_passkeys(&self, principal: &Principal) -> CoreResult<Vec<PasskeyView>> {
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users have passkeys".into()))?;
        Ok(self.store.passkeys_for_user(user_id).await?.into_iter().map(Into::into).collect())
    }

    /// Deletes one of the caller's passkeys; audited as `passkey.delete`. Someone else's is
    /// `NotFound`, as if it did not exist (the attempt is audited as denied).
    pub async fn delete_passkey(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users have passkeys".into()))?;
        let row = self.store.passkey_get(id).await?.ok_or(CoreError::NotFound("passkey"))?;
        let event = AuditEvent::by(principal, "passkey.delete");
        if row.user_id != user_id {
            self.audit
                .record(
                    event.outcome(Outcome::Denied).detail(serde_json::json!({ "passkey": id, "owner": row.user_id })),
                )
                .await?;
            return Err(CoreError::NotFound("passkey"));
        }
        let event = event.detail(serde_json::json!({ "passkey": id, "name": row.name }));
        match self.audit.commit(vec![Mutation::DeletePasskey { id, user_id }], vec![event]).await {
            Err(CoreError::NotFound(_)) => Err(CoreError::NotFound("passkey")),
            other => other,
        }
    }

    /// The mutation recording an accepted assertion: the credential as the library updated
    /// it (counter, backup flags) and the time, swapped in only if the stored counter is
    /// still the one this assertion was checked against.
    fn passkey_use(
        &self,
        row: &PasskeyRow,
        mut passkey: Passkey,
        result: &AuthenticationResult,
    ) -> CoreResult<Mutation> {
        passkey.update_credential(result);
        Ok(Mutation::UsePasskey {
            id: row.id,
            expected_sign_count: row.sign_count,
            sign_count: counter_of(&passkey)?,
            passkey: serde_json::to_string(&passkey).map_err(|e| CoreError::Internal(format!("passkey: {e}")))?,
            at: self.clock.now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_comes_from_the_public_url() {
        let rp = RelyingParty::for_url("https://Tutela.Example.com/console", "server.public_url").unwrap();
        assert_eq!((rp.id.as_str(), rp.origin.as_str()), ("tutela.example.com", "https://tutela.example.com"));
        let rp = RelyingParty::for_url("https://localhost:8443", "x").unwrap();
        assert_eq!((rp.id.as_str(), rp.origin.as_str()), ("localhost", "https://localhost:8443"));
        assert!(RelyingParty::for_url("http://localhost:8080", "x").is_ok(), "http on localhost is a secure context");
        for bad in ["https://127.0.0.1:8443", "http://tutela.example.com", "not a url", "https://[::1]:8443"] {
            let e = RelyingParty::for_url(bad, "server.public_url").unwrap_err();
            assert!(matches!(&e, CoreError::Invalid { field, .. } if field == "server.public_url"), "{bad}: {e}");
        }
        assert!(rp.webauthn().is_ok());
        let wrong = RelyingParty { id: "example.com".into(), ..rp };
        assert!(wrong.webauthn().is_err(), "the id must be the origin's domain or a parent of it");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name("  YubiKey 5 ").unwrap(), "YubiKey 5");
        assert_eq!(passkey_name("工作电脑").unwrap(), "工作电脑");
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(65)] {
            assert!(matches!(passkey_name(bad), Err(CoreError::Invalid { field, .. }) if field == "name"), "{bad:?}");
        }
        assert!(passkey_name(&"名".repeat(64)).is_ok(), "64 characters, not bytes");
    }
}
