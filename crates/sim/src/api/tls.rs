//! HTTPS for the simulator: an axum `Listener` that completes TLS handshakes off the
//! accept loop, with the certificates of `api::pki`. kubectl only sends a bearer token
//! over TLS, so per-user RBAC needs this.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::api::faults::Faults;

pub use super::pki::{Pki, PkiError, pki};

/// Why a TLS listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{0}")]
    LocalAddr(#[source] std::io::Error),
}

/// The peer address of a connection, plain or TLS (axum `ConnectInfo`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(s: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*s.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(s: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*s.remote_addr())
    }
}

/// Accepts TCP, refuses connections during an outage fault, and hands over connections
/// whose TLS handshake finished (each handshake runs in its own task, so one slow client
/// cannot stall the others).
pub struct TlsListener {
    local: SocketAddr,
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, faults: Arc<Faults>, pki: &Pki) -> Result<Self, TlsError> {
        Self::with_refusal(tcp, move || faults.refusing(), pki)
    }

    /// A listener that drops new connections while `refusing()` holds (the Argo CD
    /// listener has its own outage fault).
    pub fn with_refusal(
        tcp: TcpListener,
        refusing: impl Fn() -> bool + Send + 'static,
        pki: &Pki,
    ) -> Result<Self, TlsError> {
        let local = tcp.local_addr().map_err(TlsError::LocalAddr)?;
        let acceptor = TlsAcceptor::from(pki.config.clone());
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                // Ends (closing the port) once the server has dropped this listener.
                let accepted = tokio::select! {
                    _ = tx.closed() => break,
                    r = tcp.accept() => r,
                };
                let (sock, peer) = match accepted {
                    Ok(x) => x,
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                if refusing() {
                    drop(sock);
                    continue;
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let hs = acceptor.accept(sock);
                    if let Ok(Ok(s)) =
                        tokio::time::timeout(std::time::Duration::from_secs(10), hs).await
                    {
                        let _ = tx.send((s, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { local, rx })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept task ended (it never does while the listener lives): park.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
