//! The demo's monitoring on its own loopback port, as Grafana is its own host: `GET
//! /api/health` answers as Grafana's does (200 with the database "ok"), so the
//! checklist's monitoring check and a runbook's `curl …/api/health` have something real
//! to read; and Prometheus's query API (`/api/v1/query`, `/api/v1/query_range`) over
//! the sampled services (`crate::metrics`), for the release's before/after comparison.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

use crate::Shared;
use crate::metrics::History;
use crate::metrics::http::MetricsApi;

/// The Grafana version the health endpoint reports.
const GRAFANA_VERSION: &str = "11.4.0";

async fn health() -> Json<Value> {
    Json(json!({
        "commit": "b58701869e1a11b696010a6f28bd96b68a2cf0d0",
        "database": "ok",
        "version": GRAFANA_VERSION,
    }))
}

/// Binds `listen` and serves until shutdown; returns the bound address.
pub async fn start(
    listen: SocketAddr,
    shared: Arc<Shared>,
    history: Arc<History>,
    mut shutdown: signal::Receiver<bool>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/api/health", get(health))
        .merge(crate::metrics::http::router(MetricsApi { shared, history }));
    let task = tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|v| *v).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("monitoring server stopped: {e}");
        }
    });
    Ok((addr, task))
}
