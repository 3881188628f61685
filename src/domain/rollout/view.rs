//! The canary pane's view of one Rollout, derived from its row, the environment's
//! ReplicaSets and pods, and `now`: phase as the kubectl plugin shows it, the step list,
//! set vs actual weight, the pause countdown, revisions with pods ready, canary restarts
//! and the reason a canary is failing. Pure, so it is tested against the real fixtures.

use std::collections::VecDeque;

use jiff::Timestamp;

use super::{ReplicaSetRow, RolloutRow, Step, Strategy};
use crate::domain::PodRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Healthy,
    Progressing,
    Paused,
    Degraded,
    Unknown,
}

impl Phase {
    pub fn parse(s: &str) -> Phase {
        match s {
            "Healthy" => Phase::Healthy,
            "Progressing" => Phase::Progressing,
            "Paused" => Phase::Paused,
            "Degraded" => Phase::Degraded,
            _ => Phase::Unknown,
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            Phase::Healthy => "✔",
            Phase::Progressing => "◐",
            Phase::Paused => "॥",
            Phase::Degraded => "✖",
            Phase::Unknown => "?",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Healthy => "Healthy",
            Phase::Progressing => "Progressing",
            Phase::Paused => "Paused",
            Phase::Degraded => "Degraded",
            Phase::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMark {
    Done,
    Current,
    Todo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionRole {
    Canary,
    Stable,
    Old,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RevisionView {
    pub revision: Option<u64>,
    pub hash: String,
    pub image: Option<String>,
    pub role: RevisionRole,
    pub desired: u32,
    pub pods: u32,
    pub ready: u32,
    pub restarts: u32,
    /// When its ReplicaSet was created: when this version's first pod was.
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CanaryView {
    pub name: String,
    pub strategy: Strategy,
    pub phase: Phase,
    pub message: String,
    pub aborted: bool,
    pub fully_promoted: bool,
    /// (1-based current step, number of steps); None without steps.
    pub step: Option<(usize, usize)>,
    pub steps: Vec<(String, StepMark)>,
    pub set_weight: u32,
    pub actual_weight: u32,
    /// Pause reason and seconds left (None: until promoted).
    pub pause: Option<(String, Option<i64>)>,
    pub next: Option<String>,
    pub stable_image: Option<String>,
    pub canary_image: Option<String>,
    pub revisions: Vec<RevisionView>,
    pub canary_ready: u32,
    pub canary_pods: u32,
    pub canary_restarts: u32,
    /// Why the canary pods fail (a container's waiting reason), if they do.
    pub failing: Option<String>,
    pub can_promote: bool,
    pub can_abort: bool,
    pub can_retry: bool,
}

impl CanaryView {
    /// The pane turns red: degraded, or canary pods restarting or failing.
    pub fn alarm(&self) -> bool {
        self.phase == Phase::Degraded || self.canary_restarts > 0 || self.failing.is_some()
    }
}

/// Phase and message as `kubectl argo rollouts` shows them: Argo Rollouts'
/// `GetRolloutPhase`, then the controller's `CalculateRolloutPhase` for objects from
/// before v1.0, which carry no phase.
pub fn phase(ro: &RolloutRow) -> (Phase, String) {
    if !generation_observed(ro) {
        return (
            Phase::Progressing,
            "waiting for rollout spec update to be observed".into(),
        );
    }
    // Pause conditions cleared by the user, not yet seen by the controller.
    if ro.controller_pause && ro.pause_conditions.is_empty() {
        return (Phase::Progressing, "waiting for rollout to unpause".into());
    }
    if ro.workload_ref && !workload_generation_observed(ro) {
        return (
            Phase::Progressing,
            "waiting for rollout spec update to be observed for the reference workload".into(),
        );
    }
    if let Some(p) = ro.phase.as_deref().filter(|p| !p.is_empty()) {
        return (Phase::parse(p), ro.message.clone().unwrap_or_default());
    }
    calculate_phase(ro)
}

/// Upstream's `isGenerationObserved`: only a numeric observedGeneration (v0.10+) can
/// say the spec is unseen. A v0.9 hash, or one greater than the generation (a v0.9 hash
/// that happens to be all digits), counts as observed.
pub fn generation_observed(ro: &RolloutRow) -> bool {
    let (Some(generation), Some(observed)) = (
        ro.generation,
        ro.observed_generation
            .as_deref()
            .and_then(|o| o.parse::<i64>().ok()),
    ) else {
        return true;
    };
    observed >= generation
}

/// Upstream's `isWorkloadGenerationObserved`, for a Rollout whose template comes from a
/// Deployment (`workloadRef`): without both numbers, it counts as observed.
pub fn workload_generation_observed(ro: &RolloutRow) -> bool {
    match (
        ro.workload_generation,
        ro.workload_observed_generation
            .as_deref()
            .and_then(|o| o.parse::<i64>().ok()),
    ) {
        (Some(generation), Some(observed)) => generation == observed,
        _ => true,
    }
}

/// The controller's `CalculateRolloutPhase`, for status written before v1.0.
fn calculate_phase(ro: &RolloutRow) -> (Phase, String) {
    for (ty, _, reason, message) in &ro.conditions {
        if ty == "InvalidSpec" {
            return (Phase::Degraded, format!("InvalidSpec: {message}"));
        }
        if reason == "RolloutAborted" || reason == "ProgressDeadlineExceeded" {
            return (Phase::Degraded, format!("{reason}: {message}"));
        }
    }
    if ro.paused {
        return (Phase::Paused, "manually paused".into());
    }
    if let Some(p) = ro.pause_conditions.first() {
        return (Phase::Paused, p.reason.clone());
    }
    if ro.restart_at.is_some() && ro.restart_at != ro.restarted_at {
        return (Phase::Progressing, "rollout is restarting".into());
    }
    if ro.updated < ro.replicas {
        return (
            Phase::Progressing,
            "more replicas need to be updated".into(),
        );
    }
    if ro.available < ro.updated {
        return (
            Phase::Progressing,
            "updated replicas are still becoming available".into(),
        );
    }
    let promoted = ro.stable_rs.is_some() && ro.fully_promoted();
    match ro.strategy {
        Strategy::BlueGreen => {
            if ro.active_selector.is_none() || ro.active_selector != ro.current_pod_hash {
                return (Phase::Progressing, "active service cutover pending".into());
            }
            if !promoted {
                let waiting = if ro.post_promotion_analysis && !ro.post_promotion_completed {
                    "waiting for analysis to complete"
                } else {
                    "waiting for post-promotion verification to complete"
                };
                return (Phase::Progressing, waiting.into());
            }
        }
        Strategy::Canary => {
            if !ro.traffic_routing && ro.status_replicas > ro.updated {
                return (
                    Phase::Progressing,
                    "old replicas are pending termination".into(),
                );
            }
            if !promoted {
                return (
                    Phase::Progressing,
                    "waiting for all steps to complete".into(),
                );
            }
        }
    }
    (Phase::Healthy, String::new())
}

/// The weight the steps up to `idx` set (100 once all are done).
fn set_weight(steps: &[Step], idx: usize) -> u32 {
    if idx >= steps.len() {
        return 100;
    }
    steps[..=idx]
        .iter()
        .filter_map(|s| match s {
            Step::SetWeight(w) => Some(*w),
            _ => None,
        })
        .next_back()
        .unwrap_or(0)
}

pub fn canary_view(
    ro: &RolloutRow,
    replicasets: &[&ReplicaSetRow],
    pods: &[&PodRow],
    now: Timestamp,
) -> CanaryView {
    let (phase, message) = phase(ro);
    let n = ro.steps.len();
    let promoted = ro.fully_promoted();
    let idx = if promoted {
        n
    } else {
        (ro.step_index.unwrap_or(0) as usize).min(n)
    };
    let steps = ro
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mark = match i.cmp(&idx) {
                std::cmp::Ordering::Less => StepMark::Done,
                std::cmp::Ordering::Equal => StepMark::Current,
                std::cmp::Ordering::Greater => StepMark::Todo,
            };
            (s.label(), mark)
        })
        .collect();
    let current = ro.current_pod_hash.as_deref().unwrap_or("");
    let stable = ro.stable_rs.as_deref().unwrap_or("");
    let mut revisions: Vec<RevisionView> = replicasets
        .iter()
        .filter_map(|rs| {
            let hash = rs.hash.clone()?;
            let mine: Vec<&&PodRow> = pods
                .iter()
                .filter(|p| p.template_hash.as_deref() == Some(hash.as_str()))
                .collect();
            let role = if hash == stable {
                RevisionRole::Stable
            } else if hash == current {
                RevisionRole::Canary
            } else {
                RevisionRole::Old
            };
            Some(RevisionView {
                revision: rs.revision,
                image: rs.image.clone(),
                role,
                desired: rs.desired,
                pods: mine.len() as u32,
                ready: mine.iter().filter(|p| p.is_ready()).count() as u32,
                restarts: mine.iter().map(|p| p.restarts).sum(),
                created: rs.created,
                hash,
            })
        })
        .collect();
    revisions.sort_by(|a, b| b.revision.cmp(&a.revision).then(a.hash.cmp(&b.hash)));
    let canary_pods: Vec<&&PodRow> = if promoted {
        Vec::new()
    } else {
        pods.iter()
            .filter(|p| p.template_hash.as_deref() == Some(current))
            .collect()
    };
    let canary_ready = canary_pods.iter().filter(|p| p.is_ready()).count() as u32;
    let image_of = |hash: &str| {
        revisions
            .iter()
            .find(|r| r.hash == hash)
            .and_then(|r| r.image.clone())
            .or_else(|| {
                pods.iter()
                    .find(|p| p.template_hash.as_deref() == Some(hash))
                    .and_then(|p| p.image.clone())
            })
    };
    let failing = canary_pods
        .iter()
        .filter_map(|p| p.reason.as_deref())
        .find(|r| !matches!(*r, "ContainerCreating" | "PodInitializing" | "Completed"))
        .map(str::to_owned);
    let set = if promoted || ro.abort {
        0
    } else {
        set_weight(&ro.steps, idx)
    };
    let actual = match (ro.weights, promoted) {
        (_, true) => 0,
        (Some((c, _)), _) => c,
        (None, _) => {
            let total = pods.iter().filter(|p| p.is_ready()).count() as u32;
            (canary_ready * 100).checked_div(total).unwrap_or(0)
        }
    };
    let pause = ro
        .pause_conditions
        .first()
        .map(|p| {
            let left = match (ro.steps.get(idx), p.start) {
                (Some(Step::Pause(Some(d))), Some(start)) if p.reason == "CanaryPauseStep" => {
                    Some((*d - now.duration_since(start).as_secs()).max(0))
                }
                _ => None,
            };
            (p.reason.clone(), left)
        })
        .or_else(|| ro.paused.then(|| ("manually paused".to_owned(), None)));
    CanaryView {
        name: ro.name.clone(),
        strategy: ro.strategy,
        phase,
        message,
        aborted: ro.abort,
        fully_promoted: promoted,
        step: (n > 0).then(|| ((idx + 1).min(n), n)),
        steps,
        set_weight: set,
        actual_weight: actual,
        pause,
        next: ro.steps.get(idx + 1).map(Step::label),
        stable_image: image_of(stable),
        canary_image: if promoted {
            None
        } else {
            image_of(current).or_else(|| ro.image().map(str::to_owned))
        },
        revisions,
        canary_ready,
        canary_pods: canary_pods.len() as u32,
        canary_restarts: canary_pods.iter().map(|p| p.restarts).sum(),
        failing,
        can_promote: ro.can_promote(),
        can_abort: ro.can_abort(),
        can_retry: ro.can_retry(),
    }
}

/// One point of the canary chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: Timestamp,
    pub weight: u8,
    /// Canary pods ready, in percent of the canary pods there are (100 with none).
    pub ready: u8,
}

/// Samples of the last minutes, oldest first, bounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History(pub VecDeque<Sample>);

impl History {
    pub const CAP: usize = 90;
    /// Seconds between samples.
    pub const EVERY: i64 = 10;

    /// Adds a sample unless the last one is too recent. Returns whether it did.
    pub fn sample(&mut self, view: &CanaryView, at: Timestamp) -> bool {
        if self
            .0
            .back()
            .is_some_and(|s| at.duration_since(s.at).as_secs() < Self::EVERY)
        {
            return false;
        }
        let ready = (view.canary_ready * 100)
            .checked_div(view.canary_pods)
            .unwrap_or(100);
        self.0.push_back(Sample {
            at,
            weight: view.actual_weight.min(100) as u8,
            ready: ready.min(100) as u8,
        });
        while self.0.len() > Self::CAP {
            self.0.pop_front();
        }
        true
    }
}

/// One line of the board of all Rollouts across environments.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub env: String,
    pub name: String,
    pub phase: Phase,
    pub step: Option<(usize, usize)>,
    pub weight: u32,
    /// Waiting for a promote: seconds left in a timed pause, or None until promoted.
    pub waiting: Option<Option<i64>>,
}

impl BoardRow {
    pub fn from_view(env: &str, v: &CanaryView) -> BoardRow {
        BoardRow {
            env: env.to_owned(),
            name: v.name.clone(),
            phase: v.phase,
            step: v.step,
            weight: v.actual_weight,
            waiting: v.pause.as_ref().map(|(_, left)| *left),
        }
    }
}
