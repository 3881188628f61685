//! Whether a pod change shows anywhere on screen. On a big cluster most pod changes
//! are to rows far outside the visible window; redrawing for them costs a frame each
//! (about a millisecond) for nothing. The one-second clock redraws anyway, so a change
//! judged off screen here is never more than a second late if the judgement misses
//! something.

use crate::app::State;
use crate::app::panes::pods::sort::PodSort;
use crate::app::state::{Pane, pod_matches};
use crate::domain::PodRow;

/// True when `row`, a new version of a pod already held, changes nothing visible: not
/// in the pods pane's window, not moving in or out of the filter (the count), and not
/// a pod of a Rollout the canary pane summarises.
pub fn pod_change_offscreen(state: &State, env_index: usize, row: &PodRow) -> bool {
    let Some(env) = state.envs.get(env_index) else {
        return false;
    };
    let Some(old) = env.pods.get(&row.namespace, &row.name) else {
        // A new pod changes the count.
        return false;
    };
    if feeds_canary(state, env_index, row) {
        return false;
    }
    if env_index != state.selected_env {
        return true;
    }
    let needle = state.filter_text().to_lowercase();
    if !needle.is_empty() && pod_matches(old, &needle) != pod_matches(row, &needle) {
        return false;
    }
    !in_pods_window(state, old, row)
}

/// Canary views count the pods named after each Rollout, in every environment.
fn feeds_canary(state: &State, env_index: usize, row: &PodRow) -> bool {
    let Some(rollouts) = state.rollouts.envs.get(env_index) else {
        return false;
    };
    rollouts.rollouts.iter().any(|ro| {
        ro.namespace == row.namespace
            && row
                .name
                .strip_prefix(ro.name.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// Whether the row, before or after the change, sorts where it changes what the pods
/// pane shows now.
fn in_pods_window(state: &State, old: &PodRow, row: &PodRow) -> bool {
    let height = crate::app::layout::table_rows(state, Pane::Pods);
    if height == 0 {
        return false;
    }
    let mut window = state
        .visible_pods()
        .skip(state.pod_cursor.offset)
        .take(height);
    let Some(first) = window.next() else {
        return true;
    };
    let last = window.last().unwrap_or(first);
    let sort = state.pod_sort;
    if sort != PodSort::Name {
        // A row that moves at or before the window's end shifts the rows it shows.
        let end = sort.key(last);
        return sort.key(old) <= end || sort.key(row) <= end;
    }
    let key = (row.namespace.as_str(), row.name.as_str());
    (first.namespace.as_str(), first.name.as_str()) <= key
        && key <= (last.namespace.as_str(), last.name.as_str())
}
