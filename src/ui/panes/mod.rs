//! One module per pane. Each draws a view derived from state; none keeps state.

pub mod bluegreen;
pub mod canary;
pub mod environments;
pub mod migrations;
pub mod pods;
pub mod release_history;
pub mod releases;
pub mod revisions;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType};

use crate::app::{Pane, State};
use crate::config::Theme;

/// Draws one pane. Adding a pane means a variant in `app::Pane` and an arm here.
pub fn render(pane: Pane, frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match pane {
        Pane::Environments => environments::render(frame, area, state, theme),
        Pane::Pods => pods::render(frame, area, state, theme),
        Pane::Canary => canary::render(frame, area, state, theme),
        Pane::Migrations => migrations::render(frame, area, state, theme),
        Pane::Releases => releases::render(frame, area, state, theme),
        Pane::BlueGreen => bluegreen::render(frame, area, state, theme),
        Pane::Revisions => revisions::render(frame, area, state, theme),
    }
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
