//! The environments pane's part of `update()`: which environment is selected (the
//! others follow it) and Enter to its pods.

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::State;
use crate::app::update::Effect;

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Environments,
    title: "Environments",
    short_title: "Env",
    focus: Action::PaneEnvironments,
    pinned: false,
    on_action,
    move_cursor,
};

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneEnvironments => super::focus(state, Pane::Environments),
        // Enter on an environment row shows its pods.
        Action::Select if state.focus == Pane::Environments => super::focus(state, Pane::Pods),
        _ => None,
    }
}

fn move_cursor(state: &mut State, delta: isize, _page: usize) {
    select_env(state, state.selected_env as isize + delta);
}

/// Selects environment `target` (clamped); every pane's cursor of the old one resets.
pub fn select_env(state: &mut State, target: isize) {
    let len = state.envs.len();
    if len == 0 {
        return;
    }
    let idx = target.clamp(0, len as isize - 1) as usize;
    if idx != state.selected_env {
        state.selected_env = idx;
        state.pod_cursor = Default::default();
        state.pod_anchor = None;
        state.migration_cursor = Default::default();
        state.migration_anchor = None;
        super::migrations::clamp(state);
        state.rollouts.selected = 0;
        super::bluegreen::reset(state);
        super::revisions::reset(state);
        super::checklist::reset(state);
        super::runbook::reset(state);
        super::kafka::reset(state);
    }
    let page = crate::app::layout::table_rows(state, Pane::Environments).max(1);
    state.env_cursor.selected = idx;
    state.env_cursor.scroll_into_view(len, page);
}
