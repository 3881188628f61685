//! Where an environment's GitOps repository is checked out (`gitops:` in
//! environments.yaml), for the runbook's tag and image steps: rollcall runs the user's
//! own git there.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;

/// The overlay directory of a service, as the seed lays the repository out.
pub const DEFAULT_OVERLAY: &str = "infrastructure/k8s/overlays/{environment}/{service}";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gitops {
    /// A clone of the repository Argo CD syncs from.
    pub checkout: PathBuf,
    /// The remote Argo CD reads (`origin`).
    pub remote: String,
    /// The branch Argo CD follows (`main`).
    pub branch: String,
    /// The service's kustomize overlay directory in the repository, with `{environment}`
    /// and `{service}`.
    pub overlay: String,
}

impl Gitops {
    /// The service's `kustomization.yaml`, relative to the checkout.
    pub fn kustomization(&self, environment: &str, service: &str) -> String {
        let dir = self
            .overlay
            .replace("{environment}", environment)
            .replace("{service}", service);
        format!("{}/kustomization.yaml", dir.trim_end_matches('/'))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGitops {
    checkout: Spanned<String>,
    #[serde(default)]
    remote: Option<Spanned<String>>,
    #[serde(default)]
    branch: Option<Spanned<String>>,
    #[serde(default)]
    overlay: Option<Spanned<String>>,
}

/// A remote or branch name git would take for what it is, not an option or a path out.
fn ref_name_ok(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
}

impl RawGitops {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<Gitops, ConfigError> {
        let name = |field: &str, v: Option<Spanned<String>>, default: &str| match v {
            None => Ok(default.to_owned()),
            Some(v) if ref_name_ok(&v.value) => Ok(v.value),
            Some(v) => Err(ConfigError::at(
                file,
                v.referenced,
                &format!("{path}.{field}"),
                format!("invalid git {field} `{}`", v.value),
            )),
        };
        let overlay = match self.overlay {
            None => DEFAULT_OVERLAY.to_owned(),
            Some(o)
                if !o.value.is_empty()
                    && !o.value.starts_with('/')
                    && !o.value.split('/').any(|p| p == "..") =>
            {
                o.value
            }
            Some(o) => {
                return Err(ConfigError::at(
                    file,
                    o.referenced,
                    &format!("{path}.overlay"),
                    format!(
                        "invalid overlay `{}`: a directory inside the repository",
                        o.value
                    ),
                ));
            }
        };
        let checkout = self.checkout.value.trim();
        if checkout.is_empty() {
            return Err(ConfigError::at(
                file,
                self.checkout.referenced,
                &format!("{path}.checkout"),
                "checkout needs the path of your clone of the GitOps repository".to_owned(),
            ));
        }
        Ok(Gitops {
            checkout: expand_home(checkout),
            remote: name("remote", self.remote, "origin")?,
            branch: name("branch", self.branch, "main")?,
            overlay,
        })
    }
}

/// `~/x` → `$HOME/x`.
pub(crate) fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}
