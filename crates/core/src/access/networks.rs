//! Allowed address ranges (CIDR) per role, per user and per API token. A user or a token used
//! from outside its ranges is refused (and the attempt audited); a role used from outside its
//! ranges does not apply to that request, so a salesperson's customer access can stay in the
//! office while their other roles follow them. A request whose address is unknown matches no
//! range: restrictions fail closed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{Mutation, NetworkRuleRow, OrgChange, RoleRow};
use uuid::Uuid;

use super::{AccessSnapshot, NetworkSubject};
use crate::audit::{AuditEvent, Outcome};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const MAX_RANGES: usize = 100;

/// Address ranges by subject, as the access snapshot keeps them.
pub(crate) type NetworkRules = BTreeMap<(NetworkSubject, Uuid), Vec<IpNet>>;

/// Stored rules, parsed. An entry that no longer parses matches nothing, so a damaged
/// restriction refuses rather than opens.
pub(crate) fn network_rules(rows: Vec<NetworkRuleRow>) -> NetworkRules {
    rows.into_iter()
        .filter_map(|row| {
            let kind = row.subject_kind.parse().ok()?;
            Some(((kind, row.subject_id), row.networks.iter().filter_map(|n| n.parse().ok()).collect()))
        })
        .collect()
}

/// Address ranges as typed: CIDR (`10.0.0.0/8`, `2001:db8::/32`) or one address; blank
/// entries are skipped. Returned in canonical form (host bits cleared).
pub fn parse_networks(entries: &[String]) -> CoreResult<Vec<String>> {
    let entries: Vec<&str> = entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).collect();
    if entries.len() > MAX_RANGES {
        return Err(CoreError::invalid("networks", format!("at most {MAX_RANGES} address ranges")));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc().to_string())
                .map_err(|_| {
                    CoreError::invalid(
                        "networks",
                        format!(
                            "entry {}: {entry:?} is not an address range such as 10.0.0.0/8 or 2001:db8::/32",
                            i + 1
                        ),
                    )
                })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkRuleView {
    pub subject_kind: NetworkSubject,
    pub subject_id: Uuid,
    /// The role's name, the user's e-mail address or the token's name.
    pub subject_name: String,
    pub networks: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn allows(list: &[IpNet], address: Option<IpAddr>) -> bool {
    address.is_some_and(|ip| list.iter().any(|net| net.contains(&ip)))
}

impl Tutela {
    /// The roles of `user` that apply to a request from `source`, or a refusal when the user
    /// or the token may not be used from there. `bound` says whether any range was consulted
    /// (a principal that depends on the address must not be cached without it).
    pub(crate) async fn admit(
        &self,
        snapshot: &AccessSnapshot,
        user: (Uuid, &str),
        token: Option<Uuid>,
        mut roles: Vec<RoleRow>,
        source: Option<&str>,
    ) -> CoreResult<(Vec<RoleRow>, bool)> {
        let ranges = &snapshot.networks;
        let address = source.and_then(|s| s.parse::<IpAddr>().ok());
        let subjects = [(NetworkSubject::User, Some(user.0)), (NetworkSubject::Token, token)];
        let mut bound = false;
        for (kind, id) in subjects {
            let Some(list) = id.and_then(|id| ranges.get(&(kind, id))) else { continue };
            bound = true;
            if !allows(list, address) {
                let mut event = AuditEvent::anonymous(user.1, "access.network.denied", source.map(str::to_owned))
                    .outcome(Outcome::Denied)
                    .detail(serde_json::json!({ "subject_kind": kind, "subject": id }));
                event.actor_id = Some(user.0);
                self.audit.record(event).await?;
                let from = source.unwrap_or("an unknown address");
                return Err(CoreError::Forbidden(format!("this {kind} may not be used from {from}")));
            }
        }
        roles.retain(|role| match ranges.get(&(NetworkSubject::Role, role.id)) {
            None => true,
            Some(list) => {
                bound = true;
                allows(list, address)
            }
        });
        Ok((roles, bound))
    }

    /// Every restriction, for user and role administrators and auditors.
    pub async fn network_rules(&self, principal: &Principal) -> CoreResult<Vec<NetworkRuleView>> {
        if ![Permission::UserManage, Permission::RoleManage, Permission::AuditRead]
            .into_iter()
            .any(|p| principal.has(p))
        {
            self.require(principal, Permission::UserManage, "access.networks.read").await?;
        }
        let roles: BTreeMap<Uuid, String> =
            self.store.roles_list().await?.into_iter().map(|r| (r.id, r.name)).collect();
        let mut views = Vec::new();
        for row in self.store.network_rules_list().await? {
            let Ok(kind) = row.subject_kind.parse::<NetworkSubject>() else { continue };
            let subject_name = match kind {
                NetworkSubject::Role => roles.get(&row.subject_id).cloned().unwrap_or_default(),
                NetworkSubject::User => self.email_of(row.subject_id).await?,
                NetworkSubject::Token => {
                    self.store.api_token_by_id(row.subject_id).await?.map(|t| t.name).unwrap_or_default()
                }
            };
            views.push(NetworkRuleView {
                subject_kind: kind,
                subject_id: row.subject_id,
                subject_name,
                networks: row.networks,
                updated_at: row.updated_at,
            });
        }
        Ok(views)
    }

    /// The ranges of the caller's own API tokens, by token id.
    pub async fn my_token_networks(&self, principal: &Principal) -> CoreResult<BTreeMap<Uuid, Vec<String>>> {
        let Some(user) = principal.user_id else { return Ok(BTreeMap::new()) };
        let mine: Vec<Uuid> = self.store.api_tokens_for_user(user).await?.into_iter().map(|t| t.id).collect();
        Ok(self
            .store
            .network_rules_list()
            .await?
            .into_iter()
            .filter(|r| r.subject_kind == NetworkSubject::Token.as_str() && mine.contains(&r.subject_id))
            .map(|r| (r.subject_id, r.networks))
            .collect())
    }

    /// Replaces the address ranges of a role (`role.manage`), a user (`user.manage`) or a
    /// token (its owner, or `user.manage`); no ranges lifts the restriction. Refuses to lock
    /// the caller out of the address they are using.
    pub async fn set_network_rule(
        &self,
        principal: &Principal,
        kind: NetworkSubject,
        id: Uuid,
        entries: &[String],
    ) -> CoreResult<Vec<String>> {
        match kind {
            NetworkSubject::Role => {
                self.require(principal, Permission::RoleManage, "access.networks.set").await?;
                if !self.store.roles_list().await?.iter().any(|r| r.id == id) {
                    return Err(CoreError::NotFound("role"));
                }
            }
            NetworkSubject::User => {
                self.require(principal, Permission::UserManage, "access.networks.set").await?;
                self.store.user_get(id).await?.ok_or(CoreError::NotFound("user"))?;
            }
            NetworkSubject::Token => {
                let token = self.store.api_token_by_id(id).await?;
                if token.as_ref().is_none_or(|t| principal.user_id != Some(t.user_id)) {
                    self.require(principal, Permission::UserManage, "access.networks.set").await?;
                }
                token.ok_or(CoreError::NotFound("token"))?;
            }
        }
        let networks = parse_networks(entries)?;
        if kind == NetworkSubject::User && principal.user_id == Some(id) && !networks.is_empty() {
            let parsed: Vec<IpNet> = networks.iter().filter_map(|n| n.parse().ok()).collect();
            let address = principal.source.as_deref().and_then(|s| s.parse().ok());
            if !allows(&parsed, address) {
                return Err(CoreError::invalid("networks", "these ranges leave out the address you are using now"));
            }
        }
        let row = NetworkRuleRow {
            subject_kind: kind.as_str().to_owned(),
            subject_id: id,
            networks: networks.clone(),
            updated_at: self.clock.now(),
        };
        let event = AuditEvent::by(principal, "access.networks.set")
            .detail(serde_json::json!({ "subject_kind": kind, "subject": id, "networks": networks }));
        // An organisation change: it changes the stamp, so every node re-checks at once.
        self.audit.commit(vec![Mutation::Org(OrgChange::SetNetworkRule(row))], vec![event]).await?;
        Ok(networks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_parsed_canonically_and_bad_ones_named() {
        let ok = parse_networks(&["10.1.2.3/8".into(), " 192.0.2.7 ".into(), String::new(), "2001:db8::1/32".into()]);
        assert_eq!(ok.unwrap(), ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        match parse_networks(&["10.0.0.0/8".into(), "10.0.0.0/33".into()]) {
            Err(CoreError::Invalid { field, message }) => {
                assert_eq!(field, "networks");
                assert!(message.starts_with("entry 2: \"10.0.0.0/33\""), "{message}");
            }
            other => panic!("expected a named error, got {other:?}"),
        }
        assert!(parse_networks(&["office".into()]).is_err());
        assert!(parse_networks(&vec!["10.0.0.0/8".to_owned(); 101]).is_err());
    }

    #[test]
    fn an_unknown_address_matches_nothing() {
        let office: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(allows(&office, Some("10.2.3.4".parse().unwrap())));
        assert!(!allows(&office, Some("192.0.2.1".parse().unwrap())));
        assert!(!allows(&office, None));
        assert!(!allows(&[], Some("10.2.3.4".parse().unwrap())));
    }
}
