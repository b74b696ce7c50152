//! Access governance over customer data: the organisation, data scopes, field permissions,
//! sharing rules, record shares, separation of duties, and the explanation of a decision.
//!
//! A principal carries its [`Reach`], computed once from its roles, its place in the
//! organisation, the sharing rules that name it and the shares it was given. The vault asks
//! the reach about every row it returns and every field it shows; a store query is always
//! limited by [`Reach::readable`].

mod admin;
mod break_glass;
mod explain;
mod export_approval;
mod levels;
mod networks;
mod org;
mod reach;
pub mod reviews;
mod shares;
mod sod;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tutela_store::{RoleRow, SharingRuleRow};
use uuid::Uuid;

pub use admin::{DepartmentInput, MembershipInput, SharingRuleInput, TeamInput};
pub use break_glass::{BreakGlassPolicy, BreakGlassState, BreakGlassView};
pub use explain::{AccessExplanation, FieldExplanation, FieldReason, RowReason};
pub use export_approval::{ExportApprovalPolicy, ExportRequestState, ExportRequestView};
pub use levels::{DataScope, FieldAccess, GranteeKind, NetworkSubject, OrgDefault, ShareAccess};
pub use networks::{NetworkRuleView, parse_networks};
pub use org::Org;
pub use reach::{AppliedRule, AppliedShare, FieldCaps, Reach, RoleGrant, RowAccess, RowFacts, default_level};
pub use shares::{ShareInput, ShareView};
pub use sod::{SodRule, SodViolation, default_sod_rules};

use crate::identity::{Factor, SessionLimits, SignInPolicies};
use crate::policy::Permission;
use crate::stamp_cache::STAMP_KEY;
use crate::{CoreResult, Tutela};

/// The `meta` key of the organisation-wide default for customer records.
pub(crate) const ORG_DEFAULT_KEY: &str = "access.default.customer";

/// What every principal's reach is computed from, read once per change of the stamp.
#[derive(Debug, Clone)]
pub struct AccessSnapshot {
    pub org: Org,
    pub rules: Vec<SharingRuleRow>,
    pub org_default: OrgDefault,
    /// Allowed address ranges of roles, users and tokens.
    pub(crate) networks: networks::NetworkRules,
    /// Each role's second factor, session lengths and re-authentication window.
    pub(crate) sign_in: SignInPolicies,
}

/// What a request may do: its reach, whether an address range was consulted to work it
/// out, and the limits the roles in it put on a session.
pub(crate) struct RequestReach {
    pub reach: Reach,
    pub bound: bool,
    pub limits: SessionLimits,
}

impl Tutela {
    /// The organisation, sharing rules and default, from memory unless a change has been
    /// committed since they were read.
    pub(crate) async fn access_snapshot(&self) -> CoreResult<Arc<AccessSnapshot>> {
        let stamp = self.store.meta_get(STAMP_KEY).await?;
        if let Some(snapshot) = self.cache.access(&stamp) {
            return Ok(snapshot);
        }
        let org = Org::new(
            self.store.departments_list().await?,
            self.store.teams_list().await?,
            self.store.memberships_list().await?,
        );
        let org_default = match self.store.meta_get(ORG_DEFAULT_KEY).await? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse()?,
            None => OrgDefault::Private,
        };
        let snapshot = Arc::new(AccessSnapshot {
            org,
            rules: self.store.sharing_rules_list().await?,
            org_default,
            networks: networks::network_rules(self.store.network_rules_list().await?),
            sign_in: self.stored_sign_in_policies().await?,
        });
        self.cache.keep_access(&stamp, snapshot.clone());
        Ok(snapshot)
    }

    /// The reach of a user holding `roles`, wherever they are.
    pub(crate) async fn reach_of(&self, user_id: Uuid, roles: &[RoleRow]) -> CoreResult<Reach> {
        let snapshot = self.access_snapshot().await?;
        self.reach_in(&snapshot, user_id, roles).await
    }

    /// The reach of `user` for a request from `source`, signed in with `factor`: only the
    /// roles that accept that factor and apply from there, or a refusal (see
    /// [`Tutela::admit`]).
    pub(crate) async fn request_reach(
        &self,
        user: (Uuid, &str),
        token: Option<Uuid>,
        roles: Vec<RoleRow>,
        source: Option<&str>,
        factor: Option<Factor>,
    ) -> CoreResult<RequestReach> {
        let snapshot = self.access_snapshot().await?;
        let roles = snapshot.sign_in.admitted(roles, factor);
        let limits = snapshot.sign_in.limits(&roles, self.config.session_idle, self.config.session_absolute);
        let (roles, bound) = self.admit(&snapshot, user, token, roles, source).await?;
        Ok(RequestReach { reach: self.reach_in(&snapshot, user.0, &roles).await?, bound, limits })
    }

    async fn reach_in(&self, snapshot: &AccessSnapshot, user_id: Uuid, roles: &[RoleRow]) -> CoreResult<Reach> {
        let org = &snapshot.org;
        let grants = roles.iter().map(|role| grant(org, user_id, role)).collect();
        let role_ids: BTreeSet<Uuid> = roles.iter().map(|r| r.id).collect();
        let departments: BTreeSet<Uuid> =
            org.department_of(user_id).map(|d| org.ancestry(d)).unwrap_or_default().into_iter().collect();
        let team = org.team_of(user_id);
        let applied_rules = snapshot
            .rules
            .iter()
            .filter(|r| match r.grantee_kind.parse::<GranteeKind>() {
                Ok(GranteeKind::Role) => role_ids.contains(&r.grantee_id),
                Ok(GranteeKind::Department) => departments.contains(&r.grantee_id),
                Ok(GranteeKind::Team) => team == Some(r.grantee_id),
                Ok(GranteeKind::User) => user_id == r.grantee_id,
                // A rule stored with a kind this version does not know grants nothing.
                Err(_) => false,
            })
            .filter_map(|r| {
                Some(AppliedRule {
                    id: r.id,
                    name: r.name.clone(),
                    field_id: r.field_id.clone(),
                    value: r.value.clone(),
                    access: r.access.parse().ok()?,
                })
            })
            .collect();
        let mut shares: Vec<AppliedShare> = self
            .store
            .record_shares_for_user(user_id)
            .await?
            .into_iter()
            .filter_map(|s| {
                Some(AppliedShare {
                    id: s.id,
                    customer_id: s.customer_id,
                    access: s.access.parse().ok()?,
                    expires_at: s.expires_at,
                    break_glass: false,
                })
            })
            .collect();
        // Granted break-glass access reads the record; the clock decides when it ends.
        shares.extend(self.store.break_glass_for_user(user_id).await?.into_iter().filter_map(|b| {
            (b.status == "active").then_some(AppliedShare {
                id: b.id,
                customer_id: b.customer_id,
                access: ShareAccess::Read,
                expires_at: b.expires_at?,
                break_glass: true,
            })
        }));
        Ok(Reach { grants, org_default: snapshot.org_default, rules: applied_rules, shares })
    }
}

/// One role's grant to `user`: its permissions, and the owners its data scope reaches.
fn grant(org: &Org, user: Uuid, role: &RoleRow) -> RoleGrant {
    // Unknown names in a stored role grant nothing rather than failing sign-in; an unknown
    // scope reaches only the user's own records.
    let permissions: BTreeSet<Permission> = role.permissions.iter().filter_map(|p| p.parse().ok()).collect();
    let scope = role.data_scope.parse().unwrap_or(DataScope::Own);
    let field_rules: BTreeMap<String, FieldAccess> =
        role.field_rules.iter().filter_map(|(f, l)| Some((f.clone(), l.parse().ok()?))).collect();
    let owners = match scope {
        DataScope::All => None,
        DataScope::Own => Some(BTreeSet::from([user])),
        DataScope::Team => {
            let mut owners: BTreeSet<Uuid> =
                org.team_of(user).map(|t| org.members_of_team(t).collect()).unwrap_or_default();
            owners.insert(user);
            Some(owners)
        }
        DataScope::Department => {
            let mut owners: BTreeSet<Uuid> = org
                .department_of(user)
                .map(|d| org.members_of_departments(&org.subtree(d)).collect())
                .unwrap_or_default();
            owners.insert(user);
            Some(owners)
        }
    };
    RoleGrant { role_id: Some(role.id), role_name: role.name.clone(), permissions, scope, field_rules, owners }
}
