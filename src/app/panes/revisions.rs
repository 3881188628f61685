//! The revisions pane's part of `update()`: the environment's Deployments, one opened
//! to its revisions (from its ReplicaSets), and `kubectl rollout undo --to-revision`
//! to the chosen one, sent through the confirm dialog as a command (with a warning when
//! a self-healing Argo CD app would put it back).

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, State, TableCursor};
use crate::app::update::Effect;
use crate::bus::Command;
use crate::domain::DeploymentRow;
use crate::domain::bluegreen::{DeploymentRevisions, deployment_revisions};

#[derive(Debug, Default)]
pub struct RevisionsState {
    /// The selected Deployment.
    pub deployment: TableCursor,
    /// The Deployment whose revisions are open (Enter), by name.
    pub opened: Option<String>,
    /// The chosen revision (index, newest first) of the open Deployment.
    pub revision: TableCursor,
    /// The chosen revision's number: the cursor follows it when a rollout adds a
    /// revision at the top, so `u` undoes to the revision the user chose.
    pub anchor: Option<u64>,
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Revisions,
    title: "Revisions",
    short_title: "Rev",
    focus: Action::PaneRevisions,
    pinned: false,
    on_action,
    move_cursor,
};

/// The pane's own actions, and, while focused, Enter (open), Esc (close) and `u` (undo).
fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneRevisions => state.focus = Pane::Revisions,
        Action::Select if state.focus == Pane::Revisions => open_selected(state),
        Action::Back if close(state) => {}
        Action::UndoRollout if state.focus == Pane::Revisions => request_undo(state),
        _ => return None,
    }
    Some(Vec::new())
}

/// Deployments of the selected environment, in name order.
pub fn deployments(state: &State) -> Vec<&DeploymentRow> {
    state
        .env()
        .map(|e| e.deployments.iter().collect())
        .unwrap_or_default()
}

/// The revisions of the Deployment opened in the revisions pane.
pub fn opened_revisions(state: &State) -> Option<DeploymentRevisions> {
    let name = state.revisions.opened.as_ref()?;
    let env = state.env()?;
    let d = env.deployments.iter().find(|d| d.name == *name)?;
    let rss = state.rollouts.envs.get(state.selected_env)?;
    Some(deployment_revisions(d, rss.replicasets.iter()))
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    if state.revisions.opened.is_some() {
        let revs = opened_revisions(state);
        let len = revs.as_ref().map_or(0, |r| r.revisions.len());
        state.revisions.revision.move_by(delta, len, page);
        state.revisions.anchor = revs.and_then(|r| {
            r.revisions
                .get(state.revisions.revision.selected)
                .map(|e| e.revision)
        });
    } else {
        let len = deployments(state).len();
        state.revisions.deployment.move_by(delta, len, page);
    }
}

/// Enter in the revisions pane: open the selected Deployment's revisions, with the one
/// before the current chosen (what a bare `kubectl rollout undo` goes back to).
fn open_selected(state: &mut State) {
    let Some(d) = deployments(state)
        .get(state.revisions.deployment.selected)
        .map(|d| d.name.clone())
    else {
        return;
    };
    state.revisions.opened = Some(d);
    let current = opened_revisions(state)
        .and_then(|r| r.revisions.iter().position(|e| e.current))
        .unwrap_or(0);
    state.revisions.revision = TableCursor {
        selected: current + 1,
        offset: 0,
    };
    let revs = opened_revisions(state);
    let len = revs.as_ref().map_or(0, |r| r.revisions.len());
    state.revisions.revision.scroll_into_view(len, len.max(1));
    state.revisions.anchor = revs.and_then(|r| {
        r.revisions
            .get(state.revisions.revision.selected)
            .map(|e| e.revision)
    });
}

/// After any change: the cursor back on its revision number (a new revision arrives at
/// the top when the Deployment rolls).
pub fn follow_anchor(state: &mut State) {
    let Some(anchor) = state.revisions.anchor else {
        return;
    };
    let Some(at) =
        opened_revisions(state).and_then(|r| r.revisions.iter().position(|e| e.revision == anchor))
    else {
        return;
    };
    state.revisions.revision.selected = at;
}

/// Esc in the revisions pane goes back from the revisions to the Deployments.
fn close(state: &mut State) -> bool {
    if state.focus == Pane::Revisions && state.revisions.opened.is_some() {
        state.revisions.opened = None;
        return true;
    }
    false
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.revisions = RevisionsState::default();
}

/// `u` in the revisions pane: undo the open Deployment to the chosen revision.
fn request_undo(state: &mut State) {
    let Some(revs) = opened_revisions(state) else {
        let why = "open a Deployment's revisions first (Enter), then choose one with j/k";
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    let Some(entry) = revs.revisions.get(state.revisions.revision.selected) else {
        let why = "choose a revision with j/k first";
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    let Some(env) = state.env() else { return };
    let Some(d) = env.deployments.get(&revs.namespace, &revs.deployment) else {
        return;
    };
    let rs = state
        .rollouts
        .envs
        .get(state.selected_env)
        .and_then(|re| re.replicasets.get(&revs.namespace, &entry.replica_set));
    let plan = match rs {
        Some(rs) => crate::bus::bluegreen::plan_undo(d, rs),
        None => Err(crate::bus::bluegreen::UndoRefusal::Gone(
            entry.replica_set.clone(),
        )),
    };
    let (to_revision, template, annotations) = match plan {
        Ok(p) => p,
        Err(why) => {
            state.flash = Some((state.now, why.to_string(), false));
            return;
        }
    };
    let command = Command::UndoDeployment {
        env: env.config.name.clone(),
        namespace: revs.namespace.clone(),
        name: revs.deployment.clone(),
        to_revision,
        template,
        annotations,
    };
    // The policy adds the self-heal warning (an undo behind Argo CD's back is reverted).
    open_confirm(state, command, revs.deployment.clone(), None);
}

fn open_confirm(state: &mut State, command: Command, name: String, warning: Option<String>) {
    let Some(env) = state.env() else { return };
    let dialog = ConfirmDialog::new(command, env.config.production, name).with_warning(warning);
    crate::app::confirm::open(state, dialog);
}
