//! Releases: the promotion matrix (one row per service; per environment the revision,
//! image tag, sync and health of its Argo CD app), the operations in flight and the
//! waits, and drift from each environment's policy. Enter opens an app's history
//! (`history`).

pub mod history;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::panes::argocd::{ArgoLink, Wait, app_name, services};
use crate::app::{Pane, State};
use crate::config::Theme;
use crate::domain::application::{deploy_mode_drift, short_revision};
use crate::domain::environment::summarize;
use crate::domain::format::{duration, truncate};
use crate::domain::{AppRow, PolicyDrift};
use crate::ui::panes::pane_block;

/// Sync status as a mark: ● Synced, ○ OutOfSync, ? otherwise.
pub fn sync_mark(app: &AppRow, theme: &Theme) -> (&'static str, Style) {
    match app.sync_status.as_str() {
        "Synced" => ("●", theme.ok),
        "OutOfSync" => ("○", theme.warn),
        _ => ("?", theme.muted),
    }
}

/// Health as a mark, as Argo CD names it.
pub fn health_mark(app: &AppRow, theme: &Theme) -> (&'static str, Style) {
    match app.health.as_str() {
        "Healthy" => ("✔", theme.ok),
        "Progressing" => ("◐", theme.warn),
        "Suspended" => ("॥", theme.warn),
        "Degraded" => ("✖", theme.error),
        "Missing" => ("∅", theme.error),
        _ => ("?", theme.muted),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.argocd.history.is_some() {
        return history::render(frame, area, state, theme);
    }
    let focused = state.focus == Pane::Argocd;
    let block = pane_block(" Releases · Argo CD ".into(), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let names = services(state);
    let [matrix_area, rest, hint] = Layout::vertical([
        Constraint::Length(names.len() as u16 + 1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    matrix(frame, matrix_area, state, &names, theme);
    let lines = below(state, theme);
    let rest = Rect {
        y: rest.y.saturating_add(1).min(rest.bottom()),
        height: rest.height.saturating_sub(1),
        ..rest
    };
    frame.render_widget(Paragraph::new(lines), rest);
    let running =
        crate::app::panes::argocd::selected_app_row(state).is_some_and(|a| a.operation_running());
    let hint_line = if state.readonly {
        "Enter history · j/k service · ]/[ environment".to_owned()
    } else if running {
        "T terminate op · Enter history · Y sync · A auto-sync off · j/k service · ]/[ environment"
            .to_owned()
    } else {
        "Enter history · Y sync · A auto-sync off · j/k service · ]/[ environment".to_owned()
    };
    frame.render_widget(Paragraph::new(Line::styled(hint_line, theme.muted)), hint);
}

fn matrix(frame: &mut Frame, area: Rect, state: &State, names: &[String], theme: &Theme) {
    let mut header = vec![Cell::from("SERVICE")];
    header.extend(state.envs.iter().map(|e| Cell::from(e.config.name.clone())));
    let focused = state.focus == Pane::Argocd;
    let rows = names.iter().enumerate().map(|(r, service)| {
        let mut cells = vec![Cell::from(service.clone())];
        for (e, _) in state.envs.iter().enumerate() {
            let selected = focused && r == state.argocd.row && e == state.selected_env;
            let mut cell = cell(state, e, service, selected, theme);
            if selected {
                cell = cell.style(theme.selection);
            }
            cells.push(cell);
        }
        Row::new(cells)
    });
    let col = (area.width.saturating_sub(18) / state.envs.len().max(1) as u16).clamp(8, 24);
    let mut widths = vec![Constraint::Length(17)];
    widths.extend(state.envs.iter().map(|_| Constraint::Length(col)));
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.title))
            .column_spacing(1),
        area,
    );
}

/// `a1b2c3d v1.2.0 ●✔` for an app; the link state when there is none. The selected
/// cell starts with ▶: a monochrome terminal shows no selection colour.
fn cell<'a>(state: &State, env: usize, service: &str, selected: bool, theme: &Theme) -> Cell<'a> {
    let pointer = if selected { "▶" } else { "" };
    let Some(name) = app_name(state, env, service) else {
        return Cell::from(Span::styled(format!("{pointer}·"), theme.muted));
    };
    let re = state.argocd.env(env);
    match re.and_then(|e| e.app(&name)) {
        Some(app) => {
            let (s, ss) = sync_mark(app, theme);
            let (h, hs) = health_mark(app, theme);
            let rev = app.deployed_revision().map(short_revision).unwrap_or("?");
            let tag = app.image_tag().unwrap_or("-");
            let mut spans = vec![
                Span::raw(format!("{pointer}{rev} {} ", truncate(tag, 8))),
                Span::styled(s, ss),
                Span::styled(h, hs),
            ];
            if app.operation_in_flight() {
                spans.push(Span::styled("⟳", theme.accent));
            }
            if app.deleting.is_some() {
                spans.push(Span::styled("⌫", theme.error));
            }
            Cell::from(Line::from(spans))
        }
        None => {
            let link = match re.map(|e| &e.link) {
                Some(ArgoLink::Down { .. }) => "✖ down",
                Some(ArgoLink::NotConfigured(_)) => "—",
                Some(ArgoLink::Live) => "∅ no app",
                _ => "…",
            };
            Cell::from(Span::styled(format!("{pointer}{link}"), theme.muted))
        }
    }
}

fn wait_line<'a>(state: &State, w: &Wait, theme: &Theme) -> Line<'a> {
    let env = state
        .envs
        .get(w.env)
        .map_or("?", |e| e.config.name.as_str());
    match &w.outcome {
        None => Line::from(vec![
            Span::styled("⏳ ", theme.accent),
            Span::raw(format!(
                "{env}: waiting for {} Healthy{} · {} / {}",
                w.app,
                if w.rollback { "" } else { " + Synced" },
                duration(w.elapsed(state.now)),
                duration(w.timeout_secs)
            )),
        ]),
        Some(Ok(m)) => Line::styled(format!("✔ {env}: {m}"), theme.ok),
        Some(Err(m)) => Line::styled(format!("✖ {env}: {m}"), theme.error),
    }
}

/// Waits, operations in flight, links that are not live, and policy drift.
fn below<'a>(state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines: Vec<Line> = state
        .argocd
        .waits
        .iter()
        .rev()
        .take(3)
        .map(|w| wait_line(state, w, theme))
        .collect();
    for (i, env) in state.envs.iter().enumerate() {
        let re = state.argocd.env(i);
        let name = &env.config.name;
        match re.map(|e| &e.link) {
            Some(ArgoLink::Down { since, message }) => lines.push(Line::styled(
                format!(
                    "✖ {name}: down {}: {message}",
                    duration(state.now.duration_since(*since).as_secs().max(0))
                ),
                theme.error,
            )),
            Some(ArgoLink::NotConfigured(why)) => {
                lines.push(Line::styled(format!("{name}: {why}"), theme.muted))
            }
            _ => {}
        }
        let Some(re) = re else { continue };
        for app in re.apps.iter().filter(|a| a.operation_in_flight()) {
            let op = app.operation_state.as_ref();
            let req = app
                .pending_operation
                .as_ref()
                .or(op.and_then(|o| o.operation.as_ref()));
            let rev = req.and_then(|r| r.revision.as_deref()).map(short_revision);
            lines.push(Line::styled(
                format!(
                    "⟳ {name}: {} {} {}{}: {}",
                    app.name,
                    req.map_or("operation", |r| r.kind.as_str()),
                    op.map_or("requested", |o| o.phase.as_str()),
                    rev.map(|r| format!(" → {r}")).unwrap_or_default(),
                    op.and_then(|o| o.message.as_deref()).unwrap_or("")
                ),
                theme.accent,
            ));
        }
        for service in &env.config.services {
            if let Some(app) = re.app(&service.argocd_app)
                && let Some(d) = deploy_mode_drift(env.config.policy.deploy_mode, app)
            {
                lines.push(Line::styled(format!("⚠ {name}: {d}"), theme.warn));
            }
        }
        let summary = summarize(
            &env.config,
            &crate::app::panes::rollouts::workloads(state, i),
            &env.pods,
            state.now,
        );
        for d in &summary.drift {
            if matches!(
                d,
                PolicyDrift::BelowMinReplicas { .. } | PolicyDrift::ReadyBelowMin { .. }
            ) {
                lines.push(Line::styled(
                    format!("⚠ {name}: {}", d.describe()),
                    theme.warn,
                ));
            }
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled(
            "no operation in flight, no drift from policy",
            theme.muted,
        ));
    }
    lines.push(Line::styled(
        "● synced ○ out of sync · ✔ healthy ◐ progressing ✖ degraded · ⟳ op ⌫ deleting",
        theme.muted,
    ));
    lines
}
