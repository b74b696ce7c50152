//! The notifier: one way for every module to tell people something.
//!
//! A module that wants someone told builds a [`Notice`] (a kind and its parameters) and
//! adds the mutation of [`Tutela::notify_user`] or [`Tutela::notify_holders`] to the write
//! that causes it, so the notice is enqueued in the same transaction as its cause: nothing
//! is lost when a node dies after the commit, and nothing is sent for a change that did not
//! commit. Each notice is an entry in the recipient's inbox (the console channel, read or
//! unread) and one delivery per outside channel the recipient can be reached on — e-mail
//! today; webhook and syslog are further [`Channel`]s, added to [`Tutela::open`]'s list
//! with no change here. [`Tutela::deliver_due`] does one pass over due deliveries with
//! retries and a growing back-off; `tutela serve` drives it.
//!
//! Notices are rendered from Fluent templates (`locales/{en,zh-CN}/notify.ftl`) in the
//! recipient's language when they are read or sent; the stored notice holds only its
//! parameters. **A notice never carries a customer's field values or a secret**: e-mail is
//! not a secure channel. Notices name accounts, record ids, times, addresses and counts.

mod deliver;
pub mod device;
pub mod email;
mod inbox;
mod sign_in;
mod templates;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tutela_store::{DeliveryRow, Mutation, NoticeRows, NotificationRow, UserRow, UserStatus};
use uuid::Uuid;

use crate::policy::Permission;
use crate::{CoreResult, Tutela};

pub use deliver::{DeliveryReport, test_message};
pub use email::{SmtpSecurity, SmtpSettings};
pub use inbox::{DELIVERY_VIEWERS, DeliveryStatus, DeliveryView, InboxPage, NotificationView};
pub use templates::{Language, Rendered};

/// The console's inbox page; notices link to it.
pub const INBOX_PATH: &str = "/notifications";

/// What a notice is about; each kind has a template `notice-<kind with dashes>-subject`
/// and `-body` in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A sign-in from a device or network the user had not used before.
    SignInNewDevice,
    /// Break-glass access was requested (granted at once or waiting for an approver).
    BreakGlassRequest,
    /// A break-glass request was granted or denied by an approver (told to its requester).
    BreakGlassDecision,
    /// An access review waits for the reviewer's decisions.
    ReviewReminder,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInNewDevice => "sign_in.new_device",
            Self::BreakGlassRequest => "break_glass.request",
            Self::BreakGlassDecision => "break_glass.decision",
            Self::ReviewReminder => "access_review.reminder",
        }
    }
}

/// The template of a stored kind: `sign_in.new_device` → `sign-in-new-device`.
pub(crate) fn template_of(kind: &str) -> String {
    kind.replace(['.', '_'], "-")
}

/// A notice before it has recipients: its kind and the values its template fills in.
/// Parameters named `link` are console paths.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: NoticeKind,
    pub params: BTreeMap<String, String>,
}

impl Notice {
    pub fn new(kind: NoticeKind) -> Self {
        Self { kind, params: BTreeMap::new() }
    }

    #[must_use]
    pub fn param(mut self, name: &str, value: &impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }
}

/// Why a channel could not send: what the server or network said, never a credential.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ChannelError(pub String);

/// One way out besides the inbox.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The name its deliveries carry (`email`).
    fn name(&self) -> &'static str;
    /// Where this user is reached on it; `None`: not at all (no delivery is made).
    fn address(&self, user: &UserRow) -> Option<String>;
    async fn send(&self, address: &str, message: &Rendered) -> Result<(), ChannelError>;
}

/// The notifier's settings (the `[smtp]` section and the public URL come from the CLI's
/// configuration).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// E-mail through this SMTP server; `None`: notices stay in the inbox and no e-mail
    /// delivery is made at all (rather than one left pending or marked skipped, which would
    /// fill the delivery status with rows nobody can act on).
    pub smtp: Option<SmtpSettings>,
    /// Attempts of one delivery before it is given up as `failed`.
    pub max_attempts: u32,
    /// The console's public URL, which makes the links of e-mails absolute.
    pub public_url: Option<String>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self { smtp: None, max_attempts: 8, public_url: None }
    }
}

/// The channels and settings of one node.
pub(crate) struct Notifier {
    pub channels: Vec<Arc<dyn Channel>>,
    pub max_attempts: u32,
    pub public_url: Option<String>,
}

impl Notifier {
    pub fn new(config: &NotifyConfig) -> CoreResult<Self> {
        let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
        if let Some(smtp) = &config.smtp {
            channels.push(Arc::new(email::SmtpChannel::new(smtp)?));
        }
        Ok(Self { channels, max_attempts: config.max_attempts.max(1), public_url: config.public_url.clone() })
    }
}

/// Whether a mutation enqueues notices: the audit writer wakes the delivery loop after
/// committing one.
pub(crate) fn enqueues(mutation: &Mutation) -> bool {
    matches!(mutation, Mutation::Notify(_) | Mutation::SeenDevice { .. })
}

impl Tutela {
    /// The rows of one notice to one user: the inbox entry, and a pending delivery on each
    /// channel that reaches them.
    pub(crate) fn notice_rows(&self, user: &UserRow, notice: &Notice) -> NoticeRows {
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let deliveries = self
            .notifier
            .channels
            .iter()
            .filter_map(|c| Some((c.name(), c.address(user)?)))
            .map(|(channel, address)| DeliveryRow {
                id: Uuid::now_v7(),
                notification_id: id,
                channel: channel.to_owned(),
                address,
                status: DeliveryStatus::Pending.as_str().to_owned(),
                attempts: 0,
                last_error: None,
                next_attempt_at: now,
                updated_at: now,
                sent_at: None,
            })
            .collect();
        NoticeRows {
            notification: NotificationRow {
                id,
                user_id: user.id,
                kind: notice.kind.as_str().to_owned(),
                params: notice.params.clone(),
                created_at: now,
                read_at: None,
            },
            deliveries,
        }
    }

    /// The mutation that tells one user: add it to the write that causes the notice.
    /// `None` when the user does not exist or is disabled (nobody reads a disabled inbox).
    pub async fn notify_user(&self, user_id: Uuid, notice: &Notice) -> CoreResult<Option<Mutation>> {
        let user = self.store.user_get(user_id).await?.filter(|u| u.status == UserStatus::Active);
        Ok(user.map(|u| Mutation::Notify(self.notice_rows(&u, notice))))
    }

    /// The mutations that tell every active user holding any of `permissions` through their
    /// roles, but `except` (the one who caused it): add them to the write that causes the
    /// notice.
    pub async fn notify_holders(
        &self,
        permissions: &[Permission],
        except: Option<Uuid>,
        notice: &Notice,
    ) -> CoreResult<Vec<Mutation>> {
        let roles: Vec<Uuid> = self
            .store
            .roles_list()
            .await?
            .into_iter()
            .filter(|r| permissions.iter().any(|p| r.permissions.iter().any(|held| held == p.as_str())))
            .map(|r| r.id)
            .collect();
        let holders: std::collections::BTreeSet<Uuid> = self
            .store
            .role_assignments()
            .await?
            .into_iter()
            .filter(|(user, role)| roles.contains(role) && Some(*user) != except)
            .map(|(user, _)| user)
            .collect();
        let mut mutations = Vec::with_capacity(holders.len());
        for user in holders {
            mutations.extend(self.notify_user(user, notice).await?);
        }
        Ok(mutations)
    }
}
