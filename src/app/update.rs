//! `update(state, event) -> effects`: the only place state changes. Pure: no I/O,
//! no clock reads (the time comes in `Event::Tick`), so it is tested directly.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::event::Event;
use super::state::{ConfirmDialog, EnvState, Mode, OpRecord, Pane, State, StreamState};
use crate::bus::{Command, OpId};
use crate::domain::WatchUpdate;
use crate::domain::feed::EnvUpdate;

/// What the main loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this command through the bus.
    Send { op: OpId, command: Command },
    /// Read an app's manifests at a revision (a read: no audit, no confirmation); the
    /// answer comes back as `Event::Manifests`.
    FetchManifests(super::release_images::ManifestFetch),
}

/// Applies one event. Returns the effects to run, and whether anything visible changed.
pub fn update(state: &mut State, event: Event) -> (Vec<Effect>, bool) {
    let result = dispatch(state, event);
    state.sync_pod_filter();
    state.sync_pod_sort();
    result
}

fn dispatch(state: &mut State, event: Event) -> (Vec<Effect>, bool) {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Event::Key(_) => (Vec::new(), false),
        Event::Resize { width, height } => {
            state.size = (width, height);
            clamp_cursors(state);
            (Vec::new(), true)
        }
        Event::Tick(now) => {
            state.now = now;
            if let Some((at, _, _)) = &state.flash
                && now.duration_since(*at).as_secs() > 15
            {
                state.flash = None;
            }
            super::canary::on_tick(state);
            super::releases::on_tick(state);
            (Vec::new(), true)
        }
        Event::Watch { env, update } => {
            let changed = on_watch(state, env, update);
            if changed {
                clamp_cursors(state);
            }
            (Vec::new(), changed)
        }
        Event::WatchBatch { env, updates } => {
            let mut changed = false;
            for update in updates {
                changed |= on_watch(state, env, update);
            }
            if changed {
                clamp_cursors(state);
            }
            (Vec::new(), changed)
        }
        Event::Rollouts { env, update } => {
            let changed = super::canary::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Argocd { env, update } => {
            let changed = super::releases::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::Manifests { fetch, result } => {
            super::release_images::on_manifests(state, fetch, result);
            (Vec::new(), true)
        }
        Event::Migrations { env, update } => {
            let changed = super::migrations::on_event(state, env, update);
            (Vec::new(), changed)
        }
        Event::OpFinished { op, outcome } => {
            let ok = outcome.is_ok();
            let text = match &outcome {
                Ok(m) => format!("{op} ✔ {m}"),
                Err(m) => format!("{op} ✖ {m}"),
            };
            state.flash = Some((state.now, text, ok));
            super::releases::on_op_finished(state, op, &outcome);
            if let Some(rec) = state.ops.get_mut(&op) {
                rec.outcome = Some(outcome);
            }
            (Vec::new(), true)
        }
    }
}

fn on_watch(state: &mut State, env_index: usize, update: EnvUpdate) -> bool {
    let offscreen = matches!(&update, EnvUpdate::Pods(WatchUpdate::Apply(row))
        if super::visibility::pod_change_offscreen(state, env_index, row));
    let now = state.now;
    let State {
        envs,
        pod_filter,
        pod_sort,
        pod_sort_index,
        ..
    } = state;
    let Some(env) = envs.get_mut(env_index) else {
        return false;
    };
    let stream = update.stream();
    let slot = &mut env.streams[stream.index()];
    let was_live = *slot == StreamState::Live;
    match update {
        EnvUpdate::WatchError { message, .. } => {
            let since = match slot {
                StreamState::Down { since, .. } => *since,
                _ => now,
            };
            let changed = !matches!(slot, StreamState::Down { message: m, .. } if *m == message);
            *slot = StreamState::Down { since, message };
            changed
        }
        other => {
            *slot = StreamState::Live;
            let changed = match other {
                EnvUpdate::Pods(u) => {
                    let sorted = *pod_sort != super::sort::PodSort::Name
                        && pod_sort_index.is_current(env_index, *pod_sort, &env.pods);
                    let follow = sorted.then(|| u.clone());
                    let changed = pod_filter.apply(env_index, &mut env.pods, u);
                    if let Some(u) = follow {
                        pod_sort_index.follow(env_index, &env.pods, &u);
                    }
                    changed && !offscreen
                }
                other => apply_rows(env, other),
            };
            changed || !was_live
        }
    }
}

fn apply_rows(env: &mut EnvState, update: EnvUpdate) -> bool {
    match update {
        EnvUpdate::Pods(u) => env.pods.apply(u),
        EnvUpdate::Deployments(u) => env.deployments.apply(u),
        EnvUpdate::Services(u) => env.services.apply(u),
        EnvUpdate::Events(u) => {
            let log = &mut env.events;
            match u {
                WatchUpdate::Init => {
                    log.recent.clear();
                    log.last_warning.clear();
                    true
                }
                WatchUpdate::InitDone => false,
                WatchUpdate::Apply(e) | WatchUpdate::InitApply(e) => {
                    if e.warning {
                        let key = (e.involved_kind.clone(), e.involved_name.clone());
                        let newer = log
                            .last_warning
                            .get(&key)
                            .is_none_or(|old| old.last_seen <= e.last_seen);
                        if newer {
                            log.last_warning.insert(key, e.clone());
                        }
                    }
                    log.recent.retain(|r| r.name != e.name);
                    log.recent.push_back(e);
                    while log.recent.len() > super::state::EventLog::RECENT {
                        log.recent.pop_front();
                    }
                    true
                }
                WatchUpdate::Delete(e) => {
                    log.recent.retain(|r| r.name != e.name);
                    true
                }
            }
        }
        EnvUpdate::WatchError { .. } => false,
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    // Ctrl-C always quits, whatever the mode and key map say.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.should_quit = true;
        return (Vec::new(), true);
    }
    match &mut state.mode {
        Mode::Help => {
            state.mode = Mode::Normal;
            (Vec::new(), true)
        }
        Mode::Filter => {
            match key.code {
                KeyCode::Esc => {
                    state.filter = TextArea::default();
                    state.mode = Mode::Normal;
                }
                KeyCode::Enter => state.mode = Mode::Normal,
                _ => {
                    state.filter.input(key);
                    state.pod_cursor = Default::default();
                }
            }
            (Vec::new(), true)
        }
        Mode::Confirm(dialog) => match key.code {
            KeyCode::Esc => {
                state.mode = Mode::Normal;
                state.flash = Some((state.now, "cancelled".into(), true));
                (Vec::new(), true)
            }
            KeyCode::Enter => {
                if !dialog.ready() {
                    let expected = dialog.typed.as_ref().map(|(n, _)| n.clone());
                    dialog.error = Some(format!(
                        "type {} exactly to confirm, or Esc to cancel",
                        expected.unwrap_or_default()
                    ));
                    return (Vec::new(), true);
                }
                let Mode::Confirm(dialog) = std::mem::replace(&mut state.mode, Mode::Normal) else {
                    return (Vec::new(), true);
                };
                let op = OpId(state.next_op);
                state.next_op += 1;
                let command = dialog.command;
                state.ops.insert(
                    op,
                    OpRecord {
                        op,
                        summary: command.summary(),
                        started: state.now,
                        outcome: None,
                    },
                );
                state.flash = Some((state.now, format!("{op} … {}", command.summary()), true));
                super::releases::on_sent(state, op, &command);
                (vec![Effect::Send { op, command }], true)
            }
            _ => {
                if let Some((_, input)) = &mut dialog.typed {
                    input.input(key);
                    dialog.error = None;
                }
                (Vec::new(), true)
            }
        },
        Mode::Prompt(_) => super::canary::on_prompt_key(state, key),
        Mode::Reason(_) => super::bluegreen::on_reason_key(state, key),
        Mode::Normal => match state.keys.action(&key) {
            Some(action) => on_action(state, action),
            None => (Vec::new(), false),
        },
    }
}

fn on_action(state: &mut State, action: Action) -> (Vec<Effect>, bool) {
    if state.readonly && action.is_mutating() {
        state.flash = Some((state.now, "read-only mode: no changes".into(), false));
        return (Vec::new(), true);
    }
    let page = crate::app::layout::table_rows(state, state.focus).max(1);
    match action {
        Action::Quit => state.should_quit = true,
        Action::Help => state.mode = Mode::Help,
        Action::NextPane | Action::PrevPane => {
            let all = Pane::ALL;
            let at = all.iter().position(|p| *p == state.focus).unwrap_or(0);
            let step = if action == Action::NextPane {
                1
            } else {
                all.len() - 1
            };
            state.focus = all[(at + step) % all.len()];
        }
        Action::PaneEnvironments => state.focus = Pane::Environments,
        Action::PanePods => state.focus = Pane::Pods,
        Action::Up => move_cursor(state, -1, page),
        Action::Down => move_cursor(state, 1, page),
        Action::PageUp => move_cursor(state, -(page as isize), page),
        Action::PageDown => move_cursor(state, page as isize, page),
        Action::Top => move_cursor(state, isize::MIN / 2, page),
        Action::Bottom => move_cursor(state, isize::MAX / 2, page),
        Action::Select if state.focus == Pane::Releases => {
            super::releases::on_action(state, action);
            return (super::release_images::fetch_missing(state), true);
        }
        Action::Back if state.focus == Pane::Releases && state.releases.history.is_some() => {
            super::releases::on_action(state, action)
        }
        Action::Select => match state.focus {
            Pane::Environments => state.focus = Pane::Pods,
            Pane::Revisions => super::bluegreen::open_selected(state),
            _ => {}
        },
        Action::Back => {
            if super::bluegreen::close(state) {
            } else if state.zoomed {
                state.zoomed = false;
            } else if !state.filter_text().is_empty() {
                state.filter = TextArea::default();
                clamp_cursors(state);
            }
        }
        Action::Filter => {
            state.focus = Pane::Pods;
            state.mode = Mode::Filter;
        }
        Action::Zoom => state.zoomed = !state.zoomed,
        Action::SortPods => {
            state.focus = Pane::Pods;
            state.pod_sort = state.pod_sort.next();
            state.pod_cursor = Default::default();
        }
        Action::NextEnvironment => select_env(state, state.selected_env as isize + 1),
        Action::PrevEnvironment => select_env(state, state.selected_env as isize - 1),
        Action::RestartDeployment => request_restart(state),
        a @ (Action::PaneMigrations
        | Action::MigrateUp
        | Action::MigrateUpTo
        | Action::MigrateDown
        | Action::MigrateGoto
        | Action::MigrateForce
        | Action::MigrateToggleSql) => {
            super::migrations::on_action(state, a);
        }
        Action::UndoRollout if state.focus == Pane::Revisions => {
            super::bluegreen::on_action(state, Action::UndoRollout)
        }
        a @ (Action::PaneBlueGreen | Action::PaneRevisions | Action::SwitchBlueGreen) => {
            super::bluegreen::on_action(state, a)
        }
        a @ (Action::PaneCanary
        | Action::NextRollout
        | Action::Promote
        | Action::PromoteFull
        | Action::Abort
        | Action::Retry
        | Action::PauseRollout
        | Action::ResumeRollout
        | Action::UndoRollout
        | Action::SetImage) => super::canary::on_action(state, a),
        a @ (Action::PaneReleases
        | Action::ArgocdRollback
        | Action::ArgocdSync
        | Action::ArgocdDisableAutoSync
        | Action::ArgocdTerminateOperation) => super::releases::on_action(state, a),
    }
    (Vec::new(), true)
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    match state.focus {
        Pane::Environments => {
            let target = state.selected_env as isize + delta;
            select_env(state, target);
        }
        Pane::Pods => {
            let len = state.visible_len();
            state.pod_cursor.move_by(delta, len, page);
        }
        Pane::Canary => super::canary::move_cursor(state, delta),
        Pane::Migrations => super::migrations::move_cursor(state, delta, page),
        Pane::Releases => super::releases::move_cursor(state, delta),
        Pane::BlueGreen | Pane::Revisions => super::bluegreen::move_cursor(state, delta, page),
    }
}

fn select_env(state: &mut State, target: isize) {
    let len = state.envs.len();
    if len == 0 {
        return;
    }
    let idx = target.clamp(0, len as isize - 1) as usize;
    if idx != state.selected_env {
        state.selected_env = idx;
        state.pod_cursor = Default::default();
        state.migration_cursor = Default::default();
        state.migration_cursor_moved = false;
        super::migrations::clamp(state);
        state.canary.selected = 0;
        super::bluegreen::reset(state);
    }
    let page = crate::app::layout::table_rows(state, Pane::Environments).max(1);
    state.env_cursor.selected = idx;
    state.env_cursor.scroll_into_view(len, page);
}

fn clamp_cursors(state: &mut State) {
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
        Pane::Environments
        | Pane::Canary
        | Pane::Migrations
        | Pane::Releases
        | Pane::BlueGreen
        | Pane::Revisions => None,
    };
    if let Some(why) = super::canary::owned_by_rollout(state) {
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
    state.mode = Mode::Confirm(Box::new(dialog));
}
