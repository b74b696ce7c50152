//! Why a user may or may not see a record and each of its fields: which role, scope, rule
//! or share decided. Names and levels only; never a value.

use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::Classification;
use uuid::Uuid;

use super::levels::{DataScope, FieldAccess, OrgDefault, ShareAccess};
use super::reach::{FieldCaps, Reach, RowAccess, RowFacts};
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

#[derive(Debug, Clone, Serialize)]
pub struct AccessExplanation {
    pub user_id: Uuid,
    pub email: String,
    pub customer_id: Uuid,
    pub access: RowAccess,
    /// What opens the record; empty when nothing does.
    pub row_reasons: Vec<RowReason>,
    pub fields: Vec<FieldExplanation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowReason {
    /// A role's data scope reaches the record's owner.
    Scope {
        role: String,
        scope: DataScope,
        write: bool,
    },
    OrgDefault {
        default: OrgDefault,
    },
    Rule {
        rule: String,
        field: String,
        value: String,
        access: ShareAccess,
    },
    Share {
        share: Uuid,
        access: ShareAccess,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// Break-glass access, granted on request with a justification.
    BreakGlass {
        request: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldExplanation {
    pub field: String,
    pub classification: Classification,
    pub caps: FieldCaps,
    pub reasons: Vec<FieldReason>,
}

/// One role's say on a field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldReason {
    pub role: String,
    pub level: FieldAccess,
    /// True when a field rule of the role set the level; false when it is the default of the
    /// role's permissions for the field's classification.
    pub from_rule: bool,
    /// Permissions the level would need but the role lacks (reveal or write).
    pub missing: Vec<Permission>,
}

fn row_reasons(reach: &Reach, facts: RowFacts<'_>, now: OffsetDateTime) -> Vec<RowReason> {
    let mut reasons = Vec::new();
    if !reach.grants.iter().any(|g| g.permissions.contains(&Permission::CustomerRead)) {
        return reasons;
    }
    for g in &reach.grants {
        if g.permissions.contains(&Permission::CustomerRead) && g.admits_owner(facts.owner_id) {
            let write = g.permissions.contains(&Permission::CustomerWrite);
            reasons.push(RowReason::Scope { role: g.role_name.clone(), scope: g.scope, write });
        }
    }
    if reach.org_default != OrgDefault::Private {
        reasons.push(RowReason::OrgDefault { default: reach.org_default });
    }
    for r in reach.rules.iter().filter(|r| facts.plain.get(&r.field_id) == Some(&r.value)) {
        reasons.push(RowReason::Rule {
            rule: r.name.clone(),
            field: r.field_id.clone(),
            value: r.value.clone(),
            access: r.access,
        });
    }
    for s in reach.shares.iter().filter(|s| s.customer_id == facts.id && s.expires_at > now) {
        reasons.push(if s.break_glass {
            RowReason::BreakGlass { request: s.id, expires_at: s.expires_at }
        } else {
            RowReason::Share { share: s.id, access: s.access, expires_at: s.expires_at }
        });
    }
    reasons
}

impl Tutela {
    /// Explains `user_id`'s access to a record. Users may ask about themselves (for records
    /// they can read); role and user administrators about anyone.
    pub async fn explain_access(
        &self,
        principal: &Principal,
        user_id: Uuid,
        customer_id: Uuid,
    ) -> CoreResult<AccessExplanation> {
        let for_self = principal.user_id == Some(user_id);
        if !for_self && !principal.has(Permission::RoleManage) {
            self.require(principal, Permission::UserManage, "access.explain").await?;
        }
        let user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let row = self.store.customer_get(customer_id).await?.ok_or(CoreError::NotFound("customer"))?;
        let roles = self.store.user_roles(user_id).await?;
        let reach = self.reach_of(user_id, &roles).await?;
        let now = self.clock.now();
        let facts = RowFacts { id: row.id, owner_id: row.owner_id, plain: &row.plain };
        let access = reach.row(facts, now);
        if for_self && !access.read {
            return Err(CoreError::NotFound("customer"));
        }
        let schema = self.schema().await?;
        let fields = schema
            .fields()
            .iter()
            .map(|def| FieldExplanation {
                field: def.id.clone(),
                classification: def.classification,
                caps: reach.field(def),
                reasons: reach
                    .grants
                    .iter()
                    .map(|g| {
                        let (level, from_rule) = g.level(def);
                        let mut missing = Vec::new();
                        if level >= FieldAccess::Reveal
                            && let Some(p) = Permission::to_reveal(def.classification)
                            && !g.permissions.contains(&p)
                        {
                            missing.push(p);
                        }
                        if level >= FieldAccess::Write && !g.permissions.contains(&Permission::CustomerWrite) {
                            missing.push(Permission::CustomerWrite);
                        }
                        FieldReason { role: g.role_name.clone(), level, from_rule, missing }
                    })
                    .collect(),
            })
            .collect();
        let event = AuditEvent::by(principal, "access.explain")
            .customer(customer_id)
            .detail(serde_json::json!({ "user": user_id, "read": access.read, "write": access.write }));
        self.audit.record(event).await?;
        Ok(AccessExplanation {
            user_id,
            email: user.email,
            customer_id,
            access,
            row_reasons: row_reasons(&reach, facts, now),
            fields,
        })
    }
}
