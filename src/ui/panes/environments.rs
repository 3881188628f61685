//! Environments: one row per environment (namespace, deploy mode, ready/desired,
//! health, connection, policy drift), then a service × environment matrix of
//! versions and readiness, then the selected environment's drift in words.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::{Connection, Pane, State};
use crate::config::Theme;
use crate::domain::environment::summarize;
use crate::domain::format::{duration, truncate};
use crate::domain::{EnvironmentSummary, Health};
use crate::ui::panes::pane_block;

pub fn health_mark(health: Health, theme: &Theme) -> (&'static str, Style) {
    match health {
        Health::Healthy => ("✔", theme.ok),
        Health::Progressing => ("◐", theme.warn),
        Health::Unknown => ("?", theme.muted),
        Health::Degraded => ("✖", theme.error),
        Health::Missing => ("∅", theme.error),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Environments;
    let block = pane_block(" Environments ".into(), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let summaries: Vec<EnvironmentSummary> = state
        .envs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            summarize(
                &e.config,
                &crate::app::panes::bluegreen::workloads(state, i),
                &e.pods,
                state.now,
            )
        })
        .collect();
    let services = state.service_names();
    let env_rows = state.envs.len() as u16 + 1;
    let [table_area, matrix_area, drift_area] = Layout::vertical([
        Constraint::Length(env_rows),
        Constraint::Length(services.len() as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(inner);

    env_table(frame, table_area, state, &summaries, theme);
    matrix(frame, matrix_area, state, &summaries, &services, theme);
    drift(frame, drift_area, state, &summaries, theme);
}

fn env_table(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    summaries: &[EnvironmentSummary],
    theme: &Theme,
) {
    let header = Row::new([
        "",
        "ENV",
        "NAMESPACE",
        "MODE",
        "READY",
        "HEALTH",
        "LINK",
        "DRIFT",
    ])
    .style(theme.title);
    let rows = state
        .envs
        .iter()
        .zip(summaries)
        .enumerate()
        .skip(
            state
                .env_cursor
                .visible_offset(state.envs.len(), area.height.saturating_sub(1) as usize),
        )
        .map(|(i, (env, sum))| {
            let (mark, hstyle) = health_mark(sum.health, theme);
            let link = match env.connection() {
                Connection::Live => Span::styled("live", theme.ok),
                Connection::Connecting => Span::styled("…", theme.muted),
                // The column is 11 wide; the header says since when.
                Connection::Degraded { .. } => Span::styled("degraded", theme.warn),
                Connection::Down { since, .. } => Span::styled(
                    format!(
                        "down {}",
                        duration(state.now.duration_since(since).as_secs().max(0))
                    ),
                    theme.error,
                ),
            };
            let drift = if sum.drift.is_empty() {
                Span::styled("—", theme.muted)
            } else {
                Span::styled(format!("⚠ {}", sum.drift.len()), theme.warn)
            };
            let selected = i == state.selected_env;
            let ready_style = if sum.ready < sum.desired {
                theme.warn
            } else {
                theme.text
            };
            let row = Row::new(vec![
                Cell::from(if selected { "▶" } else { " " }),
                Cell::from(env.config.name.clone()),
                Cell::from(if env.config.namespace.is_empty() {
                    "(all namespaces)".to_owned()
                } else {
                    env.config.namespace.clone()
                }),
                Cell::from(env.config.policy.deploy_mode.short_label()),
                Cell::from(Span::styled(
                    format!("{}/{}", sum.ready, sum.desired),
                    ready_style,
                )),
                Cell::from(Span::styled(mark, hstyle)),
                Cell::from(link),
                Cell::from(drift),
            ]);
            if selected && state.focus == Pane::Environments {
                row.style(theme.selection)
            } else {
                row
            }
        });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(9),
        Constraint::Length(20),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Min(5),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), area);
}

fn matrix(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    summaries: &[EnvironmentSummary],
    services: &[String],
    theme: &Theme,
) {
    let area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let mut header = vec![Cell::from("SERVICE")];
    header.extend(state.envs.iter().map(|e| Cell::from(e.config.name.clone())));
    // 16 columns a cell, fewer when the pane is narrower: the text is cut to what the
    // table will really give it, so the table itself never cuts a cell's end.
    let envs = state.envs.len().max(1) as u16;
    let cell_width = (area.width.saturating_sub(SERVICE_WIDTH + envs) / envs).min(16);
    let rows = services.iter().map(|name| {
        let mut cells = vec![Cell::from(name.clone())];
        for sum in summaries {
            let cell = match sum.services.iter().find(|s| &s.name == name) {
                None => Cell::from(Span::styled("·", theme.muted)),
                Some(s) => {
                    let (mark, style) = health_mark(s.health, theme);
                    let text = cell_text(
                        s.version.as_deref().unwrap_or("?"),
                        s.ready,
                        s.desired,
                        usize::from(cell_width),
                    );
                    Cell::from(Line::from(vec![Span::raw(text), Span::styled(mark, style)]))
                }
            };
            cells.push(cell);
        }
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(SERVICE_WIDTH)];
    widths.extend(state.envs.iter().map(|_| Constraint::Length(cell_width)));
    frame.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(theme.title)),
        area,
    );
}

const SERVICE_WIDTH: u16 = 18;

/// A matrix cell before its health mark, `width` columns with the mark:
/// `v1.3.0-br… 5/5 `. What is cut is the tag, never the ready count or the health.
fn cell_text(version: &str, ready: u32, desired: u32, width: usize) -> String {
    let count = format!("{ready}/{desired} ");
    // The mark takes the last column.
    let room = width.saturating_sub(count.chars().count() + 1);
    match room {
        0 | 1 => count,
        _ => format!("{} {count}", truncate(version, room - 1)),
    }
}

fn drift(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    summaries: &[EnvironmentSummary],
    theme: &Theme,
) {
    let (Some(env), Some(sum)) = (state.env(), summaries.get(state.selected_env)) else {
        return;
    };
    let mut lines = Vec::new();
    let window = match sum.window_open {
        Some(true) => Span::styled("change window open", theme.ok),
        Some(false) => Span::styled("change window closed", theme.warn),
        None => Span::styled("no change window", theme.muted),
    };
    let mut first = vec![
        Span::styled(format!("{}: ", env.config.name), theme.title),
        window,
    ];
    match env.connection() {
        Connection::Down { message, .. } => {
            first.push(Span::styled(format!("  ✖ {message}"), theme.error));
        }
        Connection::Degraded { message, .. } => {
            first.push(Span::styled(format!("  ⚠ {message}"), theme.warn));
        }
        Connection::Live | Connection::Connecting => {}
    }
    lines.push(Line::from(first));
    // Most severe first: the area is a few lines high, and a failure must not be the
    // line that falls below it.
    let service = |s: &crate::domain::ServiceSummary| {
        let (mark, style) = health_mark(s.health, theme);
        Line::styled(
            format!("{mark} {}: {}", s.name, s.detail.as_deref().unwrap_or("")),
            style,
        )
    };
    let failing = |s: &&crate::domain::ServiceSummary| s.health >= Health::Degraded;
    let with_detail = sum.services.iter().filter(|s| s.detail.is_some());
    lines.extend(with_detail.clone().filter(failing).map(service));
    if sum.drift.is_empty() {
        lines.push(Line::styled("no drift from policy", theme.muted));
    }
    for d in &sum.drift {
        lines.push(Line::styled(format!("⚠ {}", d.describe()), theme.warn));
    }
    lines.extend(with_detail.filter(|s| !failing(s)).map(service));
    let area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    frame.render_widget(Paragraph::new(lines), area);
}
