//! Who a verified identity is in Tutela, with which roles, and the one commit that signs
//! them in: the account (created or linked, if so), the roles, the session and the events
//! describing all of it land together or not at all.

use std::collections::BTreeSet;

use tutela_crypto::token;
use tutela_store::{Mutation, RoleRow, SsoIdentityRow, UserRow, UserStatus};
use uuid::Uuid;

use super::{SsoConfig, SsoError, SsoOutcome, UnknownUsers, VerifiedIdentity};
use crate::CoreError;
use crate::Tutela;
use crate::audit::AuditEvent;
use crate::identity::users::normalise_email;
use crate::identity::{Factor, LoginStart};

/// How the identity came to its account.
enum Account {
    /// Linked at an earlier sign-in.
    Linked(UserRow),
    /// An existing account with the provider's verified e-mail, linked now.
    LinkedByEmail(UserRow),
    /// Created now (just-in-time provisioning).
    Created(UserRow),
}

impl Account {
    fn user(&self) -> &UserRow {
        match self {
            Self::Linked(u) | Self::LinkedByEmail(u) | Self::Created(u) => u,
        }
    }
}

/// The roles a sign-in leaves the user with.
struct RolePlan {
    wanted: BTreeSet<Uuid>,
    before: Vec<String>,
    after: Vec<String>,
    changed: bool,
}

impl Tutela {
    pub(super) async fn sso_account(
        &self,
        sso: &SsoConfig,
        identity: &VerifiedIdentity,
        source: Option<String>,
        user_agent: Option<String>,
    ) -> Result<SsoOutcome, SsoError> {
        let issuer = sso.provider.issuer();
        let policy = &sso.policy;
        let account = self.sso_find_account(sso, identity).await?;
        let user = account.user().clone();
        let roles = self.sso_roles(sso, &account, identity).await?;

        let now = self.clock.now();
        let mfa = policy.asserts_mfa(&identity.amr, identity.acr.as_deref());
        let mut mutations = Vec::new();
        let mut events = Vec::new();
        let by_user = |action: &'static str| {
            let mut event = AuditEvent::anonymous(&user.email, action, source.clone());
            event.actor_id = Some(user.id);
            event
        };
        let link = SsoIdentityRow {
            issuer: issuer.to_owned(),
            subject: identity.subject.clone(),
            user_id: user.id,
            email: identity.email.clone(),
            created_at: now,
            last_sign_in_at: Some(now),
        };
        match &account {
            Account::Linked(_) => mutations.push(Mutation::TouchSsoIdentity {
                issuer: link.issuer.clone(),
                subject: link.subject.clone(),
                at: now,
            }),
            Account::Created(row) => {
                mutations.push(Mutation::InsertUser(row.clone()));
                events.push(by_user("user.create").detail(serde_json::json!({
                    "user": user.id, "email": user.email, "roles": roles.after, "via": "sso",
                })));
            }
            Account::LinkedByEmail(_) => {}
        }
        if !matches!(account, Account::Linked(_)) {
            mutations.push(Mutation::InsertSsoIdentity(link));
            events.push(by_user("auth.sso_link").detail(serde_json::json!({
                "user": user.id, "issuer": issuer, "subject": identity.subject,
                "by": if matches!(account, Account::Created(_)) { "created" } else { "email" },
            })));
        }
        if roles.changed {
            mutations
                .push(Mutation::SetUserRoles { user_id: user.id, role_ids: roles.wanted.iter().copied().collect() });
            if !matches!(account, Account::Created(_)) {
                events.push(by_user("user.set_roles").detail(serde_json::json!({
                    "user": user.id, "roles": roles.after, "before": roles.before, "via": "sso",
                    "groups": policy.mapped_groups(&identity.groups),
                })));
            }
        }
        let (token, session) = self.open_session(user.id, mfa.then_some(Factor::Sso), source.clone(), user_agent);
        // Without the provider's second factor the sign-in completes at the local one, which
        // records the device then.
        if mfa {
            mutations
                .push(self.sign_in_device(&user, source.as_deref(), session.user_agent.as_deref(), Factor::Sso).await?);
        }
        mutations.push(Mutation::InsertSession(session));
        let next = match (mfa, user.totp_enabled) {
            (true, _) => "signed_in",
            (false, true) => "second_factor",
            (false, false) => "enrol",
        };
        events.push(by_user("auth.sso").detail(serde_json::json!({
            "issuer": issuer, "subject": identity.subject, "mfa": mfa, "amr": identity.amr,
            "acr": identity.acr, "next": next,
        })));
        match self.audit.commit(mutations, events).await {
            Ok(()) => {}
            // Another sign-in of the same person created or linked the account meanwhile.
            Err(CoreError::Conflict(_) | CoreError::NotFound(_)) => {
                return Err(SsoError::Refused("the account changed during the sign-in; sign in again".into()));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(if mfa {
            SsoOutcome::SignedIn(token)
        } else {
            SsoOutcome::SecondFactor(LoginStart { pending_token: token, must_enrol: !user.totp_enabled })
        })
    }

    /// The user's roles after this sign-in: those the mapping does not manage kept, those it
    /// manages as the groups say. Refused if the mapping names a role that does not exist,
    /// if it gives a new account no role at all, or if the result joins a
    /// separation-of-duties pair (nothing is granted then: the sign-in fails).
    async fn sso_roles(
        &self,
        sso: &SsoConfig,
        account: &Account,
        identity: &VerifiedIdentity,
    ) -> Result<RolePlan, SsoError> {
        let all_roles = self.store.roles_list().await.map_err(CoreError::from)?;
        let before: Vec<RoleRow> = match account {
            Account::Created(_) => Vec::new(),
            _ => self.store.user_roles(account.user().id).await.map_err(CoreError::from)?,
        };
        let mapped = sso.policy.roles_for(&identity.groups);
        if let Some(missing) = mapped.iter().find(|name| !all_roles.iter().any(|r| r.name == **name)) {
            return Err(CoreError::Conflict(format!(
                "the single sign-on mapping names role {missing:?}, which does not exist; ask an administrator"
            ))
            .into());
        }
        if matches!(account, Account::Created(_)) && mapped.is_empty() {
            return Err(SsoError::Refused(
                "none of this person's groups at the identity provider maps to a Tutela role".into(),
            ));
        }
        let managed = sso.policy.managed_roles();
        let wanted: BTreeSet<Uuid> = before
            .iter()
            .filter(|r| !managed.contains(r.name.as_str()))
            .map(|r| r.id)
            .chain(all_roles.iter().filter(|r| mapped.contains(r.name.as_str())).map(|r| r.id))
            .collect();
        let after: Vec<&RoleRow> = all_roles.iter().filter(|r| wanted.contains(&r.id)).collect();
        self.check_duties(&after).await?;
        Ok(RolePlan {
            changed: before.iter().map(|r| r.id).collect::<BTreeSet<_>>() != wanted,
            before: before.iter().map(|r| r.name.clone()).collect(),
            after: after.iter().map(|r| r.name.clone()).collect(),
            wanted,
        })
    }

    async fn sso_find_account(&self, sso: &SsoConfig, identity: &VerifiedIdentity) -> Result<Account, SsoError> {
        let store = &self.store;
        let disabled = || SsoError::Refused("the Tutela account of this identity is disabled".into());
        if let Some(link) =
            store.sso_identity(sso.provider.issuer(), &identity.subject).await.map_err(CoreError::from)?
        {
            let user = store.user_get(link.user_id).await.map_err(CoreError::from)?.ok_or_else(disabled)?;
            return if user.status == UserStatus::Active { Ok(Account::Linked(user)) } else { Err(disabled()) };
        }
        let email = identity.email.as_deref().and_then(|e| normalise_email(e).ok());
        let existing = match &email {
            Some(e) => store.user_by_email(e).await.map_err(CoreError::from)?,
            None => None,
        };
        if let Some(user) = existing {
            if !sso.policy.link_by_email {
                return Err(SsoError::Refused(
                    "an account with this e-mail exists but is not linked to this identity, and linking by e-mail is off"
                        .into(),
                ));
            }
            if identity.email_verified != Some(true) {
                return Err(SsoError::Refused(
                    "the identity provider does not say the e-mail address is verified, so the account is not linked"
                        .into(),
                ));
            }
            return if user.status == UserStatus::Active { Ok(Account::LinkedByEmail(user)) } else { Err(disabled()) };
        }
        if sso.policy.unknown_users == UnknownUsers::Refuse {
            return Err(SsoError::Refused("no Tutela account is linked to this identity".into()));
        }
        let email = email.ok_or_else(|| {
            SsoError::Refused("the identity provider gave no usable e-mail address, which a new account needs".into())
        })?;
        Ok(Account::Created(self.sso_new_user(email, identity.name.as_deref()).await?))
    }

    /// A new account for a person the provider vouches for. Its password is random and
    /// never shown: the account signs in through the provider (an administrator may give it
    /// a password later).
    async fn sso_new_user(&self, email: String, name: Option<&str>) -> Result<UserRow, SsoError> {
        let display_name: String = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default())
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let (unusable, _) = token::new_token("sso_");
        let password_hash = self.passwords.hash(unusable).await.map_err(CoreError::from)?;
        Ok(self.new_user_row(email, display_name, password_hash))
    }
}
