//! `tutela keys status | rotate`.

use clap::Subcommand;

use super::operator;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;
use crate::progress::bar;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Key-encryption key versions and how many data keys each wraps.
    Status,
    /// A new key-encryption key version; every data key re-wrapped under it, online.
    Rotate {
        /// Finish an interrupted rotation instead of starting a new version.
        #[arg(long)]
        resume: bool,
    },
}

pub async fn run(config: Config, command: KeysCommand, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let result = match command {
        KeysCommand::Status => status(&tutela, json).await,
        KeysCommand::Rotate { resume } => rotate(&tutela, resume, json).await,
    };
    tutela.close().await;
    result
}

async fn status(tutela: &tutela_core::Tutela, json: bool) -> anyhow::Result<Outcome> {
    let usage = tutela.store().kek_usage().await?;
    let current = tutela.keys().current_version();
    if json {
        let versions: Vec<_> =
            usage.iter().map(|(v, n)| serde_json::json!({ "version": v, "wrapped_keys": n })).collect();
        println!("{}", serde_json::json!({ "current_version": current, "versions": versions }));
    } else {
        println!("current key-encryption key: version {current}");
        for (version, count) in &usage {
            println!("  version {version}: {count} data keys");
        }
    }
    Ok(Outcome::Ok)
}

async fn rotate(tutela: &tutela_core::Tutela, resume: bool, json: bool) -> anyhow::Result<Outcome> {
    let progress = bar(0, "re-wrapping data keys", json);
    let update = |done: u64, total: u64| {
        progress.set_length(total);
        progress.set_position(done);
    };
    let principal = operator();
    let report = if resume {
        tutela.resume_rotation(&principal, update).await
    } else {
        tutela.rotate_keys(&principal, update).await
    };
    progress.finish_and_clear();
    let report = report?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "key-encryption key version {} is current; re-wrapped {} customer and {} user data keys",
            report.version, report.customers_rewrapped, report.users_rewrapped
        );
    }
    Ok(Outcome::Ok)
}
