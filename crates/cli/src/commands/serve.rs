//! `tutela serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use tutela_web::{AppState, ServeConfig, TlsFiles, is_loopback};

use crate::Outcome;
use crate::config::Config;
use crate::open::open_tutela;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8443).
    #[arg(long)]
    listen: Option<SocketAddr>,
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP; refused unless the listen address is loopback.
    #[arg(long)]
    insecure_http: bool,
    /// Prometheus metrics address (default 127.0.0.1:9464).
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TUTELA_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub async fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<Outcome> {
    init_logging();
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if args.tls_cert.is_some() {
        config.server.tls_cert = args.tls_cert;
        config.server.tls_key = args.tls_key;
    }
    config.server.insecure_http |= args.insecure_http;
    if let Some(m) = args.metrics_listen {
        config.server.metrics_listen = Some(m);
    }
    let listen = config.server.listen;
    if config.server.insecure_http && !is_loopback(&listen) {
        anyhow::bail!("--insecure-http is allowed only on a loopback address, not {listen}");
    }
    let tls = if config.server.insecure_http {
        None
    } else {
        Some(match (&config.server.tls_cert, &config.server.tls_key) {
            (Some(cert), Some(key)) => TlsFiles { cert: cert.clone(), key: key.clone() },
            _ => crate::tls::self_signed(&config.data_dir)?,
        })
    };
    let tutela = open_tutela(&config, true).await?;
    if let Some(addr) = config.server.metrics_listen {
        start_metrics(addr, tutela.clone())?;
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = config.server.public_url.clone().unwrap_or_else(|| format!("{scheme}://{local}"));
    tracing::info!(address = %local, backend = tutela.store().backend(), "serving");
    eprintln!("Tutela is serving {base}");
    match &tutela.config().relying_party {
        Some(rp) => eprintln!("Passkeys work at {} (relying party {})", rp.origin, rp.id),
        None => eprintln!("Passkeys are off: set server.public_url to an https URL with a domain name"),
    }
    if let Some(token) = tutela.setup_token().await? {
        // The one place a secret is printed: the operator needs it to create the first
        // administrator, and it works once, for 24 hours.
        eprintln!("Create the first administrator (link valid 24 hours, usable once):");
        eprintln!("  {base}/setup#{}", token.expose_secret());
    }
    let state = AppState { tutela: tutela.clone(), secure_cookies: tls.is_some() };
    let app = tutela_web::router(state);
    let serve_config = ServeConfig { tls, grace: Duration::from_secs(10) };
    let (stop_delivery, delivery) = super::notify::start_delivery(tutela.clone());
    // The scheduler ticks every 30 seconds; at shutdown a run in progress gets 10 seconds to
    // finish, after which it is recorded abandoned and its lease freed for another node.
    let scheduler =
        std::sync::Arc::new(tutela_core::jobs::Scheduler::new(tutela.clone(), super::jobs::node_name("serve")));
    let jobs = scheduler.start(Duration::from_secs(30), Duration::from_secs(10));
    tutela_web::serve(listener, app, serve_config, shutdown_signal()).await?;
    jobs.stop().await;
    stop_delivery.notify_one();
    let _ = delivery.await;
    tracing::info!("shutting down: flushing the audit log");
    tutela.close().await;
    Ok(Outcome::Ok)
}

fn start_metrics(addr: SocketAddr, tutela: std::sync::Arc<tutela_core::Tutela>) -> anyhow::Result<()> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("metrics listener on {addr}"))?;
    tokio::spawn(async move {
        loop {
            tutela_web::sample_gauges(&tutela);
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
