//! `import`: bulk CSV import through `Tutela::import_customers` (validated, sealed,
//! blind-indexed, audited per batch), into an empty store and into one already holding N,
//! beside the `sqlite3` command-line shell's `.import` of the same files into plain columns.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::Options;
use crate::data;
use crate::report::{Better, Report, Row, number};
use crate::setup::Installation;

/// Runs the `sqlite3` shell on `db` to import `csv` (header skipped) into plain columns;
/// returns the wall time of the whole process.
fn sqlite3_import(db: &Path, csv: &Path, create: bool) -> anyhow::Result<Duration> {
    let columns: Vec<String> = data::FIELDS.iter().map(|f| format!("{f} TEXT")).collect();
    let mut script = String::from("PRAGMA journal_mode = WAL;\nPRAGMA synchronous = FULL;\n");
    if create {
        let _ = writeln!(script, "CREATE TABLE customers ({});", columns.join(", "));
    }
    let _ = write!(script, ".mode csv\n.import --skip 1 '{}' customers\n", csv.display());
    let start = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running sqlite3 (apt-get install sqlite3)")?;
    child.stdin.take().expect("piped").write_all(script.as_bytes())?;
    let output = child.wait_with_output()?;
    let took = start.elapsed();
    anyhow::ensure!(output.status.success(), "sqlite3: {}", String::from_utf8_lossy(&output.stderr));
    Ok(took)
}

/// Reading alone: the CSV parsed and mapped by `ImportReader`, as each of the import's two
/// passes does, with nothing validated, sealed or written.
fn read_alone(csv: &Path, n: u64) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut rows = 0_u64;
    for row in tutela_import::ImportReader::open(csv, None, tutela_import::Encoding::Auto, &data::mapping())? {
        row?;
        rows += 1;
    }
    anyhow::ensure!(rows == n, "read {rows} rows of {n}");
    Ok(start.elapsed())
}

fn sqlite3_count(db: &Path) -> anyhow::Result<u64> {
    let out = Command::new("sqlite3").arg(db).arg("SELECT COUNT(*) FROM customers").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let n = opts.customers;
    let mut report = Report::new("import", "bulk CSV import, 3 sealed and blind-indexed fields of 10");
    report.setting("customers per file", &number(n as f64));

    let work = tempfile::Builder::new().prefix("tutela-bench-import-").tempdir_in(&opts.dir)?;
    let first = work.path().join("first.csv");
    let second = work.path().join("second.csv");
    eprintln!("import: writing two CSV files of {n} customers");
    let size = data::write_csv(&first, 0, n)?;
    data::write_csv(&second, n, 2 * n)?;
    report.setting("file size", &format!("{:.1} MB", size as f64 / 1e6));

    eprintln!("import: sqlite3 .import baseline");
    let plain_db = work.path().join("plain.db");
    let plain_empty = sqlite3_import(&plain_db, &first, true)?;
    let plain_full = sqlite3_import(&plain_db, &second, false)?;
    anyhow::ensure!(sqlite3_count(&plain_db)? == 2 * n, "sqlite3 did not import every row");

    let read_only = read_alone(&first, n)?;

    // The same rows through rusqlite: one prepared INSERT per row into plain columns with an
    // e-mail index, 20,000 rows per transaction, like Tutela's batches, with the store's
    // connection settings; to tell SQLite's own per-statement cost from what protection adds.
    eprintln!("import: rusqlite baseline");
    let rusqlite_rows: Vec<(uuid::Uuid, u64)> = (0..n).map(|i| (uuid::Uuid::now_v7(), i)).collect();
    let start = Instant::now();
    let rusqlite_db = crate::setup::PlainDb::create(&work.path().join("rusqlite.db"), rusqlite_rows).await?;
    let rusqlite_empty = start.elapsed();
    drop(rusqlite_db);

    let inst = Installation::create(work.path()).await?;
    eprintln!("import: Tutela into an empty store");
    let (empty, imported) = inst.import(&first).await?;
    anyhow::ensure!(imported == n, "imported {imported} of {n}");
    eprintln!("import: {:.1} s; Tutela into a store holding {n}", empty.as_secs_f64());
    let (full, imported) = inst.import(&second).await?;
    anyhow::ensure!(imported == n, "imported {imported} of {n}");
    anyhow::ensure!(inst.tutela.customer_count().await? == 2 * n, "the store does not hold every customer");
    inst.close().await;

    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    report.rows.push(
        Row::new("into an empty store", "records/s", rate(empty), rate(plain_empty), Better::Higher)
            .extra("time s (prot / plain)", format!("{:.2} / {:.2}", empty.as_secs_f64(), plain_empty.as_secs_f64())),
    );
    report.rows.push(
        Row::new(
            format!("into a store holding {}", number(n as f64)),
            "records/s",
            rate(full),
            rate(plain_full),
            Better::Higher,
        )
        .extra("time s (prot / plain)", format!("{:.2} / {:.2}", full.as_secs_f64(), plain_full.as_secs_f64())),
    );
    report.rows.push(
        Row::new(
            "into an empty store, vs rusqlite: one prepared INSERT per row, 20,000-row transactions",
            "records/s",
            rate(empty),
            rate(rusqlite_empty),
            Better::Higher,
        )
        .extra("time s (prot / plain)", format!("{:.2} / {:.2}", empty.as_secs_f64(), rusqlite_empty.as_secs_f64())),
    );
    report.rows.push(
        Row::new(
            "reading the CSV alone (`ImportReader`, one pass) vs sqlite3 .import (empty)",
            "records/s",
            rate(read_only),
            rate(plain_empty),
            Better::Higher,
        )
        .extra("time s (prot / plain)", format!("{:.2} / {:.2}", read_only.as_secs_f64(), plain_empty.as_secs_f64())),
    );
    let full_size = n >= 1_000_000;
    let at = |met: bool| if full_size { Some(met) } else { None };
    report.target(
        "empty store",
        "≥ 100,000 records/s",
        format!("{} records/s", number(rate(empty))),
        at(rate(empty) >= 100_000.0),
    );
    report.target(
        "store holding 1,000,000",
        "≥ 50,000 records/s",
        format!("{} records/s (holding {})", number(rate(full)), number(n as f64)),
        at(rate(full) >= 50_000.0),
    );
    let ratio = empty.as_secs_f64() / plain_empty.as_secs_f64();
    report.target("time vs sqlite3 .import (empty)", "≤ 3×", format!("{ratio:.1}×"), Some(ratio <= 3.0));
    report.note(
        "Plain: `sqlite3 -bail plain.db` reading `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE customers (10 TEXT columns); .mode csv; .import --skip 1 FILE customers` (one process per file, \
         timed whole; the second file into the same database). Same settings as Tutela's store; no index, no key. \
         Third row's plain side: the rows of the first file (fresh ids, values generated, no CSV parsed) inserted \
         through rusqlite into plain columns with an e-mail index, one prepared, cached `INSERT` per row, \
         20,000 rows per `BEGIN IMMEDIATE` transaction, with the store's connection settings (WAL, \
         synchronous = FULL, 8 MiB cache).",
    );
    report.note(
        "Protected: `Tutela::import_customers` with the default options (validate the whole file, then seal and \
         write in batches of 20,000 rows, each batch committed with its audit event and a signed checkpoint). \
         Each record gets its own data key, its 3 sealed fields AES-256-GCM and 3 blind-index entries.",
    );
    Ok(report)
}
