//! The conformance suite of the Tutela store: one set of checks that every backend
//! (`tutela-store-sqlite`, `tutela-store-postgres`) must pass, through the [`Store`] and
//! [`tutela_store::WriteTx`] traits only, with real data.
//!
//! Each backend's `tests/conformance.rs` opens a fresh store ([`fresh_sqlite_path`],
//! [`fresh_pg_database`]) and calls [`run_all`]. The checks use values unique to the run
//! (ids, emails, key versions, audit actors), so they never depend on what a store already
//! holds; counts are compared as differences.
//!
//! Times are written at whole microseconds, the precision both backends store.

// A check reads best as one scenario from setup to the last assertion.
#![allow(clippy::too_many_lines)]

pub mod audit;
pub mod customers;
mod db;
pub mod exports;
pub mod identity;
pub mod jobs;
pub mod meta;
pub mod notify;
pub mod org;
pub mod query;
pub mod support;
pub mod tx;

pub use db::{PG_URL_VAR, PgDatabaseGuard, fresh_pg_database, fresh_sqlite_path};
use tutela_store::Store;

/// Runs every check in turn, naming each on stderr so that a failure is easy to place.
pub async fn run_all(store: &dyn Store) {
    macro_rules! run {
        ($($check:path),* $(,)?) => {$(
            eprintln!("conformance [{}]: {}", store.backend(), stringify!($check));
            $check(store).await;
        )*};
    }
    run!(
        meta::ping,
        meta::meta,
        meta::keys,
        meta::fields,
        customers::crud,
        customers::blind_index,
        customers::erase,
        customers::key_rotation,
        query::filters,
        query::ids,
        query::sort_and_pages,
        identity::users,
        identity::totp_steps,
        identity::roles,
        identity::recovery_codes,
        identity::sessions,
        identity::api_tokens,
        identity::passkeys,
        audit::append_scan_head,
        audit::search,
        audit::search_in_a_long_log,
        audit::checkpoints,
        org::structure,
        org::rules_and_shares,
        org::scoped_queries,
        org::break_glass,
        org::network_rules,
        exports::export_requests,
        notify::outbox,
        jobs::leases,
        jobs::runs,
        jobs::reviews,
        tx::dropped_tx_writes_nothing,
        tx::failed_write_writes_nothing,
    );
}
