//! The server's half of a WebAuthn ceremony, kept between its two round trips.
//!
//! Starting a registration or an assertion makes a random challenge and a state the library
//! needs to check the answer; the state stays here, in memory, under a random ceremony id
//! that the client sends back — never on the client, which would let it choose its own
//! challenge. Each ceremony is bound to who started it (the signed-in user, the pending
//! session, or nobody for a passwordless sign-in), is taken out at its first answer whatever
//! the outcome (so an answer cannot be replayed), and ends after [`CEREMONY_TTL`].
//!
//! Like the sign-in counters, the state lives in one node's memory: with several nodes the
//! two round trips of one ceremony must reach the same node (sticky routing).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use data_encoding::BASE64URL_NOPAD;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration};

/// How long a ceremony may take: the library's authenticator timeout (5 minutes, the WebAuthn
/// recommendation) and no longer.
pub(crate) const CEREMONY_TTL: Duration = Duration::minutes(5);
/// Ceremonies kept at most. Passwordless ones can be started by anyone, so the map must not
/// grow without bound; when full the one closest to its end goes first.
const MAX_CEREMONIES: usize = 10_000;

/// Who may finish a ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A signed-in user registering a passkey.
    User(Uuid),
    /// A pending session (password checked) using a passkey as its second factor, by the
    /// session's public id.
    Pending(Uuid),
    /// A signed-in session proving its user again (re-authentication), by its public id.
    Reauth(Uuid),
    /// A passwordless sign-in: nobody is known until the passkey says who.
    Anyone,
}

pub(crate) enum State {
    Register(PasskeyRegistration),
    /// An assertion over one user's passkeys: a second factor or a re-authentication.
    SecondFactor(PasskeyAuthentication),
    Passwordless(DiscoverableAuthentication),
}

struct Ceremony {
    owner: Owner,
    state: State,
    expires_at: OffsetDateTime,
}

#[derive(Default)]
pub(crate) struct Ceremonies {
    map: Mutex<HashMap<String, Ceremony>>,
}

impl Ceremonies {
    /// Keeps `state` for `owner`; returns the ceremony id the client must send back.
    pub(crate) fn start(&self, owner: Owner, state: State, now: OffsetDateTime) -> String {
        let id = BASE64URL_NOPAD.encode(&tutela_crypto::secret::random_bytes::<16>());
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CEREMONIES {
            map.retain(|_, c| c.expires_at > now);
        }
        if map.len() >= MAX_CEREMONIES
            && let Some(oldest) = map.iter().min_by_key(|(_, c)| c.expires_at).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), Ceremony { owner, state, expires_at: now + CEREMONY_TTL });
        id
    }

    /// Takes the ceremony out: it is gone after this, whoever asked. `None` if it is unknown,
    /// expired or started by someone else than `owner`.
    pub(crate) fn take(&self, id: &str, owner: Owner, now: OffsetDateTime) -> Option<State> {
        let ceremony = self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(id)?;
        (ceremony.owner == owner && now < ceremony.expires_at).then_some(ceremony.state)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use webauthn_rs::prelude::{Url, WebauthnBuilder};

    use super::*;

    const T0: OffsetDateTime = datetime!(2025-01-01 0:00 UTC);

    fn states() -> impl Fn() -> State {
        let origin = Url::parse("https://localhost:8443").unwrap();
        let webauthn = WebauthnBuilder::new("localhost", &origin).unwrap().build().unwrap();
        move || State::Passwordless(webauthn.start_discoverable_authentication().unwrap().1)
    }

    #[test]
    fn a_ceremony_is_taken_once_by_its_owner_before_it_ends() {
        let (c, passwordless_state) = (Ceremonies::default(), states());
        let user = Owner::User(Uuid::new_v4());
        let id = c.start(user, passwordless_state(), T0);
        assert!(c.take(&id, user, T0).is_some());
        assert!(c.take(&id, user, T0).is_none(), "a second answer finds nothing");

        let id = c.start(user, passwordless_state(), T0);
        assert!(c.take(&id, Owner::User(Uuid::new_v4()), T0).is_none(), "another user");
        assert!(c.take(&id, user, T0).is_none(), "a wrong owner's attempt used it up");

        let id = c.start(Owner::Anyone, passwordless_state(), T0);
        assert!(c.take(&id, Owner::Anyone, T0 + CEREMONY_TTL).is_none(), "expired");
        assert!(c.take("no-such-ceremony", Owner::Anyone, T0).is_none());
    }

    #[test]
    fn a_flood_of_ceremonies_stays_bounded() {
        let (c, passwordless_state) = (Ceremonies::default(), states());
        let first = c.start(Owner::Anyone, passwordless_state(), T0);
        for i in 0..MAX_CEREMONIES {
            let at = T0 + Duration::milliseconds(i64::try_from(i).unwrap() + 1);
            c.start(Owner::Anyone, passwordless_state(), at);
        }
        assert_eq!(c.len(), MAX_CEREMONIES);
        assert!(c.take(&first, Owner::Anyone, T0).is_none(), "the oldest made room");
    }
}
