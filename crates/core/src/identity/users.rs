//! Managing users and their roles.

use std::collections::BTreeSet;

use secrecy::SecretString;
use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{Mutation, RoleRow, UserRow, UserStatus};
use uuid::Uuid;

use crate::access::{DataScope, FieldAccess, Reach};
use crate::audit::AuditEvent;
use crate::policy::{Credential, Permission, Principal, parse_permissions};
use crate::{CoreError, CoreResult, Tutela};

use super::password;

pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password: SecretString,
    /// Role names.
    pub roles: Vec<String>,
}

/// A user as administrators see it: never the password hash or TOTP secret.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub status: String,
    pub totp_enabled: bool,
    pub roles: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// While failed sign-ins keep this account locked (everywhere, or from some addresses):
    /// the end of the latest lock. Per node; an administrator can clear it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
}

pub(crate) fn normalise_email(email: &str) -> CoreResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.matches('@').count() == 1
        && email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !email.contains(char::is_whitespace);
    if ok { Ok(email) } else { Err(CoreError::invalid("email", "not an e-mail address")) }
}

impl Tutela {
    pub async fn create_user(&self, principal: &Principal, new: NewUser) -> CoreResult<UserView> {
        self.require(principal, Permission::UserManage, "user.create").await?;
        self.insert_user(Some(principal), new).await
    }

    /// A new active user's row, with their own data key and no second factor yet.
    pub(crate) fn new_user_row(&self, email: String, display_name: String, password_hash: String) -> UserRow {
        let id = Uuid::now_v7();
        let (_, wrapped) = self.keys.new_data_key(id.as_bytes());
        let now = self.clock.now();
        UserRow {
            id,
            email,
            display_name,
            password_hash,
            status: UserStatus::Active,
            kek_version: wrapped.kek_version,
            wrapped_dek: wrapped.bytes,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            locale: "zh-CN".into(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Creates a user; `by` is `None` only while setting up the first administrator.
    pub(crate) async fn insert_user(&self, by: Option<&Principal>, new: NewUser) -> CoreResult<UserView> {
        let email = normalise_email(&new.email)?;
        let display_name = new.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(CoreError::invalid("display_name", "a name is 1 to 100 characters"));
        }
        self.password_policy.check(&new.password, &email, &display_name)?;
        let roles = self.resolve_roles(&new.roles).await?;
        self.check_duties(&roles.iter().collect::<Vec<_>>()).await?;
        if self.store.user_by_email(&email).await?.is_some() {
            return Err(CoreError::Conflict(format!("a user with e-mail {email} exists")));
        }
        let hash = self.passwords.hash(password::normalise(&new.password)).await?;
        let row = self.new_user_row(email.clone(), display_name, hash);
        let id = row.id;
        let role_names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
        let event = match by {
            Some(p) => AuditEvent::by(p, "user.create"),
            None => AuditEvent::anonymous(&email, "setup.admin", None),
        }
        .detail(serde_json::json!({ "user": id, "email": email, "roles": role_names }));
        self.audit
            .commit(
                vec![
                    Mutation::InsertUser(row.clone()),
                    Mutation::SetUserRoles { user_id: id, role_ids: roles.iter().map(|r| r.id).collect() },
                ],
                vec![event],
            )
            .await?;
        Ok(view(&row, role_names, None))
    }

    async fn resolve_roles(&self, names: &[String]) -> CoreResult<Vec<RoleRow>> {
        let all = self.store.roles_list().await?;
        names
            .iter()
            .map(|name| {
                all.iter()
                    .find(|r| &r.name == name)
                    .cloned()
                    .ok_or_else(|| CoreError::invalid("roles", format!("unknown role {name:?}")))
            })
            .collect()
    }

    pub async fn users(&self, principal: &Principal) -> CoreResult<Vec<UserView>> {
        self.require(principal, Permission::UserManage, "user.list").await?;
        let locked = self.lockouts.locked_accounts(self.clock.now());
        let mut out = Vec::new();
        for user in self.store.users_list().await? {
            let roles = self.store.user_roles(user.id).await?.into_iter().map(|r| r.name).collect();
            out.push(view(&user, roles, locked.get(&user.email).copied()));
        }
        Ok(out)
    }

    pub async fn set_user_roles(&self, principal: &Principal, user_id: Uuid, roles: &[String]) -> CoreResult<UserView> {
        self.require(principal, Permission::UserManage, "user.set_roles").await?;
        let user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let resolved = self.resolve_roles(roles).await?;
        self.check_duties(&resolved.iter().collect::<Vec<_>>()).await?;
        let names: Vec<String> = resolved.iter().map(|r| r.name.clone()).collect();
        let event =
            AuditEvent::by(principal, "user.set_roles").detail(serde_json::json!({ "user": user_id, "roles": names }));
        let role_ids = resolved.iter().map(|r| r.id).collect();
        self.audit.commit(role_change(user_id, role_ids), vec![event]).await?;
        let locked = self.lockouts.locked_accounts(self.clock.now()).get(&user.email).copied();
        Ok(view(&user, names, locked))
    }

    /// Enables or disables a user. Either ends their sessions; disabling also revokes their
    /// API tokens, in the same commit, so nothing of theirs works on any node afterwards
    /// (sessions are read from the store at each request; the token cache's stamp changes
    /// with this commit) and enabling them again brings no old credential back.
    pub async fn set_user_status(&self, principal: &Principal, user_id: Uuid, status: UserStatus) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "user.set_status").await?;
        let mut user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let now = self.clock.now();
        user.status = status;
        user.updated_at = now;
        // Listed for the audit trail; the mutations end whatever exists at commit.
        let sessions: Vec<Uuid> = self.store.sessions_for_user(user_id).await?.iter().map(|s| s.id).collect();
        let mut mutations = vec![Mutation::UpdateUser(user), Mutation::DeleteUserSessions { user_id, keep: None }];
        let mut detail = serde_json::json!({ "user": user_id, "status": status.as_str(), "sessions_ended": sessions });
        if status == UserStatus::Disabled {
            let tokens = self.store.api_tokens_for_user(user_id).await?;
            let live: Vec<Uuid> = tokens.iter().filter(|t| t.revoked_at.is_none()).map(|t| t.id).collect();
            detail["tokens_revoked"] = serde_json::json!(live);
            mutations.push(Mutation::RevokeUserApiTokens { user_id, at: now });
        }
        let event = AuditEvent::by(principal, "user.set_status").detail(detail);
        self.audit.commit(mutations, vec![event]).await
    }

    pub async fn roles(&self, principal: &Principal) -> CoreResult<Vec<RoleRow>> {
        if !principal.has(Permission::RoleManage) {
            self.require(principal, Permission::UserManage, "role.list").await?;
        }
        Ok(self.store.roles_list().await?)
    }

    /// Creates or replaces a custom role. Of a built-in role only the data scope and field
    /// rules may change (so that, say, `sales` can be narrowed to its department). A role
    /// that would join permissions separation of duties keeps apart, by itself or in a user
    /// who holds it, is refused.
    pub async fn put_role(&self, principal: &Principal, role: RoleRow) -> CoreResult<RoleRow> {
        self.require(principal, Permission::RoleManage, "role.put").await?;
        let name = role.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(CoreError::invalid("name", "a role name is 1 to 64 characters"));
        }
        parse_permissions(&role.permissions)?;
        role.data_scope.parse::<DataScope>()?;
        let schema = self.schema().await?;
        for (field, level) in &role.field_rules {
            if schema.get(field).is_none() {
                return Err(CoreError::invalid("field_rules", format!("unknown field {field:?}")));
            }
            level.parse::<FieldAccess>()?;
        }
        let existing = self.store.roles_list().await?;
        let builtin = existing.iter().find(|r| r.builtin && (r.id == role.id || r.name == name));
        let role = match builtin {
            Some(b) if b.id != role.id || b.name != name || b.permissions != role.permissions => {
                return Err(CoreError::Conflict(format!(
                    "{name} is a built-in role: only its data scope and field rules can be changed"
                )));
            }
            Some(b) => RoleRow { description: b.description.clone(), builtin: true, ..role },
            None => RoleRow { name: name.to_owned(), builtin: false, ..role },
        };
        self.check_duties_with_role(&role).await?;
        let event = AuditEvent::by(principal, "role.put").detail(serde_json::json!({
            "role": role.id, "name": role.name, "permissions": role.permissions,
            "data_scope": role.data_scope, "field_rules": role.field_rules
        }));
        self.audit.commit(vec![Mutation::PutRole(role.clone())], vec![event]).await?;
        Ok(role)
    }
}

impl Tutela {
    /// Brings the stored built-in roles up to what this version defines (`builtin_roles`):
    /// their permissions cannot be edited, so a permission added in a later version (as
    /// `access.review` was for the administrator) reaches older installations only here. Run
    /// at every open; audited as `role.builtin.upgrade` with what changed. A change that
    /// would join a separation-of-duties pair for someone holding the role is left out and
    /// logged, for an administrator to resolve.
    pub(crate) async fn upgrade_builtin_roles(&self) -> CoreResult<()> {
        let stored = self.store.roles_list().await?;
        for (name, description, permissions) in crate::policy::builtin_roles() {
            let Some(role) = stored.iter().find(|r| r.builtin && r.name == name) else { continue };
            let wanted: BTreeSet<String> = permissions.iter().map(|p| p.as_str().to_owned()).collect();
            let held: BTreeSet<String> = role.permissions.iter().cloned().collect();
            if wanted == held && role.description == description {
                continue;
            }
            // In the order `seed` writes them, so that an upgraded role reads as a new one.
            let in_order = permissions.iter().map(|p| p.as_str().to_owned()).collect();
            let upgraded = RoleRow { description: description.to_owned(), permissions: in_order, ..role.clone() };
            if let Err(e) = self.check_duties_with_role(&upgraded).await {
                tracing::warn!(role = name, error = %e, "the built-in role was not upgraded");
                continue;
            }
            let event = AuditEvent::anonymous("system", "role.builtin.upgrade", None).detail(serde_json::json!({
                "role": role.id,
                "name": name,
                "added": wanted.difference(&held).collect::<Vec<_>>(),
                "removed": held.difference(&wanted).collect::<Vec<_>>(),
            }));
            self.audit.commit(vec![Mutation::PutRole(upgraded)], vec![event]).await?;
        }
        Ok(())
    }
}

/// What giving a user exactly these roles writes (also when an access review revokes one).
pub(crate) fn role_change(user_id: Uuid, role_ids: Vec<Uuid>) -> Vec<Mutation> {
    vec![
        Mutation::SetUserRoles { user_id, role_ids },
        // New permissions take effect at the next sign-in.
        Mutation::DeleteUserSessions { user_id, keep: None },
    ]
}

/// A user's principal over `reach`, its permissions the union of the reach's grants.
pub(crate) fn principal_with(
    user: &UserRow,
    credential: Credential,
    source: Option<String>,
    reach: Reach,
) -> Principal {
    let permissions: BTreeSet<Permission> = reach.grants().iter().flat_map(|g| g.permissions.iter().copied()).collect();
    Principal {
        user_id: Some(user.id),
        label: user.email.clone(),
        permissions,
        credential,
        source,
        reach: std::sync::Arc::new(reach),
        reauth_due: None,
        factor: None,
    }
}

fn view(user: &UserRow, roles: Vec<String>, locked_until: Option<OffsetDateTime>) -> UserView {
    UserView {
        id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        status: user.status.as_str().to_owned(),
        totp_enabled: user.totp_enabled,
        roles,
        created_at: user.created_at,
        locked_until,
    }
}
