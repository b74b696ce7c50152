//! `tutela jobs list` and `tutela jobs run KIND`: the scheduler's job kinds and their
//! latest runs, and one run now (on this node, under the kind's lease, so never beside a
//! server that is running it). Exit 1 when the run failed.

use std::sync::Arc;

use anyhow::anyhow;
use clap::Subcommand;
use time::format_description::well_known::Rfc3339;
use tutela_core::CoreError;
use tutela_core::jobs::Scheduler;

use super::operator;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Lists the job kinds, their schedules and latest runs.
    List,
    /// Runs one job now, due or not.
    Run {
        /// The job kind, such as access.review.deadlines.
        kind: String,
    },
}

/// This process as a node, in job history and leases.
pub fn node_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "localhost".into(), |h| h.trim().to_owned());
    format!("{host}:{role}:{}", std::process::id())
}

pub async fn run(config: Config, command: JobsCommand, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = match command {
        JobsCommand::List => list(&tutela, json).await,
        JobsCommand::Run { kind } => run_one(&tutela, &kind, json).await,
    };
    tutela.close().await;
    result
}

async fn list(tutela: &tutela_core::Tutela, json: bool) -> anyhow::Result<Outcome> {
    let kinds = tutela.jobs_overview(&operator()).await?;
    if json {
        println!("{}", serde_json::to_string(&kinds)?);
        return Ok(Outcome::Ok);
    }
    for k in kinds {
        println!("{} (every {} s): {}", k.name, k.every_seconds, k.description);
        if let Some(holder) = k.held_by {
            println!("  running on {holder}");
        }
        match k.runs.first() {
            Some(r) => println!(
                "  last run {} on {}: {} — {}",
                r.started_at.format(&Rfc3339)?,
                r.node,
                r.status,
                r.summary.as_deref().unwrap_or("")
            ),
            None => println!("  never run"),
        }
    }
    Ok(Outcome::Ok)
}

async fn run_one(tutela: &Arc<tutela_core::Tutela>, kind: &str, json: bool) -> anyhow::Result<Outcome> {
    let scheduler = Scheduler::new(tutela.clone(), node_name("cli"));
    let bar = crate::progress::bar(0, kind, json);
    let watch = bar.clone();
    let watcher = Arc::new(move |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            watch.set_length(total);
        }
        watch.set_position(done);
    });
    let run = scheduler.run_now(kind, Some(watcher)).await.map_err(|e| match e {
        CoreError::Invalid { message, .. } => anyhow!("KIND: {message}"),
        other => anyhow!(other),
    })?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string(&run)?);
    } else {
        println!("{} on {}: {} — {}", run.kind, run.node, run.status, run.summary.as_deref().unwrap_or(""));
    }
    Ok(if run.status == "succeeded" { Outcome::Ok } else { Outcome::ProblemFound })
}
