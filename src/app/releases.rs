//! The release pane's part of `update()`: Argo CD Applications per environment (from
//! the watch), the matrix cursor, the history view, the rollback / sync / auto-sync-off
//! commands, and the wait for Healthy after a rollback or sync, timed by the clock ticks.

use std::collections::HashMap;

use jiff::Timestamp;
use ratatui_textarea::TextArea;

use super::action::Action;
use super::state::{ConfirmDialog, Mode, Pane, State, TableCursor};
use crate::bus::{Command, OpId};
use crate::domain::{AppRow, RowStore, WatchUpdate};

use super::release_images::{ImageCache, learn_images};
use super::release_wait::check_waits;
pub use super::release_wait::{Wait, on_tick};

/// `argocd app wait --timeout 600`, the seed's value.
pub const WAIT_TIMEOUT_SECS: i64 = 600;

/// What the Argo CD watch of an environment tells.
// Apps move through the channel once; boxing would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoUpdate {
    Apps(WatchUpdate<AppRow>),
    /// The server cannot be reached or refused the watch; the watcher retries.
    Down(String),
    /// No server configured for the environment, or no token: said once, at start.
    NotConfigured(String),
}

/// The Argo CD link of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ArgoLink {
    /// Nothing heard yet.
    #[default]
    Unknown,
    NotConfigured(String),
    Live,
    Down {
        since: Timestamp,
        message: String,
    },
}

#[derive(Debug, Default)]
pub struct ReleaseEnv {
    pub apps: RowStore<AppRow>,
    pub link: ArgoLink,
    /// Images per (app, revision): seen running, or fetched from the manifests, so older
    /// history entries can show what they ran.
    pub images: ImageCache,
}

impl ReleaseEnv {
    pub fn app(&self, name: &str) -> Option<&AppRow> {
        self.apps.iter().find(|a| a.name == name)
    }
}

/// A rollback the user asked for while auto-sync was on: offered again once the
/// auto-sync-off command `op` succeeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRollback {
    pub env: usize,
    pub app: String,
    pub id: i64,
    pub revision: Option<String>,
    pub op: Option<OpId>,
}

/// The history view of one app.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub env: usize,
    pub app: String,
    /// Index into the app's history, newest first as shown.
    pub cursor: TableCursor,
}

#[derive(Debug, Default)]
pub struct ReleaseState {
    pub envs: Vec<ReleaseEnv>,
    /// The selected service row of the matrix (the column is the selected environment).
    pub row: usize,
    pub history: Option<HistoryView>,
    pub waits: Vec<Wait>,
    pub pending: Option<PendingRollback>,
    /// Operations whose success starts a wait: (env, app, revision, rollback).
    pub wait_on: HashMap<OpId, (usize, String, Option<String>, bool)>,
}

impl ReleaseState {
    pub fn env(&self, env: usize) -> Option<&ReleaseEnv> {
        self.envs.get(env)
    }
}

/// The services of the matrix, in config order, each once.
pub fn services(state: &State) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for env in &state.envs {
        for s in &env.config.services {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    names
}

/// The Argo CD app of `service` in environment `env`.
pub fn app_name(state: &State, env: usize, service: &str) -> Option<String> {
    state
        .envs
        .get(env)?
        .config
        .services
        .iter()
        .find(|s| s.name == service)
        .map(|s| s.argocd_app.clone())
}

pub fn on_event(state: &mut State, env: usize, update: ArgoUpdate) -> bool {
    if env >= state.envs.len() {
        return false;
    }
    let now = state.now;
    let rs = &mut state.releases;
    if rs.envs.len() <= env {
        rs.envs.resize_with(state.envs.len(), ReleaseEnv::default);
    }
    let re = &mut rs.envs[env];
    let changed = match update {
        ArgoUpdate::Down(message) => {
            let since = match &re.link {
                ArgoLink::Down { since, .. } => *since,
                _ => now,
            };
            let changed = !matches!(&re.link, ArgoLink::Down { message: m, .. } if *m == message);
            re.link = ArgoLink::Down { since, message };
            changed
        }
        ArgoUpdate::NotConfigured(why) => {
            re.link = ArgoLink::NotConfigured(why);
            true
        }
        ArgoUpdate::Apps(u) => {
            let was_live = re.link == ArgoLink::Live;
            // Only a complete list makes the link live again after an outage.
            if matches!(
                u,
                WatchUpdate::InitDone | WatchUpdate::Apply(_) | WatchUpdate::Delete(_)
            ) {
                re.link = ArgoLink::Live;
            }
            if let WatchUpdate::InitApply(a) | WatchUpdate::Apply(a) = &u {
                learn_images(&mut re.images, a);
            }
            re.apps.apply(u) || (!was_live && re.link == ArgoLink::Live)
        }
    };
    check_waits(state);
    changed
}

/// Called when a confirmed command is handed to the bus.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    let env_index = |name: &str| state.envs.iter().position(|e| e.config.name == name);
    match command {
        Command::ArgocdDisableAutoSync { env, app, .. } => {
            if let Some(p) = &mut state.releases.pending
                && p.app == *app
                && env_index(env) == Some(p.env)
            {
                p.op = Some(op);
            }
        }
        Command::ArgocdRollback {
            env, app, revision, ..
        } => {
            if let Some(i) = env_index(env) {
                state
                    .releases
                    .wait_on
                    .insert(op, (i, app.clone(), revision.clone(), true));
            }
        }
        Command::ArgocdSync { env, app, revision } => {
            if let Some(i) = env_index(env) {
                state
                    .releases
                    .wait_on
                    .insert(op, (i, app.clone(), revision.clone(), false));
            }
        }
        _ => {}
    }
}

/// Called when an operation's result arrives: starts the wait after a rollback or sync,
/// and offers the rollback once auto-sync is off.
pub fn on_op_finished(state: &mut State, op: OpId, outcome: &Result<String, String>) {
    if let Some((env, app, revision, rollback)) = state.releases.wait_on.remove(&op)
        && outcome.is_ok()
    {
        state
            .releases
            .waits
            .retain(|w| !(w.env == env && w.app == app));
        state.releases.waits.push(Wait {
            env,
            app,
            started: state.now,
            timeout_secs: WAIT_TIMEOUT_SECS,
            revision,
            rollback,
            seen_running: false,
            outcome: None,
        });
        check_waits(state);
    }
    let Some(p) = state.releases.pending.clone().filter(|p| p.op == Some(op)) else {
        return;
    };
    state.releases.pending = None;
    if outcome.is_err() {
        return;
    }
    if matches!(state.mode, Mode::Normal) {
        open_rollback(state, p.env, &p.app, p.id, p.revision);
    } else {
        let text = format!(
            "{}: auto-sync off; press R in its history to roll back to {}",
            p.app, p.id
        );
        state.flash = Some((state.now, text, true));
    }
}

pub fn move_cursor(state: &mut State, delta: isize) {
    if let Some(h) = &state.releases.history {
        let len = state
            .releases
            .env(h.env)
            .and_then(|e| e.app(&h.app))
            .map_or(0, |a| a.history.len());
        let page = crate::ui::layout::table_rows(state, Pane::Releases)
            .saturating_sub(3)
            .max(1);
        if let Some(h) = &mut state.releases.history {
            h.cursor.move_by(delta, len, page);
        }
        return;
    }
    let len = services(state).len();
    let target = (state.releases.row as isize + delta).clamp(0, len.saturating_sub(1) as isize);
    state.releases.row = target as usize;
}

/// The app under the matrix cursor (or whose history is open), as last seen.
pub fn selected_app_row(state: &State) -> Option<&AppRow> {
    let (env, app) = selected_app(state)?;
    state.releases.env(env)?.app(&app)
}

/// The app under the matrix cursor, or the one whose history is open.
fn selected_app(state: &State) -> Option<(usize, String)> {
    if let Some(h) = &state.releases.history {
        return Some((h.env, h.app.clone()));
    }
    let service = services(state).into_iter().nth(state.releases.row)?;
    let env = state.selected_env;
    Some((env, app_name(state, env, &service)?))
}

pub fn on_action(state: &mut State, action: Action) {
    match action {
        Action::PaneReleases => state.focus = Pane::Releases,
        Action::Select => {
            if let Some((env, app)) = selected_app(state) {
                state.releases.history = Some(HistoryView {
                    env,
                    app,
                    cursor: TableCursor::default(),
                });
            }
        }
        Action::Back => state.releases.history = None,
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
            let command = Command::ArgocdSync {
                env: state.envs[env].config.name.clone(),
                app,
                revision: None,
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
            state.releases.pending = None;
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
    let re = state.releases.env(env);
    let row = re.and_then(|e| e.app(app)).cloned();
    if row.is_none() {
        let why = match re.map(|e| &e.link) {
            Some(ArgoLink::NotConfigured(w)) => format!("{app}: {w}"),
            Some(ArgoLink::Down { message, .. }) => format!("{app}: Argo CD is down: {message}"),
            _ => format!("{app}: not found in Argo CD"),
        };
        refuse(state, why);
    }
    row
}

/// R in the history view: roll back to the selected entry; with auto-sync on, offer to
/// turn it off first.
fn request_rollback(state: &mut State) {
    let Some(h) = state.releases.history.clone() else {
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
        state.releases.pending = Some(PendingRollback {
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

fn open_rollback(state: &mut State, env: usize, app: &str, id: i64, revision: Option<String>) {
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
    let typed = e.config.production.then(|| {
        let mut input = TextArea::default();
        input.set_placeholder_text(format!("type {name} to confirm"));
        (name, input)
    });
    state.mode = Mode::Confirm(Box::new(ConfirmDialog {
        preview: command.preview(),
        command,
        typed,
        error: None,
        warning: None,
    }));
}
