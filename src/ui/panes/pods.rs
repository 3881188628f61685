//! Pods of the selected environment: phase, readiness, restarts, age, node, probe
//! state and the last warning event. Only the visible window of rows is built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::pane_block;
use crate::app::{Pane, State};
use crate::config::Theme;
use crate::domain::{PodPhase, PodRow, Probe};
use crate::ui::format::{age, duration, truncate};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Pods;
    let Some(env) = state.env() else {
        frame.render_widget(pane_block(" Pods ".into(), focused, theme), area);
        return;
    };
    let filter = state.filter_text();
    let total = state.visible_pods().count();
    let mut title = format!(" Pods · {} · {} ", env.config.name, env.config.namespace);
    if !filter.is_empty() {
        title.push_str(&format!("· /{filter} "));
    }
    title.push_str(&format!("· {total} "));
    if !env.pods.listed() && !env.pods.is_empty() {
        title.push_str("(loading…) ");
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if total == 0 {
        let msg = if !env.pods.listed() {
            "waiting for the first list from the cluster…".to_owned()
        } else if filter.is_empty() {
            format!("no pods in {}", env.config.namespace)
        } else {
            format!("no pods match /{filter} (Esc clears)")
        };
        frame.render_widget(Paragraph::new(Span::styled(msg, theme.muted)), inner);
        return;
    }

    let height = inner.height.saturating_sub(1) as usize;
    let cursor = state.pod_cursor;
    let header = Row::new([
        "NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "PROBE", "LAST WARNING",
    ])
    .style(theme.title);
    let rows = state
        .visible_pods()
        .enumerate()
        .skip(cursor.offset)
        .take(height)
        .map(|(i, pod)| {
            let row = pod_row(pod, state, theme);
            if i == cursor.selected && focused {
                row.style(theme.selection)
            } else {
                row
            }
        });
    let widths = [
        Constraint::Min(24),
        Constraint::Length(5),
        Constraint::Length(17),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

fn pod_row<'a>(pod: &'a PodRow, state: &State, theme: &Theme) -> Row<'a> {
    let ready_style = if pod.is_ready() { theme.ok } else { theme.warn };
    let status_style = status_style(pod, theme);
    let restarts_style = if pod.restarts > 0 {
        theme.warn
    } else {
        theme.text
    };
    let (probe, probe_style) = probe_text(pod.probe(state.now), theme);
    let warning = state
        .env()
        .and_then(|e| e.events.last_warning_for("Pod", &pod.name))
        .map(|e| {
            let when = age(state.now, e.last_seen);
            format!("{when} {}: {}", e.reason, truncate(&e.message, 80))
        })
        .unwrap_or_default();
    Row::new(vec![
        Cell::from(pod.name.as_str()),
        Cell::from(Span::styled(
            format!("{}/{}", pod.ready, pod.containers),
            ready_style,
        )),
        Cell::from(Span::styled(pod.status_text().to_owned(), status_style)),
        Cell::from(Span::styled(pod.restarts.to_string(), restarts_style)),
        Cell::from(age(state.now, pod.created)),
        Cell::from(pod.node.as_deref().unwrap_or("-")),
        Cell::from(Span::styled(probe, probe_style)),
        Cell::from(Span::styled(warning, theme.warn)),
    ])
}

fn status_style(pod: &PodRow, theme: &Theme) -> Style {
    if pod.deleting {
        return theme.muted;
    }
    match (pod.phase, pod.reason.is_some()) {
        (PodPhase::Running, false) if pod.is_ready() => theme.ok,
        (PodPhase::Running, false) | (PodPhase::Pending, _) => theme.warn,
        (PodPhase::Succeeded, _) => theme.muted,
        _ => theme.error,
    }
}

fn probe_text(probe: Probe, theme: &Theme) -> (String, Style) {
    match probe {
        Probe::Ready => ("✔ ready".into(), theme.ok),
        Probe::InitialDelay { remaining_secs } => (
            format!("⏳ {}", duration(remaining_secs as i64)),
            theme.warn,
        ),
        Probe::Failing => ("✖ failing".into(), theme.error),
        Probe::NotStarted => ("· starting".into(), theme.muted),
        Probe::Completed => ("done".into(), theme.muted),
        Probe::Terminating => ("stopping".into(), theme.muted),
    }
}
