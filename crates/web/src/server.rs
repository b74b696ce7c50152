//! The listener: TLS by default (rustls with aws-lc-rs), plain HTTP only when the caller
//! asked for it on loopback; HTTP/1.1 and HTTP/2; graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::auth::ClientAddr;

pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct ServeConfig {
    /// `None` serves plain HTTP (the caller checks it is loopback-only).
    pub tls: Option<TlsFiles>,
    /// How long in-flight requests get to finish at shutdown.
    pub grace: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("TLS certificate or key {path}: {message}")]
    Tls { path: String, message: String },
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let bad = |path: &PathBuf, message: String| ServeError::Tls { path: path.display().to_string(), message };
    let cert_pem = std::fs::read(&files.cert).map_err(|e| bad(&files.cert, e.to_string()))?;
    let key_pem = std::fs::read(&files.key).map_err(|e| bad(&files.key, e.to_string()))?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, "no certificate found in the PEM file".into()));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| bad(&files.key, e.to_string()))?
        .ok_or_else(|| bad(&files.key, "no private key found in the PEM file".into()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&files.cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(&files.key, e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let acceptor = config.tls.as_ref().map(tls_acceptor).transpose()?;
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(ClientAddr(peer))));
        if let Some(acceptor) = &acceptor {
            let acceptor = acceptor.clone();
            let builder = builder.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
                        if let Err(e) = watcher.watch(conn.into_owned()).await {
                            tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                        }
                    }
                    Ok(Err(e)) => tracing::debug!(peer = %peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(peer = %peer, "TLS handshake timed out"),
                }
            });
        } else {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            let fut = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(e) = fut.await {
                    tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                }
            });
        }
    }
    drop(listener);
    if tokio::time::timeout(config.grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    Ok(())
}

/// Whether an address is loopback, where plain HTTP is allowed.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
