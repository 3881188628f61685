//! The pre-deployment checklists (config/checklists.yaml): lists of items, each ticked by
//! hand or checked live by rollcall. Validated here so a typo in a check's kind or a
//! missing field is reported at its line and column, not when the check first runs.

use std::collections::HashSet;
use std::path::Path;

use jiff::SignedDuration;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::{At, ConfigError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checklists {
    pub lists: Vec<Checklist>,
    pub on_call: Option<OnCall>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCall {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    pub name: String,
    pub title: String,
    /// Only environments marked `production: true` walk it.
    pub production_only: bool,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Unique across all lists: the key its tick is stored under.
    pub id: String,
    pub title: String,
    pub hint: Option<String>,
    pub check: Check,
}

/// How an item is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Ticked by hand.
    Manual,
    /// Ticked by hand; shows who is on call.
    OnCall,
    /// The release's service in `environment` (None: the one before; `this`: the one
    /// being deployed to) is Synced and Healthy on Argo CD at the release's version.
    ArgocdHealthy {
        environment: Option<String>,
    },
    /// The newest completed backup is younger than this (None: the policy's).
    Backup {
        max_age: Option<SignedDuration>,
    },
    /// No finding at `fail_at` or worse (CRITICAL, HIGH, MEDIUM or LOW).
    Vulnerabilities {
        fail_at: String,
    },
    /// Not dirty, pending migrations lint-clean.
    Migrations,
    /// The environment's monitoring health URL answers 200.
    MonitoringHealth,
    /// GET `url` answers `expect_status`.
    Http {
        url: String,
        expect_status: u16,
    },
    ChangeWindow,
    NoOtherRollout,
    /// Job `job` in the environment's namespace has completed.
    JobComplete {
        job: String,
    },
    /// Tag `tag` ({version} filled in) is on the GitOps repository's remote.
    GitTag {
        tag: String,
    },
    /// The service's overlay on the remote branch sets its image to the release.
    GitImage,
    /// Each series, read from the environment's Prometheus, is no worse after T-0 than
    /// before it.
    Metric {
        series: Vec<MetricSeries>,
    },
}

/// A series a `metric` check compares across T-0: higher is worse.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// `error rate`, `P95`, …
    pub label: String,
    /// PromQL with `{namespace}` and `{service}`.
    pub query: String,
    pub unit: MetricUnit,
    /// Worse when after > factor × before and after − before > floor.
    pub factor: f64,
    pub floor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    /// A share shown as a percentage.
    Ratio,
    Seconds,
    Count,
}

// Checks are compared as config; the thresholds are finite numbers from the file.
impl Eq for MetricSeries {}

/// The series of a built-in `metric:` (error-rate, latency, restarts).
fn metric_preset(name: &str) -> Option<Vec<MetricSeries>> {
    let one = |label: &str, query: String, unit, factor, floor| MetricSeries {
        label: label.to_owned(),
        query,
        unit,
        factor,
        floor,
    };
    let sel = r#"namespace="{namespace}",service="{service}""#;
    let quantile = |q: &str| {
        format!(
            "histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"
        )
    };
    Some(match name {
        "error-rate" => vec![one(
            "error rate",
            format!(
                r#"sum(rate(http_requests_total{{{sel},code=~"5.."}}[5m])) / sum(rate(http_requests_total{{{sel}}}[5m]))"#
            ),
            MetricUnit::Ratio,
            1.5,
            0.005,
        )],
        "latency" => vec![
            one("P95", quantile("0.95"), MetricUnit::Seconds, 1.5, 0.05),
            one("P99", quantile("0.99"), MetricUnit::Seconds, 1.5, 0.05),
        ],
        "restarts" => vec![one(
            "restarts /5m",
            r#"sum(increase(kube_pod_container_status_restarts_total{namespace="{namespace}",pod=~"{service}-.*"}[5m]))"#.to_owned(),
            MetricUnit::Count,
            1.5,
            1.0,
        )],
        _ => return None,
    })
}

/// The tag a release gets in the GitOps repository unless told otherwise.
pub const DEFAULT_TAG: &str = "{version}";

impl Check {
    /// Whether rollcall decides the item (else a person ticks it).
    pub fn is_automatic(&self) -> bool {
        !matches!(self, Check::Manual | Check::OnCall)
    }
}

impl Checklists {
    /// The lists an environment walks.
    pub fn for_environment(&self, production: bool) -> impl Iterator<Item = &Checklist> {
        self.lists
            .iter()
            .filter(move |l| production || !l.production_only)
    }

    /// Every item of the lists an environment walks.
    pub fn items(&self, production: bool) -> impl Iterator<Item = &Item> {
        self.for_environment(production)
            .flat_map(|l| l.items.iter())
    }
}

const KINDS: &[&str] = &[
    "manual",
    "on-call",
    "argocd-healthy",
    "backup",
    "vulnerabilities",
    "migrations",
    "monitoring-health",
    "http",
    "change-window",
    "no-other-rollout",
    "job-complete",
    "git-tag",
    "git-image",
    "metric",
];
/// An `argocd-healthy` check's environment meaning the one being deployed to.
pub const THIS: &str = "this";
const SEVERITIES: &[&str] = &["CRITICAL", "HIGH", "MEDIUM", "LOW"];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    on_call: Option<RawOnCall>,
    #[serde(default)]
    checklists: Option<Spanned<Vec<RawChecklist>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnCall {
    name: Spanned<String>,
    #[serde(default)]
    contact: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    name: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    applies_to: Option<Spanned<String>>,
    items: Spanned<Vec<RawItem>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    check: Option<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    kind: Spanned<String>,
    #[serde(default)]
    environment: Option<Spanned<String>>,
    #[serde(default)]
    max_age: Option<Spanned<String>>,
    #[serde(default)]
    fail_at: Option<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    expect_status: Option<Spanned<u16>>,
    #[serde(default)]
    job: Option<Spanned<String>>,
    #[serde(default)]
    tag: Option<Spanned<String>>,
    #[serde(default)]
    metric: Option<Spanned<String>>,
    #[serde(default)]
    query: Option<Spanned<String>>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    factor: Option<Spanned<f64>>,
    #[serde(default)]
    floor: Option<Spanned<f64>>,
}

/// Parses and validates a checklists file. `environments` are the configured
/// environment names, which `argocd-healthy` checks may name.
pub fn parse_checklists(
    file: &Path,
    text: &str,
    environments: &[&str],
) -> Result<Checklists, ConfigError> {
    let raw: RawFile = super::yaml::parse_or_default(file, text)?;
    let Some(lists) = raw.checklists else {
        return Err(ConfigError::invalid(
            file,
            At::File,
            "expected `checklists:` followed by a list of checklists",
        ));
    };
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    let mut out = Vec::with_capacity(lists.value.len());
    for (i, list) in lists.value.into_iter().enumerate() {
        let path = format!("checklists[{i}]");
        let name = list.name;
        if let Some(why) = slug_problem(&name.value) {
            return Err(ConfigError::at(
                file,
                name.referenced,
                &format!("{path}.name"),
                format!("invalid checklist name `{}`: {why}", name.value),
            ));
        }
        if !names.insert(name.value.clone()) {
            return Err(ConfigError::at(
                file,
                name.referenced,
                &format!("{path}.name"),
                format!("duplicate checklist `{}`", name.value),
            ));
        }
        let production_only = match list.applies_to {
            None => false,
            Some(a) => match a.value.as_str() {
                "all" => false,
                "production" => true,
                other => {
                    return Err(ConfigError::at(
                        file,
                        a.referenced,
                        &format!("{path}.applies_to"),
                        format!("unknown applies_to `{other}`, expected all or production"),
                    ));
                }
            },
        };
        let mut items = Vec::with_capacity(list.items.value.len());
        for (j, raw) in list.items.value.into_iter().enumerate() {
            let here = format!("{path}.items[{j}]");
            if let Some(why) = slug_problem(&raw.id.value) {
                return Err(ConfigError::at(
                    file,
                    raw.id.referenced,
                    &format!("{here}.id"),
                    format!("invalid item id `{}`: {why}", raw.id.value),
                ));
            }
            if !ids.insert(raw.id.value.clone()) {
                return Err(ConfigError::at(
                    file,
                    raw.id.referenced,
                    &format!("{here}.id"),
                    format!(
                        "duplicate item id `{}`: ids are unique across all checklists",
                        raw.id.value
                    ),
                ));
            }
            if raw.title.value.trim().is_empty() {
                return Err(ConfigError::at(
                    file,
                    raw.title.referenced,
                    &format!("{here}.title"),
                    "empty title",
                ));
            }
            let check = match raw.check {
                None => Check::Manual,
                Some(c) => c.validate(file, &format!("{here}.check"), environments)?,
            };
            items.push(Item {
                id: raw.id.value,
                title: raw.title.value.trim().to_owned(),
                hint: raw.hint.filter(|h| !h.trim().is_empty()),
                check,
            });
        }
        out.push(Checklist {
            title: list.title.unwrap_or_else(|| name.value.clone()),
            name: name.value,
            production_only,
            items,
        });
    }
    let on_call = raw.on_call.map(|o| OnCall {
        name: o.name.value,
        contact: o.contact.unwrap_or_default(),
    });
    Ok(Checklists {
        lists: out,
        on_call,
    })
}

impl RawCheck {
    pub(crate) fn validate(
        self,
        file: &Path,
        path: &str,
        environments: &[&str],
    ) -> Result<Check, ConfigError> {
        let kind = self.kind.value.trim().to_owned();
        let at = self.kind.referenced;
        let err = |location, field: &str, message: String| {
            ConfigError::at(file, location, &format!("{path}.{field}"), message)
        };
        if !KINDS.contains(&kind.as_str()) {
            return Err(err(
                at,
                "kind",
                format!(
                    "unknown check kind `{kind}`, expected one of {}",
                    KINDS.join(", ")
                ),
            ));
        }
        // A field the kind does not read is a mistake the user wants to hear about.
        let used: &[&str] = match kind.as_str() {
            "argocd-healthy" => &["environment"],
            "backup" => &["max_age"],
            "vulnerabilities" => &["fail_at"],
            "http" => &["url", "expect_status"],
            "job-complete" => &["job"],
            "git-tag" => &["tag"],
            "metric" => &["metric", "query", "label", "factor", "floor"],
            _ => &[],
        };
        for (field, location) in [
            (
                "environment",
                self.environment.as_ref().map(|s| s.referenced),
            ),
            ("max_age", self.max_age.as_ref().map(|s| s.referenced)),
            ("fail_at", self.fail_at.as_ref().map(|s| s.referenced)),
            ("url", self.url.as_ref().map(|s| s.referenced)),
            (
                "expect_status",
                self.expect_status.as_ref().map(|s| s.referenced),
            ),
            ("job", self.job.as_ref().map(|s| s.referenced)),
            ("tag", self.tag.as_ref().map(|s| s.referenced)),
            ("metric", self.metric.as_ref().map(|s| s.referenced)),
            ("query", self.query.as_ref().map(|s| s.referenced)),
            ("label", self.label.as_ref().map(|s| s.referenced)),
            ("factor", self.factor.as_ref().map(|s| s.referenced)),
            ("floor", self.floor.as_ref().map(|s| s.referenced)),
        ] {
            if let Some(location) = location
                && !used.contains(&field)
            {
                return Err(err(
                    location,
                    field,
                    format!("`{field}` is not used by a `{kind}` check"),
                ));
            }
        }
        Ok(match kind.as_str() {
            "manual" => Check::Manual,
            "on-call" => Check::OnCall,
            "migrations" => Check::Migrations,
            "monitoring-health" => Check::MonitoringHealth,
            "change-window" => Check::ChangeWindow,
            "job-complete" => match self.job {
                Some(j) if !j.value.trim().is_empty() => Check::JobComplete {
                    job: j.value.trim().to_owned(),
                },
                _ => return Err(err(at, "job", "a `job-complete` check needs a job".to_owned())),
            },
            "no-other-rollout" => Check::NoOtherRollout,
            "git-tag" => Check::GitTag {
                tag: match self.tag {
                    None => DEFAULT_TAG.to_owned(),
                    Some(t) if !t.value.trim().is_empty() => t.value.trim().to_owned(),
                    Some(t) => {
                        return Err(err(t.referenced, "tag", "an empty tag".to_owned()));
                    }
                },
            },
            "git-image" => Check::GitImage,
            "metric" => {
                let mut series = match (self.metric, self.query) {
                    (Some(m), None) => metric_preset(m.value.trim()).ok_or_else(|| {
                        err(
                            m.referenced,
                            "metric",
                            format!(
                                "unknown metric `{}`, expected error-rate, latency or restarts \
                                 (or a query of your own)",
                                m.value
                            ),
                        )
                    })?,
                    (None, Some(q)) if !q.value.trim().is_empty() => vec![MetricSeries {
                        label: self
                            .label
                            .as_ref()
                            .map_or("value".to_owned(), |l| l.value.clone()),
                        query: q.value.trim().to_owned(),
                        unit: MetricUnit::Count,
                        factor: 1.5,
                        floor: 0.0,
                    }],
                    _ => {
                        return Err(err(
                            at,
                            "kind",
                            "a `metric` check needs metric (error-rate, latency, restarts) or \
                             query, not both"
                                .to_owned(),
                        ));
                    }
                };
                for (field, v) in [("factor", &self.factor), ("floor", &self.floor)] {
                    if let Some(v) = v {
                        if !v.value.is_finite() || v.value < 0.0 {
                            return Err(err(
                                v.referenced,
                                field,
                                format!("{field} must be a number ≥ 0"),
                            ));
                        }
                        for s in &mut series {
                            if field == "factor" {
                                s.factor = v.value;
                            } else {
                                s.floor = v.value;
                            }
                        }
                    }
                }
                Check::Metric { series }
            }
            "argocd-healthy" => Check::ArgocdHealthy {
                environment: match self.environment {
                    None => None,
                    Some(e) if e.value == THIS || environments.contains(&e.value.as_str()) => {
                        Some(e.value)
                    }
                    Some(e) => {
                        return Err(err(
                            e.referenced,
                            "environment",
                            format!(
                                "unknown environment `{}`, expected one of {}, or {THIS}",
                                e.value,
                                environments.join(", ")
                            ),
                        ));
                    }
                },
            },
            "backup" => Check::Backup {
                max_age: match self.max_age {
                    None => None,
                    Some(m) => Some(super::policy::parse_duration(&m.value).ok_or_else(|| {
                        err(
                            m.referenced,
                            "max_age",
                            format!(
                                "invalid duration `{}`, expected a positive duration like 24h, 30m or 1d",
                                m.value
                            ),
                        )
                    })?),
                },
            },
            "vulnerabilities" => Check::Vulnerabilities {
                fail_at: match self.fail_at {
                    None => "CRITICAL".to_owned(),
                    Some(f) => {
                        let upper = f.value.trim().to_ascii_uppercase();
                        if !SEVERITIES.contains(&upper.as_str()) {
                            return Err(err(
                                f.referenced,
                                "fail_at",
                                format!(
                                    "unknown severity `{}`, expected one of {}",
                                    f.value,
                                    SEVERITIES.join(", ")
                                ),
                            ));
                        }
                        upper
                    }
                },
            },
            "http" => {
                let Some(url) = self.url else {
                    return Err(err(at, "url", "an `http` check needs a url".to_owned()));
                };
                let checked = super::monitoring::http_url(&url.value)
                    .map_err(|why| err(url.referenced, "url", why.to_string()))?;
                let expect_status = match self.expect_status {
                    None => 200,
                    Some(s) if (100..=599).contains(&s.value) => s.value,
                    Some(s) => {
                        return Err(err(
                            s.referenced,
                            "expect_status",
                            format!("{} is not an HTTP status (100 to 599)", s.value),
                        ));
                    }
                };
                Check::Http {
                    url: checked,
                    expect_status,
                }
            }
            // Every kind in KINDS is matched above.
            _ => Check::Manual,
        })
    }
}

/// Names and ids: lower-case letters, digits and dashes (they become ConfigMap keys).
fn slug_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("it must not be empty")
    } else if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("use lower-case letters, digits and dashes")
    } else if s.len() > 63 {
        Some("at most 63 characters")
    } else {
        None
    }
}
