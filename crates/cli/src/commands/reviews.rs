//! `tutela access review …`: access-review campaigns as the local operator, who runs reviews
//! (`access.review`) besides the operator permissions. Decisions made here are the
//! operator's, as a reviews administrator; reviewers decide their own items in the console
//! or through the API. Everything is audited by the domain as `access.review.*`.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Subcommand;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tutela_core::access::reviews::{CampaignInput, CampaignView, DecisionInput, ReviewReport};
use tutela_core::policy::{Credential, Permission, Principal};
use tutela_core::{CoreError, Tutela};
use uuid::Uuid;

use super::org::{find_department, find_user};
use super::{create_private, operator};
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Starts a campaign: the in-scope users' roles and live record shares become items.
    Create {
        /// The campaign's name.
        name: String,
        /// Review this department (name or id) and those below it; default: every user.
        #[arg(long)]
        department: Option<String>,
        /// Who reviews: each user's department `manager`, or the named `reviewer`.
        #[arg(long, default_value = "manager")]
        routing: String,
        /// The reviewer (e-mail or id); with manager routing, for users without a manager.
        #[arg(long)]
        reviewer: Option<String>,
        /// What becomes of unreviewed items at the deadline: `revoke` or `flag`.
        #[arg(long, default_value = "revoke")]
        policy: String,
        /// Days until the deadline.
        #[arg(long, default_value_t = 14)]
        days: i64,
        /// Start the next campaign at the close, due this many days after this deadline.
        #[arg(long)]
        recur_days: Option<i64>,
    },
    /// Lists the campaigns.
    List,
    /// Shows a campaign and its items.
    Show { campaign: String },
    /// Certifies or revokes an item.
    Decide {
        campaign: String,
        item: String,
        /// `certify` or `revoke`.
        decision: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Closes a campaign before its deadline, applying its policy to unreviewed items.
    Close { campaign: String },
    /// Writes the kept report of a closed campaign (JSON, or CSV with --csv).
    Report {
        campaign: String,
        #[arg(long)]
        csv: bool,
        /// Write to this file (mode 0600) rather than to standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The local operator, who also runs access reviews.
fn reviews_operator() -> Principal {
    let base = operator();
    let mut permissions = base.permissions.clone();
    permissions.insert(Permission::AccessReview);
    Principal::direct(None, base.label, permissions, Credential::LocalCli, None)
}

fn id(flag: &str, text: &str) -> anyhow::Result<Uuid> {
    text.trim().parse().map_err(|_| anyhow!("{flag}: {text:?} is not an id (a UUID)"))
}

/// Bad input named by its command-line name.
fn flagged(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::Invalid { field, message } => {
            let flag = match field.as_str() {
                "department_id" => "--department",
                "reviewer_id" => "--reviewer",
                "deadline" => "--days",
                "recur_days" => "--recur-days",
                "routing" => "--routing",
                "policy" => "--policy",
                "name" => "NAME",
                "decision" => "DECISION",
                other => return anyhow!("{other}: {message}"),
            };
            anyhow!("{flag}: {message}")
        }
        other => anyhow!(other),
    }
}

pub async fn run(config: Config, command: ReviewCommand, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = execute(&tutela, command, json).await;
    tutela.close().await;
    result
}

async fn execute(t: &Tutela, command: ReviewCommand, json: bool) -> anyhow::Result<Outcome> {
    let p = reviews_operator();
    match command {
        ReviewCommand::Create { name, department, routing, reviewer, policy, days, recur_days } => {
            let department_id = match department {
                Some(d) => Some(find_department(&t.access_settings(&p).await?.org, "--department", &d)?.id),
                None => None,
            };
            let reviewer_id = match reviewer {
                Some(r) => Some(find_user(t, "--reviewer", &r).await?.id),
                None => None,
            };
            if !(1..=366).contains(&days) {
                return Err(anyhow!("--days: 1 to 366"));
            }
            let deadline = t.clock().now() + Duration::days(days);
            let input = CampaignInput { name, department_id, routing, reviewer_id, policy, deadline, recur_days };
            let c = t.create_review_campaign(&p, input).await.map_err(flagged)?;
            print_campaign(&c, json)?;
        }
        ReviewCommand::List => {
            let campaigns = t.review_campaigns(&p).await?;
            if json {
                println!("{}", serde_json::to_string(&campaigns)?);
            } else if campaigns.is_empty() {
                println!("no access-review campaigns");
            }
            for c in campaigns.iter().filter(|_| !json) {
                print_campaign(c, false)?;
            }
        }
        ReviewCommand::Show { campaign } => {
            let detail = t.review_campaign(&p, id("CAMPAIGN", &campaign)?).await?;
            if json {
                println!("{}", serde_json::to_string(&detail)?);
            } else {
                print_campaign(&detail.campaign, false)?;
                for i in &detail.items {
                    let state = i.outcome.as_deref().unwrap_or("open");
                    let reviewer = i.reviewer_email.as_deref().unwrap_or("-");
                    println!("  {} {} {} {}: {state} (reviewer {reviewer})", i.id, i.user_email, i.kind, i.label);
                }
            }
        }
        ReviewCommand::Decide { campaign, item, decision, note } => {
            let input = DecisionInput { decision, note, justification: None };
            let item = t
                .decide_review_item(&p, id("CAMPAIGN", &campaign)?, id("ITEM", &item)?, input)
                .await
                .map_err(flagged)?;
            if json {
                println!("{}", serde_json::to_string(&item)?);
            } else {
                println!("{} {} {}: {}", item.user_email, item.kind, item.label, item.outcome.unwrap_or_default());
            }
        }
        ReviewCommand::Close { campaign } => {
            let c = t.close_review_campaign(&p, id("CAMPAIGN", &campaign)?).await?;
            print_campaign(&c, json)?;
        }
        ReviewCommand::Report { campaign, csv, output } => {
            let stored = t.review_report(&p, id("CAMPAIGN", &campaign)?).await?;
            let text = if csv { ReviewReport::from_json(&stored)?.to_csv()? } else { stored + "\n" };
            match output {
                Some(path) => {
                    use std::io::Write as _;
                    create_private(&path)?.write_all(text.as_bytes())?;
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(Outcome::Ok)
}

fn print_campaign(c: &CampaignView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(c)?);
        return Ok(());
    }
    let deadline = c.deadline.format(&Rfc3339)?;
    let n = &c.counts;
    println!(
        "{} {} [{}] deadline {deadline}, policy {}: {} items, {} open, {} certified, {} revoked, {} revoked at the deadline, {} flagged",
        c.id,
        c.name,
        serde_json::to_value(c.state)?.as_str().unwrap_or_default(),
        c.policy.as_str(),
        n.items,
        n.open,
        n.certified,
        n.revoked,
        n.revoked_at_deadline,
        n.flagged
    );
    let _: Option<OffsetDateTime> = c.closed_at;
    Ok(())
}
