//! HTTPS for the simulator: a self-signed CA and a server certificate for 127.0.0.1 /
//! localhost made once per process with `rcgen` (so a simulator restarted in the same
//! process — the reconnect test — is still trusted by an old kubeconfig), and an axum
//! `Listener` that completes TLS handshakes off the accept loop. kubectl only sends a
//! bearer token over TLS, so per-user RBAC needs this.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::server::TlsStream;

use crate::api::faults::Faults;

/// The process-wide certificate material.
pub struct Pki {
    /// The CA certificate, PEM (goes into kubeconfig `certificate-authority-data`).
    pub ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

/// Why the certificates could not be made. Clone: the first outcome is kept for the
/// whole process.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PkiError {
    #[error("{0}")]
    Certificate(#[source] rcgen::Error),
    #[error("{0}")]
    Config(#[source] rustls::Error),
}

/// Why a TLS listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{0}")]
    LocalAddr(#[source] std::io::Error),
}

static PKI: OnceLock<Result<Pki, PkiError>> = OnceLock::new();

fn make() -> Result<Pki, PkiError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SanType,
    };
    let err = PkiError::Certificate;
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "rollcall-sim-ca");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().map_err(err)?;
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
    p.distinguished_name
        .push(DnType::CommonName, "rollcall-sim");
    p.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&key, &issuer).map_err(err)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(PkiError::Config)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca_cert.der().clone()],
            pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .map_err(PkiError::Config)?;
    // axum serves HTTP/1.1 only here (its http2 feature is off).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Pki {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    })
}

/// The certificates, made on first use.
pub fn pki() -> Result<&'static Pki, PkiError> {
    PKI.get_or_init(make).as_ref().map_err(Clone::clone)
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
    pub fn new(tcp: TcpListener, faults: Arc<Faults>) -> Result<Self, TlsError> {
        Self::with_refusal(tcp, move || faults.refusing())
    }

    /// A listener that drops new connections while `refusing()` holds (the Argo CD
    /// listener has its own outage fault).
    pub fn with_refusal(
        tcp: TcpListener,
        refusing: impl Fn() -> bool + Send + 'static,
    ) -> Result<Self, TlsError> {
        let local = tcp.local_addr().map_err(TlsError::LocalAddr)?;
        let acceptor = TlsAcceptor::from(pki()?.config.clone());
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
