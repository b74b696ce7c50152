//! `verify`: `Tutela::verify_audit` over M audit events (recompute every hash, check every
//! signed checkpoint), beside a plain sequential scan of the same table reading the same
//! columns without hashing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tutela_core::audit::AuditEvent;
use uuid::Uuid;

use crate::Options;
use crate::data::SEALED;
use crate::load;
use crate::report::{Better, Report, Row, number};
use crate::setup::{Installation, open_connection};

/// Events per `AuditLog::commit` call while filling the log.
const BATCH: u64 = 10_000;

/// Fills the log through the real writer: hash chain, one signed checkpoint per commit.
async fn fill(inst: &Installation, m: u64) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Two producers: one builds its next batch while the writer commits the other's.
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let (t, p, next) = (inst.tutela.clone(), inst.steward.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let from = next.fetch_add(BATCH, std::sync::atomic::Ordering::Relaxed);
                    if from >= m {
                        return anyhow::Ok(());
                    }
                    let events: Vec<AuditEvent> = (from..(from + BATCH).min(m))
                        .map(|i| {
                            let customer = Uuid::from_u64_pair(0x0190_0000_0000_7000, load::spread(i, u64::MAX));
                            AuditEvent::by(&p, "customer.reveal")
                                .customer(customer)
                                .fields(SEALED)
                                .purpose("benchmark: read path")
                        })
                        .collect();
                    t.audit_log().commit(Vec::new(), events).await?;
                    if (from / BATCH).is_multiple_of(100) {
                        eprintln!("verify: {from} events written");
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await??;
    }
    Ok(start.elapsed())
}

/// Every row, every column the chain hash covers, decoded into owned values; nothing hashed.
/// Streamed through rusqlite on a blocking thread, as the store runs its scans.
async fn plain_scan(inst: &Installation) -> anyhow::Result<(u64, Duration)> {
    let path = inst.db_path();
    tokio::task::spawn_blocking(move || {
        let conn = open_connection(&path, false)?;
        let start = Instant::now();
        let mut statement = conn.prepare(
            "SELECT seq, at, actor_id, actor, action, outcome, customer_id, fields, purpose, source, detail, hash \
             FROM audit_events ORDER BY seq",
        )?;
        let mut rows = statement.query([])?;
        let mut count = 0_u64;
        let mut checksum = 0_usize;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let at: i64 = r.get(1)?;
            let actor_id: Option<Uuid> = r.get(2)?;
            let actor: String = r.get(3)?;
            let action: String = r.get(4)?;
            let outcome: String = r.get(5)?;
            let customer: Option<Uuid> = r.get(6)?;
            let fields: String = r.get(7)?;
            let purpose: Option<String> = r.get(8)?;
            let source: Option<String> = r.get(9)?;
            let detail: Option<String> = r.get(10)?;
            let hash: Vec<u8> = r.get(11)?;
            checksum = checksum.wrapping_add(
                usize::try_from(seq ^ at).unwrap_or(0)
                    + usize::from(actor_id.is_some())
                    + actor.len()
                    + action.len()
                    + outcome.len()
                    + usize::from(customer.is_some())
                    + fields.len()
                    + purpose.map_or(0, |s| s.len())
                    + source.map_or(0, |s| s.len())
                    + detail.map_or(0, |s| s.len())
                    + hash.len(),
            );
            count += 1;
        }
        let took = start.elapsed();
        std::hint::black_box(checksum);
        Ok((count, took))
    })
    .await?
}

/// The store's own paged scan, as verification uses it, without the hashing.
async fn store_scan(inst: &Installation) -> anyhow::Result<(u64, Duration)> {
    let start = Instant::now();
    let (mut after, mut count) = (0_i64, 0_u64);
    loop {
        let page = inst.tutela.store().audit_scan(after, 20_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        count += page.len() as u64;
    }
    Ok((count, start.elapsed()))
}

pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let m = opts.events;
    let mut report = Report::new("verify", "audit chain verification");
    report.setting("events", &number(m as f64));

    let inst = Installation::create(&opts.dir).await?;
    eprintln!("verify: writing {m} audit events through the audit writer");
    let filled = fill(&inst, m).await?;
    let fill_rate = m as f64 / filled.as_secs_f64();
    eprintln!("verify: written in {:.1} s ({} events/s); scanning", filled.as_secs_f64(), number(fill_rate));

    // As a server at rest would have it: the write-ahead log copied back into the database.
    let path = inst.db_path();
    let busy = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        Ok(open_connection(&path, false)?.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?)
    })
    .await??;
    if busy != 0 {
        eprintln!("verify: the WAL checkpoint did not complete (the database was busy); scanning anyway");
    }
    let (plain_n, plain_t) = plain_scan(&inst).await?;
    let (store_n, store_t) = store_scan(&inst).await?;
    eprintln!("verify: verifying");
    let start = Instant::now();
    let verified = inst.tutela.verify_audit(|_| {}).await?;
    let verify_t = start.elapsed();
    anyhow::ensure!(verified.problem.is_none(), "the chain does not verify: {:?}", verified.problem);
    anyhow::ensure!(
        verified.events == plain_n && store_n == plain_n,
        "event counts differ: {} / {store_n} / {plain_n}",
        verified.events
    );
    let db_size = std::fs::metadata(inst.db_path())?.len();
    inst.close().await;

    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    let (verify_rate, plain_rate, store_rate) =
        (rate(verified.events, verify_t), rate(plain_n, plain_t), rate(store_n, store_t));
    report.rows.push(
        Row::new("`Tutela::verify_audit` (hash + checkpoints)", "events/s", verify_rate, plain_rate, Better::Higher)
            .extra("time s (prot / plain)", format!("{:.2} / {:.2}", verify_t.as_secs_f64(), plain_t.as_secs_f64())),
    );
    report.rows.push(
        Row::new(
            "of which: `Store::audit_scan` pages alone, no hashing",
            "events/s",
            store_rate,
            plain_rate,
            Better::Higher,
        )
        .extra("time s (prot / plain)", format!("{:.2} / {:.2}", store_t.as_secs_f64(), plain_t.as_secs_f64())),
    );
    report.target(
        "verification",
        "≥ 2,000,000 events/s",
        format!("{} events/s over {}", number(verify_rate), number(verified.events as f64)),
        Some(verify_rate >= 2_000_000.0),
    );
    report.note(format!(
        "The log was filled through the real writer (`AuditLog::commit` of {BATCH} events at a time from two \
         producers: chained, one signed checkpoint per commit) at {} events/s; {} checkpoints; database {:.2} GB.",
        number(fill_rate),
        number(verified.checkpoints as f64),
        db_size as f64 / 1e9
    ));
    report.note(
        "Plain: one `SELECT` of the 12 columns the chain covers `ORDER BY seq`, streamed through rusqlite (one \
         connection with the store's settings, on a blocking thread) and decoded into owned Rust values, nothing \
         hashed. The middle row is the store's paged `audit_scan` (what verification \
         reads through), to separate the cost of reading into `AuditRecord`s from the cost of hashing.",
    );
    Ok(report)
}
