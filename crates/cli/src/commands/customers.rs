//! `tutela customers import | export`: bulk work on the local installation, as the user whose
//! API token is given. Permissions, masking and the audit trail are the same as through the
//! API; the token names who did it.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use tutela_core::CoreError;
use tutela_core::access::ExportRequestView;
use tutela_core::vault::ExportFormat;
use tutela_core::vault::import::{ImportOptions, ImportPass};
use tutela_import::{ColumnMapping, Encoding, ImportReader, Preset};

use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;
use crate::progress::bar;

#[derive(Subcommand)]
pub enum CustomersCommand {
    /// Import a CSV (UTF-8 or GB18030) or .xlsx file. All or nothing unless --skip-bad.
    Import {
        file: PathBuf,
        /// zoho-contacts, zoho-accounts, zoho-leads, fxiaoke-customers, fxiaoke-contacts, or auto.
        #[arg(long)]
        preset: Option<String>,
        /// field=Header or field=Header1+Header2; repeatable; adjusts the preset.
        #[arg(long = "map", value_name = "FIELD=HEADER")]
        map: Vec<String>,
        /// auto, utf-8 or gb18030.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// Write the good rows and the bad ones to a reject file.
        #[arg(long)]
        skip_bad: bool,
        /// Where rejected rows are reported with --skip-bad (default: FILE.rejects.csv).
        #[arg(long)]
        reject_file: Option<PathBuf>,
        #[command(flatten)]
        auth: TokenArg,
    },
    /// Export every customer as you may see them: masked unless --purpose is given and your
    /// roles may reveal the field. An export over the approval policy's limits is refused:
    /// ask with `export-request`, then download it here with --request once approved.
    Export {
        /// Output file.
        #[arg(long, short)]
        out: PathBuf,
        /// csv or jsonl.
        #[arg(long, default_value = "csv", conflicts_with = "request")]
        format: String,
        /// Why plaintext is needed; recorded in the audit log.
        #[arg(long, conflicts_with = "request")]
        purpose: Option<String>,
        /// Download this approved export request instead (watermarked).
        #[arg(long, value_name = "ID")]
        request: Option<uuid::Uuid>,
        #[command(flatten)]
        auth: TokenArg,
    },
    /// Ask for an export; approved at once within the policy's limits, pending otherwise.
    ExportRequest {
        /// csv or jsonl.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Why plaintext is needed; recorded in the audit log.
        #[arg(long)]
        purpose: Option<String>,
        #[command(flatten)]
        auth: TokenArg,
    },
    /// Export requests: yours, or everyone's for approvers and auditors.
    ExportRequests {
        #[command(flatten)]
        auth: TokenArg,
    },
    /// Approve or deny someone else's pending export request (access.approve).
    ExportDecide {
        id: uuid::Uuid,
        #[arg(long, conflicts_with = "deny", required_unless_present = "deny")]
        approve: bool,
        #[arg(long)]
        deny: bool,
        /// A remark for the requester.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        auth: TokenArg,
    },
}

#[derive(clap::Args)]
pub struct TokenArg {
    /// A file holding your API token (made in the console or with POST /api/v1/tokens).
    #[arg(long, value_name = "FILE", env = "TUTELA_TOKEN_FILE")]
    token_file: PathBuf,
}

pub async fn run(config: Config, command: CustomersCommand, json: bool) -> anyhow::Result<Outcome> {
    let token_file = match &command {
        CustomersCommand::Import { auth, .. }
        | CustomersCommand::Export { auth, .. }
        | CustomersCommand::ExportRequest { auth, .. }
        | CustomersCommand::ExportRequests { auth }
        | CustomersCommand::ExportDecide { auth, .. } => auth.token_file.clone(),
    };
    let token =
        std::fs::read_to_string(&token_file).with_context(|| format!("--token-file {}", token_file.display()))?;
    let tutela = open_tutela(&config, false).await?;
    let principal = tutela.token_principal(token.trim(), Some("local-cli".into())).await;
    let result = match principal {
        Ok(p) => match command {
            CustomersCommand::Import { file, preset, map, encoding, skip_bad, reject_file, .. } => {
                let args = ImportArgs { file, preset, map, encoding, skip_bad, reject_file };
                import(&tutela, &p, args, json).await
            }
            CustomersCommand::Export { out, format, purpose, request, .. } => {
                export(&tutela, &p, &out, ExportSource { format: &format, purpose: purpose.as_deref(), request }, json)
                    .await
            }
            CustomersCommand::ExportRequest { format, purpose, .. } => {
                let view = tutela.request_export(&p, format.parse()?, purpose.as_deref()).await?;
                Ok(show_requests(&[view], json))
            }
            CustomersCommand::ExportRequests { .. } => Ok(show_requests(&tutela.export_requests(&p).await?, json)),
            CustomersCommand::ExportDecide { id, approve, note, .. } => {
                let view = tutela.decide_export(&p, id, approve, note.as_deref()).await?;
                Ok(show_requests(&[view], json))
            }
        },
        Err(e) => Err(e.into()),
    };
    tutela.close().await;
    result
}

struct ImportArgs {
    file: PathBuf,
    preset: Option<String>,
    map: Vec<String>,
    encoding: String,
    skip_bad: bool,
    reject_file: Option<PathBuf>,
}

fn mapping(
    file: &std::path::Path,
    preset: Option<&str>,
    pairs: &[String],
    encoding: Encoding,
) -> anyhow::Result<ColumnMapping> {
    let base = match preset {
        None => None,
        Some("auto") => {
            let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let format = tutela_import::FileFormat::detect(Some(file), &bytes[..bytes.len().min(8)])?;
            let headers = ImportReader::header_row(bytes, format, encoding)?;
            Some(tutela_import::detect_preset(&headers).context("--preset auto: no preset matches the header row")?)
        }
        Some(id) => Some(Preset::from_id(id).with_context(|| format!("--preset: unknown preset {id:?}"))?),
    };
    let mapping = base.map_or_else(ColumnMapping::new, |p| p.mapping()).overlay(ColumnMapping::parse_pairs(pairs)?);
    anyhow::ensure!(!mapping.is_empty(), "name a --preset or --map at least one column (field=Header)");
    Ok(mapping)
}

async fn import(
    tutela: &tutela_core::Tutela,
    p: &tutela_core::policy::Principal,
    args: ImportArgs,
    json: bool,
) -> anyhow::Result<Outcome> {
    let encoding: Encoding = args.encoding.parse()?;
    let mapping = mapping(&args.file, args.preset.as_deref(), &args.map, encoding)?;
    let progress = bar(0, "validating", json);
    let update = |step: tutela_core::vault::import::ImportProgress| {
        progress.set_length(step.total_bytes);
        progress.set_position(step.bytes_read);
        progress.set_message(match step.pass {
            ImportPass::Validating => format!("validating ({} rows)", step.rows),
            ImportPass::Writing => format!("writing ({} rows)", step.rows),
        });
    };
    let file = args.file.clone();
    let open = || ImportReader::open(&file, None, encoding, &mapping);
    let report = tutela.import_customers(p, open, ImportOptions { skip_bad: args.skip_bad }, update).await;
    progress.finish_and_clear();
    let report = report?;
    if args.skip_bad && !report.errors.is_empty() {
        let path = args.reject_file.unwrap_or_else(|| args.file.with_extension("rejects.csv"));
        let mut w = csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["line", "column", "problem"])?;
        for e in &report.errors {
            w.write_record([e.line.to_string(), e.column.clone().unwrap_or_default(), e.message.clone()])?;
        }
        w.flush()?;
        if !json {
            println!("rejected rows written to {}", path.display());
        }
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for e in report.errors.iter().take(20) {
            eprintln!("{e}");
        }
        if report.refused {
            println!(
                "refused: {} bad rows of {}; nothing was written (fix them or use --skip-bad)",
                report.rejected, report.rows
            );
        } else {
            println!("imported {} customers ({} rows rejected)", report.imported, report.rejected);
        }
    }
    Ok(if report.refused { Outcome::BadInput } else { Outcome::Ok })
}

/// What to export: everything in reach now, or an approved request.
struct ExportSource<'a> {
    format: &'a str,
    purpose: Option<&'a str>,
    request: Option<uuid::Uuid>,
}

async fn export(
    tutela: &std::sync::Arc<tutela_core::Tutela>,
    p: &tutela_core::policy::Principal,
    out: &std::path::Path,
    source: ExportSource<'_>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let total = tutela.customer_count().await?;
    let mut export = match source.request {
        Some(id) => tutela.begin_approved_export(p, id).await?,
        None => match tutela.begin_export(p, source.format.parse::<ExportFormat>()?, source.purpose).await {
            Err(CoreError::ApprovalRequired(why)) => {
                anyhow::bail!("{why}: `tutela customers export-request`, then `export --request ID` once approved")
            }
            other => other?,
        },
    };
    let mut file = super::create_private(out)?;
    let progress = bar(total, "exporting", json);
    while let Some(chunk) = export.next_chunk().await? {
        file.write_all(&chunk)?;
        progress.set_position(export.report().rows);
    }
    file.sync_all()?;
    progress.finish_and_clear();
    let report = export.report();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("exported {} customers to {}", report.rows, out.display());
    }
    Ok(Outcome::Ok)
}

fn show_requests(views: &[ExportRequestView], json: bool) -> Outcome {
    if json {
        println!("{}", serde_json::to_string(views).expect("views serialise"));
        return Outcome::Ok;
    }
    for v in views {
        let state = serde_json::to_value(v.state).ok().and_then(|s| s.as_str().map(str::to_owned)).unwrap_or_default();
        let reasons = if v.reasons.is_empty() { "within the limits".to_owned() } else { v.reasons.join(", ") };
        println!("{}  {state:<9} {} {} rows by {} ({reasons})", v.id, v.format, v.rows, v.user_email);
    }
    Outcome::Ok
}
