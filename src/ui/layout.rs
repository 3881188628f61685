//! Where each pane goes for a terminal size. Pure, so `update()` uses the same
//! numbers for paging that `render()` draws with.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{Pane, State};

/// Below this size panes are shown one at a time with a tab bar.
pub const MIN_SPLIT_WIDTH: u16 = 100;
pub const MIN_SPLIT_HEIGHT: u16 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Option<Rect>,
    pub environments: Option<Rect>,
    pub pods: Option<Rect>,
    pub footer: Rect,
}

/// Rows the environments pane wants: its table, the service matrix and drift lines.
fn environments_height(state: &State) -> u16 {
    let envs = state.envs.len() as u16;
    let services = state
        .envs
        .iter()
        .flat_map(|e| e.config.services.iter().map(|s| s.name.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u16;
    // borders 2 + header 1 + envs + blank 1 + matrix header 1 + services + blank + 2 drift
    2 + 1 + envs + 1 + 1 + services + 1 + 2
}

pub fn areas(state: &State, area: Rect) -> Areas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let split = area.width >= MIN_SPLIT_WIDTH && area.height >= MIN_SPLIT_HEIGHT;
    if state.zoomed || !split {
        let (tabs, body) = if split {
            (None, body)
        } else {
            let [tabs, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
            (Some(tabs), rest)
        };
        let (environments, pods) = match state.focus {
            Pane::Environments => (Some(body), None),
            Pane::Pods => (None, Some(body)),
        };
        return Areas {
            header,
            tabs,
            environments,
            pods,
            footer,
        };
    }
    let wanted = environments_height(state).min(body.height / 2);
    let [environments, pods] =
        Layout::vertical([Constraint::Length(wanted), Constraint::Min(0)]).areas(body);
    Areas {
        header,
        tabs: None,
        environments: Some(environments),
        pods: Some(pods),
        footer,
    }
}

/// Data rows a pane's table shows at the current size (for paging and scrolling).
pub fn table_rows(state: &State, pane: Pane) -> usize {
    let (w, h) = state.size;
    let a = areas(state, Rect::new(0, 0, w, h));
    let rect = match pane {
        Pane::Environments => a.environments,
        // In single-pane mode the pods pane is what the user pages through.
        Pane::Pods => a.pods.or(a.environments),
    };
    // borders and the header row
    rect.map(|r| r.height.saturating_sub(3) as usize)
        .unwrap_or(0)
}
