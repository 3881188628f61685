//! The pod row: the few fields the pods pane shows, decoded straight from the wire.
//!
//! Pods are the high-cardinality kind (50,000 in the scale scenario), so they are never
//! held as full objects: `WatchedPod` is what the kube-rs watcher decodes, and it is
//! turned into a `PodRow` of well under a kilobyte at once.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::wire::{
    LenientVec, MetaWire, WireTime, lenient_bool, lenient_u32, slim_resource, watch_meta,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    fn parse(s: Option<&str>) -> PodPhase {
        match s {
            Some("Pending") => PodPhase::Pending,
            Some("Running") => PodPhase::Running,
            Some("Succeeded") => PodPhase::Succeeded,
            Some("Failed") => PodPhase::Failed,
            _ => PodPhase::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }
}

/// One pod as the pods pane sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRow {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// The service (app label) the pod belongs to.
    pub app: Option<String>,
    /// The controlling owner, e.g. ("ReplicaSet", "metadata-catalog-5c4b9f7d8").
    pub owner: Option<(String, String)>,
    pub template_hash: Option<String>,
    pub node: Option<String>,
    pub phase: PodPhase,
    /// What `kubectl get pods` shows in STATUS when it is not the phase:
    /// a container's waiting/terminated reason, or the pod's own reason.
    pub reason: Option<String>,
    pub ready: u16,
    pub containers: u16,
    pub restarts: u32,
    pub created: Option<Timestamp>,
    pub deleting: bool,
    pub image: Option<String>,
    /// When the first container started running (for the readiness countdown).
    pub started: Option<Timestamp>,
    /// The readiness probe's initial delay, if the first container has a probe.
    pub readiness_delay: Option<u32>,
    /// When the Ready condition last changed.
    pub ready_since: Option<Timestamp>,
}

impl PodRow {
    pub fn is_ready(&self) -> bool {
        !self.deleting && self.containers > 0 && self.ready == self.containers
    }

    /// The Deployment that owns this pod through its ReplicaSet, derived from names
    /// (`<deployment>-<pod-template-hash>`), so ReplicaSets need not be watched.
    pub fn deployment(&self) -> Option<&str> {
        let (kind, rs) = self.owner.as_ref()?;
        if kind != "ReplicaSet" {
            return None;
        }
        let hash = self.template_hash.as_deref()?;
        rs.strip_suffix(hash)?.strip_suffix('-')
    }

    /// STATUS as `kubectl get pods` prints it.
    pub fn status_text(&self) -> &str {
        if self.deleting {
            return "Terminating";
        }
        self.reason.as_deref().unwrap_or(self.phase.as_str())
    }

    /// Readiness as an on-call engineer reads it, at `now`.
    pub fn probe(&self, now: Timestamp) -> Probe {
        if self.deleting {
            return Probe::Terminating;
        }
        if self.is_ready() {
            return Probe::Ready;
        }
        match (self.phase, self.started, self.readiness_delay) {
            (PodPhase::Running, Some(started), Some(delay)) => {
                let elapsed = now.duration_since(started).as_secs().max(0) as u64;
                if elapsed < u64::from(delay) {
                    Probe::InitialDelay {
                        remaining_secs: u64::from(delay) - elapsed,
                    }
                } else {
                    Probe::Failing
                }
            }
            (PodPhase::Running, _, _) => Probe::Failing,
            (PodPhase::Succeeded, _, _) => Probe::Completed,
            // A Failed pod will not start again: its containers ended (evicted, OOM, a
            // Job's pod that failed); no probe is coming.
            (PodPhase::Failed, _, _) => Probe::Failed,
            _ => Probe::NotStarted,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Ready,
    InitialDelay {
        remaining_secs: u64,
    },
    Failing,
    NotStarted,
    Completed,
    /// The pod failed for good (phase Failed).
    Failed,
    Terminating,
}

/// What the pod watcher decodes: the row plus the resourceVersion the watcher needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "PodWire")]
pub struct WatchedPod {
    pub meta: ObjectMeta,
    pub row: PodRow,
}

slim_resource!(WatchedPod, "Pod", "", "v1", "pods");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<PodSpecWire>,
    #[serde(default)]
    status: Option<PodStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodSpecWire {
    node_name: Option<String>,
    containers: LenientVec<ContainerWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ContainerWire {
    image: Option<String>,
    readiness_probe: Option<ProbeWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProbeWire {
    initial_delay_seconds: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodStatusWire {
    phase: Option<String>,
    reason: Option<String>,
    conditions: LenientVec<PodConditionWire>,
    container_statuses: LenientVec<ContainerStatusWire>,
}

/// A pod condition as the row needs it: only whether it is Ready, and since when.
/// Pods carry four conditions each and 50,000 pods are decoded at start, so their type
/// is matched without allocating and the texts the row never shows are skipped.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodConditionWire {
    #[serde(rename = "type")]
    is_ready: IsReady,
    last_transition_time: WireTime,
}

/// Whether a condition's type is `Ready`; anything else (or not a string) is not.
#[derive(Default)]
struct IsReady(bool);

impl<'a> Deserialize<'a> for IsReady {
    fn deserialize<D: serde::Deserializer<'a>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IsReady;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a condition type")
            }
            fn visit_str<E>(self, s: &str) -> Result<IsReady, E> {
                Ok(IsReady(s == "Ready"))
            }
            fn visit_unit<E>(self) -> Result<IsReady, E> {
                Ok(IsReady(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<IsReady, E> {
                Ok(IsReady(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<IsReady, E> {
                Ok(IsReady(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<IsReady, E> {
                Ok(IsReady(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<IsReady, E> {
                Ok(IsReady(false))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<IsReady, A::Error> {
                while m
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(IsReady(false))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut q: A,
            ) -> Result<IsReady, A::Error> {
                while q.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(IsReady(false))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ConditionWire {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: WireTime,
    pub last_update_time: WireTime,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ContainerStatusWire {
    #[serde(deserialize_with = "lenient_bool")]
    ready: bool,
    #[serde(deserialize_with = "lenient_u32")]
    restart_count: u32,
    state: Option<ContainerStateWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ContainerStateWire {
    waiting: Option<StateDetailWire>,
    running: Option<StateDetailWire>,
    terminated: Option<StateDetailWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StateDetailWire {
    reason: Option<String>,
    started_at: WireTime,
}

impl From<PodWire> for WatchedPod {
    fn from(wire: PodWire) -> Self {
        let meta = watch_meta(&wire.metadata);
        let spec = wire.spec.unwrap_or_default();
        let status = wire.status.unwrap_or_default();
        let statuses = &status.container_statuses.0;
        let containers = spec.containers.0.len().max(statuses.len());
        let ready = statuses.iter().filter(|s| s.ready).count();
        let restarts = statuses.iter().map(|s| s.restart_count).sum();
        // kubectl shows the first container's waiting/terminated reason over the phase.
        let container_reason = statuses.iter().find_map(|s| {
            let state = s.state.as_ref()?;
            state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .or_else(|| state.terminated.as_ref().and_then(|t| t.reason.clone()))
        });
        let started = statuses
            .iter()
            .find_map(|s| s.state.as_ref()?.running.as_ref()?.started_at.0);
        let first = spec.containers.0.first();
        let ready_since = status
            .conditions
            .0
            .iter()
            .find(|c| c.is_ready.0)
            .and_then(|c| c.last_transition_time.0);
        let row = PodRow {
            app: wire.metadata.app_label(),
            owner: wire.metadata.controller(),
            // Argo Rollouts labels its pods with its own hash key.
            template_hash: wire
                .metadata
                .label("pod-template-hash")
                .or_else(|| wire.metadata.label("rollouts-pod-template-hash"))
                .map(str::to_owned),
            name: wire.metadata.name.unwrap_or_default(),
            namespace: wire.metadata.namespace.unwrap_or_default(),
            uid: wire.metadata.uid.unwrap_or_default(),
            node: spec.node_name,
            phase: PodPhase::parse(status.phase.as_deref()),
            reason: container_reason.or(status.reason),
            ready: clamp_u16(ready),
            containers: clamp_u16(containers),
            restarts,
            created: wire.metadata.creation_timestamp.0,
            deleting: wire.metadata.deletion_timestamp.0.is_some(),
            image: first.and_then(|c| c.image.clone()),
            started,
            readiness_delay: first
                .and_then(|c| c.readiness_probe.as_ref())
                .map(|p| p.initial_delay_seconds.unwrap_or(0)),
            ready_since,
        };
        WatchedPod { meta, row }
    }
}

fn clamp_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
