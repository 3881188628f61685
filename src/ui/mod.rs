//! Rendering: `render(frame, state, theme)` is pure — it reads state and draws,
//! nothing else. Only visible rows are built, so large lists cost the same as small.

mod advice;
mod chrome;
pub(crate) mod dialogs;

pub mod panes;

use ratatui::Frame;

use crate::app::{Mode, State};
use crate::config::Theme;

pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    let areas = crate::app::layout::areas(state, area);
    chrome::header(frame, areas.header, state, theme);
    if let Some(tabs) = areas.tabs {
        chrome::tabs(frame, tabs, state, theme);
    }
    for (pane, rect) in &areas.panes {
        panes::render(*pane, frame, *rect, state, theme);
    }
    chrome::footer(frame, areas.footer, state, theme);
    match &state.mode {
        Mode::Help => dialogs::help(frame, area, state, theme),
        Mode::Confirm(dialog) => dialogs::confirm(frame, area, dialog, theme),
        Mode::Prompt(p) => panes::rollouts::prompt(frame, area, p, theme),
        Mode::Reason(p) => panes::bluegreen::reason_prompt(frame, area, p, theme),
        Mode::Note(p) => panes::checklist::note_prompt(frame, area, p, theme),
        Mode::KafkaReset(p) => panes::kafka::reset_prompt(frame, area, p, theme),
        Mode::Advice(view) => {
            let env = state
                .envs
                .get(view.env)
                .map_or("", |e| e.config.name.as_str());
            advice::render(frame, area, view, env, theme);
        }
        Mode::Normal | Mode::Filter | Mode::LogFilter => {}
    }
}
