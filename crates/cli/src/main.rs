//! `tutela`: the server and its command line.

/// mimalloc rather than glibc malloc: the store and the vault allocate many small, short-lived
/// values per request and per imported record (measured in docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod config;
mod notify;
mod open;
mod progress;
mod sso;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tutela — customer security management: a protected customer vault with its audit log.
#[derive(Parser)]
#[command(name = "tutela", version, about)]
struct Cli {
    /// Where data, keys and the self-signed certificate live.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… for PostgreSQL; empty for SQLite in the data directory.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// A tutela.toml (default: <data dir>/tutela.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTPS, console, API, metrics).
    Serve(commands::serve::ServeArgs),
    /// Create the installation and its first administrator without prompts.
    Init(commands::init::InitArgs),
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    /// Customer data in bulk, as the user of an API token.
    Customers {
        #[command(subcommand)]
        command: commands::customers::CustomersCommand,
    },
    /// The key hierarchy.
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// The organisation: departments, teams and who belongs where.
    Org {
        #[command(subcommand)]
        command: commands::org::OrgCommand,
    },
    /// Access governance: why a user may or may not see a customer.
    Access {
        #[command(subcommand)]
        command: commands::access::AccessCommand,
    },
    /// Scheduled jobs: list them, run one now.
    Jobs {
        #[command(subcommand)]
        command: commands::jobs::JobsCommand,
    },
    /// Notices: test the e-mail settings, see how deliveries went.
    Notify {
        #[command(subcommand)]
        command: commands::notify::NotifyCommand,
    },
}

/// Exit codes: 0 ok, 1 a check found a problem, 2 bad usage or input.
pub enum Outcome {
    Ok,
    ProblemFound,
    BadInput,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ProblemFound) => ExitCode::from(1),
        Ok(Outcome::BadInput) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let config = config::Config::load(cli.config.as_deref(), cli.data_dir.as_deref(), cli.database_url.as_deref())?;
    match cli.command {
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Init(args) => commands::init::run(config, args, cli.json).await,
        Command::Audit { command } => commands::audit::run(config, command, cli.json).await,
        Command::Customers { command } => commands::customers::run(config, command, cli.json).await,
        Command::Keys { command } => commands::keys::run(config, command, cli.json).await,
        Command::Org { command } => commands::org::run(config, command, cli.json).await,
        Command::Access { command } => commands::access::run(config, command, cli.json).await,
        Command::Jobs { command } => commands::jobs::run(config, command, cli.json).await,
        Command::Notify { command } => commands::notify::run(config, command, cli.json).await,
    }
}
