//! Every integration test of this crate, linked into one test binary: one link of the
//! workspace instead of one per file keeps a cold build (and CI's disk) small.

#[path = "../../core/tests/fixtures/smtp_sink.rs"]
mod smtp_sink;
#[macro_use]
mod support;

mod binary;
mod export_cli;
mod notify_cli;
mod org_cli;
mod review_cli;
