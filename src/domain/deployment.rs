//! The Deployment row: replica counts, rollout progress and the image in use.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::pod::ConditionWire;
use super::wire::{LenientVec, MetaWire, slim_resource, watch_meta};

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRow {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub app: Option<String>,
    pub generation: i64,
    pub observed_generation: i64,
    pub desired: u32,
    pub replicas: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
    pub paused: bool,
    pub revision: Option<String>,
    pub image: Option<String>,
    pub progressing: Option<Condition>,
    pub available_condition: Option<Condition>,
    pub created: Option<Timestamp>,
    /// For a Rollout read as a workload: its health as Argo CD assesses it, and why,
    /// which replace the Deployment rules (an aborted canary is not "rolling").
    pub rollout_phase: Option<(super::rollout::view::Phase, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_update: Option<Timestamp>,
}

/// Where a Deployment's rollout stands, by the rules `kubectl rollout status` uses, with
/// the two cases it only "waits" on told apart: availability still coming during a
/// rollout, and availability lost after the rollout had completed (nothing will bring
/// it back). A Rollout (as `RolloutRow::as_workload`) reads the same way, with Argo
/// Rollouts' own failure reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    Complete,
    /// More replicas to update, old ones still to go, or the spec not yet observed.
    Progressing {
        updated: u32,
        desired: u32,
    },
    /// Every replica updated, some not available yet, and the rollout still within its
    /// deadline.
    BecomingAvailable {
        available: u32,
        updated: u32,
    },
    /// The rollout had completed (Progressing=NewReplicaSetAvailable) and pods were lost
    /// since: the controller no longer counts a deadline, so kubectl would wait forever.
    Unavailable {
        available: u32,
        updated: u32,
    },
    Paused,
    /// The controller gave up: progress deadline exceeded (or, for a Rollout, aborted or
    /// an invalid spec). The message is `<reason>: <condition message>`.
    Stalled {
        message: String,
    },
}

/// Progressing=False reasons that mean failure: kubectl's one, then Argo Rollouts'.
const FAILED_REASONS: &[&str] = &["ProgressDeadlineExceeded", "RolloutAborted", "InvalidSpec"];

impl DeploymentRow {
    pub fn rollout_state(&self) -> RolloutState {
        let progressing = RolloutState::Progressing {
            updated: self.updated,
            desired: self.desired,
        };
        if let Some((phase, message)) = &self.rollout_phase {
            use super::rollout::view::Phase;
            return match phase {
                Phase::Healthy => RolloutState::Complete,
                Phase::Paused => RolloutState::Paused,
                Phase::Degraded => RolloutState::Stalled {
                    message: message.clone(),
                },
                Phase::Progressing | Phase::Unknown => progressing,
            };
        }
        // kubectl reads nothing else until the controller has seen the spec.
        if self.observed_generation < self.generation {
            return progressing;
        }
        if let Some(p) = &self.progressing
            && let Some(reason) = p.reason.as_deref()
            && FAILED_REASONS.contains(&reason)
        {
            let message = match p.message.as_deref() {
                Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                _ => reason.to_owned(),
            };
            return RolloutState::Stalled { message };
        }
        if self.paused {
            return RolloutState::Paused;
        }
        if self.updated < self.desired || self.replicas > self.updated {
            return progressing;
        }
        if self.available < self.updated {
            let completed = self
                .progressing
                .as_ref()
                .is_some_and(|p| p.reason.as_deref() == Some("NewReplicaSetAvailable"));
            return if completed {
                RolloutState::Unavailable {
                    available: self.available,
                    updated: self.updated,
                }
            } else {
                RolloutState::BecomingAvailable {
                    available: self.available,
                    updated: self.updated,
                }
            };
        }
        RolloutState::Complete
    }

    /// The image tag, which is what people call a version.
    pub fn version(&self) -> Option<&str> {
        image_tag(self.image.as_deref()?)
    }
}

/// `registry/repo:tag` → `tag`; digests and untagged images give None.
pub fn image_tag(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    (!tag.is_empty()).then_some(tag)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "DeploymentWire")]
pub struct WatchedDeployment {
    pub meta: ObjectMeta,
    pub row: DeploymentRow,
}

slim_resource!(WatchedDeployment, "Deployment", "apps", "v1", "deployments");

#[derive(Deserialize)]
struct DeploymentWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<DeploymentSpecWire>,
    #[serde(default)]
    status: Option<DeploymentStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DeploymentSpecWire {
    replicas: Option<u32>,
    paused: bool,
    template: Option<TemplateWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TemplateWire {
    spec: Option<TemplateSpecWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TemplateSpecWire {
    containers: LenientVec<ImageWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ImageWire {
    image: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DeploymentStatusWire {
    observed_generation: Option<i64>,
    replicas: Option<u32>,
    updated_replicas: Option<u32>,
    ready_replicas: Option<u32>,
    available_replicas: Option<u32>,
    conditions: LenientVec<ConditionWire>,
}

fn condition(conditions: &[ConditionWire], type_: &str) -> Option<Condition> {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| Condition {
            status: c.status.clone().unwrap_or_else(|| "Unknown".into()),
            reason: c.reason.clone(),
            message: c.message.clone(),
            last_update: c.last_update_time.0.or(c.last_transition_time.0),
        })
}

impl From<DeploymentWire> for WatchedDeployment {
    fn from(wire: DeploymentWire) -> Self {
        let meta = watch_meta(&wire.metadata);
        let spec = wire.spec.unwrap_or_default();
        let status = wire.status.unwrap_or_default();
        let image = spec
            .template
            .and_then(|t| t.spec)
            .and_then(|s| s.containers.0.into_iter().next())
            .and_then(|c| c.image);
        let row = DeploymentRow {
            app: wire.metadata.app_label(),
            revision: wire
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision").cloned()),
            name: wire.metadata.name.unwrap_or_default(),
            namespace: wire.metadata.namespace.unwrap_or_default(),
            uid: wire.metadata.uid.unwrap_or_default(),
            generation: wire.metadata.generation.unwrap_or(0),
            observed_generation: status.observed_generation.unwrap_or(0),
            desired: spec.replicas.unwrap_or(1),
            replicas: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
            paused: spec.paused,
            image,
            progressing: condition(&status.conditions.0, "Progressing"),
            available_condition: condition(&status.conditions.0, "Available"),
            created: wire.metadata.creation_timestamp.0,
            rollout_phase: None,
        };
        WatchedDeployment { meta, row }
    }
}
