//! `tutela notify test | deliveries`, and the delivery loop `tutela serve` runs.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tutela_core::Tutela;
use tutela_core::notify::email::SmtpChannel;
use tutela_core::notify::{Channel as _, DeliveryStatus, Language, test_message};

use super::operator;
use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

/// A pass every this often even when nothing was enqueued on this node: retries fall due,
/// and other nodes enqueue too.
const PASS_EVERY: Duration = Duration::from_secs(5);

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Send a test e-mail through the configured SMTP server (exit 1 if it fails).
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
        /// `en` or `zh-CN`.
        #[arg(long, default_value = "zh-CN")]
        language: String,
    },
    /// The newest deliveries of notices and how each went (exit 1 if any is `failed`).
    Deliveries {
        /// Only `pending`, `sent` or `failed`.
        #[arg(long)]
        status: Option<String>,
    },
}

pub async fn run(config: Config, command: NotifyCommand, json: bool) -> anyhow::Result<Outcome> {
    match command {
        NotifyCommand::Test { to, language } => test(&config, &to, &language, json).await,
        NotifyCommand::Deliveries { status } => {
            let status = match status.as_deref().map(DeliveryStatus::parse).transpose() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: --status: {e}");
                    return Ok(Outcome::BadInput);
                }
            };
            let tutela = open_tutela(&config, false).await?;
            let result = deliveries(&tutela, status, json).await;
            tutela.close().await;
            result
        }
    }
}

async fn test(config: &Config, to: &str, language: &str, json: bool) -> anyhow::Result<Outcome> {
    let Some(language) = Language::parse(language) else {
        eprintln!("error: --language: en or zh-CN");
        return Ok(Outcome::BadInput);
    };
    let Some(settings) = crate::notify::smtp_settings(config)? else {
        eprintln!("error: no [smtp] section in the configuration: e-mail is off");
        return Ok(Outcome::BadInput);
    };
    let channel = match SmtpChannel::new(&settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Outcome::BadInput);
        }
    };
    let message = test_message(language, time::OffsetDateTime::now_utc());
    let result = channel.send(to, &message).await;
    if json {
        let error = result.as_ref().err().map(ToString::to_string);
        println!("{}", serde_json::json!({ "to": to, "sent": result.is_ok(), "error": error }));
    }
    match result {
        Ok(()) => {
            if !json {
                println!("sent a test message to {to} through {}:{}", settings.host, settings.port);
            }
            Ok(Outcome::Ok)
        }
        Err(e) => {
            if !json {
                eprintln!("not sent: {e}");
            }
            Ok(Outcome::ProblemFound)
        }
    }
}

async fn deliveries(tutela: &Tutela, status: Option<DeliveryStatus>, json: bool) -> anyhow::Result<Outcome> {
    let rows = tutela.notification_deliveries(&operator(), status).await?;
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for d in &rows {
            println!(
                "{}  {:<7} {:<6} {:<24} {:<20} attempts {}  {}",
                d.updated_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                d.status.as_str(),
                d.channel,
                d.address,
                d.kind,
                d.attempts,
                d.last_error.as_deref().unwrap_or_default()
            );
        }
    }
    let failed = rows.iter().any(|d| d.status == DeliveryStatus::Failed);
    Ok(if failed { Outcome::ProblemFound } else { Outcome::Ok })
}

/// Starts the delivery loop: a pass when notices are enqueued on this node, and every few
/// seconds. The loop is small on purpose, to move onto the jobs scheduler as it is. Stop it
/// with the returned handle's `notify_one`, then await the task.
pub fn start_delivery(tutela: Arc<Tutela>) -> (Arc<Notify>, JoinHandle<()>) {
    let stop = Arc::new(Notify::new());
    let wake = tutela.audit_log().notices_enqueued();
    let stopping = stop.clone();
    let task = tokio::spawn(async move {
        loop {
            match tutela.deliver_due().await {
                Ok(report) if report != tutela_core::notify::DeliveryReport::default() => {
                    tracing::info!(sent = report.sent, retrying = report.retrying, failed = report.failed, "notices");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivering notices"),
            }
            tokio::select! {
                () = stopping.notified() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(PASS_EVERY) => {}
            }
        }
    });
    (stop, task)
}
