//! What the administrator decides about single sign-on: which provider groups give which
//! roles, whether unknown users get an account, whether an existing account may be linked by
//! its e-mail address, and which authentication methods count as a second factor.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What to do with someone the provider vouches for who has no Tutela account yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownUsers {
    /// Just-in-time provisioning: create the account at the first sign-in, provided one of
    /// the person's groups maps to a role.
    Create,
    /// Refuse: an administrator creates accounts, which are then linked by e-mail.
    Refuse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoPolicy {
    /// Provider group → Tutela role names. The roles named here are managed by the
    /// provider: re-applied at each sign-in, added or removed as the groups say. Roles
    /// named nowhere here are left as administrators set them.
    pub group_roles: BTreeMap<String, Vec<String>>,
    pub unknown_users: UnknownUsers,
    /// Whether an existing account whose e-mail equals the provider's verified e-mail
    /// claim may be linked at its first single sign-on.
    pub link_by_email: bool,
    /// `amr` values any one of which means the provider checked a second factor.
    pub mfa_amr: Vec<String>,
    /// `acr` values that mean the provider checked a second factor.
    pub mfa_acr: Vec<String>,
}

impl SsoPolicy {
    /// The roles the groups map to.
    pub fn roles_for<'a>(&'a self, groups: &[String]) -> BTreeSet<&'a str> {
        groups
            .iter()
            .filter_map(|g| self.group_roles.get(g))
            .flat_map(|roles| roles.iter().map(String::as_str))
            .collect()
    }

    /// Every role the mapping names: those the provider adds and takes away.
    pub fn managed_roles(&self) -> BTreeSet<&str> {
        self.group_roles.values().flat_map(|roles| roles.iter().map(String::as_str)).collect()
    }

    /// The groups that the mapping knows, for the audit trail (not every group a
    /// directory lists for a person).
    pub fn mapped_groups<'a>(&self, groups: &'a [String]) -> Vec<&'a str> {
        groups.iter().filter(|g| self.group_roles.contains_key(*g)).map(String::as_str).collect()
    }

    /// Whether the provider asserted a second factor: an `amr` or the `acr` the
    /// administrator trusts. With nothing configured, nothing counts.
    pub fn asserts_mfa(&self, amr: &[String], acr: Option<&str>) -> bool {
        amr.iter().any(|m| self.mfa_amr.contains(m)) || acr.is_some_and(|a| self.mfa_acr.iter().any(|t| t == a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SsoPolicy {
        SsoPolicy {
            group_roles: [
                ("crm-sales".to_owned(), vec!["sales".to_owned()]),
                ("crm-support".to_owned(), vec!["support".to_owned(), "sales".to_owned()]),
                ("it".to_owned(), vec!["administrator".to_owned()]),
            ]
            .into(),
            unknown_users: UnknownUsers::Create,
            link_by_email: false,
            mfa_amr: vec!["mfa".into(), "otp".into()],
            mfa_acr: vec!["urn:example:loa:high".into()],
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn groups_map_to_the_union_of_their_roles() {
        let p = policy();
        assert_eq!(p.roles_for(&strings(&["crm-support", "other"])), BTreeSet::from(["sales", "support"]));
        assert!(p.roles_for(&strings(&["other", "CRM-SALES"])).is_empty(), "names are compared exactly");
        assert_eq!(p.managed_roles(), BTreeSet::from(["administrator", "sales", "support"]));
        assert_eq!(p.mapped_groups(&strings(&["x", "it"])), vec!["it"]);
    }

    #[test]
    fn only_the_configured_methods_count_as_a_second_factor() {
        let p = policy();
        assert!(p.asserts_mfa(&strings(&["pwd", "otp"]), None));
        assert!(!p.asserts_mfa(&strings(&["pwd"]), Some("urn:example:loa:low")));
        assert!(p.asserts_mfa(&[], Some("urn:example:loa:high")));
        let trusting_nothing = SsoPolicy { mfa_amr: Vec::new(), mfa_acr: Vec::new(), ..p };
        assert!(!trusting_nothing.asserts_mfa(&strings(&["mfa"]), Some("urn:example:loa:high")));
    }
}
