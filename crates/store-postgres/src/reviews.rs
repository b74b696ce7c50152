//! Access-review campaigns, their items and reminders.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use tutela_store::{ReviewCampaignRow, ReviewChange, ReviewItemRow, StoreError, StoreResult};
use uuid::Uuid;

use crate::convert::backend_err;
use crate::write::PgWriteTx;

const CAMPAIGN_COLUMNS: &str = "id, name, department_id, routing, reviewer_id, policy, recur_days, created_by, \
                                created_at, deadline, status, closed_at, report";
const ITEM_COLUMNS: &str = "id, campaign_id, user_id, kind, subject_id, label, reviewer_id, decision, note, \
                            justification, decided_by, decided_at, outcome";

fn campaign_from_row(r: &PgRow) -> ReviewCampaignRow {
    ReviewCampaignRow {
        id: r.get(0),
        name: r.get(1),
        department_id: r.get(2),
        routing: r.get(3),
        reviewer_id: r.get(4),
        policy: r.get(5),
        recur_days: r.get(6),
        created_by: r.get(7),
        created_at: r.get(8),
        deadline: r.get(9),
        status: r.get(10),
        closed_at: r.get(11),
        report: r.get(12),
    }
}

fn item_from_row(r: &PgRow) -> ReviewItemRow {
    ReviewItemRow {
        id: r.get(0),
        campaign_id: r.get(1),
        user_id: r.get(2),
        kind: r.get(3),
        subject_id: r.get(4),
        label: r.get(5),
        reviewer_id: r.get(6),
        decision: r.get(7),
        note: r.get(8),
        justification: r.get(9),
        decided_by: r.get(10),
        decided_at: r.get(11),
        outcome: r.get(12),
    }
}

/// Campaigns with this id (every campaign with `None`), newest first.
pub(crate) async fn campaigns(pool: &PgPool, id: Option<Uuid>) -> StoreResult<Vec<ReviewCampaignRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns WHERE $1::uuid IS NULL OR id = $1
         ORDER BY created_at DESC, id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows.iter().map(campaign_from_row).collect())
}

pub(crate) async fn items(pool: &PgPool, campaign_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
    let rows = sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM review_items WHERE campaign_id = $1 ORDER BY seq"))
        .bind(campaign_id)
        .fetch_all(pool)
        .await
        .map_err(backend_err)?;
    Ok(rows.iter().map(item_from_row).collect())
}

pub(crate) async fn open_items_for(pool: &PgPool, reviewer_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM review_items WHERE reviewer_id = $1 AND decision IS NULL AND outcome IS NULL
         AND campaign_id IN (SELECT id FROM review_campaigns WHERE status = 'open') ORDER BY campaign_id, seq"
    ))
    .bind(reviewer_id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows.iter().map(item_from_row).collect())
}

pub(crate) async fn reminders(pool: &PgPool, campaign_id: Uuid) -> StoreResult<Vec<(Uuid, OffsetDateTime)>> {
    let rows = sqlx::query(
        "SELECT reviewer_id, reminded_at FROM review_reminders WHERE campaign_id = $1 ORDER BY reviewer_id",
    )
    .bind(campaign_id)
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

impl PgWriteTx {
    async fn insert_campaign(&mut self, c: &ReviewCampaignRow, items: &[ReviewItemRow]) -> StoreResult<()> {
        self.exec(
            sqlx::query(&format!(
                "INSERT INTO review_campaigns ({CAMPAIGN_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(c.id)
            .bind(&c.name)
            .bind(c.department_id)
            .bind(&c.routing)
            .bind(c.reviewer_id)
            .bind(&c.policy)
            .bind(c.recur_days)
            .bind(c.created_by)
            .bind(c.created_at)
            .bind(c.deadline)
            .bind(&c.status)
            .bind(c.closed_at)
            .bind(&c.report),
        )
        .await?;
        for (seq, i) in items.iter().enumerate() {
            self.exec(
                sqlx::query(&format!(
                    "INSERT INTO review_items (seq, {ITEM_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .bind(i.id)
                .bind(i.campaign_id)
                .bind(i.user_id)
                .bind(&i.kind)
                .bind(i.subject_id)
                .bind(&i.label)
                .bind(i.reviewer_id)
                .bind(&i.decision)
                .bind(&i.note)
                .bind(&i.justification)
                .bind(i.decided_by)
                .bind(i.decided_at)
                .bind(&i.outcome),
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn apply_review(&mut self, change: &ReviewChange) -> StoreResult<()> {
        match change {
            ReviewChange::InsertCampaign { campaign, items } => self.insert_campaign(campaign, items).await?,
            ReviewChange::DecideItem(i) => {
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE review_items SET decision = $2, note = $3, justification = $4, decided_by = $5,
                             decided_at = $6, outcome = $7
                             WHERE id = $1 AND decision IS NULL AND outcome IS NULL
                             AND campaign_id IN (SELECT id FROM review_campaigns WHERE status = 'open')",
                        )
                        .bind(i.id)
                        .bind(&i.decision)
                        .bind(&i.note)
                        .bind(&i.justification)
                        .bind(i.decided_by)
                        .bind(i.decided_at)
                        .bind(&i.outcome),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Conflict("the item was decided or its campaign closed".into()));
                }
            }
            ReviewChange::CloseCampaign { id, closed_at, report, settled } => {
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE review_campaigns SET status = 'closed', closed_at = $2, report = $3
                             WHERE id = $1 AND status = 'open'",
                        )
                        .bind(id)
                        .bind(*closed_at)
                        .bind(report),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::Conflict("the campaign is closed already".into()));
                }
                for (item, outcome) in settled {
                    self.exec(
                        sqlx::query(
                            "UPDATE review_items SET outcome = $3 WHERE id = $1 AND campaign_id = $2
                             AND outcome IS NULL",
                        )
                        .bind(item)
                        .bind(id)
                        .bind(outcome),
                    )
                    .await?;
                }
            }
            ReviewChange::Remind { campaign_id, reviewer_id, at } => {
                self.exec(
                    sqlx::query(
                        "INSERT INTO review_reminders (campaign_id, reviewer_id, reminded_at) VALUES ($1, $2, $3)
                         ON CONFLICT (campaign_id, reviewer_id) DO UPDATE SET reminded_at = $3",
                    )
                    .bind(campaign_id)
                    .bind(reviewer_id)
                    .bind(*at),
                )
                .await?;
            }
        }
        Ok(())
    }
}
