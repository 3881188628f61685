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

/// Phase and message as `kubectl argo rollouts` shows them (`GetRolloutPhase`).
pub fn phase(ro: &RolloutRow) -> (Phase, String) {
    if let (Some(g), Some(Ok(o))) = (
        ro.generation,
        ro.observed_generation.as_deref().map(str::parse::<i64>),
    ) && g != o
    {
        return (
            Phase::Progressing,
            "waiting for rollout spec update to be observed".into(),
        );
    }
    if ro.controller_pause && ro.pause_conditions.is_empty() {
        return (Phase::Progressing, "waiting for rollout to unpause".into());
    }
    if let Some(p) = &ro.phase {
        return (Phase::parse(p), ro.message.clone().unwrap_or_default());
    }
    // Objects from before Argo 1.0 carry no phase: apply the controller's own rules.
    if let Some((_, _, r, m)) = ro
        .conditions
        .iter()
        .find(|(_, _, r, _)| r == "RolloutAborted" || r == "ProgressDeadlineExceeded")
    {
        return (Phase::Degraded, format!("{r}: {m}"));
    }
    if ro.is_paused() {
        return (
            Phase::Paused,
            ro.pause_conditions
                .first()
                .map(|p| p.reason.clone())
                .unwrap_or_else(|| "manually paused".into()),
        );
    }
    if ro.fully_promoted() && ro.available >= ro.replicas && ro.updated >= ro.replicas {
        return (Phase::Healthy, String::new());
    }
    (Phase::Progressing, String::new())
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
