//! The simulator's certificates: a self-signed CA and a server certificate for 127.0.0.1 /
//! localhost, made with `rcgen`. Without a state directory they are made once per
//! process (a simulator restarted in the same process — the reconnect test — is still
//! trusted by an old kubeconfig). With one they are kept in `DIR/tls/` (`ca.crt`,
//! `server.crt`, `server.key`, the key 0600) and reused, so a simulator restarted as a
//! new process is still trusted by the kubeconfig and Argo CD config written before.
//! The CA's own key is not kept: nothing else is ever signed with it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self};

/// The certificate material a simulator serves with.
pub struct Pki {
    /// The CA certificate, PEM (goes into kubeconfig `certificate-authority-data`).
    pub ca_pem: String,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

/// Why the certificates could not be made. Clone: the first outcome is kept for the
/// whole process.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PkiError {
    #[error("{0}")]
    Certificate(#[source] rcgen::Error),
    #[error("{0}")]
    Config(#[source] rustls::Error),
    #[error("{0} is not PEM ({1})")]
    Pem(&'static str, String),
}

/// Why the certificates kept in a state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source} (remove {} to make new certificates)", dir.display(), dir.display())]
    Unusable {
        dir: PathBuf,
        #[source]
        source: PkiError,
    },
    #[error(transparent)]
    Make(#[from] PkiError),
}

/// New certificates, as PEM: (CA certificate, server certificate, server key).
fn make_pem() -> Result<(String, String, String), PkiError> {
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
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

/// The server's TLS config from the PEM material.
fn build(ca_pem: &str, cert_pem: &str, key_pem: &str) -> Result<Pki, PkiError> {
    let pem =
        |what, e: tokio_rustls::rustls::pki_types::pem::Error| PkiError::Pem(what, e.to_string());
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| pem("ca.crt", e))?;
    let cert =
        CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| pem("server.crt", e))?;
    let key =
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| pem("server.key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(PkiError::Config)?
        .with_no_client_auth()
        .with_single_cert(vec![cert, ca], key)
        .map_err(PkiError::Config)?;
    // axum serves HTTP/1.1 only here (its http2 feature is off).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Pki {
        ca_pem: ca_pem.to_owned(),
        config: Arc::new(config),
    })
}

static PKI: OnceLock<Result<Arc<Pki>, PkiError>> = OnceLock::new();

/// The process's certificates, made on first use.
pub fn pki() -> Result<Arc<Pki>, PkiError> {
    PKI.get_or_init(|| {
        let (ca, cert, key) = make_pem()?;
        build(&ca, &cert, &key).map(Arc::new)
    })
    .clone()
}

const FILES: [&str; 3] = ["ca.crt", "server.crt", "server.key"];

/// The certificates kept in `state_dir/tls`, made and written there if it has none.
/// Simulators starting together on one directory agree on one set: each writes its own
/// beside it and only the first to move it into place wins.
pub fn kept(state_dir: &Path) -> Result<Arc<Pki>, KeepError> {
    let dir = state_dir.join("tls");
    if !dir.exists() {
        let (ca, cert, key) = make_pem()?;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| KeepError::Io { path, source }
        };
        crate::keep::private_dir(state_dir).map_err(io(state_dir))?;
        let staging = state_dir.join(format!(".tls-{}-{}", std::process::id(), fastrand::u64(..)));
        crate::keep::private_dir(&staging).map_err(io(&staging))?;
        for (name, text) in FILES.into_iter().zip([&ca, &cert, &key]) {
            let path = staging.join(name);
            crate::keep::write_private(&path, text.as_bytes()).map_err(io(&path))?;
        }
        // Another simulator may have got there first: its set is the one to use.
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
    let mut texts = Vec::with_capacity(FILES.len());
    for name in FILES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|source| KeepError::Io {
            path: path.clone(),
            source,
        })?;
        texts.push(text);
    }
    // A key written by an older version, or copied in, is made private too.
    let key = dir.join("server.key");
    crate::keep::make_private(&key).map_err(|source| KeepError::Io { path: key, source })?;
    build(&texts[0], &texts[1], &texts[2])
        .map(Arc::new)
        .map_err(|source| KeepError::Unusable { dir, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_certificates_are_reused_and_simulators_starting_together_agree() {
        let dir = tempfile::tempdir().unwrap();
        let racing: Vec<_> = (0..4)
            .map(|_| {
                let d = dir.path().to_owned();
                std::thread::spawn(move || kept(&d).map(|p| p.ca_pem.clone()))
            })
            .collect();
        let cas: Vec<String> = racing
            .into_iter()
            .map(|t| t.join().unwrap().unwrap())
            .collect();
        assert!(cas.iter().all(|ca| *ca == cas[0]), "one CA for all");
        assert_eq!(kept(dir.path()).unwrap().ca_pem, cas[0], "reused");
        assert_ne!(pki().unwrap().ca_pem, cas[0], "not the process's");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "only tls/ is left: {left:?}");
    }

    #[test]
    fn a_broken_kept_key_says_which_directory_to_remove() {
        let dir = tempfile::tempdir().unwrap();
        kept(dir.path()).unwrap();
        std::fs::write(dir.path().join("tls/server.key"), "not a key").unwrap();
        let e = kept(dir.path()).err().unwrap().to_string();
        assert!(e.contains("server.key") && e.contains("remove"), "{e}");
    }
}
