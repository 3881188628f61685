//! The production runbook (config/runbooks/production.yaml): phases at offsets from T-0,
//! each a list of steps with what to run and, optionally, the check that says a step is
//! done. Validated here, so a bad offset or check kind is reported at its line.

use std::collections::HashSet;
use std::path::Path;

use jiff::SignedDuration;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::checklists::{Check, RawCheck};
use super::error::{At, ConfigError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runbook {
    pub title: String,
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// `T-24h`, `T-0`, …
    pub name: String,
    pub title: String,
    /// From T-0; negative before it.
    pub at: SignedDuration,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// What to run, with `{placeholders}` for the release.
    pub run: Option<String>,
    /// The check that says it is done; None: marked by hand.
    pub done_when: Option<Check>,
    /// What rollcall sends for it (Enter), when it can run it itself.
    pub action: Option<StepRun>,
    /// How long after a run its check is waited for (default 10 minutes).
    pub timeout: Option<SignedDuration>,
}

/// A step rollcall runs itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRun {
    /// A CloudNativePG backup of the environment's `backup:` cluster.
    CnpgBackup,
    /// A merge patch setting one key of a ConfigMap in the environment's namespace.
    SetFlag {
        configmap: String,
        key: String,
        value: String,
    },
    /// `argocd app sync` of the release's Application in the environment.
    ArgocdSync,
    /// `argocd app get APP --hard-refresh` of the release's Application in `environment`
    /// (None: the environment before).
    ArgocdRefresh { environment: Option<String> },
    /// The release's service's logs (its pods', the last 100 lines) opened with a filter.
    Logs { filter: String },
    /// A Job created in the environment's namespace from a manifest (`kubectl apply -f`).
    Job {
        name: String,
        /// The Job object, as read from the manifest.
        manifest: serde_json::Value,
    },
    /// An annotated tag on the GitOps remote's branch tip, pushed (`{version}`,
    /// `{service}` filled in).
    GitTag { tag: String, message: String },
    /// The service's overlay sets `image` (kustomize's image name) to the release's
    /// version, committed with `message` and pushed.
    SetImage {
        image: String,
        new_name: Option<String>,
        message: String,
    },
}

/// The smoke tests the built-in runbook runs.
const SMOKE_FILE: &str = "config/smoke/production-smoke-tests.yaml";
const SMOKE: &str = include_str!("../../config/smoke/production-smoke-tests.yaml");

/// A Job manifest: YAML, kind Job, with a name.
fn job_manifest(file: &Path, text: &str) -> Result<(String, serde_json::Value), ConfigError> {
    let value: serde_json::Value = super::yaml::parse(file, text)?;
    let name = value
        .pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_owned();
    if value["kind"] != "Job" || name.is_empty() {
        return Err(ConfigError::invalid(
            file,
            At::File,
            "expected a Job manifest (kind: Job) with metadata.name",
        ));
    }
    Ok((name, value))
}

impl Runbook {
    pub fn steps(&self) -> impl Iterator<Item = (&Phase, &Step)> {
        self.phases
            .iter()
            .flat_map(|p| p.steps.iter().map(move |s| (p, s)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    title: Option<String>,
    phases: Spanned<Vec<RawPhase>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    at: Spanned<String>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default, rename = "do")]
    instructions: Option<String>,
    #[serde(default)]
    done_when: Option<RawCheck>,
    #[serde(default)]
    run: Option<RawRun>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    kind: Spanned<String>,
    #[serde(default)]
    configmap: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    manifest: Option<Spanned<String>>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    new_name: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

impl RawRun {
    fn validate(self, file: &Path, path: &str) -> Result<StepRun, ConfigError> {
        let at = self.kind.referenced;
        let bad = |m: String| ConfigError::at(file, at, &format!("{path}.kind"), m);
        match self.kind.value.as_str() {
            "cnpg-backup" => Ok(StepRun::CnpgBackup),
            "argocd-sync" => Ok(StepRun::ArgocdSync),
            "argocd-refresh" => Ok(StepRun::ArgocdRefresh {
                environment: nonempty(self.environment),
            }),
            "logs" => Ok(StepRun::Logs {
                filter: self.filter.unwrap_or_default(),
            }),
            "job" => {
                let (name, manifest) = match self.manifest {
                    None => job_manifest(Path::new(SMOKE_FILE), SMOKE)?,
                    Some(m) => {
                        let manifest_path = file.parent().unwrap_or(Path::new(".")).join(&m.value);
                        let text =
                            rollcall_files::read_text(&manifest_path, rollcall_files::Kind::Config)
                                .map_err(|e| {
                                    ConfigError::at(
                                        file,
                                        m.referenced,
                                        &format!("{path}.manifest"),
                                        format!("cannot read {e}"),
                                    )
                                })?;
                        job_manifest(&manifest_path, &text)?
                    }
                };
                Ok(StepRun::Job { name, manifest })
            }
            "set-flag" => match (self.configmap, self.key, self.value) {
                (Some(configmap), Some(key), Some(value)) if !key.is_empty() => {
                    Ok(StepRun::SetFlag {
                        configmap,
                        key,
                        value,
                    })
                }
                _ => Err(bad("a `set-flag` run needs configmap, key and value".into())),
            },
            "git-tag" => Ok(StepRun::GitTag {
                tag: nonempty(self.tag).unwrap_or_else(|| super::checklists::DEFAULT_TAG.into()),
                message: nonempty(self.message).unwrap_or_else(|| "Release {version}".into()),
            }),
            "set-image" => Ok(StepRun::SetImage {
                image: nonempty(self.image).unwrap_or_else(|| "{service}".into()),
                new_name: nonempty(self.new_name),
                message: nonempty(self.message)
                    .unwrap_or_else(|| "deploy: {service} {version} to {environment}".into()),
            }),
            other => Err(bad(format!(
                "unknown run kind `{other}`, expected cnpg-backup, set-flag, argocd-sync, \
                 argocd-refresh, job, logs, git-tag or set-image"
            ))),
        }
    }
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `-24h`, `0`, `+5m`, `30m`: a signed offset from T-0.
pub fn parse_offset(text: &str) -> Option<SignedDuration> {
    let t = text.trim();
    if t == "0" {
        return Some(SignedDuration::ZERO);
    }
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let d = super::policy::parse_duration(rest)?;
    Some(if negative { -d } else { d })
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 60
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Parses and validates a runbook file; `environments` are the configured names.
pub fn parse_runbook(
    file: &Path,
    text: &str,
    environments: &[&str],
) -> Result<Runbook, ConfigError> {
    let raw: Option<RawRunbook> = super::yaml::parse_or_default(file, text)?;
    let Some(raw) = raw else {
        return Err(ConfigError::invalid(
            file,
            At::File,
            "the file is empty; expected `phases:` followed by a list of phases",
        ));
    };
    let mut ids = HashSet::new();
    let mut phases = Vec::with_capacity(raw.phases.value.len());
    let mut last_at = None;
    for (i, p) in raw.phases.value.into_iter().enumerate() {
        let path = format!("phases[{i}]");
        let at = parse_offset(&p.at.value).ok_or_else(|| {
            ConfigError::at(
                file,
                p.at.referenced,
                &format!("{path}.at"),
                format!(
                    "invalid offset `{}`, expected one from T-0 like -24h, 0, +5m",
                    p.at.value
                ),
            )
        })?;
        if last_at.is_some_and(|l| at < l) {
            return Err(ConfigError::at(
                file,
                p.at.referenced,
                &format!("{path}.at"),
                "phases go in time order: this one is before the one above it",
            ));
        }
        last_at = Some(at);
        let mut steps = Vec::with_capacity(p.steps.len());
        for (j, s) in p.steps.into_iter().enumerate() {
            let here = format!("{path}.steps[{j}]");
            if !slug_ok(&s.id.value) {
                return Err(ConfigError::at(
                    file,
                    s.id.referenced,
                    &format!("{here}.id"),
                    format!(
                        "invalid step id `{}`: use lower-case letters, digits and dashes",
                        s.id.value
                    ),
                ));
            }
            if !ids.insert(s.id.value.clone()) {
                return Err(ConfigError::at(
                    file,
                    s.id.referenced,
                    &format!("{here}.id"),
                    format!("duplicate step id `{}`", s.id.value),
                ));
            }
            let done_when = match s.done_when {
                Some(c) => Some(c.validate(file, &format!("{here}.done_when"), environments)?),
                None => None,
            };
            let action = match s.run {
                Some(r) => Some(r.validate(file, &format!("{here}.run"))?),
                None => None,
            };
            let timeout = match s.timeout {
                None => None,
                Some(t) => Some(super::policy::parse_duration(&t.value).ok_or_else(|| {
                    ConfigError::at(
                        file,
                        t.referenced,
                        &format!("{here}.timeout"),
                        format!(
                            "invalid timeout `{}`, expected a duration like 600s or 10m",
                            t.value
                        ),
                    )
                })?),
            };
            steps.push(Step {
                id: s.id.value,
                title: s.title.value.trim().to_owned(),
                run: s
                    .instructions
                    .map(|r| r.trim_end().to_owned())
                    .filter(|r| !r.is_empty()),
                done_when,
                action,
                timeout,
            });
        }
        phases.push(Phase {
            title: p.title.unwrap_or_else(|| p.name.value.clone()),
            name: p.name.value,
            at,
            steps,
        });
    }
    Ok(Runbook {
        title: raw.title.unwrap_or_else(|| "Runbook".into()),
        phases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_signed() {
        assert_eq!(parse_offset("-24h"), Some(SignedDuration::from_hours(-24)));
        assert_eq!(parse_offset("0"), Some(SignedDuration::ZERO));
        assert_eq!(parse_offset("+5m"), Some(SignedDuration::from_mins(5)));
        assert_eq!(parse_offset("30m"), Some(SignedDuration::from_mins(30)));
        assert_eq!(parse_offset("soon"), None);
    }
}
