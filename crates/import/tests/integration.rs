//! Every integration test of this crate, linked into one test binary: one link of the
//! workspace instead of one per file keeps a cold build (and CI's disk) small.

mod common;

mod csv_import;
mod mapping_pairs;
mod presets;
mod robustness;
mod xlsx_import;
