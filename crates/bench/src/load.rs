//! Closed-loop load: N workers, each issuing one request after another for a fixed time.
//! Over HTTPS (HTTP/1.1 keep-alive, one TLS connection per worker) for the server, or as
//! plain futures for in-process calls.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What a run measured, latencies in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub ops: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    #[serde(skip)]
    latencies: Vec<u32>,
}

impl Measured {
    fn from(mut latencies: Vec<u32>, errors: u64, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let ops = latencies.len() as u64;
        let seconds = elapsed.as_secs_f64();
        let pct = |p: f64| {
            if latencies.is_empty() {
                return 0.0;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            f64::from(latencies[i])
        };
        #[allow(clippy::cast_precision_loss)]
        let mean_us = if ops == 0 { 0.0 } else { latencies.iter().map(|&l| f64::from(l)).sum::<f64>() / ops as f64 };
        #[allow(clippy::cast_precision_loss)]
        let per_second = ops as f64 / seconds;
        let (p50_us, p99_us) = (pct(0.50), pct(0.99));
        Self { ops, errors, seconds, per_second, mean_us, p50_us, p99_us, latencies }
    }

    /// Two runs of the same thing (rounds alternating with the other side) as one.
    #[must_use]
    pub fn merge(self, other: Self) -> Self {
        let mut latencies = self.latencies;
        latencies.extend(other.latencies);
        Self::from(latencies, self.errors + other.errors, Duration::from_secs_f64(self.seconds + other.seconds))
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Runs `op(worker, n)` from `workers` concurrent tasks: first for `warmup` (not counted),
/// then for `duration`. An `Err` counts as an error (and is otherwise timed like a success).
pub async fn drive<F, Fut>(workers: usize, warmup: Duration, duration: Duration, op: F) -> Measured
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0_u64;
                let mut n = 0_u64;
                let mut reported = false;
                loop {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let result = op(w, n).await;
                    let ok = result.is_ok();
                    if let Err(e) = result
                        && !reported
                    {
                        eprintln!("load: worker {w}: first error: {e:#}");
                        reported = true;
                    }
                    n += 1;
                    if t >= measure_from {
                        latencies.push(micros(t.elapsed()));
                        errors += u64::from(!ok);
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("a load task does not panic");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = Instant::now().saturating_duration_since(measure_from);
    Measured::from(latencies, errors, elapsed)
}

/// A TLS client that trusts exactly the bench server's self-signed certificate.
pub fn tls_connector(cert: CertificateDer<'static>) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Makes the `n`-th request of worker `w`.
pub type MakeRequest = dyn Fn(usize, u64) -> Request<Full<Bytes>> + Send + Sync;

/// HTTPS load: `connections` keep-alive HTTP/1.1 connections over TLS, each a closed loop.
/// A response other than 2xx counts as an error; the body is read in full.
pub async fn https(
    addr: SocketAddr,
    connector: TlsConnector,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: Arc<MakeRequest>,
) -> anyhow::Result<Measured> {
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        let tcp = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let tls = connector.connect(ServerName::try_from("localhost")?, tcp).await.context("TLS handshake")?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        senders.push(tokio::sync::Mutex::new(sender));
    }
    let senders = Arc::new(senders);
    let measured = drive(connections, warmup, duration, move |w, n| {
        let senders = senders.clone();
        let request = make(w, n);
        async move {
            let mut sender = senders[w].lock().await;
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::ensure!(status.is_success(), "HTTP {status}: {}", String::from_utf8_lossy(&body));
            Ok(())
        }
    })
    .await;
    Ok(measured)
}

/// One request over a fresh connection, for checking answers before a run.
pub async fn fetch(
    addr: SocketAddr,
    connector: &TlsConnector,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(u16, Bytes)> {
    let tcp = TcpStream::connect(addr).await?;
    let tls = connector.connect(ServerName::try_from("localhost")?, tcp).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// A cheap, deterministic spread of numbers below `n` (`SplitMix64`).
pub fn spread(seed: u64, n: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % n.max(1)
}
