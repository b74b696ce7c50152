//! An administrator lifts the sign-in lockout of a user (one who has been locked out by an
//! attacker failing from their own address, say), without waiting for it to end.

use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

impl Tutela {
    /// Clears the user's failure counts and locks on this node, account-wide and from every
    /// address; audited as `auth.unlock` with the lock it lifted, if one held. Clearing a user
    /// who is not locked is not an error (the lock may have just ended).
    pub async fn clear_sign_in_lockout(&self, principal: &Principal, user_id: Uuid) -> CoreResult<()> {
        self.require(principal, Permission::UserManage, "auth.unlock").await?;
        let user = self.store.user_get(user_id).await?.ok_or(CoreError::NotFound("user"))?;
        let now = self.clock.now();
        let locked_until = self.lockouts.locked_accounts(now).remove(&user.email);
        let until = locked_until.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok());
        let event = AuditEvent::by(principal, "auth.unlock")
            .detail(serde_json::json!({ "user": user_id, "email": user.email, "locked_until": until }));
        // Audited first: an unlock that is not in the log does not happen.
        self.audit.record(event).await?;
        self.lockouts.clear_account(&user.email);
        Ok(())
    }
}
