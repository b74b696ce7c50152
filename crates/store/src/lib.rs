//! The storage boundary of Tutela.
//!
//! One trait, [`Store`], that every backend implements (`SQLite` in `tutela-store-sqlite`,
//! `PostgreSQL` in `tutela-store-postgres`), the row models it speaks in, and [`StoreError`].
//! Only backends speak SQL; the domain (`tutela-core`) sees rows and mutations.
//!
//! Every write goes through a [`WriteTx`]: the domain opens one, applies [`Mutation`]s and
//! appends the audit records that describe them, then commits — so a change never lands
//! without its audit event, and many requests share one commit (group commit).

mod error;
pub mod model;
mod notify;
pub mod sealed_codec;
mod traits;

pub use error::{StoreError, StoreResult};
pub use model::*;
pub use notify::NotifyStore;
pub use traits::{Store, WriteTx};
