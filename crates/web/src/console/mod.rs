//! The web console: server-rendered pages (askama) in Chinese and English (Fluent), made
//! lively by htmx served from the binary; no inline script or style, so the strict CSP
//! holds. Handlers translate forms into calls on [`tutela_core::Tutela`] and results into
//! pages; the domain decides and audits, the console only shows.

mod access_explain;
mod access_labels;
mod access_networks;
mod access_policy;
mod access_sign_in;
mod access_sod;
mod account;
mod assets;
mod audit;
mod break_glass;
mod customer_detail;
mod customer_form;
mod customer_reveal;
mod customers_list;
mod enrol;
mod error;
mod exports;
mod fields;
mod forms;
mod i18n;
mod import;
mod import_headers;
mod import_jobs;
mod import_run;
mod jobs;
mod lang;
mod layout;
mod login;
mod notifications;
mod org;
mod org_forms;
mod org_view;
mod password_rules;
mod reauth;
mod review_campaign;
mod reviews;
mod reviews_mine;
mod roles;
mod schema;
mod second_factor;
mod session;
mod setup;
mod shares;
mod sso;
mod stamp;
mod users;
mod watermark;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Router};

pub use session::Prefs;

use crate::AppState;

/// Every console route. `ImportJobs` lives as long as the router: one per server.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::page).post(login::submit))
        .route("/login/second-factor", get(second_factor::page).post(second_factor::submit))
        .route("/login/enrol", get(enrol::page).post(enrol::confirm))
        .route("/login/sso", get(sso::start))
        .route("/login/sso/callback", get(sso::callback))
        .route("/logout", post(login::logout))
        .route("/setup", get(setup::page).post(setup::submit))
        .route("/lang/{tag}", get(lang::switch))
        .route("/assets/{*name}", get(assets::serve))
        .route("/console/watermark.svg", get(watermark::image))
        .route("/customers", get(customers_list::page).post(customers_list::search))
        .route("/customers/new", get(customer_form::new_page).post(customer_form::create))
        .route("/customers/{id}", get(customer_detail::page))
        .route("/customers/{id}/edit", get(customer_form::edit_page).post(customer_form::update))
        .route("/customers/{id}/erase", post(customer_detail::erase))
        .route("/customers/{id}/reveal/{field}", get(customer_reveal::dialog).post(customer_reveal::reveal))
        .route("/customers/{id}/shares", post(shares::share))
        .route("/customers/{id}/shares/{share}/end", post(shares::end))
        .route("/customers/{id}/access", get(access_explain::page))
        .route("/schema", get(schema::page).post(schema::save))
        .route("/schema/{id}/delete", post(schema::delete))
        .route("/users", get(users::page).post(users::create))
        .route("/users/{id}/roles", post(users::set_roles))
        .route("/users/{id}/status", post(users::set_status))
        .route("/users/{id}/unlock", post(users::clear_lockout))
        .route("/users/{id}/sessions/end", post(users::end_sessions))
        .route("/org", get(org::page))
        .route("/org/departments", post(org_forms::save_department))
        .route("/org/departments/{id}/delete", post(org_forms::delete_department))
        .route("/org/departments/{id}/manager", post(org_forms::set_manager))
        .route("/org/teams", post(org_forms::save_team))
        .route("/org/teams/{id}/delete", post(org_forms::delete_team))
        .route("/org/members/{id}", post(org_forms::set_membership))
        .route("/access", get(access_policy::page))
        .route("/access/default", post(access_policy::set_default))
        .route("/access/rules", post(access_policy::create_rule))
        .route("/access/rules/{id}/delete", post(access_policy::delete_rule))
        .route("/access/sod", post(access_sod::add))
        .route("/access/sod/remove", post(access_sod::remove))
        .route("/access/explain", get(access_policy::explain_redirect))
        .route("/access/networks", get(access_networks::page).post(access_networks::set))
        .route("/access/sign-in", get(access_sign_in::page).post(access_sign_in::set))
        .route("/access/reviews", get(reviews::page).post(reviews::create))
        .route("/access/reviews/mine", get(reviews_mine::page))
        .route("/access/reviews/{id}", get(review_campaign::page))
        .route("/access/reviews/{id}/close", post(review_campaign::close))
        .route("/access/reviews/{id}/report", get(review_campaign::report))
        .route("/access/reviews/{id}/items/{item}/decision", post(reviews_mine::decide))
        .route("/reauth", get(reauth::page).post(reauth::submit))
        .route("/break-glass", get(break_glass::page).post(break_glass::request))
        .route("/break-glass/policy", post(break_glass::set_policy))
        .route("/break-glass/{id}/decision", post(break_glass::decide))
        .route("/break-glass/{id}/end", post(break_glass::end))
        .route("/exports", get(exports::page).post(exports::request))
        .route("/exports/policy", post(exports::set_policy))
        .route("/exports/{id}/decision", post(exports::decide))
        .route("/exports/{id}/cancel", post(exports::cancel))
        .route("/exports/{id}/download", get(exports::download))
        .route("/notifications", get(notifications::page))
        .route("/notifications/language", post(notifications::set_language))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route("/roles", get(roles::page))
        .route("/roles/{id}", post(roles::save))
        .route("/account", get(account::page))
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route("/account/sessions/end-others", post(account::end_others))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/tokens/{id}/networks", post(account::token_networks))
        .route("/account/passkeys/{id}/delete", post(account::delete_passkey))
        .route("/import", get(import::page).post(import::start).layer(DefaultBodyLimit::max(import::MAX_UPLOAD)))
        .route("/import/{id}", get(import::job_page))
        .route("/import/{id}/progress", get(import::progress_fragment))
        .route("/audit", get(audit::page))
        .route("/audit/verify", post(audit::verify))
        .route("/jobs", get(jobs::page))
        .layer(Extension(import_jobs::ImportJobs::default()))
}

/// The console's answer for a path nothing matches.
pub fn not_found(prefs: &Prefs) -> axum::response::Response {
    error::ConsoleError::not_found(prefs.lang).for_htmx(prefs.htmx).into_response()
}
