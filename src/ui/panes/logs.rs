//! The logs pane: the newest lines at the bottom (or where the user scrolled back to),
//! each with its pod when a service's pods are interleaved, errors marked ✖ and
//! warnings ⚠ as well as coloured, filtered by `/`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::panes::logs::{LogTarget, LogView};
use crate::app::{Action, Pane, State};
use crate::config::Theme;
use crate::domain::format::truncate;
use crate::domain::logs::Level;
use crate::ui::panes::pane_block;

fn title(state: &State, v: &LogView, shown: usize) -> String {
    let env = state.envs.get(v.env).map_or("", |e| e.config.name.as_str());
    let what = match &v.target {
        LogTarget::Pod(p) => format!("pod {p}"),
        LogTarget::Service { name, pods } => format!("{name} ({} pods)", pods.len()),
    };
    let mode = if v.previous {
        "previous container"
    } else if v.following() {
        "following"
    } else {
        "scrolled back"
    };
    let filter = v.filter_text();
    let filtered = if filter.is_empty() {
        String::new()
    } else {
        format!(" · /{filter} {shown} of {}", v.lines.len())
    };
    format!(" Logs · {what} · {env} · {mode}{filtered} ")
}

/// A pod's name short enough to prefix each line: its last segment.
fn pod_tag(pod: &str) -> &str {
    pod.rsplit('-').next().unwrap_or(pod)
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Logs;
    let Some(v) = &state.logs.view else {
        let block = pane_block(" Logs ".into(), focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let key = |a: Action| state.keys.keys_for(a).first().cloned().unwrap_or_default();
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "{} on a pod (pods pane) or a service (canary, releases) shows its logs, \
                     followed; {} the previous container's",
                    key(Action::Logs),
                    key(Action::LogsPrevious)
                ),
                theme.muted,
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let visible = v.visible();
    let block = pane_block(title(state, v, visible.len()), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let many = matches!(v.target, LogTarget::Service { .. });
    let width = inner.width as usize;
    let notes: Vec<&String> = v.notes.iter().rev().take(2).collect();
    let height = (inner.height as usize).saturating_sub(notes.len());
    let end = visible.len().saturating_sub(v.scroll);
    let start = end.saturating_sub(height);
    let mut lines: Vec<Line> = visible[start..end]
        .iter()
        .map(|l| {
            let style = match l.level {
                Level::Error => theme.error,
                Level::Warn => theme.warn,
                Level::Other => theme.text,
            };
            let mut spans = vec![Span::styled(l.level.mark(), style)];
            let mut used = 2;
            if many {
                let tag = format!("{:<6}", pod_tag(&l.pod));
                used += tag.chars().count() + 1;
                spans.push(Span::styled(tag, theme.muted));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(
                truncate(&l.text, width.saturating_sub(used)),
                style,
            ));
            Line::from(spans)
        })
        .collect();
    if visible.is_empty() {
        let waiting = if v.lines.is_empty() {
            "waiting for lines…"
        } else {
            "no line matches the filter"
        };
        lines.push(Line::styled(waiting, theme.muted));
    }
    for note in notes {
        lines.push(Line::styled(truncate(note, width), theme.muted));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
