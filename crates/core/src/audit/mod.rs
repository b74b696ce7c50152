//! The tamper-evident audit log.
//!
//! Each event is hashed with the previous event's hash over a canonical encoding
//! ([`canonical`]); every commit also stores a checkpoint — the head `(seq, hash)` signed with
//! Ed25519 — so that rewriting any event, even the newest, needs the signing key, which is
//! wrapped by the root key and never in the database in the clear. [`verify`] walks the
//! chain and names the first bad event.

mod access;
pub mod canonical;
mod event;
mod verify;
mod writer;

pub use event::{AuditEvent, Outcome};
pub use verify::{VerifyProblem, VerifyReport, verify};
pub use writer::{AuditLog, Signer};
