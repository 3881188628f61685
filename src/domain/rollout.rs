//! Argo Rollouts, slim: the `RolloutRow` the canary pane needs (steps, status, weights,
//! pause conditions, user requests) and the `ReplicaSetRow` that gives revisions their
//! number and image, both decoded straight from the wire and tolerant of every layout
//! in shared/fixtures/real/argo-rollouts (observedGeneration as a string or a hash,
//! `conditions: {}`, `extensions/v1beta1` ReplicaSets, missing status).

pub mod health;
pub mod view;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use super::pod::ConditionWire;
use super::store::Keyed;
use super::wire::{LenientVec, MetaWire, WireTime, slim_resource, watch_meta};

pub use view::{BoardRow, CanaryView, Phase, RevisionRole, RevisionView, StepMark};

pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
pub const REVISION: &str = "rollout.argoproj.io/revision";
pub const WORKLOAD_GENERATION: &str = "rollout.argoproj.io/workload-generation";

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    SetWeight(u32),
    /// Seconds, or None to pause until promoted.
    Pause(Option<i64>),
    SetCanaryScale(String),
    /// analysis, experiment, setHeaderRoute, … shown by name only.
    Other(String),
}

impl Step {
    pub fn label(&self) -> String {
        match self {
            Step::SetWeight(w) => format!("setWeight {w}"),
            Step::Pause(Some(s)) if *s >= 60 && s % 60 == 0 => format!("pause {}m", s / 60),
            Step::Pause(Some(s)) => format!("pause {}", crate::domain::format::duration(*s)),
            Step::Pause(None) => "pause ∞".into(),
            Step::SetCanaryScale(s) => format!("setCanaryScale {s}"),
            Step::Other(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PauseCondition {
    pub reason: String,
    pub start: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Canary,
    BlueGreen,
}

/// One Rollout as the canary pane sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutRow {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: Option<i64>,
    /// A string on the wire: numeric text, or a pod hash in objects of Argo ≤ 0.9.
    pub observed_generation: Option<String>,
    pub replicas: u32,
    pub strategy: Strategy,
    pub steps: Vec<Step>,
    pub traffic_routing: bool,
    pub paused: bool,
    /// `name=image` of the spec's containers, in order.
    pub images: Vec<(String, String)>,
    pub phase: Option<String>,
    pub message: Option<String>,
    pub current_pod_hash: Option<String>,
    /// `status.stableRS`, or before Argo Rollouts v0.8 `status.canary.stableRS`.
    pub stable_rs: Option<String>,
    /// `spec.restartAt` and `status.restartedAt`: a restart asked and not yet done.
    pub restart_at: Option<Timestamp>,
    pub restarted_at: Option<Timestamp>,
    /// The template comes from a Deployment (`spec.workloadRef`), whose generation the
    /// controller records as seen.
    pub workload_ref: bool,
    /// `rollout.argoproj.io/workload-generation` and `status.workloadObservedGeneration`.
    pub workload_generation: Option<i64>,
    pub workload_observed_generation: Option<String>,
    /// A blue-green post-promotion analysis is configured, and whether its run completed.
    pub post_promotion_analysis: bool,
    pub post_promotion_completed: bool,
    /// `metadata.deletionTimestamp`: the Rollout is going away.
    pub deleting: bool,
    /// Whether the object has a status at all (a new Rollout has none yet).
    pub has_status: bool,
    pub step_index: Option<u32>,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub abort: bool,
    pub aborted_at: Option<Timestamp>,
    pub promote_full: bool,
    pub status_replicas: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
    /// `status.canary.weights`: (canary, stable).
    pub weights: Option<(u32, u32)>,
    pub active_selector: Option<String>,
    pub preview_selector: Option<String>,
    /// (type, status, reason, message) of the conditions.
    pub conditions: Vec<(String, String, String, String)>,
}

impl RolloutRow {
    /// `stableRS == currentPodHash`, the plugin's "fully promoted".
    pub fn fully_promoted(&self) -> bool {
        self.current_pod_hash.is_some() && self.stable_rs == self.current_pod_hash
    }

    pub fn image(&self) -> Option<&str> {
        self.images.first().map(|(_, i)| i.as_str())
    }

    /// Whether promote makes sense: a pause condition or a manual pause.
    pub fn is_paused(&self) -> bool {
        self.paused || !self.pause_conditions.is_empty()
    }

    pub fn can_promote(&self) -> bool {
        self.is_paused() && !self.abort
    }

    /// An abort of an invalid spec changes nothing: the controller acts on no step until
    /// the spec is fixed.
    pub fn can_abort(&self) -> bool {
        !self.fully_promoted() && !self.abort && !self.invalid_spec()
    }

    /// The controller refused the spec (`InvalidSpec` condition).
    pub fn invalid_spec(&self) -> bool {
        self.conditions.iter().any(|(ty, ..)| ty == "InvalidSpec")
    }

    pub fn can_retry(&self) -> bool {
        self.abort
    }
}

impl RolloutRow {
    /// The Rollout's state as a workload: Argo CD's health of it (which reads pre-v0.8
    /// objects and referenced workloads too), with the plugin's message when it failed
    /// (it names the reason: `RolloutAborted: …`).
    fn workload_phase(&self) -> (view::Phase, String) {
        use health::ArgoHealth;
        let (health, message) = health::argocd_health(self);
        let phase = match health {
            ArgoHealth::Healthy => view::Phase::Healthy,
            ArgoHealth::Suspended => view::Phase::Paused,
            ArgoHealth::Degraded => view::Phase::Degraded,
            ArgoHealth::Progressing => view::Phase::Progressing,
            ArgoHealth::Unknown => view::Phase::Unknown,
        };
        match view::phase(self) {
            (view::Phase::Degraded, named) if phase == view::Phase::Degraded => (phase, named),
            _ => (phase, message),
        }
    }

    /// The image of this Rollout's stable ReplicaSet, among `replicasets`.
    pub fn stable_image<'a>(
        &self,
        replicasets: impl IntoIterator<Item = &'a ReplicaSetRow>,
    ) -> Option<&'a str> {
        let stable = self.stable_rs.as_deref()?;
        replicasets
            .into_iter()
            .find(|rs| {
                rs.hash.as_deref() == Some(stable)
                    && rs
                        .owner
                        .as_ref()
                        .is_some_and(|(k, n)| k == "Rollout" && *n == self.name)
            })
            .and_then(|rs| rs.image.as_deref())
    }
}

impl Keyed for RolloutRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

/// What the Rollout watcher decodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RolloutWire")]
pub struct WatchedRollout {
    pub meta: ObjectMeta,
    pub row: RolloutRow,
}

slim_resource!(
    WatchedRollout,
    "Rollout",
    "argoproj.io",
    "v1alpha1",
    "rollouts"
);

#[derive(Deserialize)]
struct RolloutWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default)]
    status: Option<StatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StatusWire {
    phase: Option<String>,
    message: Option<String>,
    observed_generation: Option<Value>,
    current_pod_hash: Option<String>,
    #[serde(rename = "stableRS")]
    stable_rs: Option<String>,
    restarted_at: WireTime,
    workload_observed_generation: Option<Value>,
    current_step_index: Option<i64>,
    pause_conditions: LenientVec<PauseWire>,
    controller_pause: Option<bool>,
    abort: Option<bool>,
    aborted_at: WireTime,
    promote_full: Option<bool>,
    replicas: Option<i64>,
    updated_replicas: Option<i64>,
    ready_replicas: Option<i64>,
    available_replicas: Option<i64>,
    canary: Option<Value>,
    blue_green: Option<Value>,
    conditions: LenientVec<ConditionWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PauseWire {
    reason: String,
    start_time: WireTime,
}

fn count(v: Option<i64>) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Pause durations as Argo reads them: seconds, numeric text, or a Go duration.
fn pause_secs(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let (mut total, mut num) = (0f64, String::new());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let ms = c == 'm' && chars.peek() == Some(&'s');
        if ms {
            chars.next();
        }
        let unit = match (c, ms) {
            ('h', _) => 3600.0,
            ('m', false) => 60.0,
            ('m', true) => 0.001,
            ('s', _) => 1.0,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * unit;
        num.clear();
    }
    (num.is_empty() && !s.is_empty()).then_some(total as i64)
}

fn step(v: &Value) -> Step {
    if let Some(w) = v.get("setWeight").and_then(Value::as_u64) {
        return Step::SetWeight(w.min(100) as u32);
    }
    if let Some(p) = v.get("pause") {
        return Step::Pause(p.get("duration").and_then(pause_secs));
    }
    if let Some(cs) = v.get("setCanaryScale") {
        let what = if let Some(r) = cs.get("replicas").and_then(Value::as_u64) {
            format!("{r} pods")
        } else if let Some(w) = cs.get("weight").and_then(Value::as_u64) {
            format!("{w}%")
        } else {
            "match traffic".into()
        };
        return Step::SetCanaryScale(what);
    }
    let name = v
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .unwrap_or_else(|| "step".into());
    Step::Other(name)
}

impl From<RolloutWire> for WatchedRollout {
    fn from(w: RolloutWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let spec = w.spec.unwrap_or(Value::Null);
        let has_status = w.status.is_some();
        let st = w.status.unwrap_or_default();
        let strategy = if spec
            .pointer("/strategy/blueGreen")
            .is_some_and(Value::is_object)
        {
            Strategy::BlueGreen
        } else {
            Strategy::Canary
        };
        let canary = spec.pointer("/strategy/canary");
        let steps = canary
            .and_then(|c| c.get("steps"))
            .and_then(Value::as_array)
            .map(|a| a.iter().map(step).collect())
            .unwrap_or_default();
        let images = spec
            .pointer("/template/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                        (s("name"), s("image"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let weights = st.canary.as_ref().and_then(|c| {
            let w = c.get("weights")?;
            let get = |k: &str| w.pointer(&format!("/{k}/weight")).and_then(Value::as_u64);
            Some((get("canary")? as u32, get("stable").unwrap_or(0) as u32))
        });
        // Before v0.8 the stable ReplicaSet was recorded under status.canary.
        let stable_rs = st.stable_rs.filter(|s| !s.is_empty()).or_else(|| {
            st.canary
                .as_ref()
                .and_then(|c| c.get("stableRS"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        });
        let post_promotion_completed = st
            .blue_green
            .as_ref()
            .and_then(|b| b.pointer("/postPromotionAnalysisRunStatus/status"))
            .and_then(Value::as_str)
            .is_some_and(|s| matches!(s, "Successful" | "Failed" | "Error" | "Inconclusive"));
        let bg = st.blue_green.unwrap_or(Value::Null);
        let selector = |k: &str| bg.get(k).and_then(Value::as_str).map(str::to_owned);
        let row = RolloutRow {
            name: w.metadata.name.unwrap_or_default(),
            namespace: w.metadata.namespace.unwrap_or_default(),
            uid: w.metadata.uid.unwrap_or_default(),
            generation: w.metadata.generation,
            observed_generation: st.observed_generation.as_ref().and_then(text),
            replicas: spec.get("replicas").and_then(Value::as_u64).unwrap_or(1) as u32,
            strategy,
            steps,
            traffic_routing: canary
                .and_then(|c| c.get("trafficRouting"))
                .is_some_and(Value::is_object),
            paused: spec.get("paused").and_then(Value::as_bool).unwrap_or(false),
            images,
            phase: st.phase,
            message: st.message.filter(|m| !m.is_empty()),
            current_pod_hash: st.current_pod_hash,
            stable_rs,
            restart_at: spec
                .get("restartAt")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok()),
            restarted_at: st.restarted_at.0,
            workload_ref: spec.get("workloadRef").is_some_and(Value::is_object),
            workload_generation: w
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(WORKLOAD_GENERATION))
                .and_then(|g| g.parse().ok()),
            workload_observed_generation: st.workload_observed_generation.as_ref().and_then(text),
            post_promotion_analysis: spec
                .pointer("/strategy/blueGreen/postPromotionAnalysis")
                .is_some_and(Value::is_object),
            post_promotion_completed,
            deleting: w.metadata.deletion_timestamp.0.is_some(),
            has_status,
            step_index: st.current_step_index.and_then(|i| u32::try_from(i).ok()),
            pause_conditions: st
                .pause_conditions
                .0
                .into_iter()
                .map(|p| PauseCondition {
                    reason: p.reason,
                    start: p.start_time.0,
                })
                .collect(),
            controller_pause: st.controller_pause.unwrap_or(false),
            abort: st.abort.unwrap_or(false),
            aborted_at: st.aborted_at.0,
            promote_full: st.promote_full.unwrap_or(false),
            status_replicas: count(st.replicas),
            updated: count(st.updated_replicas),
            ready: count(st.ready_replicas),
            available: count(st.available_replicas),
            weights,
            active_selector: selector("activeSelector"),
            preview_selector: selector("previewSelector"),
            conditions: st
                .conditions
                .0
                .into_iter()
                .map(|c| {
                    (
                        c.type_,
                        c.status.unwrap_or_default(),
                        c.reason.unwrap_or_default(),
                        c.message.unwrap_or_default(),
                    )
                })
                .collect(),
        };
        WatchedRollout { meta, row }
    }
}

/// A ReplicaSet owned by a Rollout or a Deployment: its revision, hash and images, and
/// replica counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSetRow {
    pub name: String,
    pub namespace: String,
    /// The controlling owner (kind, name).
    pub owner: Option<(String, String)>,
    pub hash: Option<String>,
    pub revision: Option<u64>,
    pub image: Option<String>,
    /// Every container's image, in order.
    pub images: Vec<String>,
    /// The pod template and the annotations `kubectl rollout undo` copies back, kept only
    /// for ReplicaSets of Deployments (undo is planned from them for its preview; Rollout
    /// undo reads its ReplicaSet when it runs, and scale lists stay slim).
    pub undo: Option<UndoSource>,
    pub desired: u32,
    pub ready: u32,
    pub created: Option<Timestamp>,
}

/// What a Deployment undo takes from a ReplicaSet.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoSource {
    pub template: Value,
    /// The annotations that are not the Deployment controller's own bookkeeping.
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// Annotations `kubectl rollout undo` keeps from the Deployment rather than the
/// ReplicaSet (kubectl's `annotationsToSkip`).
pub const UNDO_SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

impl Keyed for ReplicaSetRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ReplicaSetWire")]
pub struct WatchedReplicaSet {
    pub meta: ObjectMeta,
    pub row: ReplicaSetRow,
}

slim_resource!(WatchedReplicaSet, "ReplicaSet", "apps", "v1", "replicasets");

#[derive(Deserialize)]
struct ReplicaSetWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default)]
    status: Option<Value>,
}

impl From<ReplicaSetWire> for WatchedReplicaSet {
    fn from(w: ReplicaSetWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let spec = w.spec.unwrap_or(Value::Null);
        let int = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0) as u32;
        let owner = w.metadata.controller();
        let images: Vec<String> = spec
            .pointer("/template/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let undo = owner
            .as_ref()
            .filter(|(kind, _)| kind == "Deployment")
            .and_then(|_| spec.get("template"))
            .map(|t| UndoSource {
                template: t.clone(),
                annotations: w
                    .metadata
                    .annotations
                    .iter()
                    .flatten()
                    .filter(|(k, _)| !UNDO_SKIPPED_ANNOTATIONS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        let row = ReplicaSetRow {
            owner,
            images,
            undo,
            hash: w
                .metadata
                .label(HASH_LABEL)
                .or_else(|| w.metadata.label("pod-template-hash"))
                .map(str::to_owned),
            revision: w
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| {
                    a.get(REVISION)
                        .or_else(|| a.get("deployment.kubernetes.io/revision"))
                })
                .and_then(|r| r.parse().ok()),
            image: spec
                .pointer("/template/spec/containers/0/image")
                .and_then(Value::as_str)
                .map(str::to_owned),
            desired: int(spec.get("replicas")),
            ready: int(w.status.as_ref().and_then(|s| s.get("readyReplicas"))),
            created: w.metadata.creation_timestamp.0,
            name: w.metadata.name.unwrap_or_default(),
            namespace: w.metadata.namespace.unwrap_or_default(),
        };
        WatchedReplicaSet { meta, row }
    }
}

/// What the Rollout and ReplicaSet watchers of one environment deliver.
// Moved through the channel once, like `EnvUpdate`: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RolloutUpdate {
    Rollouts(super::WatchUpdate<RolloutRow>),
    ReplicaSets(super::WatchUpdate<ReplicaSetRow>),
    AnalysisRuns(super::WatchUpdate<super::analysis::AnalysisRunRow>),
    Experiments(super::WatchUpdate<super::analysis::ExperimentRow>),
    /// A watch failed (no Argo Rollouts CRD in the cluster, a dropped connection, …).
    Error(String),
    /// The analysis watches failed: the canary pane goes on without analysis.
    AnalysisError(String),
}

impl RolloutRow {
    /// The Rollout as a workload row, so the environments pane and the policy checks read
    /// replicas, version and progress the same way as for a Deployment.
    ///
    /// `stable_image` is the image of the stable ReplicaSet: after an abort it is what
    /// runs, not the canary's image the spec still names.
    pub fn as_workload(&self, stable_image: Option<&str>) -> super::DeploymentRow {
        let cond =
            |ty: &str| {
                self.conditions.iter().find(|(t, ..)| t == ty).map(
                    |(_, status, reason, message)| super::deployment::Condition {
                        status: status.clone(),
                        reason: Some(reason.clone()),
                        message: Some(message.clone()),
                        last_update: None,
                    },
                )
            };
        let generation = self.generation.unwrap_or(0);
        super::DeploymentRow {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            uid: self.uid.clone(),
            app: None,
            generation,
            observed_generation: self
                .observed_generation
                .as_deref()
                .and_then(|g| g.parse().ok())
                .unwrap_or(generation),
            desired: self.replicas,
            replicas: self.status_replicas,
            updated: self.updated,
            ready: self.ready,
            available: self.available,
            paused: self.is_paused(),
            revision: None,
            image: if self.abort {
                stable_image.or(self.image()).map(str::to_owned)
            } else {
                self.image().map(str::to_owned)
            },
            // An InvalidSpec condition fails the Rollout before anything else (Argo's
            // phase rule 1), so it stands in for Progressing.
            progressing: cond("InvalidSpec")
                .map(|c| super::deployment::Condition {
                    reason: Some("InvalidSpec".into()),
                    ..c
                })
                .or_else(|| cond("Progressing")),
            available_condition: cond("Available"),
            created: None,
            rollout_phase: Some(self.workload_phase()),
        }
    }
}
