//! A reviewer's decision on one item, and taking away what is revoked.

use std::collections::BTreeMap;

use serde::Deserialize;
use tutela_store::{Mutation, OrgChange, ReviewChange, ReviewItemRow};
use uuid::Uuid;

use super::{CampaignState, MAX_TEXT, ReviewDecision, ReviewItemView, campaign_state};
use crate::audit::{AuditEvent, Outcome};
use crate::identity::role_change;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

#[derive(Debug, Clone, Deserialize)]
pub struct DecisionInput {
    /// `certify` or `revoke`.
    pub decision: String,
    pub note: Option<String>,
    /// Required when reviewers decide on their own access.
    pub justification: Option<String>,
}

/// What revoking some items writes, and what became of each item.
pub(super) struct Revocation {
    pub mutations: Vec<Mutation>,
    pub events: Vec<AuditEvent>,
    /// (item, `revoked` or `gone`).
    pub outcomes: Vec<(Uuid, &'static str)>,
}

fn optional_text(field: &str, text: Option<&str>) -> CoreResult<Option<String>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return Err(CoreError::invalid(field, format!("at most {MAX_TEXT} characters")));
    }
    Ok(text.map(str::to_owned))
}

impl Tutela {
    /// Certifies or revokes one item: its reviewer, or someone with `access.review`. A
    /// revocation takes effect in the same commit. Someone deciding on their own access
    /// must say why. Audited as `access.review.decide` (and the revocation as
    /// `user.set_roles` or `customer.unshare`, with `via: access_review`).
    pub async fn decide_review_item(
        &self,
        principal: &Principal,
        campaign_id: Uuid,
        item_id: Uuid,
        input: DecisionInput,
    ) -> CoreResult<ReviewItemView> {
        let campaign =
            self.store.review_campaign_get(campaign_id).await?.ok_or(CoreError::NotFound("review campaign"))?;
        let items = self.store.review_items(campaign_id).await?;
        let mut item = items.into_iter().find(|i| i.id == item_id).ok_or(CoreError::NotFound("review item"))?;
        let assigned = item.reviewer_id.is_some() && item.reviewer_id == principal.user_id;
        if !assigned && !principal.has(Permission::AccessReview) {
            self.audit
                .record(
                    AuditEvent::by(principal, "access.review.decide")
                        .outcome(Outcome::Denied)
                        .detail(serde_json::json!({ "campaign": campaign_id, "item": item_id })),
                )
                .await?;
            return Err(CoreError::Forbidden(
                "only the item's reviewer, or someone with access.review, decides it".into(),
            ));
        }
        match campaign_state(&campaign, self.clock.now()) {
            CampaignState::Open => {}
            CampaignState::Overdue => {
                return Err(CoreError::Conflict("the campaign's deadline has passed: no more decisions".into()));
            }
            CampaignState::Closed => return Err(CoreError::Conflict("the campaign is closed".into())),
        }
        if item.decision.is_some() || item.outcome.is_some() {
            return Err(CoreError::Conflict("the item has been decided".into()));
        }
        let decision: ReviewDecision = input.decision.parse()?;
        let note = optional_text("note", input.note.as_deref())?;
        let justification = optional_text("justification", input.justification.as_deref())?;
        let own = principal.user_id == Some(item.user_id);
        if own && justification.is_none() {
            return Err(CoreError::invalid(
                "justification",
                "you are deciding on your own access: say why (up to 1000 characters)",
            ));
        }
        let detail = |outcome: &str| {
            serde_json::json!({
                "campaign": campaign_id, "item": item_id, "user": item.user_id, "kind": item.kind,
                "subject": item.subject_id, "label": item.label, "decision": decision.as_str(), "outcome": outcome,
                "self_review": own, "note": note, "justification": justification
            })
        };
        let (mut mutations, mut events, outcome) = match decision {
            ReviewDecision::Certify => (Vec::new(), Vec::new(), "kept"),
            ReviewDecision::Revoke => {
                let r = self.revocations(campaign_id, &[&item], &|action| AuditEvent::by(principal, action)).await?;
                let outcome = r.outcomes.first().map_or("gone", |(_, o)| *o);
                (r.mutations, r.events, outcome)
            }
        };
        events.insert(0, AuditEvent::by(principal, "access.review.decide").detail(detail(outcome)));
        item.decision = Some(decision.as_str().to_owned());
        item.note = note;
        item.justification = justification;
        item.decided_by = principal.user_id;
        item.decided_at = Some(self.clock.now());
        item.outcome = Some(outcome.to_owned());
        mutations.insert(0, Mutation::Review(ReviewChange::DecideItem(item.clone())));
        self.audit.commit(mutations, events).await?;
        self.item_view(&item).await
    }

    /// Takes away the roles and shares the items name, as things stand now: a role the user
    /// no longer holds, or a share that ended, is `gone`.
    pub(super) async fn revocations(
        &self,
        campaign_id: Uuid,
        items: &[&ReviewItemRow],
        event: &(dyn Fn(&'static str) -> AuditEvent + Sync),
    ) -> CoreResult<Revocation> {
        let now = self.clock.now();
        let mut out = Revocation { mutations: Vec::new(), events: Vec::new(), outcomes: Vec::new() };
        let mut by_user: BTreeMap<Uuid, Vec<&ReviewItemRow>> = BTreeMap::new();
        for item in items {
            by_user.entry(item.user_id).or_default().push(item);
        }
        for (user, items) in by_user {
            let roles = self.store.user_roles(user).await?;
            let revoked_roles: Vec<Uuid> = items
                .iter()
                .filter(|i| i.kind == "role" && roles.iter().any(|r| r.id == i.subject_id))
                .map(|i| i.subject_id)
                .collect();
            if !revoked_roles.is_empty() {
                let kept: Vec<_> = roles.iter().filter(|r| !revoked_roles.contains(&r.id)).collect();
                let removed: Vec<&str> =
                    roles.iter().filter(|r| revoked_roles.contains(&r.id)).map(|r| r.name.as_str()).collect();
                out.mutations.extend(role_change(user, kept.iter().map(|r| r.id).collect()));
                out.events.push(event("user.set_roles").detail(serde_json::json!({
                    "user": user, "roles": kept.iter().map(|r| &r.name).collect::<Vec<_>>(), "removed": removed,
                    "via": "access_review", "campaign": campaign_id
                })));
            }
            let shares = self.store.record_shares_for_user(user).await?;
            for item in items {
                let outcome = if item.kind == "role" {
                    if revoked_roles.contains(&item.subject_id) { "revoked" } else { "gone" }
                } else if let Some(share) = shares.iter().find(|s| s.id == item.subject_id && s.expires_at > now) {
                    out.mutations.push(Mutation::Org(OrgChange::DeleteRecordShare { id: share.id }));
                    out.events.push(event("customer.unshare").customer(share.customer_id).detail(serde_json::json!({
                        "share": share.id, "user": user, "via": "access_review", "campaign": campaign_id
                    })));
                    "revoked"
                } else {
                    "gone"
                };
                out.outcomes.push((item.id, outcome));
            }
        }
        Ok(out)
    }
}
