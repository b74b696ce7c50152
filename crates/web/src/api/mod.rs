//! `/api/v1`: handlers grouped by resource; each module declares its routes with their
//! OpenAPI descriptions, so the document is generated from the code it describes.

mod access;
mod audit;
mod auth;
mod break_glass;
mod customers;
mod exports;
pub mod health;
mod jobs;
mod keys;
mod levels;
mod networks;
mod notifications;
mod org;
mod passkeys;
pub(crate) mod reviews;
mod schema;
mod sessions;
mod shares;
mod sign_in_policy;
pub(crate) mod sso;
mod transfer;
mod types;
mod users;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tutela API", version = "1", description = "Customer security management: the protected customer vault and its audit log."),
    components(schemas(crate::error::Problem)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "console session; changes also need the X-CSRF-Token header",
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(customers::router())
        .merge(shares::router())
        .merge(transfer::router())
        .merge(schema::router())
        .merge(users::router())
        .merge(sessions::router())
        .merge(sso::router())
        .merge(passkeys::router())
        .merge(audit::router())
        .merge(keys::router())
        .merge(org::router())
        .merge(access::router())
        .merge(break_glass::router())
        .merge(notifications::router())
        .merge(exports::router())
        .merge(networks::router())
        .merge(reviews::router())
        .merge(jobs::router())
        .merge(sign_in_policy::router())
}
