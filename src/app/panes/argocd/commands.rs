//! The release pane's keys: rollback (through auto-sync off when it is on), sync,
//! auto-sync off and terminate, each checked against the app as last watched, refused
//! on screen with the reason, or opened as a confirm dialog holding the exact command.

use crate::app::action::Action;
use crate::app::panes::argocd::{ArgoLink, HistoryView, PendingRollback, selected_app};
use crate::app::state::{ConfirmDialog, Pane, State};
use crate::bus::Command;
use crate::domain::AppRow;

pub fn on_action(state: &mut State, action: Action) {
    match action {
        Action::PaneReleases => state.focus = Pane::Argocd,
        Action::Select => {
            if let Some((env, app)) = selected_app(state) {
                state.argocd.history = Some(HistoryView::new(env, app));
                super::follow_anchor(state);
            }
        }
        Action::Back => state.argocd.history = None,
        Action::ArgocdRollback => request_rollback(state),
        Action::ArgocdSync => {
            let Some((env, app)) = selected_app(state) else {
                return;
            };
            let Some(row) = live_app(state, env, &app) else {
                return;
            };
            if row.operation_in_flight() {
                refuse(state, format!("{app}: an operation is already in progress"));
                return;
            }
            // The revision Argo CD resolved the target to, as the matrix shows it: the
            // dialog and the record say exactly what is synced.
            let revision = row.sync_revision.clone().filter(|r| !r.is_empty());
            let command = Command::ArgocdSync {
                env: state.envs[env].config.name.clone(),
                app,
                revision,
            };
            confirm(state, env, command);
        }
        Action::ArgocdTerminateOperation => request_terminate(state),
        Action::ArgocdDisableAutoSync => {
            let Some((env, app)) = selected_app(state) else {
                return;
            };
            let Some(row) = live_app(state, env, &app) else {
                return;
            };
            if row.automated.is_none() {
                refuse(state, format!("{app}: auto-sync is already off"));
                return;
            }
            state.argocd.pending = None;
            let command = Command::ArgocdDisableAutoSync {
                env: state.envs[env].config.name.clone(),
                app,
                then_rollback: None,
            };
            confirm(state, env, command);
        }
        _ => {}
    }
}

/// T: terminate the selected app's running operation; refused on screen when none runs.
fn request_terminate(state: &mut State) {
    let Some((env, app)) = selected_app(state) else {
        return;
    };
    let Some(row) = live_app(state, env, &app) else {
        return;
    };
    // The server needs both the requested operation and its running state.
    let phase = row.operation_state.as_ref().map(|o| o.phase.as_str());
    match phase {
        _ if row.operation_running() => {}
        Some("Terminating") => {
            refuse(
                state,
                format!("{app}: the operation is already terminating"),
            );
            return;
        }
        _ => {
            refuse(
                state,
                format!("{app}: no operation is running; nothing to terminate"),
            );
            return;
        }
    }
    let command = Command::ArgocdTerminateOperation {
        env: state.envs[env].config.name.clone(),
        app,
    };
    confirm(state, env, command);
}

fn refuse(state: &mut State, why: String) {
    state.flash = Some((state.now, why, false));
}

/// The app as last seen, or a refusal on screen saying why there is none.
fn live_app(state: &mut State, env: usize, app: &str) -> Option<AppRow> {
    let re = state.argocd.env(env);
    let row = re.and_then(|e| e.app(app)).cloned();
    if row.is_none() {
        let why = match re.map(|e| &e.link) {
            Some(ArgoLink::NotConfigured(w)) => format!("{app}: {w}"),
            Some(ArgoLink::Down { message, .. }) => format!("{app}: Argo CD is down: {message}"),
            _ => format!("{app}: not found in Argo CD"),
        };
        refuse(state, why);
    }
    if let Some(since) = row.as_ref().and_then(|r| r.deleting) {
        let since = since.strftime("%H:%M:%S UTC");
        refuse(
            state,
            format!(
                "{app}: being deleted (since {since}); nothing is offered on an app going away"
            ),
        );
        return None;
    }
    row
}

/// R in the history view: roll back to the selected entry; with auto-sync on, offer to
/// turn it off first.
fn request_rollback(state: &mut State) {
    let Some(h) = state.argocd.history.clone() else {
        refuse(
            state,
            "open an app's history (Enter) and choose the entry to roll back to".into(),
        );
        return;
    };
    let Some(app) = live_app(state, h.env, &h.app) else {
        return;
    };
    let Some(entry) = app.history.iter().rev().nth(h.cursor.selected).cloned() else {
        refuse(state, format!("{}: no history to roll back to", app.name));
        return;
    };
    if app.current_history_id() == Some(entry.id) {
        refuse(
            state,
            format!(
                "{}: history id {} is what runs now; choose an older entry",
                app.name, entry.id
            ),
        );
        return;
    }
    if app.operation_in_flight() {
        refuse(
            state,
            format!("{}: an operation is already in progress", app.name),
        );
        return;
    }
    let revision = Some(entry.revision.clone()).filter(|r| !r.is_empty());
    if app.automated.is_some() {
        state.argocd.pending = Some(PendingRollback {
            env: h.env,
            app: app.name.clone(),
            id: entry.id,
            revision,
            op: None,
        });
        let command = Command::ArgocdDisableAutoSync {
            env: state.envs[h.env].config.name.clone(),
            app: app.name.clone(),
            then_rollback: Some(entry.id),
        };
        confirm(state, h.env, command);
        return;
    }
    open_rollback(state, h.env, &app.name, entry.id, revision);
}

pub(super) fn open_rollback(
    state: &mut State,
    env: usize,
    app: &str,
    id: i64,
    revision: Option<String>,
) {
    let Some(e) = state.envs.get(env) else { return };
    let command = Command::ArgocdRollback {
        env: e.config.name.clone(),
        app: app.to_owned(),
        id,
        revision,
    };
    confirm(state, env, command);
}

fn confirm(state: &mut State, env: usize, command: Command) {
    let Some(e) = state.envs.get(env) else { return };
    let name = command.target_name().to_owned();
    let dialog = ConfirmDialog::new(command, e.config.production, name);
    crate::app::confirm::open(state, dialog);
}
