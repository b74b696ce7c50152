use serde::Serialize;
use uuid::Uuid;

use crate::policy::Principal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// An event before it is chained: who did what to which customer and fields, why, from where.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor_id: Option<Uuid>,
    pub actor: String,
    /// A dotted name such as `customer.reveal`; see docs/ARCHITECTURE.md for the list.
    pub action: &'static str,
    pub outcome: Outcome,
    pub customer_id: Option<Uuid>,
    pub fields: Vec<String>,
    pub purpose: Option<String>,
    pub source: Option<String>,
    /// Extra structured detail; never a protected value.
    pub detail: Option<serde_json::Value>,
}

impl AuditEvent {
    pub fn by(principal: &Principal, action: &'static str) -> Self {
        Self {
            actor_id: principal.user_id,
            actor: principal.label.clone(),
            action,
            outcome: Outcome::Ok,
            customer_id: None,
            fields: Vec::new(),
            purpose: None,
            source: principal.source.clone(),
            detail: None,
        }
    }

    /// An event with no authenticated actor yet (a failed sign-in names the claimed account).
    pub fn anonymous(actor: &str, action: &'static str, source: Option<String>) -> Self {
        Self {
            actor_id: None,
            actor: actor.to_owned(),
            action,
            outcome: Outcome::Ok,
            customer_id: None,
            fields: Vec::new(),
            purpose: None,
            source,
            detail: None,
        }
    }

    #[must_use]
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    #[must_use]
    pub fn customer(mut self, id: Uuid) -> Self {
        self.customer_id = Some(id);
        self
    }

    #[must_use]
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    #[must_use]
    pub fn purpose(mut self, purpose: &str) -> Self {
        self.purpose = Some(purpose.to_owned());
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Serialize) -> Self {
        self.detail = serde_json::to_value(detail).ok();
        self
    }
}
