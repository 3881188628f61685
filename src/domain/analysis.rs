//! Argo Rollouts analysis, slim: the `AnalysisRunRow` (which Rollout, step or background,
//! phase and message, each metric's limits, counters and last measurements) and the
//! `ExperimentRow` (phase, templates, the current Rollout step), decoded straight from the
//! wire and tolerant of every layout in shared/fixtures/real/argo-rollouts (metrics under
//! `spec.metrics` or the old `spec.analysisSpec.metrics`, counts as numbers or text,
//! values as `[0.97]` text, Experiment conditions with `phase:` for `status:`).

pub mod view;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use super::rollout::{HASH_LABEL, REVISION};
use super::store::Keyed;
use super::wire::{LenientVec, MetaWire, WireTime, slim_resource, watch_meta};

pub use view::{AnalysisView, MetricView, RunKind, RunView};

/// The label the Rollout controller puts on the runs it creates (`Step`, `Background`).
pub const TYPE_LABEL: &str = "rollout-type";
pub const STEP_INDEX_LABEL: &str = "step-index";
/// Measurements kept per metric in a row (Argo keeps ten).
pub const KEPT: usize = 10;

/// An AnalysisRun's, a metric's or a measurement's phase (Argo's `AnalysisPhase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum RunPhase {
    #[default]
    Pending,
    Running,
    Successful,
    Inconclusive,
    Failed,
    Error,
}

impl RunPhase {
    pub fn parse(s: &str) -> RunPhase {
        match s {
            "Running" => RunPhase::Running,
            "Successful" => RunPhase::Successful,
            "Inconclusive" => RunPhase::Inconclusive,
            "Failed" => RunPhase::Failed,
            "Error" => RunPhase::Error,
            _ => RunPhase::Pending,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RunPhase::Pending => "Pending",
            RunPhase::Running => "Running",
            RunPhase::Successful => "Successful",
            RunPhase::Inconclusive => "Inconclusive",
            RunPhase::Failed => "Failed",
            RunPhase::Error => "Error",
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            RunPhase::Pending => "…",
            RunPhase::Running => "◐",
            RunPhase::Successful => "✔",
            RunPhase::Inconclusive => "?",
            RunPhase::Failed | RunPhase::Error => "✖",
        }
    }

    /// Final: the run or metric will not measure again.
    pub fn completed(self) -> bool {
        !matches!(self, RunPhase::Pending | RunPhase::Running)
    }

    /// Failed or Error: what aborts a Rollout.
    pub fn bad(self) -> bool {
        matches!(self, RunPhase::Failed | RunPhase::Error)
    }
}

/// One measurement of a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub phase: RunPhase,
    /// As the provider wrote it (`[0.9832775919732442]`).
    pub value: Option<String>,
    pub message: Option<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
}

impl Measurement {
    /// The first number of the value (`[0.97]` → 0.97), for a chart.
    pub fn number(&self) -> Option<f64> {
        let v = self.value.as_deref()?;
        let first = v
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .next()?
            .trim();
        first.parse().ok().filter(|x: &f64| x.is_finite())
    }
}

/// One metric: its limits (from the spec) and its result so far (from the status).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricRow {
    pub name: String,
    pub phase: RunPhase,
    pub success_condition: Option<String>,
    pub failure_condition: Option<String>,
    pub interval: Option<String>,
    /// How many measurements it takes (None: until the run is stopped).
    pub count_limit: Option<u32>,
    pub failure_limit: i64,
    pub inconclusive_limit: i64,
    pub consecutive_error_limit: i64,
    pub count: u32,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub error: u32,
    pub consecutive_error: u32,
    pub message: Option<String>,
    /// The last measurements, oldest first (at most `KEPT`).
    pub measurements: Vec<Measurement>,
}

/// One AnalysisRun as the canary pane sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisRunRow {
    pub name: String,
    pub namespace: String,
    /// The controlling owner (kind, name): the Rollout (or Experiment) that created it.
    pub owner: Option<(String, String)>,
    /// `rollout-type`: Step or Background.
    pub rollout_type: Option<String>,
    pub step_index: Option<u32>,
    pub pod_hash: Option<String>,
    pub revision: Option<u64>,
    pub phase: RunPhase,
    pub message: Option<String>,
    pub terminated: bool,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub metrics: Vec<MetricRow>,
}

impl Keyed for AnalysisRunRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// One Experiment: its phase and message and its templates' pods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentRow {
    pub name: String,
    pub namespace: String,
    pub owner: Option<(String, String)>,
    pub pod_hash: Option<String>,
    pub phase: RunPhase,
    pub message: Option<String>,
    /// (template, status, ready, replicas).
    pub templates: Vec<(String, String, u32, u32)>,
    pub created: Option<Timestamp>,
}

impl Keyed for ExperimentRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// What the AnalysisRun watcher decodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RunWire")]
pub struct WatchedAnalysisRun {
    pub meta: ObjectMeta,
    pub row: AnalysisRunRow,
}

slim_resource!(
    WatchedAnalysisRun,
    "AnalysisRun",
    "argoproj.io",
    "v1alpha1",
    "analysisruns"
);

/// What the Experiment watcher decodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ExperimentWire")]
pub struct WatchedExperiment {
    pub meta: ObjectMeta,
    pub row: ExperimentRow,
}

slim_resource!(
    WatchedExperiment,
    "Experiment",
    "argoproj.io",
    "v1alpha1",
    "experiments"
);

#[derive(Deserialize)]
struct RunWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<RunSpecWire>,
    #[serde(default)]
    status: Option<RunStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RunSpecWire {
    metrics: LenientVec<MetricSpecWire>,
    /// Argo CD's older fixtures nest them here.
    analysis_spec: Option<Box<RunSpecWire>>,
    terminate: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetricSpecWire {
    name: String,
    interval: Option<Value>,
    count: Option<Value>,
    failure_limit: Option<Value>,
    inconclusive_limit: Option<Value>,
    consecutive_error_limit: Option<Value>,
    success_condition: Option<String>,
    failure_condition: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RunStatusWire {
    phase: Option<String>,
    message: Option<String>,
    started_at: WireTime,
    metric_results: LenientVec<ResultWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ResultWire {
    name: String,
    phase: Option<String>,
    count: Option<Value>,
    successful: Option<Value>,
    failed: Option<Value>,
    inconclusive: Option<Value>,
    error: Option<Value>,
    consecutive_error: Option<Value>,
    message: Option<String>,
    measurements: LenientVec<MeasurementWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MeasurementWire {
    phase: Option<String>,
    value: Option<Value>,
    message: Option<String>,
    started_at: WireTime,
    finished_at: WireTime,
}

/// An int-or-string (`count: 5`, `count: "5"`); None when it is neither (an arg template).
fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn count(v: Option<&Value>) -> u32 {
    int(v).and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

impl From<RunWire> for WatchedAnalysisRun {
    fn from(w: RunWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let spec = w.spec.unwrap_or_default();
        let terminated = spec
            .terminate
            .as_ref()
            .is_some_and(|t| t == &Value::Bool(true) || t == "true");
        let specs = if spec.metrics.0.is_empty() {
            spec.analysis_spec.map(|s| s.metrics.0).unwrap_or_default()
        } else {
            spec.metrics.0
        };
        let st = w.status.unwrap_or_default();
        let mut results = st.metric_results.0;
        // Spec order first (what the template lists), then results of metrics it lacks.
        let mut metrics: Vec<MetricRow> = specs
            .into_iter()
            .map(|s| {
                let r = results
                    .iter()
                    .position(|r| r.name == s.name)
                    .map(|i| results.remove(i));
                metric(Some(s), r)
            })
            .collect();
        metrics.extend(results.into_iter().map(|r| metric(None, Some(r))));
        let labels = &w.metadata;
        let row = AnalysisRunRow {
            owner: w.metadata.controller(),
            rollout_type: labels.label(TYPE_LABEL).map(str::to_owned),
            step_index: labels.label(STEP_INDEX_LABEL).and_then(|s| s.parse().ok()),
            pod_hash: labels.label(HASH_LABEL).map(str::to_owned),
            revision: w
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .and_then(|r| r.parse().ok()),
            phase: RunPhase::parse(st.phase.as_deref().unwrap_or("")),
            message: nonempty(st.message),
            terminated,
            created: w.metadata.creation_timestamp.0,
            started: st.started_at.0,
            metrics,
            name: w.metadata.name.unwrap_or_default(),
            namespace: w.metadata.namespace.unwrap_or_default(),
        };
        WatchedAnalysisRun { meta, row }
    }
}

fn metric(spec: Option<MetricSpecWire>, result: Option<ResultWire>) -> MetricRow {
    let s = spec.unwrap_or_default();
    let r = result.unwrap_or_default();
    let interval = s.interval.as_ref().and_then(text);
    let count_limit = match int(s.count.as_ref()).filter(|c| *c > 0) {
        Some(c) => u32::try_from(c).ok(),
        // Argo's EffectiveCount: one measurement without an interval.
        None if interval.is_none() => Some(1),
        None => None,
    };
    let mut measurements: Vec<Measurement> = r
        .measurements
        .0
        .into_iter()
        .map(|m| Measurement {
            phase: RunPhase::parse(m.phase.as_deref().unwrap_or("")),
            value: m.value.as_ref().and_then(text),
            message: nonempty(m.message),
            started: m.started_at.0,
            finished: m.finished_at.0,
        })
        .collect();
    let extra = measurements.len().saturating_sub(KEPT);
    measurements.drain(..extra);
    MetricRow {
        name: if s.name.is_empty() { r.name } else { s.name },
        phase: RunPhase::parse(r.phase.as_deref().unwrap_or("")),
        success_condition: nonempty(s.success_condition),
        failure_condition: nonempty(s.failure_condition),
        interval,
        count_limit,
        failure_limit: int(s.failure_limit.as_ref()).unwrap_or(0),
        inconclusive_limit: int(s.inconclusive_limit.as_ref()).unwrap_or(0),
        consecutive_error_limit: int(s.consecutive_error_limit.as_ref()).unwrap_or(4),
        count: count(r.count.as_ref()),
        successful: count(r.successful.as_ref()),
        failed: count(r.failed.as_ref()),
        inconclusive: count(r.inconclusive.as_ref()),
        error: count(r.error.as_ref()),
        consecutive_error: count(r.consecutive_error.as_ref()),
        message: nonempty(r.message),
        measurements,
    }
}

#[derive(Deserialize)]
struct ExperimentWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    status: Option<ExperimentStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ExperimentStatusWire {
    phase: Option<String>,
    message: Option<String>,
    template_statuses: LenientVec<TemplateStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TemplateStatusWire {
    name: String,
    /// `status` in the controller's objects, `phase` in Argo CD's fixtures.
    status: Option<String>,
    phase: Option<String>,
    ready_replicas: Option<Value>,
    replicas: Option<Value>,
}

impl From<ExperimentWire> for WatchedExperiment {
    fn from(w: ExperimentWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let st = w.status.unwrap_or_default();
        let row = ExperimentRow {
            owner: w.metadata.controller(),
            pod_hash: w.metadata.label(HASH_LABEL).map(str::to_owned),
            phase: RunPhase::parse(st.phase.as_deref().unwrap_or("")),
            message: nonempty(st.message),
            templates: st
                .template_statuses
                .0
                .into_iter()
                .map(|t| {
                    (
                        t.name,
                        t.status.or(t.phase).unwrap_or_default(),
                        count(t.ready_replicas.as_ref()),
                        count(t.replicas.as_ref()),
                    )
                })
                .collect(),
            created: w.metadata.creation_timestamp.0,
            name: w.metadata.name.unwrap_or_default(),
            namespace: w.metadata.namespace.unwrap_or_default(),
        };
        WatchedExperiment { meta, row }
    }
}
