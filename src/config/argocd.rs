//! An environment's Argo CD server (`argocd:` in environments.yaml). The token is never
//! in this file: it comes from `ARGOCD_AUTH_TOKEN` or the argocd CLI's own config.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgocdServer {
    /// Base URL of argocd-server, e.g. `https://argocd.example.com`.
    pub server: String,
    /// Skip TLS verification (as `argocd --insecure`).
    pub insecure: bool,
    /// A PEM file with the CA that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArgocd {
    server: Spanned<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    ca_file: Option<Spanned<String>>,
}

impl RawArgocd {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<ArgocdServer, ConfigError> {
        let raw = self.server.value.trim();
        // The argocd CLI takes `host:port`; accept it and assume HTTPS as it does.
        let server = if raw.contains("://") {
            raw.trim_end_matches('/').to_owned()
        } else {
            format!("https://{}", raw.trim_end_matches('/'))
        };
        let bad = |why: &str| {
            ConfigError::at(
                file,
                self.server.referenced,
                &format!("{path}.server"),
                format!("invalid Argo CD server `{raw}`: {why}"),
            )
        };
        let Some((scheme, rest)) = server.split_once("://") else {
            return Err(bad("expected a URL like https://argocd.example.com"));
        };
        if scheme != "https" && scheme != "http" {
            return Err(bad("the scheme must be https or http"));
        }
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(bad("expected a host, e.g. https://argocd.example.com"));
        }
        let ca_file = match self.ca_file {
            Some(ca) if ca.value.trim().is_empty() => {
                return Err(ConfigError::at(
                    file,
                    ca.referenced,
                    &format!("{path}.ca_file"),
                    "empty ca_file; leave it out to use the system's trusted CAs",
                ));
            }
            other => other.map(|c| PathBuf::from(c.value)),
        };
        Ok(ArgocdServer {
            server,
            insecure: self.insecure,
            ca_file,
        })
    }
}
