//! The runbook pane's part of `update()`: the production runbook walked for the release
//! the checklist pane walks, in the selected environment. `x` marks the current step
//! done once its check passes (or reopens a marked one), `X` skips it with a reason;
//! from T-0 on, in production, a step waits for the complete checklist unless a
//! reason is typed. Marks go the way of checklist ticks: the release's ConfigMap,
//! through the pipeline, kept locally until the cluster has them.

mod git;

use std::collections::HashMap;

use ratatui_textarea::TextArea;

use super::checklist::{NotePrompt, marks, release, walked};
use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, Mode, State, TableCursor};
use crate::app::update::Effect;
use crate::bus::runbook::StepAction;
use crate::bus::{Command, OpId};
use crate::config::{Runbook, StepRun};
use crate::domain::checklist::Release;
use crate::domain::runbook::{
    LastRun, RunbookProgress, StepState, StepView, mark_key, may_mark, walk,
};

#[derive(Debug, Default)]
pub struct RunbookState {
    pub runbook: Runbook,
    pub cursor: TableCursor,
    /// Runs in flight: the step each op runs.
    pub running: HashMap<OpId, Running>,
    /// The step whose confirm dialog is open.
    pub pending: Option<Running>,
    /// Runs finished in this session, by (environment, release, step id): when, and what
    /// came of it (kept until the release's ConfigMap has them).
    pub last_run: HashMap<(usize, String, String), LastRun>,
}

/// A step being run, and what marking it done needs when it succeeds.
#[derive(Debug, Clone)]
pub struct Running {
    /// What its confirm dialog sends.
    pub command: Command,
    pub env: usize,
    pub release: Release,
    pub step: String,
    pub title: String,
    /// Marked done by the run's success (no check decides it).
    pub marks_done: bool,
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Runbook,
    title: "Runbook",
    short_title: "Run",
    focus: Action::PaneRunbook,
    pinned: false,
    on_action,
    move_cursor,
};

/// The runbook of the selected environment's release, walked.
pub struct Walked {
    pub release: Release,
    pub steps: Vec<StepView>,
    pub progress: RunbookProgress,
    /// In production: the checklist's done and total, when it is not complete and
    /// nobody passed over it.
    pub gate: Option<(usize, usize)>,
    /// Who passed over the incomplete checklist, and why.
    pub gate_override: Option<crate::domain::checklist::Mark>,
}

/// The mark that records the checklist gate passed over.
pub const GATE: &str = "gate";

pub fn walked_runbook(state: &State, env: usize) -> Option<Walked> {
    let release = release(state, env)?;
    let marks = marks(state, env, &release);
    let gate_override = marks.get(&mark_key(GATE)).filter(|m| m.done).cloned();
    let environments: Vec<crate::config::Environment> =
        state.envs.iter().map(|e| e.config.clone()).collect();
    let facts = super::checklist::facts::LiveFacts { state, env };
    let (mut steps, progress) = walk(
        &state.runbook.runbook,
        &environments,
        env,
        &release,
        &marks,
        &facts,
    );
    for view in &mut steps {
        view.last_run = last_run(state, env, &release, &marks, &view.step.id);
        if let Some((ran, Ok(_))) = &view.last_run {
            crate::domain::runbook::after_run(view, *ran, state.now);
        }
    }
    let production = state.envs.get(env).is_some_and(|e| e.config.production);
    let gate = if production && gate_override.is_none() {
        walked(state, env)
            .filter(|w| !w.progress.complete())
            .map(|w| (w.progress.done, w.progress.total()))
    } else {
        None
    };
    Some(Walked {
        release,
        steps,
        progress,
        gate,
        gate_override,
    })
}

/// The key a step's last run is kept under with the release's marks.
fn run_key(step: &str) -> String {
    format!("{}.run", mark_key(step))
}

/// A step's last run for the release: this session's, else the one recorded with the
/// release's marks (by whoever ran it, before a restart or on another machine).
pub fn last_run(
    state: &State,
    env: usize,
    release: &Release,
    marks: &std::collections::BTreeMap<String, crate::domain::checklist::Mark>,
    step: &str,
) -> Option<LastRun> {
    let key = (env, release.to_string(), step.to_owned());
    if let Some(r) = state.runbook.last_run.get(&key) {
        return Some(r.clone());
    }
    let m = marks.get(&run_key(step))?;
    let outcome = match m.note.strip_prefix("failed: ") {
        Some(why) => Err(why.to_owned()),
        None => Ok(m.note.strip_prefix("ok: ").unwrap_or(&m.note).to_owned()),
    };
    Some((m.at, outcome))
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.runbook.cursor = TableCursor::default();
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    let len = state.runbook.runbook.steps().count();
    state.runbook.cursor.move_by(delta, len, page);
}

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneRunbook => state.focus = Pane::Runbook,
        Action::ChecklistTick if state.focus == Pane::Runbook => mark(state, false),
        Action::RunbookSkip => mark(state, true),
        Action::Select if state.focus == Pane::Runbook => return Some(run(state)),
        Action::RunbookOverrideGate => override_gate(state),
        _ => return None,
    }
    Some(Vec::new())
}

/// `x` (mark done, or reopen a marked step) and `X` (skip): the note prompt, which
/// insists on a reason for a skip or a gate passed over.
fn mark(state: &mut State, skip: bool) {
    let env = state.selected_env;
    let Some(w) = walked_runbook(state, env) else {
        state.flash = Some((
            state.now,
            "no release to walk in this environment".into(),
            false,
        ));
        return;
    };
    let Some(view) = w.steps.get(state.runbook.cursor.selected) else {
        return;
    };
    let marked = matches!(view.state, StepState::Done | StepState::Skipped);
    let fail = |state: &mut State, why: String| state.flash = Some((state.now, why, false));
    if skip
        && !matches!(
            view.state,
            StepState::Current | StepState::Failed | StepState::Waiting
        )
    {
        return fail(state, "only the current step can be skipped".into());
    }
    if !skip
        && !marked
        && let Err(why) = may_mark(view)
    {
        return fail(state, format!("\"{}\" is not done: {why}", view.step.title));
    }
    let gated = !marked && view.at >= jiff::SignedDuration::ZERO && w.gate.is_some();
    let reason_required = if skip {
        Some("why skip this step".to_owned())
    } else if gated {
        let (done, total) = w.gate.unwrap_or_default();
        Some(format!(
            "the production checklist is {done}/{total}: why go on anyway"
        ))
    } else {
        None
    };
    let verb = if marked {
        "reopen"
    } else if skip {
        "skip"
    } else {
        "done:"
    };
    let mut input = TextArea::default();
    input.set_placeholder_text(match &reason_required {
        Some(why) => format!("{why} (required, audited)"),
        None => "note (optional): what you saw".to_owned(),
    });
    state.mode = Mode::Note(Box::new(NotePrompt {
        title: format!(" {verb} {} {} ", view.phase, view.step.title),
        input,
        env,
        release: w.release,
        item: mark_key(&view.step.id),
        item_title: view.step.title.clone(),
        done: !marked,
        skipped: skip,
        reason_required,
    }));
}

/// `O`: pass over the incomplete production checklist for this release, with a reason
/// kept with the runbook's marks (and audited like them).
fn override_gate(state: &mut State) {
    let env = state.selected_env;
    let Some(w) = walked_runbook(state, env) else {
        return;
    };
    let Some((done, total)) = w.gate else {
        let why = "nothing to pass over: the checklist is complete, or already passed over";
        state.flash = Some((state.now, why.into(), true));
        return;
    };
    let mut input = TextArea::default();
    input.set_placeholder_text("why go on with the checklist incomplete (required, audited)");
    state.mode = Mode::Note(Box::new(NotePrompt {
        title: format!(" go on with the checklist at {done}/{total}? "),
        input,
        env,
        release: w.release,
        item: mark_key(GATE),
        item_title: format!("checklist gate passed over at {done}/{total}"),
        done: true,
        skipped: false,
        reason_required: Some("why go on with the checklist incomplete".into()),
    }));
}

/// Enter: run the selected step, when rollcall can (its confirm dialog shows exactly
/// what goes out).
fn run(state: &mut State) -> Vec<Effect> {
    let env = state.selected_env;
    let Some(w) = walked_runbook(state, env) else {
        return Vec::new();
    };
    let Some(view) = w.steps.get(state.runbook.cursor.selected) else {
        return Vec::new();
    };
    let fail = |state: &mut State, why: String| {
        state.flash = Some((state.now, why, false));
        Vec::new()
    };
    let Some(run) = &view.step.action else {
        return fail(
            state,
            format!(
                "\"{}\" is run by hand (its commands are shown); x marks it done",
                view.step.title
            ),
        );
    };
    if let StepRun::Logs { filter } = run {
        // A read: the logs pane, nothing sent.
        let service = w.release.service.clone();
        let filter = filter.clone();
        return crate::app::panes::logs::open_service(state, &service, &filter);
    }
    match view.state {
        StepState::Current | StepState::Failed | StepState::Waiting => {}
        StepState::Done | StepState::Skipped => {
            return fail(state, format!("\"{}\" is already marked", view.step.title));
        }
        StepState::Pending => {
            return fail(state, "the steps before it come first".into());
        }
    }
    if view.at >= jiff::SignedDuration::ZERO
        && let Some((done, total)) = w.gate
    {
        return fail(
            state,
            format!(
                "the production checklist is {done}/{total}: complete it before T-0 steps \
                 run, or pass over it with a reason (O)"
            ),
        );
    }
    let Some(config) = state.envs.get(env).map(|e| e.config.clone()) else {
        return Vec::new();
    };
    let (command, target) = match run {
        StepRun::CnpgBackup => match &config.backup {
            Some(b) => step_command(
                &config.name,
                &view.step.id,
                StepAction::cnpg_backup(&b.namespace, &b.cluster, state.now),
            ),
            None => {
                return fail(
                    state,
                    format!(
                        "{} has no backup: cluster in environments.yaml",
                        config.name
                    ),
                );
            }
        },
        StepRun::SetFlag {
            configmap,
            key,
            value,
        } => step_command(
            &config.name,
            &view.step.id,
            StepAction::SetConfigMapKey {
                namespace: config.namespace.clone(),
                configmap: configmap.clone(),
                key: key.clone(),
                value: value.clone(),
            },
        ),
        StepRun::Job { name, manifest } => step_command(
            &config.name,
            &view.step.id,
            StepAction::CreateJob {
                namespace: config.namespace.clone(),
                name: name.clone(),
                manifest: manifest.clone(),
            },
        ),
        StepRun::Logs { .. } => return Vec::new(),
        StepRun::GitTag { .. } | StepRun::SetImage { .. } => {
            match git::plan(state, env, &w.release, run) {
                Ok(action) => step_command(
                    &config.name,
                    &view.step.id,
                    StepAction::Git(Box::new(action)),
                ),
                Err(why) => return fail(state, why),
            }
        }
        StepRun::ArgocdRefresh { environment } => {
            let configs: Vec<&crate::config::Environment> =
                state.envs.iter().map(|e| &e.config).collect();
            let target = match environment {
                Some(name) => configs.iter().find(|e| &e.name == name).copied(),
                None => env.checked_sub(1).and_then(|i| configs.get(i).copied()),
            };
            let Some(target) = target else {
                return fail(
                    state,
                    format!("{} has no environment before it", config.name),
                );
            };
            let app = target
                .services
                .iter()
                .find(|s| s.name == w.release.service)
                .map(|s| s.argocd_app.clone())
                .unwrap_or_else(|| format!("{}-{}", w.release.service, target.name));
            let command = Command::ArgocdRefresh {
                env: target.name.clone(),
                app: app.clone(),
            };
            (command, app)
        }
        StepRun::ArgocdSync => {
            let app = config
                .services
                .iter()
                .find(|s| s.name == w.release.service)
                .map(|s| s.argocd_app.clone())
                .unwrap_or_else(|| format!("{}-{}", w.release.service, config.name));
            let command = Command::ArgocdSync {
                env: config.name.clone(),
                app: app.clone(),
                revision: None,
            };
            (command, app)
        }
    };
    state.runbook.pending = Some(Running {
        command: command.clone(),
        env,
        release: w.release.clone(),
        step: view.step.id.clone(),
        title: view.step.title.clone(),
        marks_done: view.step.done_when.is_none(),
    });
    // Typed confirmation where the command lands in production (a refresh of staging's
    // app does not).
    let production = state
        .envs
        .iter()
        .find(|e| e.config.name == command.env())
        .map_or(config.production, |e| e.config.production);
    let dialog = ConfirmDialog::new(command, production, target);
    crate::app::confirm::open(state, dialog);
    Vec::new()
}

/// A runbook step's own command, and the name typed to confirm it in production.
fn step_command(env: &str, step: &str, action: StepAction) -> (Command, String) {
    let target = action.target().to_owned();
    let command = Command::RunbookStep {
        env: env.to_owned(),
        step: step.to_owned(),
        action,
    };
    (command, target)
}

/// A confirmed command left: if it is the step's, the step is now running.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    if let Some(p) = state.runbook.pending.take()
        && &p.command == command
    {
        state.runbook.running.insert(op, p);
    }
}

/// A step's run finished: remembered, and the step marked done when its run is what
/// decides it.
pub fn on_op_finished(
    state: &mut State,
    op: OpId,
    outcome: &Result<String, String>,
) -> Vec<Effect> {
    let Some(run) = state.runbook.running.remove(&op) else {
        return Vec::new();
    };
    state.runbook.last_run.insert(
        (run.env, run.release.to_string(), run.step.clone()),
        (state.now, outcome.clone()),
    );
    // The run is recorded with the release's marks, so a restart or a teammate sees it
    // (and waits on its check as this session does).
    let ran = NotePrompt {
        title: String::new(),
        input: TextArea::default(),
        env: run.env,
        release: run.release.clone(),
        item: run_key(&run.step),
        item_title: format!("ran: {}", run.title),
        done: false,
        skipped: false,
        reason_required: None,
    };
    let note = match outcome {
        Ok(m) => format!("ok: {m}"),
        Err(m) => format!("failed: {m}"),
    };
    // A run that marks its step done says so in that mark; no second write.
    let marks_itself = outcome.is_ok() && run.marks_done;
    let mut effects = if marks_itself {
        Vec::new()
    } else {
        super::checklist::record(state, &ran, note)
    };
    effects.extend(match outcome {
        Ok(done) if run.marks_done => {
            let prompt = NotePrompt {
                title: String::new(),
                input: TextArea::default(),
                env: run.env,
                release: run.release,
                item: mark_key(&run.step),
                item_title: run.title,
                done: true,
                skipped: false,
                reason_required: None,
            };
            super::checklist::record(state, &prompt, format!("ran: {done}"))
        }
        _ => Vec::new(),
    });
    effects
}
