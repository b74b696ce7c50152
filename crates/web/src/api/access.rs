//! Who reaches which customers beyond their roles' data scopes: sharing rules, the
//! organisation-wide default, separation of duties, and the explanation of one user's access
//! to one record.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutela_core::access::{AccessExplanation, FieldExplanation, OrgDefault, RowReason, SharingRuleInput, SodRule};
use tutela_core::policy::Permission;
use tutela_store::SharingRuleRow;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::levels;
use crate::auth::Authenticated;
use crate::id_path::IdPath;
use crate::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(put_rule, delete_rule))
        .routes(routes!(get_default, set_default))
        .routes(routes!(explain))
        .routes(routes!(get_sod, set_sod))
        .routes(routes!(sod_violations))
}

// ----- sharing rules -----

#[derive(Debug, Serialize, ToSchema)]
pub struct SharingRuleDto {
    id: Uuid,
    name: String,
    /// The public or internal field the condition is on.
    field_id: String,
    /// The value the field must equal for a record to be shared.
    value: String,
    #[schema(schema_with = levels::grantee_kind)]
    grantee_kind: String,
    /// The role, department, team or user named by `grantee_kind`.
    grantee_id: Uuid,
    #[schema(schema_with = levels::share_access)]
    access: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<SharingRuleRow> for SharingRuleDto {
    fn from(r: SharingRuleRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            field_id: r.field_id,
            value: r.value,
            grantee_kind: r.grantee_kind,
            grantee_id: r.grantee_id,
            access: r.access,
            created_at: r.created_at,
        }
    }
}

/// A sharing rule: everyone named by the grantee reaches every record whose field equals the
/// value, whatever their data scope; what they see of it still follows their field rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingRuleRequest {
    /// 1 to 100 characters, unique among rules.
    name: String,
    /// A public or internal field; a sealed (confidential or restricted) one is refused
    /// (422 naming `field_id`), since the store selects by it without opening sealed values.
    field_id: String,
    /// 1 to 500 characters, compared exactly (after trimming).
    value: String,
    #[schema(schema_with = levels::grantee_kind)]
    grantee_kind: String,
    /// Must name an existing role, department, team or user (422 naming `grantee_id`).
    grantee_id: Uuid,
    #[schema(schema_with = levels::share_access)]
    access: String,
}

impl From<SharingRuleRequest> for SharingRuleInput {
    fn from(b: SharingRuleRequest) -> Self {
        Self {
            name: b.name,
            field_id: b.field_id,
            value: b.value,
            grantee_kind: b.grantee_kind,
            grantee_id: b.grantee_id,
            access: b.access,
        }
    }
}

/// The sharing rules (`role.manage`, `user.manage` or `audit.read`).
#[utoipa::path(get, path = "/api/v1/sharing-rules", tag = "access",
    responses((status = 200, body = Vec<SharingRuleDto>), (status = 403, body = crate::error::Problem)))]
async fn list_rules(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<SharingRuleDto>>, ApiError> {
    let snapshot = state.tutela.access_settings(&p).await?;
    Ok(Json(snapshot.rules.iter().cloned().map(Into::into).collect()))
}

/// Create a sharing rule (`role.manage`). Audited as `access.rule.put`.
#[utoipa::path(post, path = "/api/v1/sharing-rules", tag = "access", request_body = SharingRuleRequest,
    responses((status = 201, body = SharingRuleDto), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create_rule(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<SharingRuleRequest>,
) -> Result<(StatusCode, Json<SharingRuleDto>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.tutela.put_sharing_rule(&p, None, body.into()).await?.into())))
}

/// Replace a sharing rule (`role.manage`). Audited as `access.rule.put`.
#[utoipa::path(put, path = "/api/v1/sharing-rules/{id}", tag = "access", params(("id" = Uuid, Path)),
    request_body = SharingRuleRequest,
    responses((status = 200, body = SharingRuleDto), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_rule(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SharingRuleRequest>,
) -> Result<Json<SharingRuleDto>, ApiError> {
    Ok(Json(state.tutela.put_sharing_rule(&p, Some(id), body.into()).await?.into()))
}

/// Delete a sharing rule (`role.manage`). Audited as `access.rule.delete`.
#[utoipa::path(delete, path = "/api/v1/sharing-rules/{id}", tag = "access", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_rule(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.tutela.delete_sharing_rule(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- the organisation-wide default -----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgDefaultDto {
    #[schema(schema_with = levels::org_default)]
    default: String,
}

/// The organisation-wide default for customer records (`role.manage`, `user.manage` or
/// `audit.read`).
#[utoipa::path(get, path = "/api/v1/access/default", tag = "access",
    responses((status = 200, body = OrgDefaultDto), (status = 403, body = crate::error::Problem)))]
async fn get_default(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<OrgDefaultDto>, ApiError> {
    let snapshot = state.tutela.access_settings(&p).await?;
    Ok(Json(OrgDefaultDto { default: snapshot.org_default.as_str().to_owned() }))
}

/// Set the organisation-wide default (`role.manage`). Audited as `access.default.set`.
#[utoipa::path(put, path = "/api/v1/access/default", tag = "access", request_body = OrgDefaultDto,
    responses((status = 200, body = OrgDefaultDto), (status = 422, body = crate::error::Problem)))]
async fn set_default(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<OrgDefaultDto>,
) -> Result<Json<OrgDefaultDto>, ApiError> {
    let default: OrgDefault = body.default.parse()?;
    state.tutela.set_org_default(&p, default).await?;
    Ok(Json(OrgDefaultDto { default: default.as_str().to_owned() }))
}

// ----- explanation -----

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExplainParams {
    /// The user whose access is explained.
    #[param(value_type = Uuid)]
    user: Option<String>,
    /// The customer record.
    #[param(value_type = Uuid)]
    customer: Option<String>,
}

fn uuid_param(name: &str, value: Option<&str>) -> Result<Uuid, ApiError> {
    let value = value.ok_or_else(|| ApiError::invalid(name, format!("{name}: give the id as ?{name}=…")))?;
    value.trim().parse().map_err(|_| ApiError::invalid(name, format!("{name}: {value:?} is not a UUID")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowAccessDto {
    read: bool,
    write: bool,
}

/// What opens the record, one entry per reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowReasonDto {
    /// A role's data scope reaches the record's owner.
    Scope {
        role: String,
        /// `own`, `team`, `department` or `all`.
        scope: String,
        /// Whether the role may also change the record.
        write: bool,
    },
    /// The organisation-wide default (`read_only` or `read_write`).
    OrgDefault { default: String },
    /// A sharing rule whose condition the record meets.
    Rule {
        rule: String,
        field: String,
        value: String,
        /// `read` or `write`.
        access: String,
    },
    /// A live share of this record with the user.
    Share {
        share: Uuid,
        /// `read` or `write`.
        access: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// Break-glass access granted on the user's request (read only).
    BreakGlass {
        request: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
}

impl From<RowReason> for RowReasonDto {
    fn from(r: RowReason) -> Self {
        match r {
            RowReason::Scope { role, scope, write } => Self::Scope { role, scope: scope.as_str().to_owned(), write },
            RowReason::OrgDefault { default } => Self::OrgDefault { default: default.as_str().to_owned() },
            RowReason::Rule { rule, field, value, access } => {
                Self::Rule { rule, field, value, access: access.as_str().to_owned() }
            }
            RowReason::Share { share, access, expires_at } => {
                Self::Share { share, access: access.as_str().to_owned(), expires_at }
            }
            RowReason::BreakGlass { request, expires_at } => Self::BreakGlass { request, expires_at },
        }
    }
}

/// What the user may do with a field of the record: the union over their roles.
#[allow(clippy::struct_excessive_bools)] // four separate rights, not the states of one
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldCapsDto {
    /// Shown at all (masked or clear).
    visible: bool,
    /// Shown unmasked (plaintext fields only; sealed ones are revealed one by one).
    clear: bool,
    /// A sealed value may be revealed with a purpose.
    reveal: bool,
    write: bool,
}

/// One role's say on a field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldReasonDto {
    role: String,
    /// `hidden`, `masked`, `read`, `reveal` or `write`.
    level: String,
    /// True when a field rule of the role set the level; false when it is the default of the
    /// role's permissions for the field's classification.
    from_rule: bool,
    /// Permissions the level would need but the role lacks.
    missing: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldExplanationDto {
    field: String,
    /// public, internal, confidential or restricted.
    classification: String,
    caps: FieldCapsDto,
    reasons: Vec<FieldReasonDto>,
}

impl From<FieldExplanation> for FieldExplanationDto {
    fn from(f: FieldExplanation) -> Self {
        Self {
            field: f.field,
            classification: f.classification.as_str().to_owned(),
            caps: FieldCapsDto {
                visible: f.caps.visible,
                clear: f.caps.clear,
                reveal: f.caps.reveal,
                write: f.caps.write,
            },
            reasons: f
                .reasons
                .into_iter()
                .map(|r| FieldReasonDto {
                    role: r.role,
                    level: r.level.as_str().to_owned(),
                    from_rule: r.from_rule,
                    missing: r.missing.iter().map(|p| p.as_str().to_owned()).collect(),
                })
                .collect(),
        }
    }
}

/// Why a user may or may not see a record and each of its fields. Names and levels only,
/// never a value.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessExplanationDto {
    user_id: Uuid,
    email: String,
    customer_id: Uuid,
    access: RowAccessDto,
    /// Empty when nothing opens the record.
    row_reasons: Vec<RowReasonDto>,
    fields: Vec<FieldExplanationDto>,
}

impl From<AccessExplanation> for AccessExplanationDto {
    fn from(e: AccessExplanation) -> Self {
        Self {
            user_id: e.user_id,
            email: e.email,
            customer_id: e.customer_id,
            access: RowAccessDto { read: e.access.read, write: e.access.write },
            row_reasons: e.row_reasons.into_iter().map(Into::into).collect(),
            fields: e.fields.into_iter().map(Into::into).collect(),
        }
    }
}

/// Explain a user's access to a customer: which role, scope, rule or share decides, field
/// by field. Anyone may ask about themselves for a record they can read (otherwise 404);
/// `role.manage` or `user.manage` about anyone. Audited as `access.explain`.
#[utoipa::path(get, path = "/api/v1/access/explain", tag = "access", params(ExplainParams),
    responses((status = 200, body = AccessExplanationDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn explain(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    params: Result<axum::extract::Query<ExplainParams>, QueryRejection>,
) -> Result<Json<AccessExplanationDto>, ApiError> {
    let axum::extract::Query(params) = params.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let user = uuid_param("user", params.user.as_deref())?;
    let customer = uuid_param("customer", params.customer.as_deref())?;
    Ok(Json(state.tutela.explain_access(&p, user, customer).await?.into()))
}

// ----- separation of duties -----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SodRuleDto {
    #[schema(schema_with = levels::permission)]
    first: String,
    #[schema(schema_with = levels::permission)]
    second: String,
    /// Why the two must stay apart (1 to 500 characters), shown with every refusal.
    reason: String,
}

impl From<SodRule> for SodRuleDto {
    fn from(r: SodRule) -> Self {
        Self { first: r.first.as_str().to_owned(), second: r.second.as_str().to_owned(), reason: r.reason }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SodRulesDto {
    /// Pairs of permissions no one user may hold together, at most 64.
    rules: Vec<SodRuleDto>,
}

/// Someone who holds both permissions of a rule today.
#[derive(Debug, Serialize, ToSchema)]
pub struct SodViolationDto {
    user_id: Uuid,
    email: String,
    rule: SodRuleDto,
    /// All the user's roles.
    roles: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SodUpdateDto {
    rules: Vec<SodRuleDto>,
    /// Users who already hold a pair now declared: not changed, listed to be resolved.
    violations: Vec<SodViolationDto>,
}

fn violation_dtos(violations: Vec<tutela_core::access::SodViolation>) -> Vec<SodViolationDto> {
    violations
        .into_iter()
        .map(|v| SodViolationDto { user_id: v.user_id, email: v.email, rule: v.rule.into(), roles: v.roles })
        .collect()
}

fn parse_permission(field: &str, name: &str) -> Result<Permission, ApiError> {
    name.parse().map_err(|e: tutela_core::CoreError| match e {
        tutela_core::CoreError::Invalid { message, .. } => ApiError::invalid(field, format!("{field}: {message}")),
        other => other.into(),
    })
}

/// The separation-of-duties rules in force (`role.manage`, `user.manage` or `audit.read`).
/// Granting roles that would join a pair is refused with 409 naming both permissions.
#[utoipa::path(get, path = "/api/v1/access/separation-of-duties", tag = "access",
    responses((status = 200, body = SodRulesDto), (status = 403, body = crate::error::Problem)))]
async fn get_sod(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<SodRulesDto>, ApiError> {
    Ok(Json(SodRulesDto { rules: state.tutela.sod_rules(&p).await?.into_iter().map(Into::into).collect() }))
}

/// Replace the separation-of-duties rules (`role.manage`). Users who already hold a newly
/// declared pair are not changed but listed in `violations`. Audited as `access.sod.set`.
#[utoipa::path(put, path = "/api/v1/access/separation-of-duties", tag = "access", request_body = SodRulesDto,
    responses((status = 200, body = SodUpdateDto), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn set_sod(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<SodRulesDto>,
) -> Result<Json<SodUpdateDto>, ApiError> {
    let rules = body
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(SodRule {
                first: parse_permission(&format!("rules[{i}].first"), &r.first)?,
                second: parse_permission(&format!("rules[{i}].second"), &r.second)?,
                reason: r.reason.clone(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let violations = state.tutela.set_sod_rules(&p, rules).await?;
    Ok(Json(SodUpdateDto { rules: body.rules, violations: violation_dtos(violations) }))
}

/// Users who hold both permissions of a rule today (`role.manage`, `user.manage` or
/// `audit.read`).
#[utoipa::path(get, path = "/api/v1/access/separation-of-duties/violations", tag = "access",
    responses((status = 200, body = Vec<SodViolationDto>), (status = 403, body = crate::error::Problem)))]
async fn sod_violations(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Vec<SodViolationDto>>, ApiError> {
    Ok(Json(violation_dtos(state.tutela.sod_violations(&p).await?)))
}
