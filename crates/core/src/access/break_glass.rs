//! Break-glass access: a user asks for time-boxed access to one record their roles do not
//! reach, with a written justification. By policy it is granted at once or waits for an
//! approver (`access.approve`, never the requester). Granted access reads the record as the
//! user's field permissions allow and ends on its own. Every step is audited with
//! `alert: true` in the detail, for the detection rules and the dashboard to pick up, and a
//! request raises an alert at once: a notice (inbox and e-mail) to everyone who can act on
//! it — approvers (`access.approve`) and those who watch the audit log (`audit.read`).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tutela_store::{BreakGlassRow, Mutation, OrgChange};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::notify::{Notice, NoticeKind};
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The `meta` key of the policy (JSON).
const POLICY_KEY: &str = "access.break_glass";
const MIN_JUSTIFICATION: usize = 20;
const MAX_JUSTIFICATION: usize = 2000;
/// Requests listed for approvers and auditors.
const RECENT: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassPolicy {
    /// Whether an approver must grant a request before it opens anything.
    pub approval_required: bool,
    /// The longest access one request may ask for, in minutes.
    pub max_minutes: i64,
}

impl Default for BreakGlassPolicy {
    fn default() -> Self {
        Self { approval_required: false, max_minutes: 240 }
    }
}

/// Where a request stands, with expiry taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakGlassState {
    Pending,
    Active,
    Expired,
    Denied,
    Ended,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakGlassView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub user_id: Uuid,
    /// The requester's e-mail address (their id when the account is gone).
    pub user_email: String,
    pub justification: String,
    pub state: BreakGlassState,
    pub minutes: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub decided_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

pub(crate) fn state(row: &BreakGlassRow, now: OffsetDateTime) -> BreakGlassState {
    match row.status.as_str() {
        "pending" => BreakGlassState::Pending,
        "active" if row.expires_at.is_some_and(|e| e > now) => BreakGlassState::Active,
        "active" => BreakGlassState::Expired,
        "denied" => BreakGlassState::Denied,
        _ => BreakGlassState::Ended,
    }
}

fn view(row: BreakGlassRow, user_email: String, now: OffsetDateTime) -> BreakGlassView {
    BreakGlassView {
        state: state(&row, now),
        id: row.id,
        customer_id: row.customer_id,
        user_id: row.user_id,
        user_email,
        justification: row.justification,
        minutes: row.minutes,
        requested_at: row.requested_at,
        decided_by: row.decided_by,
        expires_at: row.expires_at,
    }
}

impl Tutela {
    async fn break_glass_view(&self, row: BreakGlassRow) -> CoreResult<BreakGlassView> {
        let email = self.email_of(row.user_id).await?;
        Ok(view(row, email, self.clock.now()))
    }

    /// The policy, for those it concerns: who may request, decide, set or audit.
    pub async fn break_glass_policy(&self, principal: &Principal) -> CoreResult<BreakGlassPolicy> {
        let concerned =
            [Permission::CustomerRead, Permission::AccessApprove, Permission::RoleManage, Permission::AuditRead];
        if !concerned.into_iter().any(|p| principal.has(p)) {
            self.require(principal, Permission::RoleManage, "access.break_glass.policy.read").await?;
        }
        self.break_glass_policy_in_force().await
    }

    async fn break_glass_policy_in_force(&self) -> CoreResult<BreakGlassPolicy> {
        match self.store.meta_get(POLICY_KEY).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::Internal(format!("stored break-glass policy: {e}"))),
            None => Ok(BreakGlassPolicy::default()),
        }
    }

    pub async fn set_break_glass_policy(&self, principal: &Principal, policy: BreakGlassPolicy) -> CoreResult<()> {
        self.require(principal, Permission::RoleManage, "access.break_glass.policy").await?;
        if !(5..=24 * 60).contains(&policy.max_minutes) {
            return Err(CoreError::invalid("max_minutes", "5 minutes to 24 hours"));
        }
        let value = serde_json::to_vec(&policy).map_err(|e| CoreError::Internal(e.to_string()))?;
        let event = AuditEvent::by(principal, "access.break_glass.policy").detail(serde_json::json!(policy));
        self.audit.commit(vec![Mutation::PutMeta { key: POLICY_KEY.to_owned(), value }], vec![event]).await
    }

    /// Asks for `minutes` of access to a record. Granted at once unless the policy asks for
    /// approval.
    pub async fn request_break_glass(
        &self,
        principal: &Principal,
        customer_id: Uuid,
        justification: &str,
        minutes: i64,
    ) -> CoreResult<BreakGlassView> {
        self.require(principal, Permission::CustomerRead, "access.break_glass.request").await?;
        let user_id = principal.user_id.ok_or_else(|| CoreError::Forbidden("only users break the glass".into()))?;
        let justification = justification.trim();
        let length = justification.chars().count();
        if !(MIN_JUSTIFICATION..=MAX_JUSTIFICATION).contains(&length) {
            return Err(CoreError::invalid(
                "justification",
                format!("explain why in {MIN_JUSTIFICATION} to {MAX_JUSTIFICATION} characters"),
            ));
        }
        let policy = self.break_glass_policy_in_force().await?;
        if !(5..=policy.max_minutes).contains(&minutes) {
            return Err(CoreError::invalid("minutes", format!("5 to {} minutes", policy.max_minutes)));
        }
        self.store.customer_get(customer_id).await?.ok_or(CoreError::NotFound("customer"))?;
        let now = self.clock.now();
        let granted = !policy.approval_required;
        let row = BreakGlassRow {
            id: Uuid::now_v7(),
            customer_id,
            user_id,
            justification: justification.to_owned(),
            status: if granted { "active" } else { "pending" }.to_owned(),
            minutes,
            requested_at: now,
            decided_by: None,
            decided_at: granted.then_some(now),
            expires_at: granted.then(|| now + Duration::minutes(minutes)),
        };
        let event =
            AuditEvent::by(principal, "access.break_glass.request").customer(customer_id).detail(serde_json::json!({
                "request": row.id, "status": row.status, "minutes": minutes, "justification": row.justification,
                "alert": true
            }));
        // The alert names the record by id and gives the justification's length only: it may
        // go by e-mail, and a justification is free text that can mention the customer. The
        // approver reads it on the page the link leads to.
        let alert = Notice::new(NoticeKind::BreakGlassRequest)
            .param("requester", &principal.label)
            .param("record", &customer_id)
            .param("status", &row.status)
            .param("minutes", &minutes)
            .param("time", &rfc3339(now))
            .param("justification_length", &length)
            .param("link", &"/break-glass");
        let mut mutations = vec![Mutation::Org(OrgChange::PutBreakGlass(row.clone()))];
        mutations.extend(
            self.notify_holders(&[Permission::AccessApprove, Permission::AuditRead], Some(user_id), &alert).await?,
        );
        self.audit.commit(mutations, vec![event]).await?;
        self.break_glass_view(row).await
    }

    /// Grants or denies a pending request. The requester cannot decide their own.
    pub async fn decide_break_glass(&self, principal: &Principal, id: Uuid, grant: bool) -> CoreResult<BreakGlassView> {
        self.require(principal, Permission::AccessApprove, "access.break_glass.decide").await?;
        let mut row = self.store.break_glass_get(id).await?.ok_or(CoreError::NotFound("break-glass request"))?;
        if principal.user_id == Some(row.user_id) {
            return Err(CoreError::Forbidden("a request is decided by someone other than its requester".into()));
        }
        if row.status != "pending" {
            return Err(CoreError::Conflict(format!("the request is {}, not pending", row.status)));
        }
        let now = self.clock.now();
        if grant { "active" } else { "denied" }.clone_into(&mut row.status);
        row.decided_by = principal.user_id;
        row.decided_at = Some(now);
        row.expires_at = grant.then(|| now + Duration::minutes(row.minutes));
        let event = AuditEvent::by(principal, "access.break_glass.decide")
            .customer(row.customer_id)
            .detail(serde_json::json!({ "request": id, "user": row.user_id, "status": row.status, "alert": true }));
        // The requester learns the answer where they look (inbox, and e-mail when set up).
        let answer = Notice::new(NoticeKind::BreakGlassDecision)
            .param("record", &row.customer_id)
            .param("status", &row.status)
            .param("approver", &principal.label)
            .param("until", &row.expires_at.map(rfc3339).unwrap_or_default())
            .param("link", &"/break-glass");
        let mut mutations = vec![Mutation::Org(OrgChange::PutBreakGlass(row.clone()))];
        mutations.extend(self.notify_user(row.user_id, &answer).await?);
        self.audit.commit(mutations, vec![event]).await?;
        self.break_glass_view(row).await
    }

    /// Ends access before its time: the requester, or an approver.
    pub async fn end_break_glass(&self, principal: &Principal, id: Uuid) -> CoreResult<()> {
        let row = self.store.break_glass_get(id).await?;
        let own = row.as_ref().is_some_and(|r| principal.user_id == Some(r.user_id));
        if !own {
            self.require(principal, Permission::AccessApprove, "access.break_glass.end").await?;
        }
        let mut row = row.ok_or(CoreError::NotFound("break-glass request"))?;
        let now = self.clock.now();
        if !matches!(state(&row, now), BreakGlassState::Active | BreakGlassState::Pending) {
            return Err(CoreError::Conflict("the request is no longer pending or active".into()));
        }
        "ended".clone_into(&mut row.status);
        row.expires_at = Some(now);
        let event = AuditEvent::by(principal, "access.break_glass.end")
            .customer(row.customer_id)
            .detail(serde_json::json!({ "request": id, "user": row.user_id }));
        // Like every organisation change, it changes the stamp: a cached principal loses the
        // access at its next request.
        self.audit.commit(vec![Mutation::Org(OrgChange::PutBreakGlass(row))], vec![event]).await
    }

    /// Requests for the dashboard: everyone's (newest first) for approvers, role
    /// administrators and auditors; one's own otherwise.
    pub async fn break_glass_requests(&self, principal: &Principal) -> CoreResult<Vec<BreakGlassView>> {
        let oversees = [Permission::AccessApprove, Permission::RoleManage, Permission::AuditRead]
            .into_iter()
            .any(|p| principal.has(p));
        let rows = match (oversees, principal.user_id) {
            (true, _) => self.store.break_glass_recent(RECENT).await?,
            (false, Some(user)) => self.store.break_glass_for_user(user).await?,
            (false, None) => Vec::new(),
        };
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.break_glass_view(row).await?);
        }
        Ok(views)
    }
}
