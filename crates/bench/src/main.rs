//! `tutela-bench`: Tutela's benchmark harness.
//!
//! Every figure is a pair taken in the same run: the protected path, and the same work done
//! unprotected (plaintext columns, no keys, no audit, no authentication), with their ratio.
//! Absolute numbers drift on a shared machine; ratios hold. See docs/BENCHMARKS.md.

#![allow(clippy::cast_precision_loss, reason = "figures are reported as f64; the counts measured stay far below 2^52")]

/// The allocator the `tutela` binary uses, so that both measure the same.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod data;
mod load;
mod report;
mod scenarios;
mod setup;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Authenticated, audited reveal of one customer over HTTPS, vs a plain route.
    Read,
    /// Bulk CSV import into an empty store and one holding N, vs the sqlite3 shell.
    Import,
    /// Blind-index exact lookups, vs an indexed plain SELECT.
    Lookup,
    /// Audit chain verification, vs a plain scan of the same table.
    Verify,
    /// AES-256-GCM and HMAC per field, vs a copy.
    Seal,
    /// A page of 100 customers through a department scope and field rules, vs an all-access role.
    Scope,
    /// All of the above, in that order.
    All,
}

/// Tutela's benchmarks: each protected path beside the same work unprotected, in the same run.
#[derive(Debug, Parser)]
#[command(name = "tutela-bench", version)]
struct Cli {
    /// Scenarios to run (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// Small sizes and short runs, for a smoke test (figures are then not at target size).
    #[arg(long)]
    quick: bool,
    /// Print the reports as JSON on standard output instead of Markdown.
    #[arg(long)]
    json: bool,
    /// Customers for read, import (per file) and lookup [default: 1000000; --quick 20000].
    #[arg(long)]
    customers: Option<u64>,
    /// Audit events for verify [default: 3000000; --quick 200000]. Filling the log runs at
    /// some 25,000 events/s here, so 10,000,000 takes about seven minutes before verifying.
    #[arg(long)]
    events: Option<u64>,
    /// Measured seconds per side for read and lookup [default: 10; --quick 3].
    #[arg(long)]
    duration: Option<f64>,
    /// Warm-up seconds before each measured run [default: 2; --quick 0.5].
    #[arg(long)]
    warmup: Option<f64>,
    /// Alternating rounds per side, sharing the duration [default: 2].
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    /// Keep-alive HTTPS connections (read) and concurrent callers (lookup).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Threads of the load generator's runtime (the server's runtime has one per core).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Iterations of each micro-benchmark [default: 1000000; --quick 100000].
    #[arg(long)]
    iterations: Option<u64>,
    /// Where the temporary databases go (removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Internal: build the plain twin of a Tutela database (run in a child process).
    #[arg(long, hide = true, num_args = 2, value_names = ["TUTELA_DB", "PLAIN_DB"])]
    build_plain: Option<Vec<PathBuf>>,
}

/// The child process's work: read the ids from the Tutela database, write the plain one.
async fn build_plain(paths: &[PathBuf]) -> anyhow::Result<()> {
    let ids = setup::customer_ids(&paths[0]).await?;
    let plain = setup::PlainDb::create(&paths[1], ids).await?;
    drop(plain);
    Ok(())
}

/// Sizes and durations the scenarios run with.
pub struct Options {
    pub quick: bool,
    pub customers: u64,
    pub events: u64,
    pub duration: Duration,
    pub warmup: Duration,
    pub rounds: u32,
    pub connections: usize,
    pub client_threads: usize,
    pub iterations: u64,
    pub dir: PathBuf,
}

impl Options {
    /// How long each side runs, for a report's settings.
    pub fn schedule(&self) -> String {
        format!(
            "{} s in {} alternating rounds, after {} s warm-up each",
            self.duration.as_secs_f64(),
            self.rounds,
            self.warmup.as_secs_f64()
        )
    }

    fn from(cli: &Cli) -> Self {
        let q = cli.quick;
        Self {
            quick: q,
            customers: cli.customers.unwrap_or(if q { 20_000 } else { 1_000_000 }),
            events: cli.events.unwrap_or(if q { 200_000 } else { 3_000_000 }),
            duration: Duration::from_secs_f64(cli.duration.unwrap_or(if q { 3.0 } else { 10.0 })),
            warmup: Duration::from_secs_f64(cli.warmup.unwrap_or(if q { 0.5 } else { 2.0 })),
            rounds: cli.rounds.max(1),
            connections: cli.connections.max(1),
            client_threads: cli.client_threads.max(1),
            iterations: cli.iterations.unwrap_or(if q { 100_000 } else { 1_000_000 }),
            dir: cli.dir.clone().unwrap_or_else(std::env::temp_dir),
        }
    }
}

async fn run_one(scenario: Scenario, opts: &Options) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Read => scenarios::read::run(opts).await,
        Scenario::Import => scenarios::import::run(opts).await,
        Scenario::Lookup => scenarios::lookup::run(opts).await,
        Scenario::Verify => scenarios::verify::run(opts).await,
        Scenario::Seal => scenarios::seal::run(opts),
        Scenario::Scope => scenarios::scope::run(opts).await,
        Scenario::All => unreachable!("expanded before"),
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {cpu}")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = Options::from(&cli);
    let mut wanted = if cli.scenarios.is_empty() { vec![Scenario::All] } else { cli.scenarios.clone() };
    if wanted.contains(&Scenario::All) {
        wanted =
            vec![Scenario::Read, Scenario::Import, Scenario::Lookup, Scenario::Verify, Scenario::Seal, Scenario::Scope];
    }
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tutela-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(paths) = &cli.build_plain {
        return match runtime.block_on(build_plain(paths)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tutela-bench --build-plain: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for scenario in wanted {
        let started = std::time::Instant::now();
        match runtime.block_on(run_one(scenario, &opts)) {
            Ok(mut report) => {
                report.setting("took", &format!("{:.0} s", started.elapsed().as_secs_f64()));
                if opts.quick {
                    report.setting("sizes", &"--quick (reduced)");
                }
                eprintln!("\n{}", report.markdown());
                reports.push(report);
            }
            Err(e) => {
                eprintln!("tutela-bench: {scenario:?} failed: {e:#}");
                failed = true;
            }
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(5));

    let mut markdown = format!("Machine: {}. Build: release.\n\n", machine());
    for report in &reports {
        markdown.push_str(&report.markdown());
        markdown.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    let printed = if cli.json {
        let json = serde_json::json!({ "machine": machine(), "quick": opts.quick, "reports": reports });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&json).unwrap_or_default())
    } else {
        write!(stdout, "{markdown}")
    };
    if printed.is_err() {
        failed = true;
    }
    if let Some(path) = &cli.out
        && let Err(e) = std::fs::write(path, &markdown)
    {
        eprintln!("tutela-bench: writing {}: {e}", path.display());
        failed = true;
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
