//! Access-review campaigns, their items and reminders.

use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use tutela_store::{ReviewCampaignRow, ReviewChange, ReviewItemRow, StoreError, StoreResult};
use uuid::Uuid;

use crate::convert::{all_rows, col, from_micros, opt_from_micros, to_micros};
use crate::write::{exactly_one, exec};

const CAMPAIGN_COLUMNS: &str = "id, name, department_id, routing, reviewer_id, policy, recur_days, created_by, \
                                created_at, deadline, status, closed_at, report";
const ITEM_COLUMNS: &str = "id, campaign_id, user_id, kind, subject_id, label, reviewer_id, decision, note, \
                            justification, decided_by, decided_at, outcome";

fn campaign_from_row(r: &Row<'_>) -> StoreResult<ReviewCampaignRow> {
    Ok(ReviewCampaignRow {
        id: col(r, 0)?,
        name: col(r, 1)?,
        department_id: col(r, 2)?,
        routing: col(r, 3)?,
        reviewer_id: col(r, 4)?,
        policy: col(r, 5)?,
        recur_days: col(r, 6)?,
        created_by: col(r, 7)?,
        created_at: from_micros(col(r, 8)?)?,
        deadline: from_micros(col(r, 9)?)?,
        status: col(r, 10)?,
        closed_at: opt_from_micros(col(r, 11)?)?,
        report: col(r, 12)?,
    })
}

fn item_from_row(r: &Row<'_>) -> StoreResult<ReviewItemRow> {
    Ok(ReviewItemRow {
        id: col(r, 0)?,
        campaign_id: col(r, 1)?,
        user_id: col(r, 2)?,
        kind: col(r, 3)?,
        subject_id: col(r, 4)?,
        label: col(r, 5)?,
        reviewer_id: col(r, 6)?,
        decision: col(r, 7)?,
        note: col(r, 8)?,
        justification: col(r, 9)?,
        decided_by: col(r, 10)?,
        decided_at: opt_from_micros(col(r, 11)?)?,
        outcome: col(r, 12)?,
    })
}

/// Campaigns with this id (every campaign with `None`), newest first.
pub(crate) fn campaigns(conn: &Connection, id: Option<Uuid>) -> StoreResult<Vec<ReviewCampaignRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns WHERE ?1 IS NULL OR id = ?1 ORDER BY created_at DESC, id"
        ),
        params![id],
        campaign_from_row,
    )
}

pub(crate) fn items(conn: &Connection, campaign_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
    all_rows(
        conn,
        &format!("SELECT {ITEM_COLUMNS} FROM review_items WHERE campaign_id = ?1 ORDER BY seq"),
        [campaign_id],
        item_from_row,
    )
}

pub(crate) fn open_items_for(conn: &Connection, reviewer_id: Uuid) -> StoreResult<Vec<ReviewItemRow>> {
    all_rows(
        conn,
        &format!(
            "SELECT {ITEM_COLUMNS} FROM review_items WHERE reviewer_id = ?1 AND decision IS NULL AND outcome IS NULL
             AND campaign_id IN (SELECT id FROM review_campaigns WHERE status = 'open') ORDER BY campaign_id, seq"
        ),
        [reviewer_id],
        item_from_row,
    )
}

pub(crate) fn reminders(conn: &Connection, campaign_id: Uuid) -> StoreResult<Vec<(Uuid, OffsetDateTime)>> {
    all_rows(
        conn,
        "SELECT reviewer_id, reminded_at FROM review_reminders WHERE campaign_id = ?1 ORDER BY reviewer_id",
        [campaign_id],
        |r| Ok((col(r, 0)?, from_micros(col(r, 1)?)?)),
    )
}

pub(crate) fn apply(conn: &Connection, change: &ReviewChange) -> StoreResult<()> {
    match change {
        ReviewChange::InsertCampaign { campaign: c, items } => {
            exec(
                conn,
                &format!(
                    "INSERT INTO review_campaigns ({CAMPAIGN_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    c.id,
                    c.name,
                    c.department_id,
                    c.routing,
                    c.reviewer_id,
                    c.policy,
                    c.recur_days,
                    c.created_by,
                    to_micros(c.created_at),
                    to_micros(c.deadline),
                    c.status,
                    c.closed_at.map(to_micros),
                    c.report
                ],
            )?;
            for (seq, i) in items.iter().enumerate() {
                exec(
                    conn,
                    &format!(
                        "INSERT INTO review_items (seq, {ITEM_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                    ),
                    params![
                        i64::try_from(seq).unwrap_or(i64::MAX),
                        i.id,
                        i.campaign_id,
                        i.user_id,
                        i.kind,
                        i.subject_id,
                        i.label,
                        i.reviewer_id,
                        i.decision,
                        i.note,
                        i.justification,
                        i.decided_by,
                        i.decided_at.map(to_micros),
                        i.outcome
                    ],
                )?;
            }
        }
        ReviewChange::DecideItem(i) => {
            let changed = exec(
                conn,
                "UPDATE review_items SET decision = ?2, note = ?3, justification = ?4, decided_by = ?5,
                 decided_at = ?6, outcome = ?7
                 WHERE id = ?1 AND decision IS NULL AND outcome IS NULL
                 AND campaign_id IN (SELECT id FROM review_campaigns WHERE status = 'open')",
                params![
                    i.id,
                    i.decision,
                    i.note,
                    i.justification,
                    i.decided_by,
                    i.decided_at.map(to_micros),
                    i.outcome
                ],
            )?;
            exactly_one(changed, || StoreError::Conflict("the item was decided or its campaign closed".into()))?;
        }
        ReviewChange::CloseCampaign { id, closed_at, report, settled } => {
            let changed = exec(
                conn,
                "UPDATE review_campaigns SET status = 'closed', closed_at = ?2, report = ?3
                 WHERE id = ?1 AND status = 'open'",
                params![id, to_micros(*closed_at), report],
            )?;
            exactly_one(changed, || StoreError::Conflict("the campaign is closed already".into()))?;
            for (item, outcome) in settled {
                exec(
                    conn,
                    "UPDATE review_items SET outcome = ?3 WHERE id = ?1 AND campaign_id = ?2 AND outcome IS NULL",
                    params![item, id, outcome],
                )?;
            }
        }
        ReviewChange::Remind { campaign_id, reviewer_id, at } => {
            exec(
                conn,
                "INSERT INTO review_reminders (campaign_id, reviewer_id, reminded_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (campaign_id, reviewer_id) DO UPDATE SET reminded_at = ?3",
                params![campaign_id, reviewer_id, to_micros(*at)],
            )?;
        }
    }
    Ok(())
}
