//! The checklist pane: the pre-deployment checklist of one release in the selected
//! environment, list by list, each item ✔ done, ✖ failing, ☐ open or … checking, with
//! the evidence a check read or who ticked it and when; under it, the selected item in
//! full. Ticks the cluster does not have yet are marked ⇡.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::panes::checklist::{NotePrompt, Walked, is_unsynced, releases, walked};
use crate::app::{Action, Pane, State};
use crate::config::{Check, Theme};
use crate::domain::checklist::walk::ItemView;
use crate::domain::checklist::{ItemState, Mark, Release};
use crate::domain::format::{age, truncate};
use crate::ui::panes::pane_block;

fn state_style(s: ItemState, theme: &Theme) -> Style {
    match s {
        ItemState::Done => theme.ok,
        ItemState::Failing => theme.error,
        ItemState::Open => theme.warn,
        ItemState::Checking => theme.muted,
    }
}

/// `ticked by alice@example.com 2h ago · "note"`; in a row, `alice · 2h ago · "note"`
/// (the mark in front already says whether it is ticked).
fn mark_text(state: &State, mark: &Mark, short: bool) -> String {
    let note = if mark.note.is_empty() {
        String::new()
    } else {
        format!(" · \"{}\"", mark.note)
    };
    let when = age(state.now, Some(mark.at));
    if short {
        let who = mark.by.split('@').next().unwrap_or(&mark.by);
        let verb = if mark.done { "" } else { "unticked by " };
        return format!("{verb}{who} · {when} ago{note}");
    }
    let verb = if mark.done {
        "ticked by"
    } else {
        "unticked by"
    };
    format!("{verb} {} {when} ago{note}", mark.by)
}

/// What an item says after its title: short in its row, whole in the detail.
fn detail(state: &State, release: &Release, v: &ItemView, short: bool) -> (String, Option<String>) {
    let unsynced =
        is_unsynced(state, state.selected_env, release, &v.item.id).map(|u| match &u.error {
            Some(e) => format!("⇡ not in the cluster yet: {e}"),
            None => "⇡ sending…".to_owned(),
        });
    let text = match (&v.evaluation, &v.mark) {
        (Some(e), Some(m)) if v.state == ItemState::Done && m.done => {
            format!("{} · {}", e.evidence, mark_text(state, m, short))
        }
        (Some(e), _) => e.evidence.clone(),
        (None, Some(m)) => mark_text(state, m, short),
        (None, None) if v.item.check == Check::OnCall => match &state.checklist.lists.on_call {
            Some(o) => format!("reach {}: {}", o.name, o.contact),
            None => "reach the on-call engineer".to_owned(),
        },
        (None, None) => v.item.hint.clone().unwrap_or_default(),
    };
    (text, unsynced)
}

fn title(w: Option<&Walked>, env: &str) -> String {
    match w {
        None => format!(" Checklist · {env} "),
        Some(w) => {
            let p = w.progress;
            let failing = if p.failing > 0 {
                format!(", {} failing", p.failing)
            } else {
                String::new()
            };
            format!(
                " Checklist · {} {} → {env} · {}/{} done{failing} ",
                w.release.service,
                w.release.version,
                p.done,
                p.total()
            )
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Checklist;
    let env_name = state.env().map_or("", |e| e.config.name.as_str());
    let w = walked(state, state.selected_env);
    let block = pane_block(title(w.as_ref(), env_name), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(w) = w else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "no release to walk in {env_name}: every service runs what the other \
                     environments run, and no checklist was started here"
                ),
                theme.muted,
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let [top, list_area, detail_area, keys_area] = crate::ui::panes::walk_areas(inner, 4);
    let detail_height = detail_area.height;

    let all = releases(state, state.selected_env);
    let at = all
        .iter()
        .position(|r| *r == w.release)
        .map_or(0, |i| i + 1);
    let p = w.progress;
    let mut summary = vec![Span::styled(
        format!("release {} ({at}/{})  ", w.release, all.len()),
        theme.muted,
    )];
    for (n, label, style) in [
        (p.done, "✔ done", theme.ok),
        (p.failing, "✖ failing", theme.error),
        (p.open, "☐ open", theme.warn),
        (p.checking, "… checking", theme.muted),
    ] {
        if n > 0 {
            summary.push(Span::styled(format!("{n} {label}  "), style));
        }
    }
    if p.complete() {
        summary.push(Span::styled("complete: the gate is open", theme.ok));
    }
    frame.render_widget(Paragraph::new(Line::from(summary)), top);

    // Rows: a heading per list, then its items; the selected item stays in view.
    let width = list_area.width as usize;
    let title_width = (width * 2 / 5).clamp(16, 44);
    let selected = state
        .checklist
        .cursor
        .selected
        .min(w.items.len().saturating_sub(1));
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    let mut last_list = "";
    for (i, v) in w.items.iter().enumerate() {
        if v.list != last_list {
            lines.push(Line::styled(v.list.clone(), theme.title));
            last_list = &v.list;
        }
        if i == selected {
            selected_line = lines.len();
        }
        let pointer = if i == selected && focused { "▶" } else { " " };
        let (text, unsynced) = detail(state, &w.release, v, true);
        let rest = width.saturating_sub(title_width + 4);
        let mut spans = vec![
            Span::raw(pointer),
            Span::styled(
                format!("{} ", v.state.symbol()),
                state_style(v.state, theme),
            ),
            Span::styled(
                format!("{:<title_width$} ", truncate(&v.item.title, title_width)),
                if i == selected && focused {
                    theme.selection
                } else {
                    theme.text
                },
            ),
        ];
        match unsynced {
            Some(u) => spans.push(Span::styled(truncate(&u, rest), theme.warn)),
            None => spans.push(Span::styled(
                truncate(&text, rest),
                if v.state == ItemState::Failing {
                    theme.error
                } else {
                    theme.muted
                },
            )),
        }
        lines.push(Line::from(spans));
    }
    crate::ui::panes::scrolled(frame, list_area, lines, selected_line);

    if detail_height > 0
        && let Some(v) = w.items.get(selected)
    {
        frame.render_widget(
            Paragraph::new(selected_detail(state, &w.release, v, theme)).wrap(Wrap { trim: true }),
            detail_area,
        );
    }
    let mut keys = Vec::new();
    if !state.readonly
        && let Some(k) = state.keys.keys_for(Action::ChecklistTick).first()
    {
        keys.push(format!("{k} tick/untick"));
    }
    if let Some(k) = state.keys.keys_for(Action::ChecklistNextRelease).first() {
        keys.push(format!("{k} next release"));
    }
    if let Some(k) = state.keys.keys_for(Action::Down).first() {
        keys.push(format!("{k}/… move"));
    }
    frame.render_widget(
        Paragraph::new(Line::styled(keys.join(" · "), theme.muted)),
        keys_area,
    );
}

/// The selected item in full: evidence and when it was read, or the mark and its note.
fn selected_detail(
    state: &State,
    release: &Release,
    v: &ItemView,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled("── ", theme.muted),
        Span::styled(v.item.title.clone(), theme.title),
        Span::styled(
            if v.item.check.is_automatic() {
                " · checked by rollcall"
            } else {
                " · ticked by hand"
            },
            theme.muted,
        ),
    ])];
    if let Some(e) = &v.evaluation {
        let read = e
            .read_at
            .map(|t| format!(" (read {} ago)", age(state.now, Some(t))))
            .unwrap_or_default();
        lines.push(Line::styled(
            format!("{}{read}", e.evidence),
            state_style(v.state, theme),
        ));
    }
    let (text, unsynced) = detail(state, release, v, false);
    if v.evaluation.is_none() {
        lines.push(Line::styled(text, theme.text));
    }
    if let Some(u) = unsynced {
        lines.push(Line::styled(u, theme.warn));
    } else if let Some(h) = &v.item.hint
        && v.evaluation.is_some()
    {
        lines.push(Line::styled(h.clone(), theme.muted));
    }
    lines
}

/// The note asked for with a tick.
pub fn note_prompt(frame: &mut Frame, area: Rect, p: &NotePrompt, theme: &Theme) {
    let inner = crate::ui::dialogs::popup(frame, area, (76, 7), &p.title, theme.accent);
    let [field, hint] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(2)]).areas(inner);
    let mut input = p.input.clone();
    input.set_block(Block::bordered().border_style(theme.accent));
    frame.render_widget(&input, field);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "Enter: record it (shared with your team, audited) · Esc: cancel",
            theme.muted,
        ))
        .wrap(Wrap { trim: true }),
        hint,
    );
}
