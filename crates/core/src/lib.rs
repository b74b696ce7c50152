//! Tutela's domain: the customer vault, identity, policy and the audit log.
//!
//! No HTTP and no SQL here: the web crate turns requests into calls on [`Tutela`], and the
//! store crates turn [`tutela_store::Mutation`]s into SQL. Every write and every access to a
//! protected value passes through [`audit::AuditLog`], which commits the change and the
//! audit event describing it in one transaction.

pub mod access;
pub mod audit;
pub mod clock;
mod error;
pub mod identity;
pub mod jobs;
pub mod keys;
pub mod notify;
pub mod policy;
pub mod schema;
mod stamp_cache;
#[cfg(feature = "testing")]
pub mod testing;
mod tutela;
pub mod vault;

pub use error::{CoreError, CoreResult};
pub use tutela::{Config, Tutela};
