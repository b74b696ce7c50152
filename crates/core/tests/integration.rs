//! Every integration test of this crate, linked into one test binary: one link of the
//! workspace instead of one per file keeps a cold build (and CI's disk) small.

#[path = "fixtures/smtp_sink.rs"]
mod smtp_sink;

mod access_admin;
mod access_matrix;
mod access_reviews;
mod audit_chain;
mod break_glass;
mod export_approval;
mod identity;
mod invariants;
mod networks;
mod nodes;
mod notify;
mod passkeys;
mod password_policy;
mod sessions;
mod sign_in_policy;
mod sign_in_protection;
mod transfer;
mod vault;
