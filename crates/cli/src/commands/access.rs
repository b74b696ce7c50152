//! `tutela access explain`: why a user may or may not see a customer and each of its fields,
//! as the local operator (`user.manage`). Names and levels only, never a value; audited as
//! `access.explain`. `tutela access networks`: the allowed address ranges, and a user's set or
//! lifted (the way back in for an administrator who restricted their own account wrongly).

use anyhow::anyhow;
use clap::Subcommand;
use time::format_description::well_known::Rfc3339;
use tutela_core::CoreError;
use tutela_core::access::{AccessExplanation, NetworkSubject, RowReason};
use uuid::Uuid;

use super::operator;
use super::org::find_user;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Which role, data scope, sharing rule or share decides a user's access to a customer,
    /// record and field by field.
    Explain {
        /// E-mail or id.
        #[arg(long)]
        user: String,
        /// The customer's id.
        #[arg(long)]
        customer: String,
    },
    /// Lists the allowed address ranges of roles, users and tokens; with --user, sets that
    /// user's (no --allow lifts the restriction).
    Networks {
        /// E-mail or id of the user whose ranges to set.
        #[arg(long)]
        user: Option<String>,
        /// An allowed range (CIDR such as 10.0.0.0/8, or one address); repeatable.
        #[arg(long = "allow", value_name = "RANGE", requires = "user")]
        allow: Vec<String>,
    },
    /// Lists every role's sign-in policy; with --role, sets that role's.
    SignInPolicy(super::sign_in_policy::SignInPolicyArgs),
    /// Access-review campaigns: create, list, show, decide, close, report.
    Review {
        #[command(subcommand)]
        command: super::reviews::ReviewCommand,
    },
}

pub async fn run(config: Config, command: AccessCommand, json: bool) -> anyhow::Result<Outcome> {
    match command {
        AccessCommand::Explain { user, customer } => explain(config, &user, &customer, json).await,
        AccessCommand::Networks { user, allow } => networks(config, user.as_deref(), &allow, json).await,
        AccessCommand::SignInPolicy(args) => super::sign_in_policy::run(config, args, json).await,
        AccessCommand::Review { command } => super::reviews::run(config, command, json).await,
    }
}

async fn networks(config: Config, user: Option<&str>, allow: &[String], json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = async {
        if let Some(user) = user {
            let user = find_user(&tutela, "--user", user).await?;
            tutela.set_network_rule(&operator(), NetworkSubject::User, user.id, allow).await.map_err(|e| match e {
                CoreError::Invalid { message, .. } => anyhow!("--allow: {message}"),
                other => anyhow!(other),
            })?;
        }
        Ok::<_, anyhow::Error>(tutela.network_rules(&operator()).await?)
    }
    .await;
    tutela.close().await;
    let rules = result?;
    if json {
        println!("{}", serde_json::to_string(&rules)?);
    } else if rules.is_empty() {
        println!("no address restrictions");
    } else {
        for r in rules {
            println!("{} {}: {}", r.subject_kind, r.subject_name, r.networks.join(", "));
        }
    }
    Ok(Outcome::Ok)
}

async fn explain(config: Config, user: &str, customer: &str, json: bool) -> anyhow::Result<Outcome> {
    let customer: Uuid =
        customer.trim().parse().map_err(|_| anyhow!("--customer: {customer:?} is not a customer id (a UUID)"))?;
    let tutela = open_tutela(&config, false).await?;
    let result = async {
        let user = find_user(&tutela, "--user", user).await?;
        tutela.explain_access(&operator(), user.id, customer).await.map_err(|e| match e {
            CoreError::NotFound("customer") => anyhow!("--customer: no customer {customer}"),
            CoreError::NotFound("user") => anyhow!("--user: no user {}", user.email),
            other => anyhow!(other),
        })
    }
    .await;
    tutela.close().await;
    let explanation = result?;
    if json {
        println!("{}", serde_json::to_string(&explanation)?);
    } else {
        print_explanation(&explanation);
    }
    Ok(Outcome::Ok)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn print_explanation(e: &AccessExplanation) {
    println!(
        "{} on customer {}: read {}, write {}",
        e.email,
        e.customer_id,
        yes_no(e.access.read),
        yes_no(e.access.write)
    );
    if e.row_reasons.is_empty() {
        println!("  nothing opens this record to them");
    }
    for reason in &e.row_reasons {
        match reason {
            RowReason::Scope { role, scope, write } => {
                println!("  role {role}: data scope {scope}{}", if *write { ", may write" } else { "" });
            }
            RowReason::OrgDefault { default } => println!("  organisation default: {default}"),
            RowReason::Rule { rule, field, value, access } => {
                println!("  sharing rule {rule}: {field} = {value} ({access})");
            }
            RowReason::Share { share, access, expires_at } => {
                let until = expires_at.format(&Rfc3339).unwrap_or_default();
                println!("  share {share} ({access}) until {until}");
            }
            RowReason::BreakGlass { request, expires_at } => {
                let until = expires_at.format(&Rfc3339).unwrap_or_default();
                println!("  break-glass request {request} (read) until {until}");
            }
        }
    }
    println!("fields:");
    let width = e.fields.iter().map(|f| f.field.chars().count()).max().unwrap_or(0);
    for f in &e.fields {
        let caps: Vec<&str> =
            [(f.caps.visible, "visible"), (f.caps.clear, "clear"), (f.caps.reveal, "reveal"), (f.caps.write, "write")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
        let caps = if caps.is_empty() { "hidden".to_owned() } else { caps.join(" ") };
        let reasons: Vec<String> = f
            .reasons
            .iter()
            .map(|r| {
                let origin = if r.from_rule { "field rule" } else { "default" };
                let missing = if r.missing.is_empty() {
                    String::new()
                } else {
                    let names: Vec<&str> = r.missing.iter().map(|p| p.as_str()).collect();
                    format!(", lacks {}", names.join(" "))
                };
                format!("{}: {} ({origin}{missing})", r.role, r.level)
            })
            .collect();
        println!("  {:width$}  {:12}  {:26}  {}", f.field, f.classification.as_str(), caps, reasons.join("; "));
    }
}
