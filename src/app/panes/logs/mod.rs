//! The logs pane's part of `update()`: `l` on a pod (pods pane) or a service (canary and
//! releases panes) opens its logs — every pod of a service, interleaved — following new
//! lines from the last ones; `L` shows the previous container's logs instead (why a
//! crash-looping pod died). `/` filters, error lines stand out, `G` follows again.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{Mode, State};
use crate::app::update::Effect;
use crate::clients::logs::LogRequest;
use crate::domain::logs::{LogLine, LogUpdate};

/// Lines kept per view (the oldest go first).
pub const KEPT: usize = 5_000;
/// Lines asked for when a view opens, per pod.
pub const TAIL: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Pod(String),
    /// A service: its pods when the view opened.
    Service {
        name: String,
        pods: Vec<String>,
    },
}

#[derive(Debug)]
pub struct LogView {
    pub session: u64,
    pub env: usize,
    pub target: LogTarget,
    pub previous: bool,
    pub lines: VecDeque<LogLine>,
    /// Streams that ended or failed, with why.
    pub notes: Vec<String>,
    /// Lines scrolled up from the newest; 0 follows new lines.
    pub scroll: usize,
    pub filter: TextArea<'static>,
}

impl LogView {
    pub fn filter_text(&self) -> String {
        self.filter.lines().join("")
    }

    /// The lines passing the filter, oldest first.
    pub fn visible(&self) -> Vec<&LogLine> {
        let needle = self.filter_text().to_lowercase();
        self.lines
            .iter()
            .filter(|l| needle.is_empty() || l.text.to_lowercase().contains(&needle))
            .collect()
    }

    pub fn following(&self) -> bool {
        self.scroll == 0
    }
}

#[derive(Debug, Default)]
pub struct LogsState {
    pub view: Option<LogView>,
    pub next_session: u64,
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Logs,
    title: "Logs",
    short_title: "Log",
    focus: Action::PaneLogs,
    pinned: false,
    on_action,
    move_cursor,
};

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneLogs => {
            state.focus = Pane::Logs;
            Some(Vec::new())
        }
        Action::Logs => Some(open(state, false)),
        Action::LogsPrevious => Some(open(state, true)),
        Action::Filter if state.focus == Pane::Logs && state.logs.view.is_some() => {
            state.mode = Mode::LogFilter;
            Some(Vec::new())
        }
        Action::Back if state.focus == Pane::Logs => back(state),
        _ => None,
    }
}

/// Esc: clear the filter, else leave zoom (the app's), else close the view.
fn back(state: &mut State) -> Option<Vec<Effect>> {
    let view = state.logs.view.as_mut()?;
    if !view.filter_text().is_empty() {
        view.filter = TextArea::default();
        return Some(Vec::new());
    }
    if state.zoomed {
        return None;
    }
    let session = view.session;
    state.logs.view = None;
    Some(vec![Effect::StopLogs(session)])
}

/// What `l` means where the user is: the selected pod, or the service on screen.
fn target(state: &State) -> Option<LogTarget> {
    let env = state.env()?;
    let service_pods = |name: &str| LogTarget::Service {
        name: name.to_owned(),
        pods: env
            .pods
            .iter()
            .filter(|p| p.app.as_deref() == Some(name) && !p.deleting)
            .map(|p| p.name.clone())
            .collect(),
    };
    match state.focus {
        Pane::Pods => state.selected_pod().map(|p| LogTarget::Pod(p.name.clone())),
        Pane::Argocd => {
            let names = state.service_names();
            names.get(state.argocd.row).map(|s| service_pods(s))
        }
        Pane::Rollouts => {
            crate::app::panes::rollouts::shown_service(state).map(|s| service_pods(&s))
        }
        // Again from the logs pane: the same target, fresh.
        Pane::Logs => state.logs.view.as_ref().map(|v| v.target.clone()),
        _ => None,
    }
}

fn open(state: &mut State, previous: bool) -> Vec<Effect> {
    let Some(target) = target(state) else {
        let why = "logs: select a pod (2), or a service in the canary (3) or releases (5) pane";
        state.flash = Some((state.now, why.into(), false));
        return Vec::new();
    };
    open_target(state, target, previous, "")
}

/// The logs of every pod of `service` in the selected environment, filtered by `filter`
/// (the runbook's "check the logs for errors").
pub fn open_service(state: &mut State, service: &str, filter: &str) -> Vec<Effect> {
    let Some(env) = state.env() else {
        return Vec::new();
    };
    let pods = env
        .pods
        .iter()
        .filter(|p| p.app.as_deref() == Some(service) && !p.deleting)
        .map(|p| p.name.clone())
        .collect();
    let target = LogTarget::Service {
        name: service.to_owned(),
        pods,
    };
    open_target(state, target, false, filter)
}

fn open_target(state: &mut State, target: LogTarget, previous: bool, filter: &str) -> Vec<Effect> {
    let pods = match &target {
        LogTarget::Pod(p) => vec![p.clone()],
        LogTarget::Service { pods, name } if pods.is_empty() => {
            let why = format!("logs: no pods of {name} in this environment");
            state.flash = Some((state.now, why, false));
            return Vec::new();
        }
        LogTarget::Service { pods, .. } => pods.clone(),
    };
    let Some(namespace) = state.env().map(|e| e.config.namespace.clone()) else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if let Some(old) = &state.logs.view {
        effects.push(Effect::StopLogs(old.session));
    }
    state.logs.next_session += 1;
    let session = state.logs.next_session;
    state.logs.view = Some(LogView {
        session,
        env: state.selected_env,
        target,
        previous,
        lines: VecDeque::new(),
        notes: Vec::new(),
        scroll: 0,
        filter: TextArea::new(vec![filter.to_owned()]),
    });
    state.focus = Pane::Logs;
    effects.push(Effect::StreamLogs(LogRequest {
        session,
        env: state.selected_env,
        namespace,
        pods,
        tail: TAIL,
        previous,
    }));
    effects
}

fn move_cursor(state: &mut State, delta: isize, _page: usize) {
    let Some(view) = state.logs.view.as_mut() else {
        return;
    };
    let len = view.visible().len();
    // Up (negative) scrolls back in time; the bottom follows.
    let scroll = view.scroll as isize - delta;
    view.scroll = scroll.clamp(0, len.saturating_sub(1) as isize) as usize;
}

/// A line or the end of a stream of session `session`.
pub fn on_log(state: &mut State, session: u64, update: LogUpdate) -> bool {
    let Some(view) = state.logs.view.as_mut().filter(|v| v.session == session) else {
        return false;
    };
    match update {
        LogUpdate::Line(line) => {
            view.lines.push_back(line);
            if view.lines.len() > KEPT {
                view.lines.pop_front();
            }
            // Scrolled back: stay on the same lines while new ones arrive.
            if view.scroll > 0 {
                view.scroll += 1;
            }
        }
        LogUpdate::Ended { pod } => view.notes.push(format!("{pod}: stream ended")),
        LogUpdate::Failed { pod, message } => view.notes.push(format!("{pod}: {message}")),
    }
    state.focus == Pane::Logs || state.zoomed
}

/// Keys while typing the filter: Enter keeps it, Esc clears it.
pub fn on_filter_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    let Some(view) = state.logs.view.as_mut() else {
        state.mode = Mode::Normal;
        return (Vec::new(), true);
    };
    match key.code {
        KeyCode::Esc => {
            view.filter = TextArea::default();
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => state.mode = Mode::Normal,
        _ => {
            view.filter.input(key);
            view.scroll = 0;
        }
    }
    (Vec::new(), true)
}
