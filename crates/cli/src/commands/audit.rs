//! `tutela audit verify`.

use clap::Subcommand;

use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;
use crate::progress::bar;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain and signed checkpoints; exit 1 naming the first bad event.
    Verify,
    /// Write the whole log as JSON lines, oldest first.
    Export {
        #[arg(long, short)]
        out: std::path::PathBuf,
    },
}

pub async fn run(config: Config, command: AuditCommand, json: bool) -> anyhow::Result<Outcome> {
    match command {
        AuditCommand::Verify => verify(config, json).await,
        AuditCommand::Export { out } => export(config, &out, json).await,
    }
}

async fn export(config: Config, out: &std::path::Path, json: bool) -> anyhow::Result<Outcome> {
    use std::io::Write as _;
    let tutela = open_tutela(&config, false).await?;
    let result = async {
        let mut export = tutela.begin_audit_export(&super::operator()).await?;
        let mut file = super::create_private(out)?;
        let mut lines = 0_u64;
        while let Some(chunk) = tutela.next_audit_export_chunk(&mut export).await? {
            lines += bytecount(&chunk);
            file.write_all(&chunk)?;
        }
        file.sync_all()?;
        anyhow::Ok(lines)
    }
    .await;
    tutela.close().await;
    let lines = result?;
    if json {
        println!("{}", serde_json::json!({ "events": lines, "out": out }));
    } else {
        println!("exported {lines} audit events to {}", out.display());
    }
    Ok(Outcome::Ok)
}

/// Lines in a chunk; at a few MB per export a crate for SIMD counting is not worth it.
#[allow(clippy::naive_bytecount)]
fn bytecount(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|b| **b == b'\n').count() as u64
}

async fn verify(config: Config, json: bool) -> anyhow::Result<Outcome> {
    let tutela = open_tutela(&config, false).await?;
    let progress = bar(0, "verifying", json);
    let report = tutela.verify_audit(|n| progress.set_position(n)).await;
    progress.finish_and_clear();
    tutela.close().await;
    let report = report?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "intact": report.problem.is_none(),
                "events": report.events,
                "checkpoints": report.checkpoints,
                "head_seq": report.head.map(|h| h.0),
                "head_hash": report.head.map(|h| hex_string(&h.1)),
                "first_bad_seq": report.problem.as_ref().map(tutela_core::audit::VerifyProblem::seq),
                "problem": report.problem.as_ref().map(ToString::to_string),
            })
        );
    }
    match report.problem {
        None => {
            if !json {
                let head = report
                    .head
                    .map_or_else(|| "empty".to_owned(), |(seq, hash)| format!("head {seq} {}", hex_string(&hash)));
                println!(
                    "audit log intact: {} events, {} signed checkpoints, {head}",
                    report.events, report.checkpoints
                );
            }
            Ok(Outcome::Ok)
        }
        Some(problem) => {
            if !json {
                println!("audit log TAMPERED: {problem}");
                println!("first bad event: {}", problem.seq());
            }
            Ok(Outcome::ProblemFound)
        }
    }
}

fn hex_string(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
