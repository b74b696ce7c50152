//! Separation of duties: declared pairs of permissions that no one user may hold together.
//! A grant that would join a pair is refused; pairs that existed before a rule was declared
//! are listed as violations until someone resolves them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tutela_store::{Mutation, RoleRow};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The `meta` key of the declared rules (JSON).
const SOD_KEY: &str = "access.sod";
const MAX_RULES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SodRule {
    pub first: Permission,
    pub second: Permission,
    /// Why the two must stay apart, shown with every refusal.
    pub reason: String,
}

impl SodRule {
    fn joined_by(&self, permissions: &BTreeSet<Permission>) -> bool {
        permissions.contains(&self.first) && permissions.contains(&self.second)
    }
}

/// Someone who holds both permissions of a rule today.
#[derive(Debug, Clone, Serialize)]
pub struct SodViolation {
    pub user_id: Uuid,
    pub email: String,
    pub rule: SodRule,
    pub roles: Vec<String>,
}

/// The rules of a new installation: who shapes access, or who administers users, does not
/// also read the most sensitive fields.
pub fn default_sod_rules() -> Vec<SodRule> {
    vec![
        SodRule {
            first: Permission::RoleManage,
            second: Permission::RevealRestricted,
            reason: "who decides what roles may do must not read restricted data with them".into(),
        },
        SodRule {
            first: Permission::UserManage,
            second: Permission::RevealRestricted,
            reason: "who grants roles to users must not read restricted data".into(),
        },
        SodRule {
            first: Permission::AccessApprove,
            second: Permission::CustomerExport,
            reason: "who approves exports must not take exports out".into(),
        },
    ]
}

fn permissions_of(roles: &[&RoleRow]) -> BTreeSet<Permission> {
    roles.iter().flat_map(|r| r.permissions.iter().filter_map(|p| p.parse().ok())).collect()
}

impl Tutela {
    pub(crate) async fn sod_rules_in_force(&self) -> CoreResult<Vec<SodRule>> {
        match self.store.meta_get(SOD_KEY).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::Internal(format!("stored separation-of-duties rules: {e}"))),
            None => Ok(default_sod_rules()),
        }
    }

    /// Refuses a set of roles whose permissions join a declared pair.
    pub(crate) async fn check_duties(&self, roles: &[&RoleRow]) -> CoreResult<()> {
        let held = permissions_of(roles);
        if let Some(rule) = self.sod_rules_in_force().await?.into_iter().find(|r| r.joined_by(&held)) {
            let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
            return Err(CoreError::Conflict(format!(
                "separation of duties: {} and {} may not be held together ({}); roles: {}",
                rule.first,
                rule.second,
                rule.reason,
                names.join(", ")
            )));
        }
        Ok(())
    }

    /// Checks every user who holds `changed` as if it were already stored.
    pub(crate) async fn check_duties_with_role(&self, changed: &RoleRow) -> CoreResult<()> {
        let roles = self.store.roles_list().await?;
        for (_, role_ids) in self.assignments().await? {
            if !role_ids.contains(&changed.id) {
                continue;
            }
            let held: Vec<&RoleRow> = roles
                .iter()
                .filter(|r| role_ids.contains(&r.id) && r.id != changed.id)
                .chain(std::iter::once(changed))
                .collect();
            self.check_duties(&held).await?;
        }
        self.check_duties(&[changed]).await
    }

    async fn assignments(&self) -> CoreResult<BTreeMap<Uuid, BTreeSet<Uuid>>> {
        let mut by_user: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
        for (user, role) in self.store.role_assignments().await? {
            by_user.entry(user).or_default().insert(role);
        }
        Ok(by_user)
    }

    pub async fn sod_rules(&self, principal: &Principal) -> CoreResult<Vec<SodRule>> {
        if !principal.has(Permission::RoleManage) && !principal.has(Permission::UserManage) {
            self.require(principal, Permission::AuditRead, "access.sod.read").await?;
        }
        self.sod_rules_in_force().await
    }

    /// Replaces the rules. Existing holders of a newly declared pair are not changed but
    /// reported, so that the administrator can resolve them.
    pub async fn set_sod_rules(&self, principal: &Principal, rules: Vec<SodRule>) -> CoreResult<Vec<SodViolation>> {
        self.require(principal, Permission::RoleManage, "access.sod.set").await?;
        if rules.len() > MAX_RULES {
            return Err(CoreError::invalid("rules", format!("at most {MAX_RULES} rules")));
        }
        let mut seen = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.first == rule.second {
                return Err(CoreError::invalid(format!("rules[{i}]"), "a rule pairs two different permissions"));
            }
            if !seen.insert((rule.first.min(rule.second), rule.first.max(rule.second))) {
                return Err(CoreError::invalid(format!("rules[{i}]"), "this pair is declared twice"));
            }
            if rule.reason.trim().is_empty() || rule.reason.chars().count() > 500 {
                return Err(CoreError::invalid(format!("rules[{i}].reason"), "give a reason in 1 to 500 characters"));
            }
        }
        let value = serde_json::to_vec(&rules).map_err(|e| CoreError::Internal(e.to_string()))?;
        let event = AuditEvent::by(principal, "access.sod.set").detail(serde_json::json!({ "rules": rules }));
        self.audit.commit(vec![Mutation::PutMeta { key: SOD_KEY.to_owned(), value }], vec![event]).await?;
        self.violations(&rules).await
    }

    pub async fn sod_violations(&self, principal: &Principal) -> CoreResult<Vec<SodViolation>> {
        let rules = self.sod_rules(principal).await?;
        self.violations(&rules).await
    }

    async fn violations(&self, rules: &[SodRule]) -> CoreResult<Vec<SodViolation>> {
        let all_roles = self.store.roles_list().await?;
        let mut out = Vec::new();
        for (user_id, role_ids) in self.assignments().await? {
            let held: Vec<&RoleRow> = all_roles.iter().filter(|r| role_ids.contains(&r.id)).collect();
            let permissions = permissions_of(&held);
            let Some(user) = self.store.user_get(user_id).await? else {
                continue;
            };
            for rule in rules.iter().filter(|r| r.joined_by(&permissions)) {
                out.push(SodViolation {
                    user_id,
                    email: user.email.clone(),
                    rule: rule.clone(),
                    roles: held.iter().map(|r| r.name.clone()).collect(),
                });
            }
        }
        Ok(out)
    }
}
