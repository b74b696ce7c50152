//! Every integration test of this crate, linked into one test binary: one link of the
//! workspace instead of one per file keeps a cold build (and CI's disk) small.

mod conformance;
mod other_process;
mod session_ids_migration;
mod sqlx_era_database;
