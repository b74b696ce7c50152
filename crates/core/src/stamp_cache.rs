//! What almost every request reads and hardly ever changes — the schema and the principal
//! behind an API token — held in memory and dropped whenever any node commits a change that
//! could alter it.
//!
//! Such a commit also writes a fresh random **stamp** into `meta` (the audit writer adds it
//! to the same transaction, see [`invalidates`]). A cached value is used only while the
//! stamp read from the store is the one it was filled under: one point read instead of the
//! four a token and a schema cost, and a revocation, role change or disabled user on one
//! node takes effect on every node with its next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use tutela_store::Mutation;

use crate::access::AccessSnapshot;
use crate::policy::Principal;
use crate::vault::Schema;

/// The `meta` key of the stamp.
pub(crate) const STAMP_KEY: &str = "cache.stamp";
/// Principals kept at most; the whole map is dropped when it is full (tokens are few).
const MAX_TOKENS: usize = 4096;

/// The stamp a reader saw: `None` before the first change ever.
pub(crate) type Stamp = Option<Vec<u8>>;

/// A token's principal, as computed when the token was last resolved.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub principal: Principal,
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Default)]
pub(crate) struct StampCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    stamp: Stamp,
    schema: Option<Arc<Schema>>,
    access: Option<Arc<AccessSnapshot>>,
    tokens: HashMap<[u8; 32], CachedToken>,
}

impl StampCache {
    /// Runs `f` on the state if it was filled under `stamp`; otherwise empties it first.
    fn under<T>(&self, stamp: &Stamp, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.stamp != *stamp {
            *state = State { stamp: stamp.clone(), ..State::default() };
        }
        f(&mut state)
    }

    pub(crate) fn schema(&self, stamp: &Stamp) -> Option<Arc<Schema>> {
        self.under(stamp, |s| s.schema.clone())
    }

    /// Keeps a schema read after `stamp` was read (so it is at least as new as the stamp).
    pub(crate) fn keep_schema(&self, stamp: &Stamp, schema: Arc<Schema>) {
        self.under(stamp, |s| s.schema = Some(schema));
    }

    pub(crate) fn access(&self, stamp: &Stamp) -> Option<Arc<AccessSnapshot>> {
        self.under(stamp, |s| s.access.clone())
    }

    pub(crate) fn keep_access(&self, stamp: &Stamp, access: Arc<AccessSnapshot>) {
        self.under(stamp, |s| s.access = Some(access));
    }

    pub(crate) fn token(&self, stamp: &Stamp, hash: &[u8; 32]) -> Option<CachedToken> {
        self.under(stamp, |s| s.tokens.get(hash).cloned())
    }

    pub(crate) fn keep_token(&self, stamp: &Stamp, hash: [u8; 32], token: CachedToken) {
        self.under(stamp, |s| {
            if s.tokens.len() >= MAX_TOKENS {
                s.tokens.clear();
            }
            s.tokens.insert(hash, token);
        });
    }
}

/// Whether committing `m` must change the stamp: it alters the schema, a user, a role, a
/// role grant or a token. Every variant is named, so a new mutation has to be decided here.
pub(crate) fn invalidates(m: &Mutation) -> bool {
    match m {
        Mutation::PutField(_)
        | Mutation::DeleteField { .. }
        | Mutation::InsertUser(_)
        | Mutation::UpdateUser(_)
        | Mutation::SetUserRoles { .. }
        | Mutation::PutRole(_)
        | Mutation::DeleteRole { .. }
        | Mutation::InsertApiToken(_)
        | Mutation::RevokeApiToken { .. }
        | Mutation::RevokeUserApiTokens { .. }
        // The organisation, sharing rules and shares shape every principal's reach.
        | Mutation::Org(_) => true,
        Mutation::PutMeta { .. }
        | Mutation::InsertKey(_)
        | Mutation::InsertCustomer { .. }
        | Mutation::UpdateCustomer { .. }
        | Mutation::EraseCustomer(_)
        | Mutation::RewrapCustomerKey(_)
        | Mutation::RewrapUserKey(_)
        | Mutation::AdvanceTotpStep { .. }
        | Mutation::InsertRecoveryCodes { .. }
        | Mutation::UseRecoveryCode { .. }
        | Mutation::InsertSession(_)
        | Mutation::PromoteSession { .. }
        | Mutation::DeleteSession { .. }
        | Mutation::ReauthenticateSession { .. }
        // Sessions are never cached: each request reads its session from the store.
        | Mutation::DeleteUserSessions { .. }
        // Nor are passkeys: each sign-in reads them, and a principal does not depend on them.
        | Mutation::InsertPasskey(_)
        | Mutation::UsePasskey { .. }
        | Mutation::SuspendPasskey { .. }
        | Mutation::DeletePasskey { .. }
        // An export request is read when used; no principal depends on it.
        | Mutation::PutExportRequest(_)
        // Review campaigns and decisions shape no principal; a revocation they carry is its
        // own mutation (`SetUserRoles`, a record share's deletion).
        | Mutation::Review(_)
        // A sign-in reads its link from the store; no principal depends on it (the user's
        // roles, which one may change, are their own mutation).
        | Mutation::InsertSsoIdentity(_)
        | Mutation::TouchSsoIdentity { .. }
        // Notices and the devices users signed in from shape no principal.
        | Mutation::Notify(_)
        | Mutation::SeenDevice { .. } => false,
    }
}

/// The mutation that gives the stamp a fresh random value.
pub(crate) fn new_stamp() -> Mutation {
    Mutation::PutMeta { key: STAMP_KEY.to_owned(), value: tutela_crypto::secret::random_bytes::<16>().to_vec() }
}
