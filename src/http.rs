//! The monitor's HTTP endpoint: `/metrics` (Prometheus text format), `/healthz` (the process
//! is alive) and `/readyz` (every owned partition restored and the consumer in the group).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::metrics::Scrape;

/// Why the endpoint could not serve.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listen address could not be bound (in use, not local, not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error("HTTP server: {0}")]
    Serve(#[source] std::io::Error),
}

/// Binds `addr`; the returned listener is served by [`serve`]. Binding first lets the caller
/// refuse to start (or report the real port, when `addr` asks for port 0) before anything else.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, HttpError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })
}

/// Serves until `cancel` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<dyn Scrape>,
    cancel: CancellationToken,
) -> Result<(), HttpError> {
    let app = Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
        .map_err(HttpError::Serve)
}

async fn metrics_page(axum::extract::State(m): axum::extract::State<Arc<dyn Scrape>>) -> Response {
    match m.encode() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn ready(axum::extract::State(m): axum::extract::State<Arc<dyn Scrape>>) -> Response {
    if m.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}
