//! The release pane's part of `update()`: Argo CD Applications per environment (from
//! the watch), the matrix cursor and the history view. The commands its keys open are in
//! `commands`, what follows a sent command (waits, the pending rollback) in `wait`, the
//! images of history entries in `images`.

pub(crate) mod commands;
pub mod images;
pub(crate) mod wait;

use std::collections::HashMap;

use jiff::Timestamp;

use super::{Pane, PaneSpec};
use crate::app::action::{Action, Home};
use crate::app::panes::argocd::images::{ImageCache, learn_images};
use crate::app::panes::argocd::wait::check_waits;
use crate::app::state::{State, TableCursor};
use crate::app::update::Effect;
use crate::bus::OpId;
pub use crate::domain::feed::ArgoUpdate;
use crate::domain::{AppRow, RowStore, WatchUpdate};

pub use crate::app::panes::argocd::wait::{Wait, on_op_finished, on_sent, on_tick};

/// `argocd app wait --timeout 600`, the seed's value.
pub const WAIT_TIMEOUT_SECS: i64 = 600;

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
    /// The history id under the cursor: the cursor follows it when entries arrive (a
    /// rollback adds one at the top), so a second `R` means the same revision.
    pub anchor: Option<i64>,
}

impl HistoryView {
    pub fn new(env: usize, app: String) -> Self {
        HistoryView {
            env,
            app,
            cursor: TableCursor::default(),
            anchor: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct ArgocdState {
    pub envs: Vec<ReleaseEnv>,
    /// The selected service row of the matrix (the column is the selected environment).
    pub row: usize,
    pub history: Option<HistoryView>,
    pub waits: Vec<Wait>,
    pub pending: Option<PendingRollback>,
    /// Operations whose success starts a wait: (env, app, revision, rollback).
    pub wait_on: HashMap<OpId, (usize, String, Option<String>, bool)>,
    /// Waits just settled, for the audit log (taken by `update`).
    pub settled: Vec<(OpId, Result<String, String>)>,
}

impl ArgocdState {
    pub fn env(&self, env: usize) -> Option<&ReleaseEnv> {
        self.envs.get(env)
    }
}

/// The services of the matrix, in config order, each once.
pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Argocd,
    title: "Releases",
    short_title: "Rel",
    focus: Action::PaneReleases,
    pinned: false,
    on_action,
    move_cursor: |state, delta, _page| move_cursor(state, delta),
};

/// The pane's own actions, and, while focused, Enter (an app's history, fetching the
/// images of revisions never seen running) and Esc (back from the history).
fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let focused = state.focus == Pane::Argocd;
    match action {
        Action::Select if focused => {
            commands::on_action(state, action);
            Some(images::fetch_missing(state))
        }
        Action::Back if focused && state.argocd.history.is_some() => {
            commands::on_action(state, action);
            Some(Vec::new())
        }
        a if a.home() == Home::Pane(Pane::Argocd) => {
            commands::on_action(state, a);
            Some(Vec::new())
        }
        _ => None,
    }
}

pub fn services(state: &State) -> Vec<String> {
    state.service_names()
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
    let rs = &mut state.argocd;
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
    follow_anchor(state);
    check_waits(state);
    changed
}

/// Puts the history cursor back on its entry after the list changed under it (the
/// entry gone: the nearest place, held there).
pub(super) fn follow_anchor(state: &mut State) {
    let Some(h) = &state.argocd.history else {
        return;
    };
    let ids: Vec<i64> = state
        .argocd
        .env(h.env)
        .and_then(|e| e.app(&h.app))
        .map(|a| a.history.iter().rev().map(|e| e.id).collect())
        .unwrap_or_default();
    let Some(h) = &mut state.argocd.history else {
        return;
    };
    match h.anchor.and_then(|id| ids.iter().position(|i| *i == id)) {
        // The scroll stays: new entries at the top remain in view.
        Some(at) => h.cursor.selected = at,
        None => {
            h.cursor.selected = h.cursor.selected.min(ids.len().saturating_sub(1));
            h.anchor = ids.get(h.cursor.selected).copied();
        }
    }
}

pub fn move_cursor(state: &mut State, delta: isize) {
    if let Some(h) = &state.argocd.history {
        let len = state
            .argocd
            .env(h.env)
            .and_then(|e| e.app(&h.app))
            .map_or(0, |a| a.history.len());
        let page = crate::app::layout::table_rows(state, Pane::Argocd)
            .saturating_sub(3)
            .max(1);
        if let Some(h) = &mut state.argocd.history {
            h.cursor.move_by(delta, len, page);
            h.anchor = None;
        }
        follow_anchor(state);
        return;
    }
    let len = services(state).len();
    let target = (state.argocd.row as isize + delta).clamp(0, len.saturating_sub(1) as isize);
    state.argocd.row = target as usize;
}

/// The app under the matrix cursor (or whose history is open), as last seen.
pub fn selected_app_row(state: &State) -> Option<&AppRow> {
    let (env, app) = selected_app(state)?;
    state.argocd.env(env)?.app(&app)
}

/// The app under the matrix cursor, or the one whose history is open.
pub(super) fn selected_app(state: &State) -> Option<(usize, String)> {
    if let Some(h) = &state.argocd.history {
        return Some((h.env, h.app.clone()));
    }
    let service = services(state).into_iter().nth(state.argocd.row)?;
    let env = state.selected_env;
    Some((env, app_name(state, env, &service)?))
}
