//! Header (where the data comes from, connection per environment, clock), tab bar
//! and footer (key hints from the live key map, last result).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Action, Connection, Mode, Pane, State};
use crate::config::Theme;
use crate::domain::format::{duration, truncate};

pub fn header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // Connection marks matter most; the source, user and clock go first when narrow, and
    // the last error of a link in trouble shows in what room is left.
    let mut envs = Vec::new();
    let mut trouble = None;
    for env in &state.envs {
        let age = |since| duration(state.now.duration_since(since).as_secs().max(0));
        let (mark, style, extra) = match env.connection() {
            Connection::Live => ("●", theme.ok, String::new()),
            Connection::Connecting => ("◌", theme.muted, " connecting".to_owned()),
            Connection::Degraded { since, message } => {
                trouble.get_or_insert((env.config.name.as_str(), message, theme.warn));
                ("⚠", theme.warn, format!(" degraded {}", age(since)))
            }
            Connection::Down { since, message } => {
                trouble.get_or_insert((env.config.name.as_str(), message, theme.error));
                ("✖", theme.error, format!(" down {}", age(since)))
            }
        };
        envs.push(Span::raw(" "));
        envs.push(Span::styled(
            format!("{mark} {}{extra}", env.config.name),
            style,
        ));
    }
    let width = area.width as usize;
    let mut spans = vec![Span::styled(" rollcall ", theme.title)];
    if state.readonly {
        spans.push(Span::styled(" READ-ONLY ", theme.warn));
    }
    if let Some(run) = &state.drill {
        let took = duration(run.elapsed(state.now, state.clock_speed));
        let span = match run.done {
            None => {
                // What the goal is measured from, as the reset prompt takes it.
                let since = run.baseline.bad_release.map_or(String::new(), |t| {
                    format!("· bad release {} ", crate::domain::advisor::tool_time(t))
                });
                Span::styled(
                    format!(" DRILL {} ⏱ {took} {since}", run.drill.name),
                    theme.warn,
                )
            }
            Some(_) => {
                let style = if run.unsafe_sent.is_empty() {
                    theme.ok
                } else {
                    theme.error
                };
                // The score stays where the drill's clock was.
                let score = run.score(state.now, state.clock_speed);
                Span::styled(format!(" DRILL DONE {score} "), style)
            }
        };
        spans.push(span);
    }
    let optional = [
        Span::styled(format!(" {} ", state.source), theme.header),
        Span::styled(format!(" user: {} ", state.user), theme.muted),
    ];
    let clock = Span::styled(state.now.strftime(" %H:%M:%S UTC").to_string(), theme.muted);
    let sum = |v: &[Span]| v.iter().map(|s| s.width()).sum::<usize>();
    let mut used = sum(&spans) + sum(&envs);
    let with_clock = used + clock.width() <= width;
    if with_clock {
        used += clock.width();
    }
    for extra in optional {
        if used + extra.width() <= width {
            used += extra.width();
            spans.push(extra);
        }
    }
    spans.extend(envs);
    if let Some((name, message, style)) = trouble {
        let room = width.saturating_sub(used);
        if let Some(text) = fit(&format!("  {name}: {message}"), room) {
            let span = Span::styled(text, style);
            used += span.width();
            spans.push(span);
        }
    }
    if with_clock {
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
        spans.push(clock);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}

/// `text` on one line in at most `room` columns, cut with an ellipsis; None when too
/// little of it would show to be read.
fn fit(text: &str, room: usize) -> Option<String> {
    const LEAST: usize = 16;
    let one_line = text.replace(['\n', '\r'], " ");
    (room >= LEAST || one_line.chars().count() <= room).then(|| truncate(&one_line, room))
}

pub fn tabs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    /// How much of an unfocused tab's title shows.
    #[derive(Clone, Copy, PartialEq)]
    enum Fit {
        Full,
        Short,
        KeyOnly,
    }
    // Labelled by the key that focuses the pane, so a remapped key shows.
    let label = |pane: Pane, fit: Fit| {
        let key = state.keys.keys_for(pane.focus_action()).first().cloned();
        let title = match fit {
            _ if pane == state.focus => pane.title(),
            Fit::Full => pane.title(),
            Fit::Short => pane.short_title(),
            Fit::KeyOnly if key.is_some() => "",
            Fit::KeyOnly => pane.short_title(),
        };
        match (key, title.is_empty()) {
            (Some(k), true) => format!(" {k} "),
            (Some(k), false) => format!(" {k} {title} "),
            (None, _) => format!(" {title} "),
        }
    };
    let width = |fits: &[Fit]| -> usize {
        Pane::ALL
            .iter()
            .zip(fits)
            .map(|(p, f)| label(*p, *f).chars().count())
            .sum()
    };
    // Every tab stays visible: short titles for the unfocused ones when the full ones
    // would run off the edge; when even those would, only the keys of the last tabs, as
    // few as it takes (the focused one keeps its title).
    let n = Pane::ALL.len();
    let mut fits = vec![Fit::Full; n];
    if width(&fits) > usize::from(area.width) {
        fits = vec![Fit::Short; n];
        for i in (0..n).rev() {
            if width(&fits) <= usize::from(area.width) {
                break;
            }
            fits[i] = Fit::KeyOnly;
        }
    }
    let mut spans = Vec::new();
    for (pane, fit) in Pane::ALL.iter().zip(fits) {
        let style = if *pane == state.focus {
            theme.selection
        } else {
            theme.muted
        };
        spans.push(Span::styled(label(*pane, fit), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The hints shown for the current mode, from the live key map.
fn hints(state: &State) -> Vec<(String, &'static str)> {
    match &state.mode {
        Mode::Filter | Mode::LogFilter => vec![
            ("Enter".into(), "keep filter"),
            ("Esc".into(), "clear filter"),
        ],
        Mode::Help => vec![("any key".into(), "close help")],
        Mode::Advice(_) => vec![
            ("j/k".into(), "choose"),
            ("PgDn/PgUp".into(), "details"),
            ("Enter".into(), "run the plan"),
            ("Esc".into(), "close"),
        ],
        Mode::Confirm(_)
        | Mode::Prompt(_)
        | Mode::Reason(_)
        | Mode::Note(_)
        | Mode::KafkaReset(_) => {
            vec![("Enter".into(), "confirm"), ("Esc".into(), "cancel")]
        }
        Mode::Normal => {
            let mut actions = vec![
                (Action::Help, "help"),
                (Action::NextPane, "pane"),
                (Action::Filter, "filter"),
                (Action::Zoom, "zoom"),
            ];
            if !state.readonly {
                actions.push((Action::RestartDeployment, "restart"));
            }
            actions.push((Action::Quit, "quit"));
            actions
                .into_iter()
                .filter_map(|(a, label)| {
                    let keys = state.keys.keys_for(a);
                    keys.first().map(|k| (k.clone(), label))
                })
                .collect()
        }
    }
}

pub fn footer(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = Vec::new();
    if let Mode::Filter = state.mode {
        spans.push(Span::styled(
            format!(" /{}▏", state.filter_text()),
            theme.accent,
        ));
    }
    if let (Mode::LogFilter, Some(v)) = (&state.mode, &state.logs.view) {
        spans.push(Span::styled(
            format!(" logs /{}▏", v.filter_text()),
            theme.accent,
        ));
    }
    for (key, label) in hints(state) {
        spans.push(Span::styled(format!(" {key}"), theme.accent));
        spans.push(Span::styled(format!(" {label} "), theme.muted));
    }
    if let Some((_, text, ok)) = &state.flash {
        let style: Style = if *ok { theme.ok } else { theme.error };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(text.clone(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
