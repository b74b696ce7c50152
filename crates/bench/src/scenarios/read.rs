//! `read`: an authenticated, audited reveal of one customer over HTTPS keep-alive, beside the
//! same ten values read from a plaintext table through a route of the same server process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;
use serde::Deserialize;
use tokio_rustls::TlsConnector;
use tutela_core::audit::AuditEvent;
use tutela_web::{AppState, ServeConfig, TlsFiles};
use uuid::Uuid;

use crate::Options;
use crate::data::{self, FIELDS};
use crate::load::{self, Measured};
use crate::report::{Better, Report, Row, number};
use crate::setup::{Installation, PlainDb, memory};

const PURPOSE: &str = "benchmark: read path";
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Deserialize)]
struct RevealBody {
    fields: Vec<String>,
    #[allow(dead_code)] // accepted like the real route's, not used
    purpose: String,
}

/// The unprotected twin of `POST /api/v1/customers/{id}/reveal`: same request, same JSON
/// answer, from plaintext columns; no token, no key, no audit.
async fn plain_reveal(
    State(db): State<Arc<PlainDb>>,
    Path(id): Path<Uuid>,
    Json(body): Json<RevealBody>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let values = db.get(id).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?.ok_or(StatusCode::NOT_FOUND)?;
    let mut out = BTreeMap::new();
    for field in body.fields {
        if let Some(i) = FIELDS.iter().position(|f| *f == field) {
            out.insert(field, values[i].clone());
        }
    }
    Ok(Json(serde_json::json!({ "values": out })))
}

/// The floor of the stack: TLS, HTTP and JSON with no work at all.
async fn null_route(Path(_id): Path<Uuid>, Json(_body): Json<RevealBody>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "values": {} }))
}

fn bench_routes(plain: Arc<PlainDb>) -> Router {
    Router::new()
        .route("/bench/plain/{id}", post(plain_reveal))
        .route("/bench/null/{id}", post(null_route))
        .with_state(plain)
}

fn request_maker(
    prefix: &'static str,
    suffix: &'static str,
    bearer: String,
    ids: Arc<Vec<(Uuid, u64)>>,
) -> Arc<load::MakeRequest> {
    let body = Bytes::from(serde_json::json!({ "fields": FIELDS, "purpose": PURPOSE }).to_string());
    let n = ids.len() as u64;
    Arc::new(move |w, i| {
        let (id, _) = ids[usize::try_from(load::spread((w as u64) << 40 | i, n)).unwrap_or(0)];
        Request::post(format!("{prefix}{id}{suffix}"))
            .header("host", "localhost")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .expect("a valid request")
    })
}

struct Server {
    addr: SocketAddr,
    connector: TlsConnector,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), tutela_web::ServeError>>,
}

async fn start_server(inst: &Installation, plain: Arc<PlainDb>) -> anyhow::Result<Server> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let tls = TlsFiles { cert: inst.dir.path().join("cert.pem"), key: inst.dir.path().join("key.pem") };
    std::fs::write(&tls.cert, cert.cert.pem())?;
    std::fs::write(&tls.key, cert.key_pair.serialize_pem())?;
    let connector = load::tls_connector(cert.cert.der().clone())?;
    let app =
        tutela_web::router(AppState { tutela: inst.tutela.clone(), secure_cookies: true }).merge(bench_routes(plain));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServeConfig { tls: Some(tls), grace: Duration::from_secs(5) };
    let task = tokio::spawn(tutela_web::serve(listener, app, config, async move {
        let _ = stopped.await;
    }));
    Ok(Server { addr, connector, stop, task })
}

/// The protected and the plain answer for one customer must be the same ten values.
async fn check_answers(server: &Server, bearer: &str, ids: &Arc<Vec<(Uuid, u64)>>) -> anyhow::Result<()> {
    let (id, number) = pick(ids, 0, 0);
    let mut answers = Vec::new();
    for make in [
        request_maker("/api/v1/customers/", "/reveal", bearer.to_owned(), ids.clone()),
        request_maker("/bench/plain/", "", bearer.to_owned(), ids.clone()),
    ] {
        let request = make(0, 0);
        let uri = request.uri().to_string();
        let (status, body) = load::fetch(server.addr, &server.connector, request).await?;
        anyhow::ensure!(status == 200, "{uri}: HTTP {status}: {}", String::from_utf8_lossy(&body));
        let json: serde_json::Value = serde_json::from_slice(&body)?;
        answers.push(json["values"].clone());
    }
    let expected: BTreeMap<&str, String> = FIELDS.iter().copied().zip(data::customer(number)).collect();
    anyhow::ensure!(answers[0] == serde_json::json!(expected), "customer {id}: the reveal answered {}", answers[0]);
    anyhow::ensure!(answers[0] == answers[1], "protected and plain answers differ: {} vs {}", answers[0], answers[1]);
    Ok(())
}

#[allow(clippy::too_many_lines, reason = "one scenario told top to bottom, in the order it runs")]
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let n = opts.customers;
    let mut report = Report::new("read", "authenticated, audited reveal of one customer over HTTPS keep-alive");
    report.setting("customers", &number(opts.customers as f64));
    report.setting("connections", &opts.connections);
    report.setting("duration per side", &opts.schedule());
    report.setting("client threads", &opts.client_threads);

    let (rss_start, _) = memory();
    let inst = Installation::create(&opts.dir).await?;
    let csv = inst.dir.path().join("customers.csv");
    data::write_csv(&csv, 0, n)?;
    eprintln!("read: importing {n} customers");
    let (took, _) = inst.import(&csv).await?;
    std::fs::remove_file(&csv)?;
    let (rss_loaded, _) = memory();
    eprintln!("read: imported in {:.1} s; RSS {:.0} MiB", took.as_secs_f64(), rss_loaded as f64 / MIB);
    let ids = Arc::new(crate::setup::customer_ids(&inst.db_path()).await?);
    anyhow::ensure!(ids.len() as u64 == n, "expected {n} customers, found {}", ids.len());
    eprintln!("read: building the plain table");
    let plain = Arc::new(PlainDb::build_in_child(&inst.db_path(), &inst.dir.path().join("plain.db")).await?);

    let server = start_server(&inst, plain.clone()).await?;
    let bearer = inst.bearer();
    check_answers(&server, &bearer, &ids).await?;

    let client =
        tokio::runtime::Builder::new_multi_thread().worker_threads(opts.client_threads).enable_all().build()?;
    let sides = [
        ("protected", request_maker("/api/v1/customers/", "/reveal", bearer.clone(), ids.clone())),
        ("plain", request_maker("/bench/plain/", "", bearer.clone(), ids.clone())),
        ("null", request_maker("/bench/null/", "", bearer.clone(), ids.clone())),
    ];
    let mut results: [Option<Measured>; 3] = [None, None, None];
    let per_round = opts.duration / opts.rounds;
    let mut rss_protected = 0;
    for round in 0..opts.rounds {
        for (i, (name, make)) in sides.iter().enumerate() {
            eprintln!("read: round {} of {}: {name}", round + 1, opts.rounds);
            let run = client.spawn(load::https(
                server.addr,
                server.connector.clone(),
                opts.connections,
                opts.warmup,
                per_round,
                make.clone(),
            ));
            let measured = run.await??;
            if round == 0 && i == 0 {
                rss_protected = memory().0;
            }
            results[i] = Some(match results[i].take() {
                None => measured,
                Some(before) => before.merge(measured),
            });
        }
    }
    client.shutdown_background();
    let [protected, plain_m, null] = results.map(|m| m.expect("every side ran"));

    let http_row = |what: &str, p: &Measured, b: &Measured, better| {
        Row::new(what, "req/s", p.per_second, b.per_second, better)
            .extra("p50 µs (prot / plain)", format!("{} / {}", number(p.p50_us), number(b.p50_us)))
            .extra("p99 µs (prot / plain)", format!("{} / {}", number(p.p99_us), number(b.p99_us)))
            .extra("mean µs (prot / plain)", format!("{} / {}", number(p.mean_us), number(b.mean_us)))
            .extra("errors", format!("{} / {}", p.errors, b.errors))
    };
    report.rows.push(http_row("HTTPS reveal of 10 fields (3 sealed), audited", &protected, &plain_m, Better::Higher));
    let mean_ratio = protected.mean_us / plain_m.mean_us;
    report.rows.push(
        Row::new("HTTPS: mean latency", "µs", protected.mean_us, plain_m.mean_us, Better::Lower)
            .extra("p50 µs (prot / plain)", format!("{} / {}", number(protected.p50_us), number(plain_m.p50_us))),
    );
    report.rows.push(http_row("HTTPS: empty handler (the stack's ceiling) vs plain", &null, &plain_m, Better::Higher));

    // Where the protected request's time goes, in-process (no HTTP), beside the plain read.
    eprintln!("read: in-process breakdown");
    let diag = opts.duration / 2;
    let plain_in = {
        let (plain, ids) = (plain.clone(), ids.clone());
        load::drive(opts.connections, opts.warmup, diag, move |w, i| {
            let (plain, ids) = (plain.clone(), ids.clone());
            async move {
                let (id, _) = pick(&ids, w, i);
                plain.get(id)?.ok_or_else(|| anyhow::anyhow!("missing"))?;
                Ok(())
            }
        })
        .await
    };
    let fields: Arc<Vec<String>> = Arc::new(FIELDS.iter().map(|f| (*f).to_owned()).collect());
    let reveal_in = {
        let (t, ids, p, fields) = (inst.tutela.clone(), ids.clone(), inst.steward.clone(), fields.clone());
        load::drive(opts.connections, opts.warmup, diag, move |w, i| {
            let (t, ids, p, fields) = (t.clone(), ids.clone(), p.clone(), fields.clone());
            async move {
                let (id, _) = pick(&ids, w, i);
                t.reveal(&p, id, &fields, PURPOSE).await?;
                Ok(())
            }
        })
        .await
    };
    let token_in = {
        let (t, token) = (inst.tutela.clone(), Arc::new(bearer.trim_start_matches("Bearer ").to_owned()));
        load::drive(opts.connections, opts.warmup, diag, move |_, _| {
            let (t, token) = (t.clone(), token.clone());
            async move {
                t.token_principal(&token, Some("127.0.0.1".into())).await?;
                Ok(())
            }
        })
        .await
    };
    // Events and commits by the writer: events per commit is the grouping achieved.
    let head = || -> anyhow::Result<(i64, u64)> {
        let conn = crate::setup::open_connection(&inst.db_path(), false)?;
        let seq: i64 = conn.query_row("SELECT MAX(seq) FROM audit_events", [], |r| r.get(0))?;
        Ok((seq, inst.tutela.audit_log().commits()))
    };
    // One reveal event per call, committed by the audit writer, from `callers` at once.
    let record_events = |callers: usize, duration| {
        let (t, ids, p) = (inst.tutela.clone(), ids.clone(), inst.steward.clone());
        load::drive(callers, opts.warmup, duration, move |w, i| {
            let (t, ids, p) = (t.clone(), ids.clone(), p.clone());
            async move {
                let (id, _) = pick(&ids, w, i);
                let event = AuditEvent::by(&p, "customer.reveal").customer(id).fields(FIELDS).purpose(PURPOSE);
                t.audit_log().record(event).await?;
                Ok(())
            }
        })
    };
    let before = head()?;
    let audit_in = record_events(opts.connections, diag).await;
    let after = head()?;
    let per_commit = (after.0 - before.0) as f64 / (after.1 - before.1).max(1) as f64;
    let audit_one = record_events(1, diag / 2).await;
    let plain_write_one = {
        let (plain, ids) = (plain.clone(), ids.clone());
        let fields = Arc::new(serde_json::to_string(&FIELDS)?);
        load::drive(1, opts.warmup, diag / 2, move |w, i| {
            let (plain, ids, fields) = (plain.clone(), ids.clone(), fields.clone());
            async move {
                let (id, _) = pick(&ids, w, i);
                plain.durable_insert(id, &fields, PURPOSE).await
            }
        })
        .await
    };
    let get_in = {
        let (t, ids) = (inst.tutela.clone(), ids.clone());
        load::drive(opts.connections, opts.warmup, diag, move |w, i| {
            let (t, ids) = (t.clone(), ids.clone());
            async move {
                let (id, _) = pick(&ids, w, i);
                t.store().customer_get(id).await?.ok_or_else(|| anyhow::anyhow!("missing"))?;
                Ok(())
            }
        })
        .await
    };
    let schema_in = {
        let t = inst.tutela.clone();
        load::drive(opts.connections, opts.warmup, diag, move |_, _| {
            let t = t.clone();
            async move {
                t.store().fields_list().await?;
                Ok(())
            }
        })
        .await
    };
    for (what, m) in [
        ("in-process `Tutela::reveal` (policy, 2 reads, unwrap, 3 opens, audit commit)", &reveal_in),
        ("in-process `token_principal` (3 reads: token, user, roles)", &token_in),
        ("in-process `AuditLog::record` alone (group commit)", &audit_in),
        ("in-process `Store::customer_get` alone", &get_in),
        ("in-process `Store::fields_list` alone (schema, read per request)", &schema_in),
    ] {
        report.rows.push(
            Row::new(what, "ops/s", m.per_second, plain_in.per_second, Better::Higher)
                .extra("mean µs (prot / plain)", format!("{} / {}", number(m.mean_us), number(plain_in.mean_us)))
                .extra("errors", format!("{} / {}", m.errors, plain_in.errors)),
        );
    }

    report.rows.push(
        Row::new(
            "one caller: `AuditLog::record` vs a plain durable INSERT (own transaction, synchronous = FULL)",
            "ops/s",
            audit_one.per_second,
            plain_write_one.per_second,
            Better::Higher,
        )
        .extra("mean µs (prot / plain)", format!("{} / {}", number(audit_one.mean_us), number(plain_write_one.mean_us)))
        .extra("errors", format!("{} / {}", audit_one.errors, plain_write_one.errors)),
    );
    report.note(format!(
        "Group commit: with {} concurrent `AuditLog::record` callers the writer committed {per_commit:.1} events per \
         transaction on average (one signed checkpoint per transaction, `AuditLog::commits`).",
        opts.connections
    ));

    let _ = server.stop.send(());
    server.task.await??;
    inst.close().await;
    let (rss_final, hwm) = memory();

    report.target(
        "protected throughput",
        "≥ 20,000 req/s",
        format!("{} req/s", number(protected.per_second)),
        Some(protected.per_second >= 20_000.0),
    );
    report.target("protected vs plain mean latency", "≤ 1.5×", format!("{mean_ratio:.2}×"), Some(mean_ratio <= 1.5));
    let rss_mib = rss_loaded.max(rss_protected) as f64 / MIB;
    report.target(
        "server resident memory with 1,000,000 customers",
        "< 200 MB",
        format!(
            "{rss_mib:.0} MiB at {} customers (after load {:.0} MiB, after serving reveals {:.0} MiB)",
            number(n as f64),
            rss_loaded as f64 / MIB,
            rss_protected as f64 / MIB
        ),
        if n >= 1_000_000 { Some(rss_mib * MIB < 200e6) } else { None },
    );
    report.note(format!(
        "Memory (VmRSS of this process, which is the server): at start {:.0} MiB; after importing {} customers \
         ({:.1} s) {:.0} MiB; after the first protected round {:.0} MiB (this also holds the harness's id list, \
         {:.0} MiB, and the plain database's idle connections; the plain table is built in a child process); at \
         the end, after the plain rounds and the in-process runs, {:.0} MiB; peak (VmHWM) {:.0} MiB.",
        rss_start as f64 / MIB,
        number(n as f64),
        took.as_secs_f64(),
        rss_loaded as f64 / MIB,
        rss_protected as f64 / MIB,
        (ids.len() * std::mem::size_of::<(Uuid, u64)>()) as f64 / MIB,
        rss_final as f64 / MIB,
        hwm as f64 / MIB
    ));
    report.note(
        "Load generator, server and both databases share the machine's cores; the empty-handler row shows how many \
         requests per second the TLS + HTTP/1.1 + JSON stack and the client manage here with no work at all.",
    );
    report.note(
        "In-process rows: the same concurrency, no HTTP; each beside the plain point read through rusqlite (its \
         ratio says how many plain reads one such call costs). Plain reads run on the calling task through a list \
         of idle connections, as the store's do; the plain durable INSERT, as the store's writes, runs `BEGIN \
         IMMEDIATE` on the calling task and `COMMIT` on a blocking thread.",
    );
    Ok(report)
}

fn pick(ids: &[(Uuid, u64)], w: usize, i: u64) -> (Uuid, u64) {
    ids[usize::try_from(load::spread((w as u64) << 40 | i, ids.len() as u64)).unwrap_or(0)]
}
