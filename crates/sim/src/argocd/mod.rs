//! Argo CD in the simulator: Applications (`argoproj.io/v1alpha1`, namespace `argocd`) in the
//! Kubernetes store, a GitOps repo model (revision → images per workload), the application
//! controller (operations, sync/health comparison, auto-sync and self-heal) on the sim clock,
//! and argocd-server's REST API on its own loopback listener (HTTPS with the simulator's CA
//! unless plain HTTP), with the `argocd-down` fault. Wire facts: reference/03-argocd.md.

pub mod account;
pub mod actions;
pub mod api;
pub mod apps;
pub mod controller;
pub mod health;
pub mod kept;
pub mod kustomize;
pub mod manifests;
pub mod ops;
pub mod repo;
pub mod session;
pub mod state;
pub mod stream;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::tls;
use crate::{Shared, SimError};
use api::ArgoServer;
use session::Sessions;

/// The running Argo CD API: where it listens and the tokens it issued at start.
pub struct ArgoCd {
    pub addr: SocketAddr,
    pub tls: bool,
    /// A non-expiring API key of `admin`.
    pub admin_token: String,
    /// A non-expiring API key of the read-only `viewer` account.
    pub viewer_token: String,
    pub task: JoinHandle<()>,
}

/// Plain TCP that drops new connections while the Argo CD API is down.
struct PlainListener {
    tcp: TcpListener,
    shared: Arc<Shared>,
}

impl Listener for PlainListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((s, a)) if !self.shared.faults.argocd_down() => return (s, a),
                Ok(_) => continue,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Binds the Argo CD listener and serves until `shutdown` turns true.
pub async fn start(
    shared: Arc<Shared>,
    listen: SocketAddr,
    password: &str,
    pki: Option<&tls::Pki>,
    state_dir: Option<&std::path::Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<ArgoCd, SimError> {
    let use_tls = pki.is_some();
    let tcp = TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
    let addr = tcp.local_addr()?;
    let now = jiff::Timestamp::now();
    let (sessions, admin_token, viewer_token) = match state_dir {
        Some(dir) => kept::sessions(dir, password, now).map_err(SimError::Kept)?,
        None => {
            let sessions = Sessions::new(password);
            let admin = sessions.api_key("admin", now);
            let viewer = sessions.api_key("viewer", now);
            (sessions, admin, viewer)
        }
    };
    let server = Arc::new(ArgoServer {
        shared: shared.clone(),
        sessions,
        tls: use_tls,
        recorder: Mutex::new(Default::default()),
    });
    let app = axum::Router::new()
        .fallback(api::handle)
        .with_state(server)
        .into_make_service();
    let stop = async move {
        let _ = shutdown.wait_for(|v| *v).await;
    };
    let task = if let Some(pki) = pki {
        let faults = shared.faults.clone();
        let l = tls::TlsListener::with_refusal(tcp, move || faults.argocd_down(), pki)
            .map_err(SimError::Tls)?;
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, app).with_graceful_shutdown(stop).await {
                tracing::warn!("argocd api stopped: {e}");
            }
        })
    } else {
        let l = PlainListener { tcp, shared };
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, app).with_graceful_shutdown(stop).await {
                tracing::warn!("argocd api stopped: {e}");
            }
        })
    };
    tracing::info!(%addr, "argocd api listening");
    Ok(ArgoCd {
        addr,
        tls: use_tls,
        admin_token,
        viewer_token,
        task,
    })
}

/// The argocd CLI's config file (`~/.config/argocd/config`) for a server and token: one
/// context named after the server, `insecure` (the CLI does not read CA data yet) or
/// `plain-text`, and the CA as `certificate-authority-data` for clients that do verify.
pub fn cli_config(server: &str, token: &str, tls: bool, ca_pem: Option<&str>) -> String {
    use base64::Engine;
    let mut srv = format!("- grpc-web-root-path: \"\"\n  server: {server}\n");
    if tls {
        srv.push_str("  insecure: true\n");
        if let Some(pem) = ca_pem {
            let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
            srv.push_str(&format!("  certificate-authority-data: {b64}\n"));
        }
    } else {
        srv.push_str("  plain-text: true\n");
    }
    format!(
        "contexts:\n- name: {server}\n  server: {server}\n  user: {server}\ncurrent-context: {server}\nprompts-enabled: false\nservers:\n{srv}users:\n- auth-token: {token}\n  name: {server}\n"
    )
}

#[cfg(test)]
mod tests;
