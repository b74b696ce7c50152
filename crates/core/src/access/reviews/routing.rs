//! Who reviews whom: department managers, named on the department, or a named reviewer.

use tutela_store::{Mutation, OrgChange, UserStatus};
use uuid::Uuid;

use super::ReviewRouting;
use crate::access::Org;
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The reviewer of `user`: under manager routing the manager of their department or the
/// nearest one above that names an active manager other than the user; else `fallback`.
pub(super) fn reviewer_for(
    org: &Org,
    active: &dyn Fn(Uuid) -> bool,
    routing: ReviewRouting,
    fallback: Option<Uuid>,
    user: Uuid,
) -> Option<Uuid> {
    if routing == ReviewRouting::Manager
        && let Some(department) = org.department_of(user)
    {
        let manager = org
            .ancestry(department)
            .into_iter()
            .filter_map(|d| org.department(d).and_then(|d| d.manager_id))
            .find(|m| *m != user && active(*m));
        if manager.is_some() {
            return manager;
        }
    }
    fallback
}

impl Tutela {
    /// Names a department's manager (`None`: nobody), who then reviews its members' access
    /// in campaigns routed to managers. User administration (`user.manage`); audited as
    /// `org.department.manager`.
    pub async fn set_department_manager(
        &self,
        principal: &Principal,
        department_id: Uuid,
        manager_id: Option<Uuid>,
    ) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "org.department.manager").await?;
        let snapshot = self.access_snapshot().await?;
        if snapshot.org.department(department_id).is_none() {
            return Err(CoreError::NotFound("department"));
        }
        if let Some(manager) = manager_id {
            let user = self.store.user_get(manager).await?;
            if !user.is_some_and(|u| u.status == UserStatus::Active) {
                return Err(CoreError::invalid("manager_id", "name an active user as the manager"));
            }
        }
        let event = AuditEvent::by(principal, "org.department.manager")
            .detail(serde_json::json!({ "department": department_id, "manager": manager_id }));
        let change = OrgChange::SetDepartmentManager { id: department_id, manager_id };
        self.audit.commit(vec![Mutation::Org(change)], vec![event]).await
    }
}
