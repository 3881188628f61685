//! One module per pane. Each draws a view derived from state; none keeps state.

pub mod environments;
pub mod pods;

use ratatui::widgets::{Block, BorderType};

use crate::config::Theme;

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
