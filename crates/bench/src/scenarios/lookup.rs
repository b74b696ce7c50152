//! `lookup`: exact search by e-mail among N customers, in-process: `Tutela::lookup_customers`
//! (blind index, candidates decrypted and compared, the lookup audited) beside a plain
//! indexed `SELECT … WHERE email = ?` through rusqlite.

use std::sync::Arc;

use crate::Options;
use crate::data;
use crate::load::{self, Measured};
use crate::report::{Better, Report, Row, number};
use crate::setup::{Installation, PlainDb};

#[allow(clippy::too_many_lines, reason = "one scenario told top to bottom, in the order it runs")]
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let n = opts.customers;
    let mut report = Report::new("lookup", "blind-index exact lookup by e-mail, in-process");
    report.setting("customers", &number(n as f64));
    report.setting("concurrent callers", &opts.connections);
    report.setting("duration per side", &opts.schedule());

    let inst = Installation::create(&opts.dir).await?;
    let csv = inst.dir.path().join("customers.csv");
    data::write_csv(&csv, 0, n)?;
    eprintln!("lookup: importing {n} customers");
    inst.import(&csv).await?;
    std::fs::remove_file(&csv)?;
    eprintln!("lookup: building the plain table");
    let plain = Arc::new(PlainDb::build_in_child(&inst.db_path(), &inst.dir.path().join("plain.db")).await?);

    // Both sides must find exactly the customer asked for.
    let probe = data::email(n / 2);
    let found = inst.tutela.lookup_customers(&inst.steward, "email", &probe).await?;
    anyhow::ensure!(found.len() == 1, "Tutela found {} customers for {probe}", found.len());
    anyhow::ensure!(plain.by_email(&probe)?.len() == 1, "the plain table does not find {probe}");

    let mut protected: Option<Measured> = None;
    let mut unprotected: Option<Measured> = None;
    let per_round = opts.duration / opts.rounds;
    for round in 0..opts.rounds {
        eprintln!("lookup: round {} of {}", round + 1, opts.rounds);
        let (t, p) = (inst.tutela.clone(), inst.steward.clone());
        let m = load::drive(opts.connections, opts.warmup, per_round, move |w, i| {
            let (t, p) = (t.clone(), p.clone());
            async move {
                let email = data::email(load::spread((w as u64) << 40 | i, n));
                let found = t.lookup_customers(&p, "email", &email).await?;
                anyhow::ensure!(found.len() == 1, "{} matches", found.len());
                Ok(())
            }
        })
        .await;
        protected = Some(match protected.take() {
            None => m,
            Some(before) => before.merge(m),
        });
        let db = plain.clone();
        let m = load::drive(opts.connections, opts.warmup, per_round, move |w, i| {
            let db = db.clone();
            async move {
                let email = data::email(load::spread((w as u64) << 40 | i, n));
                let found = db.by_email(&email)?;
                anyhow::ensure!(found.len() == 1, "{} matches", found.len());
                Ok(())
            }
        })
        .await;
        unprotected = Some(match unprotected.take() {
            None => m,
            Some(before) => before.merge(m),
        });
    }
    let (prot, base) = (protected.expect("ran"), unprotected.expect("ran"));

    // The same lookups one at a time: latency without queueing behind the audit writer.
    let (t, s) = (inst.tutela.clone(), inst.steward.clone());
    let p1 = load::drive(1, opts.warmup, opts.duration / 4, move |_, i| {
        let (t, s) = (t.clone(), s.clone());
        async move {
            t.lookup_customers(&s, "email", &data::email(load::spread(i, n))).await?;
            Ok(())
        }
    })
    .await;
    let db = plain.clone();
    let b1 = load::drive(1, opts.warmup, opts.duration / 4, move |_, i| {
        let db = db.clone();
        async move {
            db.by_email(&data::email(load::spread(i, n)))?;
            Ok(())
        }
    })
    .await;
    inst.close().await;

    let row = |what: &str, p: &Measured, b: &Measured| {
        Row::new(what, "lookups/s", p.per_second, b.per_second, Better::Higher)
            .extra("p50 µs (prot / plain)", format!("{} / {}", number(p.p50_us), number(b.p50_us)))
            .extra("p99 µs (prot / plain)", format!("{} / {}", number(p.p99_us), number(b.p99_us)))
            .extra("errors", format!("{} / {}", p.errors, b.errors))
    };
    report.rows.push(row(&format!("{} concurrent callers", opts.connections), &prot, &base));
    report.rows.push(row("one caller at a time", &p1, &b1));
    report.target(
        "lookups",
        "≥ 100,000 lookups/s",
        format!("{} lookups/s among {}", number(prot.per_second), number(n as f64)),
        Some(prot.per_second >= 100_000.0),
    );
    report.note(
        "Protected: `lookup_customers(steward, \"email\", value)`: permission check, schema read, HMAC blind index, \
         index query, candidate rows fetched, each candidate's data key unwrapped and its e-mail decrypted and \
         compared, masked views built, and one audit event committed (group commit) before it returns. \
         Plain: `SELECT` the 10 columns `WHERE email = ?` through rusqlite on a table with an index on e-mail, \
         with the store's connection settings (WAL, synchronous = FULL, 8 MiB cache per connection, cached \
         statements) and, like the store's point reads, run on the calling task through a list of idle connections.",
    );
    Ok(report)
}
