//! One delivery pass: claim what is due, send it, record the outcome.

use serde::Serialize;
use time::Duration;
use tutela_store::{DeliveryRow, DeliveryUpdate, UserStatus};

use super::inbox::DeliveryStatus;
use super::{Language, Rendered, template_of, templates};
use crate::{CoreResult, Tutela};

/// Deliveries claimed by one pass at most; the next pass takes the rest.
const BATCH: u32 = 50;
/// How long a claim holds. A node that dies mid-send leaves its claim, and the delivery is
/// tried again after this: a message the server took just before the node died may then go
/// twice (at least once, never lost). It must outlast a batch of slow sends.
const CLAIM: Duration = Duration::minutes(10);
/// The wait after the first failed attempt; it doubles with each further one, up to `MAX_WAIT`.
const FIRST_WAIT: Duration = Duration::seconds(30);
const MAX_WAIT: Duration = Duration::hours(2);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: u32,
    /// Failed this time, to be tried again.
    pub retrying: u32,
    /// Failed for the last time.
    pub failed: u32,
}

/// The wait before attempt `attempts + 1`, after `attempts` failures.
fn backoff(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    (FIRST_WAIT * 2_i32.pow(doublings)).min(MAX_WAIT)
}

impl Tutela {
    /// Sends the deliveries that are due, once each, and records how each went: `sent`;
    /// `pending` again with the error, one more attempt and a later time (30 s, doubling, at
    /// most 2 h); or `failed` after the configured number of attempts. Deliveries are
    /// claimed atomically, so several nodes can run this at once without sending anything
    /// twice. Errors of single deliveries are in the report and the rows, not in the result.
    pub async fn deliver_due(&self) -> CoreResult<DeliveryReport> {
        let now = self.clock.now();
        let claimed = self.store.deliveries_claim(now, now + CLAIM, BATCH).await?;
        let mut report = DeliveryReport::default();
        for delivery in claimed {
            let outcome = self.attempt(&delivery).await;
            let attempts = delivery.attempts + 1;
            let at = self.clock.now();
            let (status, last_error, next) = match outcome {
                Ok(()) => (DeliveryStatus::Sent, None, at),
                Err(e) if attempts >= i64::from(self.notifier.max_attempts) => (DeliveryStatus::Failed, Some(e), at),
                Err(e) => (DeliveryStatus::Pending, Some(e), at + backoff(attempts)),
            };
            match status {
                DeliveryStatus::Sent => report.sent += 1,
                DeliveryStatus::Pending => report.retrying += 1,
                DeliveryStatus::Failed => {
                    report.failed += 1;
                    tracing::warn!(delivery = %delivery.id, channel = %delivery.channel, attempts,
                        error = last_error.as_deref().unwrap_or_default(), "notice delivery given up");
                }
            }
            let update = DeliveryUpdate {
                id: delivery.id,
                status: status.as_str().to_owned(),
                attempts,
                last_error,
                next_attempt_at: next,
                at,
            };
            self.store.delivery_finish(&update).await?;
        }
        Ok(report)
    }

    /// One attempt; the error as it will be shown in the delivery status.
    async fn attempt(&self, delivery: &DeliveryRow) -> Result<(), String> {
        let channel = self
            .notifier
            .channels
            .iter()
            .find(|c| c.name() == delivery.channel)
            .ok_or_else(|| format!("the {} channel is not configured on this node", delivery.channel))?;
        let notice = self
            .store
            .notification_get(delivery.notification_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the notice is gone")?;
        let user = self.store.user_get(notice.user_id).await.map_err(|e| e.to_string())?;
        let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
            return Err("the recipient's account is disabled or gone".into());
        };
        let message = templates::render(
            Language::of_user(&user.locale),
            &template_of(&notice.kind),
            &notice.params,
            self.notifier.public_url.as_deref(),
        );
        channel.send(&delivery.address, &message).await.map_err(|e| e.to_string())
    }
}

/// A test message, for checking the e-mail settings (`tutela notify test`).
pub fn test_message(language: Language, now: time::OffsetDateTime) -> Rendered {
    let params = [("time".to_owned(), crate::clock::rfc3339(now))].into_iter().collect();
    templates::render(language, "test", &params, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(4), Duration::seconds(240));
        assert_eq!(backoff(40), MAX_WAIT);
    }
}
