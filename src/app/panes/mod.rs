//! The panes, each a module of the same name here and in `ui::panes`: its state, how it
//! takes actions and moves its cursor here; how it draws there.
//!
//! Every pane has the same shape, a [`PaneSpec`]: its titles, the action that focuses
//! it, whether the wide layout pins it, `on_action` (offered each action while the pane
//! has the focus, and the actions whose home it is; `None` passes) and `move_cursor`.
//! Adding a pane: a variant of [`Pane`], its folder, and one line in [`SPECS`].

pub mod argocd;
pub mod bluegreen;
pub mod checklist;
pub mod environments;
pub mod kafka;
pub mod logs;
pub mod migrations;
pub mod pods;
pub mod revisions;
pub mod rollouts;
pub mod runbook;

use super::action::Action;
use super::state::State;
use super::update::Effect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Environments,
    Pods,
    /// Argo Rollouts: the canary (and every Rollout of the environment).
    Rollouts,
    Migrations,
    /// Argo CD: the promotion matrix and an app's history.
    Argocd,
    BlueGreen,
    /// Deployments and their revisions (undo).
    Revisions,
    /// The pre-deployment checklist of a release.
    Checklist,
    /// The production runbook of a release.
    Runbook,
    /// A pod's or a service's container logs.
    Logs,
    /// Kafka: consumer groups, their lag and offset resets; topic configuration.
    Kafka,
}

/// What every pane offers the app.
pub struct PaneSpec {
    pub pane: Pane,
    pub title: &'static str,
    /// For the tab bar when the full titles do not fit (80 columns).
    pub short_title: &'static str,
    /// The action that focuses the pane (its key labels the tab).
    pub focus: Action,
    /// Whether the wide layout always shows the pane in its right-hand column; the
    /// others appear there while focused, so each keeps a useful height.
    pub pinned: bool,
    /// Takes an action, or passes it (`None`).
    pub on_action: fn(&mut State, Action) -> Option<Vec<Effect>>,
    /// Moves the pane's cursor by `delta` rows; a page is the given number of rows.
    pub move_cursor: fn(&mut State, isize, usize),
}

/// The panes in tab order.
const SPECS: [&PaneSpec; 11] = [
    &environments::SPEC,
    &pods::SPEC,
    &rollouts::SPEC,
    &migrations::SPEC,
    &argocd::SPEC,
    &bluegreen::SPEC,
    &revisions::SPEC,
    &checklist::SPEC,
    &logs::SPEC,
    &runbook::SPEC,
    &kafka::SPEC,
];

impl Pane {
    /// Every pane, in tab order.
    pub const ALL: [Pane; 11] = [
        SPECS[0].pane,
        SPECS[1].pane,
        SPECS[2].pane,
        SPECS[3].pane,
        SPECS[4].pane,
        SPECS[5].pane,
        SPECS[6].pane,
        SPECS[7].pane,
        SPECS[8].pane,
        SPECS[9].pane,
        SPECS[10].pane,
    ];

    pub fn spec(self) -> &'static PaneSpec {
        SPECS
            .iter()
            .find(|s| s.pane == self)
            .copied()
            .unwrap_or(SPECS[0])
    }

    pub fn title(self) -> &'static str {
        self.spec().title
    }

    pub fn short_title(self) -> &'static str {
        self.spec().short_title
    }

    pub fn focus_action(self) -> Action {
        self.spec().focus
    }

    pub fn pinned(self) -> bool {
        self.spec().pinned
    }
}

/// Offers `action` to the focused pane, then to its home pane. `None` when neither took
/// it: the app handles it.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let focused = state.focus;
    if let Some(effects) = (focused.spec().on_action)(state, action) {
        return Some(effects);
    }
    match action.home() {
        super::action::Home::Pane(home) if home != focused => {
            (home.spec().on_action)(state, action)
        }
        _ => None,
    }
}

/// Moves the focused pane's cursor.
pub fn move_cursor(state: &mut State, delta: isize, page: usize) {
    (state.focus.spec().move_cursor)(state, delta, page);
}

/// A pane's focus action, as each pane takes it.
fn focus(state: &mut State, pane: Pane) -> Option<Vec<Effect>> {
    state.focus = pane;
    Some(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pane_has_one_spec_and_its_own_focus_action() {
        for (i, pane) in Pane::ALL.iter().enumerate() {
            assert_eq!(pane.spec().pane, *pane);
            assert_eq!(
                Pane::ALL.iter().filter(|p| **p == *pane).count(),
                1,
                "{pane:?} twice"
            );
            assert_eq!(
                pane.focus_action().home(),
                super::super::action::Home::Pane(*pane),
                "{pane:?}'s focus action lives elsewhere"
            );
            assert!(
                Pane::ALL[..i]
                    .iter()
                    .all(|p| p.focus_action() != pane.focus_action())
            );
        }
    }
}
