//! Environments (config/environments.yaml): where the services run and which policy
//! applies there. The raw, span-carrying structs mirror the file; `validate` turns them
//! into the plain types the rest of rollcall uses, so a bad value is reported at its own
//! line and column.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::argocd::{ArgocdServer, RawArgocd};
use super::database::{Database, RawDatabase};
use super::error::ConfigError;
use super::policy::{DeployMode, Policy, RawPolicy};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Short name shown on screen and used by `:env NAME`.
    pub name: String,
    /// Kube context; `None` uses the kubeconfig's current context.
    pub context: Option<String>,
    pub namespace: String,
    /// Destructive actions ask for the target's name to be typed.
    pub production: bool,
    pub policy: Policy,
    pub services: Vec<Service>,
    /// The migration database, when the environment has one (issue 6).
    pub database: Option<Database>,
    /// The Argo CD server of this environment; `None` uses the argocd CLI's current
    /// context, if there is one.
    pub argocd: Option<ArgocdServer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub kind: WorkloadKind,
    /// The Kubernetes object's name; defaults to `name`.
    pub workload: String,
    /// The Argo CD Application that deploys it; defaults to `<name>-<environment>`.
    pub argocd_app: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    #[default]
    Deployment,
    /// An Argo Rollouts canary.
    Rollout,
    /// A pair of Deployments behind a Service whose selector is flipped.
    BlueGreen,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::Rollout => "rollout",
            WorkloadKind::BlueGreen => "blue-green",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    environments: Spanned<Vec<RawEnvironment>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    name: Spanned<String>,
    #[serde(default)]
    context: Option<Spanned<String>>,
    namespace: Spanned<String>,
    #[serde(default)]
    production: bool,
    #[serde(default)]
    policy: Option<RawPolicy>,
    #[serde(default)]
    services: Vec<RawService>,
    #[serde(default)]
    database: Option<RawDatabase>,
    #[serde(default)]
    argocd: Option<RawArgocd>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    #[serde(default)]
    kind: WorkloadKind,
    #[serde(default)]
    workload: Option<Spanned<String>>,
    #[serde(default)]
    argocd_app: Option<Spanned<String>>,
}

/// Parses and validates an environments file.
pub fn parse_environments(file: &Path, text: &str) -> Result<Vec<Environment>, ConfigError> {
    let raw: Option<RawFile> = super::yaml::parse_or_default(file, text)?;
    match raw {
        Some(raw) => raw.validate(file),
        None => Err(ConfigError::invalid(
            file,
            super::At::File,
            "the file is empty; expected `environments:` followed by a list of environments",
        )),
    }
}

impl RawFile {
    fn validate(self, file: &Path) -> Result<Vec<Environment>, ConfigError> {
        if self.environments.value.is_empty() {
            return Err(ConfigError::at(
                file,
                self.environments.referenced,
                "environments",
                "at least one environment is needed",
            ));
        }
        let mut names = HashSet::new();
        let mut out = Vec::with_capacity(self.environments.value.len());
        for (i, raw) in self.environments.value.into_iter().enumerate() {
            let path = format!("environments[{i}]");
            if !names.insert(raw.name.value.clone()) {
                return Err(ConfigError::at(
                    file,
                    raw.name.referenced,
                    &format!("{path}.name"),
                    format!("duplicate environment name `{}`", raw.name.value),
                ));
            }
            out.push(raw.validate(file, &path)?);
        }
        Ok(out)
    }
}

impl RawEnvironment {
    fn validate(self, file: &Path, path: &str) -> Result<Environment, ConfigError> {
        let name = self.name;
        if name.value.trim().is_empty() || name.value.chars().any(char::is_whitespace) {
            return Err(ConfigError::at(
                file,
                name.referenced,
                &format!("{path}.name"),
                format!(
                    "invalid environment name `{}`: it must be non-empty, without spaces",
                    name.value
                ),
            ));
        }
        let context = match self.context {
            Some(ctx) if ctx.value.trim().is_empty() => {
                return Err(ConfigError::at(
                    file,
                    ctx.referenced,
                    &format!("{path}.context"),
                    "empty context; leave `context` out to use the current kubeconfig context",
                ));
            }
            other => other.map(|c| c.value),
        };
        let ns = self.namespace;
        if let Some(why) = dns_label_problem(&ns.value, 63, false) {
            return Err(ConfigError::at(
                file,
                ns.referenced,
                &format!("{path}.namespace"),
                format!("invalid namespace `{}`: {why}", ns.value),
            ));
        }
        let policy = match self.policy {
            Some(raw) => raw.validate(file, &format!("{path}.policy"), self.production)?,
            None => Policy {
                min_replicas: 1,
                deploy_mode: DeployMode::Manual,
                change_windows: Vec::new(),
                backup_max_age: None,
            },
        };
        let mut seen = HashSet::new();
        let mut services = Vec::with_capacity(self.services.len());
        for (i, raw) in self.services.into_iter().enumerate() {
            let here = format!("{path}.services[{i}]");
            if !seen.insert(raw.name.value.clone()) {
                return Err(ConfigError::at(
                    file,
                    raw.name.referenced,
                    &format!("{here}.name"),
                    format!(
                        "duplicate service `{}` in environment `{}`",
                        raw.name.value, name.value
                    ),
                ));
            }
            services.push(raw.validate(file, &here, &name.value)?);
        }
        let database = match self.database {
            Some(raw) => Some(raw.validate(file, &format!("{path}.database"))?),
            None => None,
        };
        let argocd = match self.argocd {
            Some(raw) => Some(raw.validate(file, &format!("{path}.argocd"))?),
            None => None,
        };
        Ok(Environment {
            name: name.value,
            context,
            namespace: ns.value,
            production: self.production,
            policy,
            services,
            database,
            argocd,
        })
    }
}

impl RawService {
    fn validate(self, file: &Path, path: &str, env: &str) -> Result<Service, ConfigError> {
        if self.name.value.trim().is_empty() {
            return Err(ConfigError::at(
                file,
                self.name.referenced,
                &format!("{path}.name"),
                "empty service name",
            ));
        }
        let (workload, location, field) = match self.workload {
            Some(w) => (w.value, w.referenced, "workload"),
            None => (self.name.value.clone(), self.name.referenced, "name"),
        };
        if let Some(why) = dns_label_problem(&workload, 253, true) {
            return Err(ConfigError::at(
                file,
                location,
                &format!("{path}.{field}"),
                format!("invalid Kubernetes object name `{workload}`: {why}"),
            ));
        }
        let argocd_app = match self.argocd_app {
            Some(app) => {
                // Application names are Kubernetes object names (DNS-1123 subdomains).
                if let Some(why) = dns_label_problem(&app.value, 253, true) {
                    return Err(ConfigError::at(
                        file,
                        app.referenced,
                        &format!("{path}.argocd_app"),
                        format!("invalid Argo CD application name `{}`: {why}", app.value),
                    ));
                }
                app.value
            }
            None => format!("{}-{env}", self.name.value),
        };
        Ok(Service {
            name: self.name.value,
            kind: self.kind,
            workload,
            argocd_app,
        })
    }
}

/// Why `name` is not a valid DNS-1123 label (or subdomain, when dots are allowed).
fn dns_label_problem(name: &str, max: usize, dots: bool) -> Option<String> {
    if name.is_empty() {
        return Some("it must not be empty".to_owned());
    }
    if name.len() > max {
        return Some(format!("it must be at most {max} characters"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if let Some(bad) = name.chars().find(|&c| !(allowed(c) || (dots && c == '.'))) {
        return Some(format!(
            "`{}` is not allowed; use lower-case letters, digits and `-`",
            bad.escape_debug()
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Some("it must start and end with a letter or digit".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert_eq!(dns_label_problem("dictamesh-prod", 63, false), None);
        assert!(dns_label_problem("", 63, false).is_some());
        assert!(dns_label_problem("Prod", 63, false).is_some());
        assert!(dns_label_problem("-prod", 63, false).is_some());
        assert!(dns_label_problem("a.b", 63, false).is_some());
        assert_eq!(dns_label_problem("a.b", 253, true), None);
        assert!(dns_label_problem(&"x".repeat(64), 63, false).is_some());
    }
}
