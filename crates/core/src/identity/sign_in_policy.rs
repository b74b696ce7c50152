//! Sign-in policies per role: which second factor a role needs, how long its sessions last,
//! and how recently its user must have proved who they are before revealing or exporting.
//!
//! The policies live in `meta` and travel in the access snapshot, so a change reaches every
//! node at its next request, like the roles themselves. A role is part of a request's reach
//! only when the session (or the session that made the API token) used a factor the role
//! accepts, so a salesperson's TOTP sign-in keeps their everyday roles while a role that asks
//! for a passkey waits for one. Session lengths and the re-authentication window take the
//! strictest of the roles in use, never anything longer than the server's own limits.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tutela_store::{Mutation, RoleRow, SessionRow};
use uuid::Uuid;

use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::stamp_cache::new_stamp;
use crate::{CoreError, CoreResult, Tutela};

/// The `meta` key holding every role's sign-in policy, as JSON keyed by role id.
pub(crate) const SIGN_IN_POLICY_KEY: &str = "identity.sign_in_policy";

/// How a session proved its second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Factor {
    Totp,
    RecoveryCode,
    Passkey,
    /// The identity provider asserted a second factor.
    Sso,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery-code",
            Self::Passkey => "passkey",
            Self::Sso => "sso",
        }
    }
}

impl FromStr for Factor {
    type Err = CoreError;
    fn from_str(s: &str) -> CoreResult<Self> {
        [Self::Totp, Self::RecoveryCode, Self::Passkey, Self::Sso]
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| CoreError::invalid("factor", format!("unknown factor {s:?}")))
    }
}

/// Which second factors a role accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FactorRequirement {
    /// Any second factor: an authenticator code, a recovery code, a passkey, or the identity
    /// provider's.
    #[default]
    Any,
    /// A passkey: phishing-resistant, bound to this site (NIST SP 800-63B, AAL3-like).
    Passkey,
}

impl FactorRequirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Passkey => "passkey",
        }
    }

    /// Whether a session that proved `factor` meets this requirement. A session from before
    /// factors were recorded meets only `Any`.
    pub fn met_by(self, factor: Option<Factor>) -> bool {
        match self {
            Self::Any => true,
            Self::Passkey => factor == Some(Factor::Passkey),
        }
    }
}

impl FromStr for FactorRequirement {
    type Err = CoreError;
    fn from_str(s: &str) -> CoreResult<Self> {
        match s {
            "any" => Ok(Self::Any),
            "passkey" => Ok(Self::Passkey),
            other => {
                Err(CoreError::invalid("factor", format!("{other:?} is not a factor requirement; use any or passkey")))
            }
        }
    }
}

impl fmt::Display for FactorRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One role's sign-in policy. Every limit is optional; none means the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSignInPolicy {
    #[serde(default)]
    pub factor: FactorRequirement,
    /// A session holding this role ends this many hours after sign-in (1 to 24).
    #[serde(default)]
    pub session_hours: Option<u32>,
    /// A session holding this role ends after this many minutes unused (5 to 480).
    #[serde(default)]
    pub idle_minutes: Option<u32>,
    /// Revealing or exporting needs a sign-in or re-authentication at most this many
    /// minutes old (1 to 1440).
    #[serde(default)]
    pub reauth_minutes: Option<u32>,
}

impl RoleSignInPolicy {
    /// Checks each limit's range, naming the field at fault.
    pub fn validate(&self) -> CoreResult<()> {
        let within = |field: &str, value: Option<u32>, min: u32, max: u32| match value {
            Some(v) if !(min..=max).contains(&v) => {
                Err(CoreError::invalid(field, format!("must be between {min} and {max}, not {v}")))
            }
            _ => Ok(()),
        };
        within("session_hours", self.session_hours, 1, 24)?;
        within("idle_minutes", self.idle_minutes, 5, 480)?;
        within("reauth_minutes", self.reauth_minutes, 1, 1440)
    }

    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Every role's policy, by role id. Roles without one follow the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignInPolicies(BTreeMap<Uuid, RoleSignInPolicy>);

impl SignInPolicies {
    pub(crate) fn parse(bytes: &[u8]) -> CoreResult<Self> {
        serde_json::from_slice(bytes).map_err(|e| CoreError::Internal(format!("stored sign-in policies: {e}")))
    }

    pub fn of(&self, role: Uuid) -> RoleSignInPolicy {
        self.0.get(&role).copied().unwrap_or_default()
    }

    /// The roles a session that proved `factor` may use.
    pub(crate) fn admitted(&self, roles: Vec<RoleRow>, factor: Option<Factor>) -> Vec<RoleRow> {
        roles.into_iter().filter(|r| self.of(r.id).factor.met_by(factor)).collect()
    }

    /// The limits of a session holding `roles`: the strictest of theirs and the server's.
    pub(crate) fn limits(&self, roles: &[RoleRow], idle: Duration, absolute: Duration) -> SessionLimits {
        let policies: Vec<RoleSignInPolicy> = roles.iter().map(|r| self.of(r.id)).collect();
        let strictest = |pick: fn(&RoleSignInPolicy) -> Option<u32>| policies.iter().filter_map(pick).min();
        SessionLimits {
            absolute: strictest(|p| p.session_hours).map_or(absolute, |h| absolute.min(Duration::hours(h.into()))),
            idle: strictest(|p| p.idle_minutes).map_or(idle, |m| idle.min(Duration::minutes(m.into()))),
            reauth: strictest(|p| p.reauth_minutes).map(|m| Duration::minutes(m.into())),
        }
    }
}

/// How long a session may run, and how recent its proof of identity must be for reveals and
/// exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionLimits {
    pub absolute: Duration,
    pub idle: Duration,
    pub reauth: Option<Duration>,
}

impl SessionLimits {
    /// Whether a signed-in session has run past either limit at `now`.
    pub(crate) fn ended(&self, row: &SessionRow, now: OffsetDateTime) -> bool {
        now >= row.created_at + self.absolute || now >= row.last_seen_at + self.idle
    }

    /// When the session's proof of identity becomes too old for reveals and exports.
    pub(crate) fn reauth_due(&self, row: &SessionRow) -> Option<OffsetDateTime> {
        self.reauth.map(|window| row.authenticated_at + window)
    }
}

/// A role's policy as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleSignInPolicyView {
    pub role_id: Uuid,
    pub role: String,
    #[serde(flatten)]
    pub policy: RoleSignInPolicy,
}

impl Tutela {
    /// Every role with its sign-in policy (user and role administrators, auditors).
    pub async fn sign_in_policies(&self, principal: &Principal) -> CoreResult<Vec<RoleSignInPolicyView>> {
        if !principal.has(Permission::AuditRead) && !principal.has(Permission::UserManage) {
            self.require(principal, Permission::RoleManage, "access.sign_in_policy.read").await?;
        }
        let policies = self.stored_sign_in_policies().await?;
        Ok(self
            .store
            .roles_list()
            .await?
            .into_iter()
            .map(|r| RoleSignInPolicyView { role_id: r.id, policy: policies.of(r.id), role: r.name })
            .collect())
    }

    /// Sets one role's sign-in policy; the default policy removes the entry. Takes effect at
    /// every session's next request. Role or user administrators may: it decides how people
    /// sign in, not what they reach, and the local operator (`user.manage`) must be able to
    /// lift a passkey requirement that locked every administrator out.
    pub async fn set_sign_in_policy(
        &self,
        principal: &Principal,
        role_id: Uuid,
        policy: RoleSignInPolicy,
    ) -> CoreResult<RoleSignInPolicyView> {
        if !principal.has(Permission::UserManage) {
            self.require(principal, Permission::RoleManage, "access.sign_in_policy.set").await?;
        }
        policy.validate()?;
        let role =
            self.store.roles_list().await?.into_iter().find(|r| r.id == role_id).ok_or(CoreError::NotFound("role"))?;
        let mut policies = self.stored_sign_in_policies().await?;
        let before = policies.of(role_id);
        if policy.is_default() {
            policies.0.remove(&role_id);
        } else {
            policies.0.insert(role_id, policy);
        }
        let value = serde_json::to_vec(&policies).map_err(|e| CoreError::Internal(format!("sign-in policies: {e}")))?;
        let event = AuditEvent::by(principal, "access.sign_in_policy.set").detail(serde_json::json!({
            "role": role_id, "name": role.name, "before": before, "after": policy,
        }));
        self.audit
            .commit(vec![Mutation::PutMeta { key: SIGN_IN_POLICY_KEY.to_owned(), value }, new_stamp()], vec![event])
            .await?;
        Ok(RoleSignInPolicyView { role_id, role: role.name, policy })
    }

    pub(crate) async fn stored_sign_in_policies(&self) -> CoreResult<SignInPolicies> {
        self.store
            .meta_get(SIGN_IN_POLICY_KEY)
            .await?
            .map_or_else(|| Ok(SignInPolicies::default()), |b| SignInPolicies::parse(&b))
    }

    /// Refuses a reveal or an export when the principal's roles want a fresher proof of
    /// identity than its session has; the refusal is audited with the action.
    pub(crate) async fn require_recent_sign_in(&self, principal: &Principal, action: &'static str) -> CoreResult<()> {
        match principal.reauth_due {
            Some(due) if self.clock.now() >= due => {
                self.audit
                    .record(
                        AuditEvent::by(principal, action)
                            .outcome(Outcome::Denied)
                            .detail(serde_json::json!({ "reauthentication_required": true })),
                    )
                    .await?;
                Err(CoreError::ReauthRequired)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: Uuid) -> RoleRow {
        RoleRow {
            id,
            name: id.to_string(),
            description: String::new(),
            builtin: false,
            permissions: Vec::new(),
            data_scope: "own".into(),
            field_rules: BTreeMap::new(),
        }
    }

    #[test]
    fn the_strictest_role_sets_each_limit_and_never_beyond_the_server() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let policies = SignInPolicies(BTreeMap::from([
            (a, RoleSignInPolicy { session_hours: Some(8), reauth_minutes: Some(30), ..Default::default() }),
            (b, RoleSignInPolicy { session_hours: Some(2), idle_minutes: Some(400), ..Default::default() }),
            (
                c,
                RoleSignInPolicy { factor: FactorRequirement::Passkey, reauth_minutes: Some(10), ..Default::default() },
            ),
        ]));
        let limits = policies.limits(&[role(a), role(b)], Duration::minutes(30), Duration::hours(12));
        assert_eq!(
            limits,
            SessionLimits {
                absolute: Duration::hours(2),
                idle: Duration::minutes(30),
                reauth: Some(Duration::minutes(30))
            }
        );
        let all = policies.limits(&[role(a), role(b), role(c)], Duration::minutes(30), Duration::hours(12));
        assert_eq!(all.reauth, Some(Duration::minutes(10)));
        let none = policies.limits(&[role(Uuid::new_v4())], Duration::minutes(30), Duration::hours(12));
        assert_eq!(none, SessionLimits { absolute: Duration::hours(12), idle: Duration::minutes(30), reauth: None });
    }

    #[test]
    fn a_passkey_role_waits_for_a_passkey_session() {
        let (plain, strict) = (Uuid::new_v4(), Uuid::new_v4());
        let policies = SignInPolicies(BTreeMap::from([(
            strict,
            RoleSignInPolicy { factor: FactorRequirement::Passkey, ..Default::default() },
        )]));
        let ids = |roles: Vec<RoleRow>| roles.into_iter().map(|r| r.id).collect::<Vec<_>>();
        for factor in [None, Some(Factor::Totp), Some(Factor::RecoveryCode), Some(Factor::Sso)] {
            assert_eq!(ids(policies.admitted(vec![role(plain), role(strict)], factor)), vec![plain], "{factor:?}");
        }
        assert_eq!(ids(policies.admitted(vec![role(plain), role(strict)], Some(Factor::Passkey))), vec![plain, strict]);
    }

    #[test]
    fn limits_out_of_range_name_their_field() {
        let bad = [
            (RoleSignInPolicy { session_hours: Some(0), ..Default::default() }, "session_hours"),
            (RoleSignInPolicy { session_hours: Some(25), ..Default::default() }, "session_hours"),
            (RoleSignInPolicy { idle_minutes: Some(4), ..Default::default() }, "idle_minutes"),
            (RoleSignInPolicy { reauth_minutes: Some(1441), ..Default::default() }, "reauth_minutes"),
        ];
        for (policy, name) in bad {
            let e = policy.validate().unwrap_err();
            assert!(matches!(&e, CoreError::Invalid { field, .. } if field == name), "{e}");
        }
        RoleSignInPolicy {
            session_hours: Some(24),
            idle_minutes: Some(5),
            reauth_minutes: Some(1),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert!("fido".parse::<FactorRequirement>().is_err());
        assert_eq!("recovery-code".parse::<Factor>().unwrap(), Factor::RecoveryCode);
    }
}
