//! Every integration test of this crate, linked into one test binary: one link of the
//! workspace instead of one per file keeps a cold build (and CI's disk) small.

mod browser;
mod oidc_fixture;
mod support;

mod access_api;
mod break_glass_api;
mod console_access;
mod console_browser;
mod console_exports;
mod console_forms;
mod console_import;
mod console_networks;
mod console_notifications;
mod console_passkeys;
mod console_reviews;
mod console_routes;
mod console_sessions;
mod console_share_browser;
mod exports_api;
mod networks_api;
mod notifications_api;
mod passkeys_api;
mod passkeys_browser;
mod reviews_api;
mod routes;
mod sessions_api;
mod sign_in_api;
mod sign_in_policy_web;
mod sso_oidc;
