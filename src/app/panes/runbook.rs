//! The runbook pane's part of `update()`: the production runbook walked for the release
//! the checklist pane walks, in the selected environment. `x` marks the current step
//! done once its check passes (or reopens a marked one), `X` skips it with a reason;
//! from T-0 on, in production, a step waits for the complete checklist unless a
//! reason is typed. Marks go the way of checklist ticks: the release's ConfigMap,
//! through the pipeline, kept locally until the cluster has them.

use ratatui_textarea::TextArea;

use super::checklist::{NotePrompt, marks, release, walked};
use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{Mode, State, TableCursor};
use crate::app::update::Effect;
use crate::config::Runbook;
use crate::domain::checklist::Release;
use crate::domain::runbook::{RunbookProgress, StepState, StepView, mark_key, may_mark, walk};

#[derive(Debug, Default)]
pub struct RunbookState {
    pub runbook: Runbook,
    pub cursor: TableCursor,
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
    /// In production: the checklist's done and total, when it is not complete.
    pub gate: Option<(usize, usize)>,
}

pub fn walked_runbook(state: &State, env: usize) -> Option<Walked> {
    let release = release(state, env)?;
    let marks = marks(state, env, &release);
    let environments: Vec<crate::config::Environment> =
        state.envs.iter().map(|e| e.config.clone()).collect();
    let facts = super::checklist::facts::LiveFacts { state, env };
    let (steps, progress) = walk(
        &state.runbook.runbook,
        &environments,
        env,
        &release,
        &marks,
        &facts,
    );
    let production = state.envs.get(env).is_some_and(|e| e.config.production);
    let gate = if production {
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
    })
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
    if skip && !matches!(view.state, StepState::Current | StepState::Failed) {
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
