//! A Rollout's health as Argo CD assesses it (its `argoproj.io/Rollout` health check),
//! which is what the environments and releases panes show for a Rollout: the
//! controller's phase when it records one (v1.0+), else Argo CD's own rules for older
//! status.

use super::{RolloutRow, Strategy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgoHealth {
    Healthy,
    Progressing,
    Suspended,
    Degraded,
    Unknown,
}

impl ArgoHealth {
    pub fn label(self) -> &'static str {
        match self {
            ArgoHealth::Healthy => "Healthy",
            ArgoHealth::Progressing => "Progressing",
            ArgoHealth::Suspended => "Suspended",
            ArgoHealth::Degraded => "Degraded",
            ArgoHealth::Unknown => "Unknown",
        }
    }
}

/// Argo CD's health of a Rollout, and its message.
pub fn argocd_health(ro: &RolloutRow) -> (ArgoHealth, String) {
    use ArgoHealth::*;
    let unseen = "Waiting for rollout spec update to be observed";
    if !ro.has_status || !generation_observed(ro) || !workload_generation_observed(ro) {
        return (Progressing, unseen.into());
    }
    if let Some(phase) = ro.phase.as_deref() {
        let health = match phase {
            "Paused" => Suspended,
            "Healthy" => Healthy,
            "Progressing" => Progressing,
            "Degraded" => Degraded,
            _ => Unknown,
        };
        return (health, ro.message.clone().unwrap_or_default());
    }
    for (ty, _, reason, message) in &ro.conditions {
        let failed = ty == "InvalidSpec"
            || (ty == "Progressing"
                && matches!(
                    reason.as_str(),
                    "RolloutAborted" | "ProgressDeadlineExceeded"
                ));
        if failed {
            return (Degraded, message.clone());
        }
    }
    if !ro.pause_conditions.is_empty() || ro.paused {
        return (Suspended, "Rollout is paused".into());
    }
    if ro.current_pod_hash.is_none() {
        return (
            Progressing,
            "Waiting for rollout to finish: status has not been reconciled.".into(),
        );
    }
    if ro.updated < ro.replicas {
        return (
            Progressing,
            "Waiting for roll out to finish: More replicas need to be updated".into(),
        );
    }
    if ro.available < ro.updated {
        return (
            Progressing,
            "Waiting for roll out to finish: updated replicas are still becoming available".into(),
        );
    }
    let stable = ro.stable_rs.as_deref().unwrap_or("");
    let current = ro.current_pod_hash.as_deref().unwrap_or("");
    match ro.strategy {
        Strategy::BlueGreen => {
            if ro.active_selector.as_deref() != Some(current) {
                return (Progressing, "active service cutover pending".into());
            }
            // Blue-green objects from before v0.8 record no stable ReplicaSet.
            if !stable.is_empty() && stable != current {
                return (Progressing, "waiting for analysis to complete".into());
            }
        }
        Strategy::Canary => {
            if ro.status_replicas > ro.updated {
                return (
                    Progressing,
                    "Waiting for roll out to finish: old replicas are pending termination".into(),
                );
            }
            if stable.is_empty() || stable != current {
                return (Progressing, "Waiting for rollout to finish steps".into());
            }
        }
    }
    (Healthy, String::new())
}

/// Argo CD reads only a numeric observedGeneration, and one greater than the
/// generation as a v0.9 hash that happens to be all digits.
fn generation_observed(ro: &RolloutRow) -> bool {
    match ro
        .observed_generation
        .as_deref()
        .and_then(|o| o.parse::<i64>().ok())
    {
        None => true,
        Some(observed) => observed >= ro.generation.unwrap_or(0),
    }
}

/// For a Rollout templated from a Deployment: the generation in its annotation must be
/// the one the controller recorded (both absent counts as equal, as in Argo CD).
fn workload_generation_observed(ro: &RolloutRow) -> bool {
    if !ro.workload_ref {
        return true;
    }
    let observed = ro
        .workload_observed_generation
        .as_deref()
        .and_then(|o| o.parse::<i64>().ok());
    ro.workload_generation == observed
}
