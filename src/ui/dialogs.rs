//! Overlays: the help screen (built from the live key map) and the confirm dialog
//! (the exact request that will be sent, and the typed name in production).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::State;
use crate::app::state::ConfirmDialog;
use crate::config::Theme;

/// A bordered box of `width`×`height` in the middle of `area`, cleared, titled; returns
/// its inside. The prompts (image, reason, note) are drawn in one.
pub(crate) fn popup(
    frame: &mut Frame,
    area: Rect,
    (width, height): (u16, u16),
    title: &str,
    border: ratatui::style::Style,
) -> Rect {
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(crate::domain::format::truncate(
            title,
            rect.width.saturating_sub(2) as usize,
        ))
        .border_style(border);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn help(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let entries: Vec<(String, &'static str)> = state
        .keys
        .help()
        .into_iter()
        .filter(|(_, action)| !(state.readonly && action.is_mutating()))
        .map(|(keys, action)| (keys, action.description()))
        .collect();
    let note = "In prompts: Enter accepts, Esc cancels; Ctrl+O turns auto-sync off first.";
    // Two columns when one would run off the bottom and the screen is wide enough.
    let rows = entries.len() + 2;
    let fits = usize::from(area.height.saturating_sub(2));
    let columns = if rows > fits && area.width >= 2 * HELP_WIDTH {
        2
    } else {
        1
    };
    let per_column = entries.len().div_ceil(columns).max(1);
    let mut texts: Vec<Vec<Line>> = entries
        .chunks(per_column)
        .map(|chunk| {
            let width = chunk
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            chunk
                .iter()
                .map(|(keys, description)| {
                    Line::from(vec![
                        Span::styled(format!(" {keys:>width$}  "), theme.accent),
                        Span::raw(*description),
                    ])
                })
                .collect()
        })
        .collect();
    if let Some(last) = texts.last_mut() {
        last.push(Line::raw(""));
        last.push(Line::styled(format!(" {note}"), theme.muted));
    }
    let height = texts.iter().map(Vec::len).max().unwrap_or(0) as u16 + 2;
    let rect = centered(area, HELP_WIDTH * columns as u16 + 2, height);
    // Taller than the screen: it scrolls (the scroll is clamped here, where the height
    // is known) and says so.
    let max_scroll = height.saturating_sub(rect.height);
    let scroll = state.help_scroll.min(max_scroll);
    let title = if max_scroll > 0 {
        format!(
            " Keys {}–{} of {} (↑/↓ PgUp/PgDn scroll · any other key closes) ",
            scroll + 1,
            (scroll + rect.height.saturating_sub(2)).min(height.saturating_sub(2)),
            height.saturating_sub(2)
        )
    } else {
        " Keys (any key closes) ".to_owned()
    };
    let block = Block::bordered()
        .title(crate::domain::format::truncate(
            &title,
            rect.width.saturating_sub(2) as usize,
        ))
        .border_style(theme.focus);
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(inner);
    for (text, column) in texts.into_iter().zip(areas.iter()) {
        frame.render_widget(Paragraph::new(text).scroll((scroll, 0)), *column);
    }
}

/// One column of the help screen: the widest keys, two spaces, the longest description.
const HELP_WIDTH: u16 = 76;

pub fn confirm(frame: &mut Frame, area: Rect, dialog: &ConfirmDialog, theme: &Theme) {
    use crate::app::confirm::{DIALOG_WIDTH, input_rows, needed_rows};
    let p = &dialog.preview;
    let mut lines = Vec::new();
    for n in &dialog.notes {
        lines.push(Line::styled(format!("⚠ {n}"), theme.error));
    }
    if let Some(w) = &dialog.warning {
        lines.push(Line::styled(format!("⚠ {w}"), theme.error));
    }
    if !lines.is_empty() {
        lines.push(Line::raw(""));
    }
    lines.extend([
        Line::from(vec![
            Span::styled(format!("{} ", p.method), theme.accent),
            Span::raw(p.path.clone()),
        ]),
        Line::styled(format!("Content-Type: {}", p.content_type), theme.muted),
    ]);
    lines.extend(p.body.lines().map(|l| Line::raw(l.to_owned())));
    lines.push(Line::raw(""));
    lines.push(Line::styled(p.effect.clone(), theme.muted));
    if let Some((text, refused)) = crate::app::confirm::dry_run_line(dialog) {
        let style = if refused { theme.error } else { theme.ok };
        lines.extend(text.lines().map(|l| Line::styled(l.to_owned(), style)));
    }
    // As tall as the text needs, so nothing is cut; when the terminal is shorter, the
    // body scrolls and Enter waits until all of it was shown.
    let height = needed_rows(dialog, area.width);
    let rect = centered(area, DIALOG_WIDTH, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!(" {} ", p.title))
        .border_style(theme.warn);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [body, inputs, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(input_rows(dialog)),
        Constraint::Length(2),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((dialog.scroll, 0)),
        body,
    );
    let mut fields = Vec::new();
    if let Some((why, input)) = &dialog.reason {
        fields.push((
            Line::from(vec![
                Span::styled("CHANGE WINDOW CLOSED", theme.error),
                Span::raw(format!(" — {why}:")),
            ]),
            input,
            dialog.reason_focused || dialog.typed.is_none(),
        ));
    }
    if let Some((expected, input)) = &dialog.typed {
        fields.push((
            Line::from(vec![
                Span::styled(dialog.typed_because, theme.error),
                Span::raw(format!(" — type {expected} to confirm:")),
            ]),
            input,
            !dialog.reason_focused || dialog.reason.is_none(),
        ));
    }
    let areas = Layout::vertical(vec![Constraint::Length(4); fields.len()]).split(inputs);
    for ((label, input, focused), at) in fields.into_iter().zip(areas.iter()) {
        let [l, f] = Layout::vertical([Constraint::Length(1), Constraint::Length(3)]).areas(*at);
        frame.render_widget(Paragraph::new(label), l);
        let mut input = input.clone();
        input.set_block(Block::bordered().border_style(if focused {
            theme.accent
        } else {
            theme.muted
        }));
        frame.render_widget(&input, f);
    }
    let cut = height > area.height;
    let hint = match &dialog.error {
        Some(e) => Line::styled(e.clone(), theme.error),
        None if cut => Line::styled(
            "↓/↑ scroll (it does not fit) · Enter confirm once all seen · Esc cancel",
            theme.warn,
        ),
        None if dialog.reason.is_some() && dialog.typed.is_some() => {
            Line::styled("Tab switch field · Enter confirm · Esc cancel", theme.muted)
        }
        None => Line::styled("Enter confirm · Esc cancel", theme.muted),
    };
    frame.render_widget(Paragraph::new(hint), footer);
}
