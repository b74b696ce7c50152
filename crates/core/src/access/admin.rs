//! Administering the organisation, sharing rules and the organisation-wide default.
//! Departments, teams and memberships are user administration (`user.manage`); sharing rules
//! and the default decide who reads what, so they are role administration (`role.manage`).

use serde::{Deserialize, Serialize};
use tutela_store::{DepartmentRow, MembershipRow, Mutation, OrgChange, SharingRuleRow, TeamRow};
use uuid::Uuid;

use super::levels::{GranteeKind, OrgDefault, ShareAccess};
use super::{AccessSnapshot, ORG_DEFAULT_KEY};
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::stamp_cache::new_stamp;
use crate::{CoreError, CoreResult, Tutela};

const MAX_NAME: usize = 100;

fn check_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(CoreError::invalid("name", format!("a name is 1 to {MAX_NAME} characters")));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentInput {
    pub name: String,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamInput {
    pub name: String,
    pub department_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MembershipInput {
    pub department_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SharingRuleInput {
    pub name: String,
    /// A plaintext (public or internal) field.
    pub field_id: String,
    pub value: String,
    pub grantee_kind: String,
    pub grantee_id: Uuid,
    pub access: String,
}

impl Tutela {
    /// The organisation and sharing rules, for anyone who administers users or roles, and
    /// for auditors, who review them.
    pub async fn access_settings(&self, principal: &Principal) -> CoreResult<std::sync::Arc<AccessSnapshot>> {
        if !principal.has(Permission::RoleManage) && !principal.has(Permission::AuditRead) {
            self.require(principal, Permission::UserManage, "org.read").await?;
        }
        self.access_snapshot().await
    }

    /// Creates (`id` `None`) or renames/moves a department. A parent that would make a
    /// cycle is refused.
    pub async fn put_department(
        &self,
        principal: &Principal,
        id: Option<Uuid>,
        input: DepartmentInput,
    ) -> CoreResult<DepartmentRow> {
        self.require(principal, Permission::UserManage, "org.department.put").await?;
        let name = check_name(&input.name)?;
        let snapshot = self.access_snapshot().await?;
        let org = &snapshot.org;
        let existing = match id {
            Some(id) => Some(org.department(id).ok_or(CoreError::NotFound("department"))?.clone()),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        org.check_parent(id, input.parent_id)?;
        if org.departments().iter().any(|d| d.name == name && d.id != id) {
            return Err(CoreError::Conflict(format!("a department named {name} exists")));
        }
        let row = DepartmentRow {
            id,
            name,
            parent_id: input.parent_id,
            created_at: existing.as_ref().map_or_else(|| self.clock.now(), |d| d.created_at),
            // Named on its own (`set_department_manager`); a rename or move keeps it.
            manager_id: existing.and_then(|d| d.manager_id),
        };
        let event = AuditEvent::by(principal, "org.department.put")
            .detail(serde_json::json!({ "department": row.id, "name": row.name, "parent": row.parent_id }));
        self.audit.commit(vec![Mutation::Org(OrgChange::PutDepartment(row.clone()))], vec![event]).await?;
        Ok(row)
    }

    /// Deletes an empty department: no sub-department, team or member may name it.
    pub async fn delete_department(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "org.department.delete").await?;
        let snapshot = self.access_snapshot().await?;
        let org = &snapshot.org;
        let department = org.department(id).ok_or(CoreError::NotFound("department"))?;
        if org.departments().iter().any(|d| d.parent_id == Some(id)) {
            return Err(CoreError::Conflict(format!(
                "{} has sub-departments: move or delete them first",
                department.name
            )));
        }
        if org.teams().iter().any(|t| t.department_id == Some(id)) {
            return Err(CoreError::Conflict(format!("{} has teams: move or delete them first", department.name)));
        }
        if org.members_of_departments(&[id].into()).next().is_some() {
            return Err(CoreError::Conflict(format!("{} has members: move them first", department.name)));
        }
        let event = AuditEvent::by(principal, "org.department.delete")
            .detail(serde_json::json!({ "department": id, "name": department.name }));
        self.audit.commit(vec![Mutation::Org(OrgChange::DeleteDepartment { id })], vec![event]).await
    }

    pub async fn put_team(&self, principal: &Principal, id: Option<Uuid>, input: TeamInput) -> CoreResult<TeamRow> {
        self.require(principal, Permission::UserManage, "org.team.put").await?;
        let name = check_name(&input.name)?;
        let snapshot = self.access_snapshot().await?;
        let org = &snapshot.org;
        let existing = match id {
            Some(id) => Some(org.team(id).ok_or(CoreError::NotFound("team"))?.clone()),
            None => None,
        };
        if let Some(d) = input.department_id
            && org.department(d).is_none()
        {
            return Err(CoreError::invalid("department_id", format!("no department {d}")));
        }
        let id = id.unwrap_or_else(Uuid::now_v7);
        if org.teams().iter().any(|t| t.name == name && t.id != id) {
            return Err(CoreError::Conflict(format!("a team named {name} exists")));
        }
        let row = TeamRow {
            id,
            name,
            department_id: input.department_id,
            created_at: existing.map_or_else(|| self.clock.now(), |t| t.created_at),
        };
        let event = AuditEvent::by(principal, "org.team.put")
            .detail(serde_json::json!({ "team": row.id, "name": row.name, "department": row.department_id }));
        self.audit.commit(vec![Mutation::Org(OrgChange::PutTeam(row.clone()))], vec![event]).await?;
        Ok(row)
    }

    /// Deletes a team; its members simply belong to no team afterwards.
    pub async fn delete_team(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "org.team.delete").await?;
        let snapshot = self.access_snapshot().await?;
        let team = snapshot.org.team(id).ok_or(CoreError::NotFound("team"))?;
        let event =
            AuditEvent::by(principal, "org.team.delete").detail(serde_json::json!({ "team": id, "name": team.name }));
        self.audit.commit(vec![Mutation::Org(OrgChange::DeleteTeam { id })], vec![event]).await
    }

    /// Places a user in a department and a team.
    pub async fn set_membership(&self, principal: &Principal, user_id: Uuid, input: MembershipInput) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "org.membership.set").await?;
        self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let snapshot = self.access_snapshot().await?;
        let org = &snapshot.org;
        if let Some(d) = input.department_id
            && org.department(d).is_none()
        {
            return Err(CoreError::invalid("department_id", format!("no department {d}")));
        }
        if let Some(t) = input.team_id
            && org.team(t).is_none()
        {
            return Err(CoreError::invalid("team_id", format!("no team {t}")));
        }
        let row = MembershipRow { user_id, department_id: input.department_id, team_id: input.team_id };
        let event = AuditEvent::by(principal, "org.membership.set").detail(serde_json::json!({
            "user": user_id, "department": input.department_id, "team": input.team_id
        }));
        self.audit.commit(vec![Mutation::Org(OrgChange::SetMembership(row))], vec![event]).await
    }

    /// Creates (`id` `None`) or replaces a sharing rule. The condition is on a plaintext
    /// field, so that the store can select by it without opening sealed values.
    pub async fn put_sharing_rule(
        &self,
        principal: &Principal,
        id: Option<Uuid>,
        input: SharingRuleInput,
    ) -> CoreResult<SharingRuleRow> {
        self.require(principal, Permission::RoleManage, "access.rule.put").await?;
        let name = check_name(&input.name)?;
        let schema = self.schema().await?;
        let def = schema
            .get(&input.field_id)
            .ok_or_else(|| CoreError::invalid("field_id", format!("unknown field {:?}", input.field_id)))?;
        if def.classification.is_sealed() {
            return Err(CoreError::invalid(
                "field_id",
                format!(
                    "{} is {} and sealed: a rule's condition must be on a public or internal field",
                    def.id, def.classification
                ),
            ));
        }
        let value = input.value.trim().to_owned();
        if value.is_empty() || value.chars().count() > 500 {
            return Err(CoreError::invalid("value", "a value is 1 to 500 characters"));
        }
        let kind: GranteeKind = input.grantee_kind.parse()?;
        let access: ShareAccess = input.access.parse()?;
        self.check_grantee(kind, input.grantee_id).await?;
        let snapshot = self.access_snapshot().await?;
        let existing = match id {
            Some(id) => Some(snapshot.rules.iter().find(|r| r.id == id).ok_or(CoreError::NotFound("sharing rule"))?),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        if snapshot.rules.iter().any(|r| r.name == name && r.id != id) {
            return Err(CoreError::Conflict(format!("a sharing rule named {name} exists")));
        }
        let row = SharingRuleRow {
            id,
            name,
            field_id: def.id.clone(),
            value,
            grantee_kind: kind.as_str().to_owned(),
            grantee_id: input.grantee_id,
            access: access.as_str().to_owned(),
            created_at: existing.map_or_else(|| self.clock.now(), |r| r.created_at),
        };
        let event = AuditEvent::by(principal, "access.rule.put").detail(serde_json::json!({
            "rule": row.id, "name": row.name, "field": row.field_id, "value": row.value,
            "grantee_kind": row.grantee_kind, "grantee": row.grantee_id, "access": row.access
        }));
        self.audit.commit(vec![Mutation::Org(OrgChange::PutSharingRule(row.clone()))], vec![event]).await?;
        Ok(row)
    }

    async fn check_grantee(&self, kind: GranteeKind, id: Uuid) -> CoreResult<()> {
        let snapshot = self.access_snapshot().await?;
        let known = match kind {
            GranteeKind::Role => self.store.roles_list().await?.iter().any(|r| r.id == id),
            GranteeKind::Department => snapshot.org.department(id).is_some(),
            GranteeKind::Team => snapshot.org.team(id).is_some(),
            GranteeKind::User => self.store.user_get(id).await?.is_some(),
        };
        if known { Ok(()) } else { Err(CoreError::invalid("grantee_id", format!("no {kind} {id}"))) }
    }

    pub async fn delete_sharing_rule(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        self.require(principal, Permission::RoleManage, "access.rule.delete").await?;
        let event = AuditEvent::by(principal, "access.rule.delete").detail(serde_json::json!({ "rule": id }));
        self.audit.commit(vec![Mutation::Org(OrgChange::DeleteSharingRule { id })], vec![event]).await.map_err(|e| {
            match e {
                CoreError::NotFound(_) => CoreError::NotFound("sharing rule"),
                other => other,
            }
        })
    }

    pub async fn set_org_default(&self, principal: &Principal, default: OrgDefault) -> CoreResult<()> {
        self.require(principal, Permission::RoleManage, "access.default.set").await?;
        let event = AuditEvent::by(principal, "access.default.set")
            .detail(serde_json::json!({ "record_type": "customer", "default": default }));
        let put = Mutation::PutMeta { key: ORG_DEFAULT_KEY.to_owned(), value: default.as_str().as_bytes().to_vec() };
        // The default is part of every reach: the stamp must change with it.
        self.audit.commit(vec![put, new_stamp()], vec![event]).await
    }
}
