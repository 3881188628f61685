//! Where an environment's database backups and monitoring live (`backup:` and
//! `monitoring:` in environments.yaml), for the checklist's automatic checks.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;

/// The CloudNativePG Cluster whose Backups count for the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupTarget {
    pub namespace: String,
    pub cluster: String,
}

/// The environment's monitoring endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Monitoring {
    /// GET here must answer 200 (Grafana's `/api/health`).
    pub health_url: Option<String>,
    /// A Prometheus-compatible query API (`…/api/v1/query`) for the T+30m comparison.
    pub prometheus_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackup {
    cluster: Spanned<String>,
    #[serde(default)]
    namespace: Option<Spanned<String>>,
}

impl RawBackup {
    /// `namespace` defaults to the environment's own.
    pub(crate) fn validate(
        self,
        file: &Path,
        path: &str,
        env_namespace: &str,
    ) -> Result<BackupTarget, ConfigError> {
        if let Some(why) = super::environments::dns_label_problem(&self.cluster.value, 253, true) {
            return Err(ConfigError::at(
                file,
                self.cluster.referenced,
                &format!("{path}.cluster"),
                format!("invalid Cluster name `{}`: {why}", self.cluster.value),
            ));
        }
        let namespace = match self.namespace {
            Some(ns) => {
                if let Some(why) = super::environments::dns_label_problem(&ns.value, 63, false) {
                    return Err(ConfigError::at(
                        file,
                        ns.referenced,
                        &format!("{path}.namespace"),
                        format!("invalid namespace `{}`: {why}", ns.value),
                    ));
                }
                ns.value
            }
            None => env_namespace.to_owned(),
        };
        Ok(BackupTarget {
            namespace,
            cluster: self.cluster.value,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitoring {
    #[serde(default)]
    health_url: Option<Spanned<String>>,
    #[serde(default)]
    prometheus_url: Option<Spanned<String>>,
}

impl RawMonitoring {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<Monitoring, ConfigError> {
        let check = |field: &str, url: Option<Spanned<String>>| match url {
            None => Ok(None),
            Some(u) => http_url(&u.value).map(Some).map_err(|why| {
                ConfigError::at(
                    file,
                    u.referenced,
                    &format!("{path}.{field}"),
                    why.to_string(),
                )
            }),
        };
        Ok(Monitoring {
            health_url: check("health_url", self.health_url)?,
            prometheus_url: check("prometheus_url", self.prometheus_url)?,
        })
    }
}

/// An http(s) URL with a host, trimmed; the reason otherwise.
pub(crate) fn http_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    match url.split_once("://") {
        Some(("http" | "https", rest))
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(format!(
            "invalid URL `{url}`: expected http:// or https:// and a host, e.g. https://grafana.example.com/api/health"
        )),
    }
}
