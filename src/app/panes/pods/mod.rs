//! The pods pane's part of `update()`: the cursor over the selected environment's pods
//! (filtered and ordered incrementally, see `filter` and `sort`), and restarting the
//! selected pod's Deployment through the confirm dialog.

pub mod filter;
pub mod sort;
pub(crate) mod visibility;

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, Mode, State};
use crate::app::update::Effect;
use crate::bus::Command;

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Pods,
    title: "Pods",
    short_title: "Pod",
    focus: Action::PanePods,
    pinned: false,
    on_action,
    move_cursor,
};

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PanePods => state.focus = Pane::Pods,
        Action::Filter => {
            state.focus = Pane::Pods;
            state.mode = Mode::Filter;
        }
        Action::SortPods => {
            state.focus = Pane::Pods;
            state.pod_sort = state.pod_sort.next();
            state.pod_cursor = Default::default();
            state.pod_anchor = None;
        }
        Action::RestartDeployment => request_restart(state),
        _ => return None,
    }
    Some(Vec::new())
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    let len = state.visible_len();
    state.pod_cursor.move_by(delta, len, page);
    state.pod_anchor = state
        .selected_pod()
        .map(|p| (p.namespace.clone(), p.name.clone()));
}

/// After the pods changed: the cursor back on its pod wherever it now sorts (one pass
/// over the shown pods per watch event or batch). A pod that left keeps the place, and
/// the pod now there becomes the anchor.
pub fn follow_anchor(state: &mut State) {
    let Some((ns, name)) = state.pod_anchor.clone() else {
        return;
    };
    let at = state
        .visible_pods()
        .position(|p| p.name == name && p.namespace == ns);
    match at {
        Some(i) => state.pod_cursor.selected = i,
        None => {
            state.pod_anchor = state
                .selected_pod()
                .map(|p| (p.namespace.clone(), p.name.clone()));
        }
    }
}

/// Keeps the pods cursor on screen after the list or the screen changed.
pub fn clamp(state: &mut State) {
    let len = state.visible_len();
    let page = crate::app::layout::table_rows(state, Pane::Pods).max(1);
    state.pod_cursor.scroll_into_view(len, page);
}

/// Opens the confirm dialog for restarting the selected pod's Deployment.
fn request_restart(state: &mut State) {
    let target = match state.focus {
        Pane::Pods => state
            .selected_pod()
            .and_then(|p| p.deployment().map(|d| (p.namespace.clone(), d.to_owned()))),
        _ => None,
    };
    if let Some(why) = super::rollouts::owned_by_rollout(state) {
        state.flash = Some((state.now, why, false));
        return;
    }
    let Some(env) = state.env() else { return };
    let Some((namespace, name)) = target else {
        let why = if state.focus == Pane::Pods {
            "the selected pod is not owned by a Deployment"
        } else {
            "select a pod in the pods pane (2) to restart its Deployment"
        };
        state.flash = Some((state.now, why.into(), false));
        return;
    };
    let command = Command::restart_deployment(&env.config.name, &namespace, &name, state.now);
    let dialog = ConfirmDialog::new(command, env.config.production, name);
    crate::app::confirm::open(state, dialog);
}
