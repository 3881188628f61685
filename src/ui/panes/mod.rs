//! One module per pane, named as its part of `app::panes`. Each draws a view derived
//! from state; none keeps state.

pub mod argocd;
pub mod bluegreen;
pub mod checklist;
pub mod environments;
pub mod kafka;
pub mod logs;
pub mod migrations;
pub mod pods;
pub mod revisions;
pub mod rollouts;
pub mod runbook;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType};

use crate::app::{Pane, State};
use crate::config::Theme;

/// Draws one pane. A new pane adds its module and one arm here.
pub fn render(pane: Pane, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let draw = match pane {
        Pane::Environments => environments::render,
        Pane::Pods => pods::render,
        Pane::Rollouts => rollouts::render,
        Pane::Migrations => migrations::render,
        Pane::Argocd => argocd::render,
        Pane::BlueGreen => bluegreen::render,
        Pane::Revisions => revisions::render,
        Pane::Checklist => checklist::render,
        Pane::Logs => logs::render,
        Pane::Runbook => runbook::render,
        Pane::Kafka => kafka::render,
    };
    draw(frame, area, state, theme);
}

/// The areas of a pane that walks a list (the checklist, the runbook): a summary line,
/// the list, the selected entry in full (when there is room for `detail` rows), keys.
pub fn walk_areas(inner: Rect, detail: u16) -> [Rect; 4] {
    let detail = if inner.height >= 14 { detail } else { 0 };
    ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Min(1),
        ratatui::layout::Constraint::Length(detail),
        ratatui::layout::Constraint::Length(1),
    ])
    .areas(inner)
}

/// `lines` in `area`, scrolled just enough that line `selected` shows.
pub fn scrolled(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<ratatui::text::Line<'_>>,
    selected: usize,
) {
    let skip = (selected + 1).saturating_sub(area.height as usize);
    frame.render_widget(
        ratatui::widgets::Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        area,
    );
}

/// A pane's frame: highlighted when focused.
pub fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    let block = Block::bordered().title(title);
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(theme.focus)
    } else {
        block.border_style(theme.muted)
    }
}
