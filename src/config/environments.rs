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
use super::monitoring::{BackupTarget, Monitoring, RawBackup, RawMonitoring};
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
    /// The CloudNativePG Cluster whose backups the checklist checks.
    pub backup: Option<BackupTarget>,
    pub monitoring: Monitoring,
    /// The clone of the GitOps repository the runbook's git steps run in.
    pub gitops: Option<super::gitops::Gitops>,
    /// What confirming a mutation takes here.
    pub confirm: super::confirm::ConfirmPolicy,
    /// The environment's Kafka (the broker pod its tools run in), when it has one.
    pub kafka: Option<super::kafka::Kafka>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub kind: WorkloadKind,
    /// The Kubernetes object's name; defaults to `name`. For a blue-green service, the
    /// Service whose selector is flipped.
    pub workload: String,
    /// The Argo CD Application that deploys it; defaults to `<name>-<environment>`.
    pub argocd_app: String,
    /// The two Deployments of a `kind: blue-green` service; None for other kinds.
    pub blue_green: Option<BlueGreenPair>,
    /// The Kafka consumer groups the service's code runs, each with its topic: what a
    /// bad version of it may have consumed and mangled (the advisor replays them).
    pub consumer_groups: Vec<super::kafka::ConsumerGroup>,
}

/// A blue/green pair: two Deployments told apart by one label, and the Service that
/// selects one of them by that label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreenPair {
    pub blue: String,
    pub green: String,
    /// The label whose value (`blue` / `green`) the Service selects on.
    pub selector_key: String,
}

impl BlueGreenPair {
    /// The Deployment of a colour (`blue` or `green`).
    pub fn deployment(&self, colour: Colour) -> &str {
        match colour {
            Colour::Blue => &self.blue,
            Colour::Green => &self.green,
        }
    }
}

/// The two sides of a blue/green pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Blue,
    Green,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }

    pub fn other(self) -> Colour {
        match self {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        }
    }

    /// The colour a selector value names, if it names one.
    pub fn parse(value: &str) -> Option<Colour> {
        match value {
            "blue" => Some(Colour::Blue),
            "green" => Some(Colour::Green),
            _ => None,
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    #[serde(default)]
    backup: Option<RawBackup>,
    #[serde(default)]
    monitoring: Option<RawMonitoring>,
    #[serde(default)]
    gitops: Option<super::gitops::RawGitops>,
    #[serde(default)]
    confirm: Option<super::confirm::RawConfirm>,
    #[serde(default)]
    kafka: Option<super::kafka::RawKafka>,
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
    /// blue-green only: the Deployments of each colour and the label the Service selects on.
    #[serde(default)]
    blue: Option<Spanned<String>>,
    #[serde(default)]
    green: Option<Spanned<String>>,
    #[serde(default)]
    selector_key: Option<Spanned<String>>,
    #[serde(default)]
    consumer_groups: Option<Spanned<Vec<super::kafka::RawConsumerGroup>>>,
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
            services.push(raw.validate(file, &here, &name.value, self.kafka.is_some())?);
        }
        let database = match self.database {
            Some(raw) => Some(raw.validate(file, &format!("{path}.database"))?),
            None => None,
        };
        let argocd = match self.argocd {
            Some(raw) => Some(raw.validate(file, &format!("{path}.argocd"))?),
            None => None,
        };
        let backup = match self.backup {
            Some(raw) => Some(raw.validate(file, &format!("{path}.backup"), &ns.value)?),
            None => None,
        };
        let monitoring = match self.monitoring {
            Some(raw) => raw.validate(file, &format!("{path}.monitoring"))?,
            None => Monitoring::default(),
        };
        let confirm = match self.confirm {
            Some(raw) => raw.validate(file, &format!("{path}.confirm"), self.production)?,
            None => super::confirm::ConfirmPolicy::default_for(self.production),
        };
        let gitops = match self.gitops {
            Some(raw) => Some(raw.validate(file, &format!("{path}.gitops"))?),
            None => None,
        };
        let kafka = match self.kafka {
            Some(raw) => Some(raw.validate(file, &format!("{path}.kafka"))?),
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
            backup,
            monitoring,
            gitops,
            confirm,
            kafka,
        })
    }
}

impl RawService {
    fn validate(
        self,
        file: &Path,
        path: &str,
        env: &str,
        has_kafka: bool,
    ) -> Result<Service, ConfigError> {
        if self.name.value.trim().is_empty() {
            return Err(ConfigError::at(
                file,
                self.name.referenced,
                &format!("{path}.name"),
                "empty service name",
            ));
        }
        let (workload, location, field) = match self.workload.clone() {
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
        let blue_green = self.blue_green(file, path, &workload)?;
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
        let consumer_groups = match self.consumer_groups {
            None => Vec::new(),
            Some(groups) => super::kafka::validate_consumer_groups(
                file,
                &format!("{path}.consumer_groups"),
                groups,
                has_kafka,
            )?,
        };
        Ok(Service {
            name: self.name.value,
            kind: self.kind,
            workload,
            argocd_app,
            blue_green,
            consumer_groups,
        })
    }

    /// The pair of a blue-green service (names defaulting to `<workload>-blue` /
    /// `<workload>-green`, key to `version`); the pair's fields on any other kind are an
    /// error at their own line, since they would silently do nothing.
    fn blue_green(
        &self,
        file: &Path,
        path: &str,
        workload: &str,
    ) -> Result<Option<BlueGreenPair>, ConfigError> {
        let fields = [
            ("blue", &self.blue),
            ("green", &self.green),
            ("selector_key", &self.selector_key),
        ];
        if self.kind != WorkloadKind::BlueGreen {
            if let Some((field, Some(v))) = fields.iter().find(|(_, v)| v.is_some()) {
                return Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.{field}"),
                    format!(
                        "`{field}` applies only to `kind: blue-green` services (this one is `{}`)",
                        self.kind
                    ),
                ));
            }
            return Ok(None);
        }
        let name_of = |field: &str, v: &Option<Spanned<String>>, default: String| {
            let Some(v) = v else {
                return Ok(default);
            };
            let max = if field == "selector_key" { 63 } else { 253 };
            let problem = if field == "selector_key" {
                label_key_problem(&v.value)
            } else {
                dns_label_problem(&v.value, max, true)
            };
            match problem {
                Some(why) => Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.{field}"),
                    format!("invalid {field} `{}`: {why}", v.value),
                )),
                None => Ok(v.value.clone()),
            }
        };
        let blue = name_of("blue", &self.blue, format!("{workload}-blue"))?;
        let green = name_of("green", &self.green, format!("{workload}-green"))?;
        let selector_key = name_of("selector_key", &self.selector_key, "version".to_owned())?;
        if blue == green {
            let at = self
                .green
                .as_ref()
                .or(self.blue.as_ref())
                .map_or(self.name.referenced, |v| v.referenced);
            return Err(ConfigError::at(
                file,
                at,
                &format!("{path}.green"),
                format!("blue and green are both `{blue}`; they must be two Deployments"),
            ));
        }
        Ok(Some(BlueGreenPair {
            blue,
            green,
            selector_key,
        }))
    }
}

/// Why `key` is not a valid label key (`[prefix/]name`, name ≤ 63 alphanumerics, `-_.`).
fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && let Some(why) = dns_label_problem(p, 253, true)
    {
        return Some(format!("its prefix `{p}` is not a DNS subdomain: {why}"));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 63 {
        return Some("the name part must be 1 to 63 characters".to_owned());
    }
    if !name.chars().all(ok) || !edge(name.chars().next()) || !edge(name.chars().last()) {
        return Some(
            "use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
                .to_owned(),
        );
    }
    None
}

/// Why `name` is not a valid DNS-1123 label (or subdomain, when dots are allowed).
pub(crate) fn dns_label_problem(name: &str, max: usize, dots: bool) -> Option<String> {
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

    fn parse(services: &str) -> Result<Vec<Environment>, ConfigError> {
        let text =
            format!("environments:\n  - name: prod\n    namespace: p\n    services:\n{services}");
        parse_environments(Path::new("environments.yaml"), &text)
    }

    #[test]
    fn blue_green_pairs_default_and_validate_at_their_line() {
        let envs = parse("      - name: gw\n        kind: blue-green\n").unwrap();
        let pair = envs[0].services[0].blue_green.clone().unwrap();
        assert_eq!(
            (
                pair.blue.as_str(),
                pair.green.as_str(),
                pair.selector_key.as_str()
            ),
            ("gw-blue", "gw-green", "version")
        );
        assert_eq!(pair.deployment(Colour::Green), "gw-green");
        let plain = parse("      - name: gw\n").unwrap();
        assert_eq!(plain[0].services[0].blue_green, None);

        let err = parse("      - name: gw\n        kind: deployment\n        blue: gw-b\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("environments.yaml:7"), "{err}");
        assert!(err.contains("only to `kind: blue-green`"), "{err}");
        let err = parse(
            "      - name: gw\n        kind: blue-green\n        blue: same\n        green: same\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("environments.yaml:8"), "{err}");
        assert!(err.contains("must be two Deployments"), "{err}");
        let err =
            parse("      - name: gw\n        kind: blue-green\n        selector_key: \"-x\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("environments.yaml:7"), "{err}");
        assert!(err.contains("invalid selector_key"), "{err}");
        assert_eq!(label_key_problem("app.kubernetes.io/version"), None);
    }
}
