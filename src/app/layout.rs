//! Where each pane goes for a terminal size. Pure geometry of the state, so `update()`
//! pages by the same numbers `render()` draws with; it lives in `app` because the page
//! size follows focus, zoom and the environment count as well as the terminal size.
//!
//! Wide (≥ 160×30): two columns, the left one environments over pods, the right one
//! the pinned panes (canary, migrations) stacked, with any other pane while it has the
//! focus. Medium (≥ 100×30): environments over the focused pane.
//! Small: one pane at a time under a tab bar. Zoom shows the focused pane alone.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{Pane, State};

pub const MIN_SPLIT_WIDTH: u16 = 100;
pub const MIN_SPLIT_HEIGHT: u16 = 30;
pub const MIN_COLUMNS_WIDTH: u16 = 160;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Option<Rect>,
    pub panes: Vec<(Pane, Rect)>,
    pub footer: Rect,
}

impl Areas {
    pub fn pane(&self, pane: Pane) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }
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
    let mut out = Areas {
        header,
        tabs: None,
        panes: Vec::new(),
        footer,
    };
    if !split {
        let [tabs, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        out.tabs = Some(tabs);
        out.panes.push((state.focus, rest));
        return out;
    }
    if state.zoomed {
        out.panes.push((state.focus, body));
        return out;
    }
    let right: Vec<Pane> = Pane::ALL
        .iter()
        .copied()
        .filter(|p| !matches!(p, Pane::Environments | Pane::Pods))
        .filter(|p| p.pinned() || *p == state.focus)
        .collect();
    let env_height = environments_height(state).min(body.height / 2);
    if area.width >= MIN_COLUMNS_WIDTH && !right.is_empty() {
        let [left, right_col] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        stack(&mut out, left, env_height, Pane::Pods);
        // The focused pane, when it is not one of the pinned ones, gets twice their
        // height: it is the one being read.
        let rows = Layout::vertical(right.iter().map(|p| {
            if *p == state.focus && !p.pinned() {
                Constraint::Fill(2)
            } else {
                Constraint::Fill(1)
            }
        }))
        .split(right_col);
        out.panes
            .extend(right.iter().copied().zip(rows.iter().copied()));
        return out;
    }
    // Medium size: the lower half follows the focus (pods unless another pane has it).
    let lower = match state.focus {
        Pane::Environments => Pane::Pods,
        other => other,
    };
    stack(&mut out, body, env_height, lower);
    out
}

/// Environments on top, `lower` below it.
fn stack(out: &mut Areas, area: Rect, env_height: u16, lower: Pane) {
    let [top, bottom] =
        Layout::vertical([Constraint::Length(env_height), Constraint::Min(0)]).areas(area);
    out.panes.push((Pane::Environments, top));
    out.panes.push((lower, bottom));
}

/// Data rows a pane's table shows at the current size (for paging and scrolling).
pub fn table_rows(state: &State, pane: Pane) -> usize {
    let (w, h) = state.size;
    let a = areas(state, Rect::new(0, 0, w, h));
    // borders and the header row
    a.pane(pane)
        .map(|r| r.height.saturating_sub(3) as usize)
        .unwrap_or(0)
}
