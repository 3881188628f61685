//! Walking the production runbook for a release: steps in order, each done or skipped
//! (as marked in the release's shared ConfigMap, under `rb.<id>`), the first other one
//! current (its `done_when` check evaluated now: failing says why), the rest pending;
//! how long each took, and T-0 (when the first step of the T-0 phase was marked).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::config::{Environment, Runbook, RunbookStep};
use crate::domain::checklist::walk::{Facts, evaluate};
use crate::domain::checklist::{Evaluation, Mark, Release, Verdict};

/// The key a step's mark is kept under in the release's ConfigMap.
pub fn mark_key(step: &str) -> String {
    format!("rb.{step}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    Skipped,
    /// The step to do now.
    Current,
    /// The current step's check says it is not done, with why.
    Failed,
    /// The current step was run and its check is not there yet, within its timeout.
    Waiting,
    Pending,
}

impl StepState {
    /// The mark in front of a step, readable without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            StepState::Done => "✔",
            StepState::Skipped => "↷",
            StepState::Current => "▸",
            StepState::Failed => "✖",
            StepState::Waiting => "◐",
            StepState::Pending => "·",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub phase: String,
    pub phase_title: String,
    pub at: SignedDuration,
    pub step: RunbookStep,
    pub state: StepState,
    /// The step's check, for the current step (and done ones, as it reads now).
    pub evaluation: Option<Evaluation>,
    pub mark: Option<Mark>,
    /// From the step before's mark to this one's.
    pub took: Option<SignedDuration>,
    /// What to run, the release filled in.
    pub run: Option<String>,
    /// When rollcall last ran it, and what came of it.
    pub last_run: Option<LastRun>,
}

/// When a step was run, and what came of it.
pub type LastRun = (Timestamp, Result<String, String>);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunbookProgress {
    pub done: usize,
    pub skipped: usize,
    pub total: usize,
    /// When the first T-0 step was marked.
    pub t0: Option<Timestamp>,
}

/// `{service}`, `{version}`, … filled in for the release in `env`.
pub fn fill(text: &str, release: &Release, environments: &[Environment], env: usize) -> String {
    let Some(here) = environments.get(env) else {
        return text.to_owned();
    };
    let app = |e: &Environment| {
        e.services
            .iter()
            .find(|s| s.name == release.service)
            .map(|s| s.argocd_app.clone())
            .unwrap_or_else(|| format!("{}-{}", release.service, e.name))
    };
    let upstream = env.checked_sub(1).and_then(|i| environments.get(i));
    let pairs = [
        ("{service}", release.service.clone()),
        ("{version}", release.version.clone()),
        ("{environment}", here.name.clone()),
        ("{namespace}", here.namespace.clone()),
        ("{app}", app(here)),
        (
            "{upstream}",
            upstream.map_or("-".into(), |e| e.name.clone()),
        ),
        ("{upstream_app}", upstream.map_or("-".into(), app)),
        (
            "{backup_cluster}",
            here.backup
                .as_ref()
                .map_or("-".into(), |b| b.cluster.clone()),
        ),
        (
            "{backup_namespace}",
            here.backup
                .as_ref()
                .map_or("-".into(), |b| b.namespace.clone()),
        ),
        (
            "{overlay}",
            here.gitops.as_ref().map_or("-".into(), |g| {
                g.kustomization(&here.name, &release.service)
                    .trim_end_matches("/kustomization.yaml")
                    .to_owned()
            }),
        ),
        (
            "{health_url}",
            here.monitoring
                .health_url
                .clone()
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    let mut out = text.to_owned();
    for (k, v) in pairs {
        out = out.replace(k, &v);
    }
    out
}

/// Every step of the runbook for `release` in `env`, and the counts.
pub fn walk(
    runbook: &Runbook,
    environments: &[Environment],
    env: usize,
    release: &Release,
    marks: &BTreeMap<String, Mark>,
    facts: &dyn Facts,
) -> (Vec<StepView>, RunbookProgress) {
    let mut progress = RunbookProgress::default();
    let mut out = Vec::new();
    let mut current_seen = false;
    let mut previous_at: Option<Timestamp> = None;
    for (phase, step) in runbook.steps() {
        progress.total += 1;
        let mark = marks.get(&mark_key(&step.id)).filter(|m| m.done).cloned();
        let t0 = progress.t0;
        let check = |s: &RunbookStep| {
            s.done_when
                .as_ref()
                .and_then(|c| evaluate(c, environments, env, release, t0, facts))
        };
        let (state, evaluation) = match &mark {
            Some(m) if m.skipped => (StepState::Skipped, None),
            Some(_) => (StepState::Done, check(step)),
            None if current_seen => (StepState::Pending, None),
            None => {
                current_seen = true;
                let evaluation = check(step);
                let failed = evaluation
                    .as_ref()
                    .is_some_and(|e| e.verdict == Verdict::Fail);
                let state = if failed {
                    StepState::Failed
                } else {
                    StepState::Current
                };
                (state, evaluation)
            }
        };
        match state {
            StepState::Done => progress.done += 1,
            StepState::Skipped => progress.skipped += 1,
            _ => {}
        }
        let took = match (&mark, previous_at) {
            (Some(m), Some(p)) => Some(m.at.duration_since(p)),
            _ => None,
        };
        if let Some(m) = &mark {
            if progress.t0.is_none() && phase.at >= SignedDuration::ZERO {
                progress.t0 = Some(m.at);
            }
            previous_at = Some(m.at);
        }
        out.push(StepView {
            phase: phase.name.clone(),
            phase_title: phase.title.clone(),
            at: phase.at,
            run: step
                .run
                .as_ref()
                .map(|r| fill(r, release, environments, env)),
            step: step.clone(),
            state,
            evaluation,
            mark,
            took,
            last_run: None,
        });
    }
    (out, progress)
}

/// A run of the current step at `ran`, seen at `now`: a failing check within the step's
/// timeout is waited for; past it, the step failed and says so.
pub fn after_run(view: &mut StepView, ran: Timestamp, now: Timestamp) {
    if view.state != StepState::Failed {
        return;
    }
    let limit = view.step.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let waited = now.duration_since(ran);
    let Some(e) = view.evaluation.as_mut() else {
        return;
    };
    let (secs, max) = (waited.as_secs().max(0), limit.as_secs());
    if waited < limit {
        view.state = StepState::Waiting;
        e.evidence = format!(
            "waiting {} of {}: {}",
            crate::domain::format::duration(secs),
            crate::domain::format::duration(max),
            e.evidence
        );
    } else {
        e.evidence = format!(
            "timed out after {}: {}",
            crate::domain::format::duration(max),
            e.evidence
        );
    }
}

/// How long a run's check is waited for when the step names no timeout.
pub const DEFAULT_TIMEOUT: SignedDuration = SignedDuration::from_mins(10);

/// Whether a step may be marked done now: it is the current one and its check (if any)
/// passes or cannot tell. A failing check is the reason it may not.
pub fn may_mark(view: &StepView) -> Result<(), String> {
    match view.state {
        StepState::Current
            if view
                .evaluation
                .as_ref()
                .is_some_and(|e| e.verdict == Verdict::Pending) =>
        {
            Err("its check has not read what it needs yet".into())
        }
        StepState::Current => Ok(()),
        StepState::Failed | StepState::Waiting => Err(view
            .evaluation
            .as_ref()
            .map_or("its check fails".into(), |e| e.evidence.clone())),
        StepState::Pending => Err("the steps before it come first".into()),
        StepState::Done | StepState::Skipped => Ok(()),
    }
}
