//! Pods of the selected environment: phase, readiness, restarts, age, node, probe
//! state and the last warning event. Only the visible window of rows is built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::panes::pods::sort::PodSort;
use crate::app::{Pane, State};
use crate::config::Theme;
use crate::domain::format::{age, duration, truncate};
use crate::domain::{PodPhase, PodRow, Probe};
use crate::ui::panes::pane_block;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Pods;
    let Some(env) = state.env() else {
        frame.render_widget(pane_block(" Pods ".into(), focused, theme), area);
        return;
    };
    let filter = state.filter_text();
    let total = state.visible_len();
    let all_namespaces = env.config.namespace.is_empty();
    let scope = if all_namespaces {
        "all namespaces"
    } else {
        env.config.namespace.as_str()
    };
    let mut title = format!(" Pods · {} · {scope} ", env.config.name);
    if !filter.is_empty() {
        title.push_str(&format!("· /{filter} "));
    }
    if state.pod_sort != PodSort::Name {
        title.push_str(&format!("· {} ", state.pod_sort.label()));
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
            format!("no pods in {scope}")
        } else {
            format!("no pods match /{filter} (Esc clears)")
        };
        frame.render_widget(Paragraph::new(Span::styled(msg, theme.muted)), inner);
        return;
    }

    let height = inner.height.saturating_sub(1) as usize;
    let cursor = state.pod_cursor;
    let window: Vec<(usize, &PodRow)> = state
        .visible_pods()
        .enumerate()
        .skip(cursor.offset)
        .take(height)
        .collect();
    let name_width = window
        .iter()
        .map(|(_, p)| p.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(20, 63) as u16;
    let ns_width = if all_namespaces {
        window
            .iter()
            .map(|(_, p)| p.namespace.chars().count())
            .max()
            .unwrap_or(9)
            .clamp(9, 40) as u16
    } else {
        0
    };
    // Focused, the cursor row is marked with ▶ as well as by colour (a monochrome
    // terminal shows no background); the mark's column exists only then.
    let pointer = u16::from(focused) * 2;
    let columns = fit_columns(inner.width.saturating_sub(pointer), name_width, ns_width);
    let mut titles: Vec<&str> = columns.iter().map(|c| c.title()).collect();
    if focused {
        titles.insert(0, "");
    }
    let header = Row::new(titles).style(theme.title);
    let rows = window.into_iter().map(|(i, pod)| {
        let mark = focused.then_some(if i == cursor.selected { "▶" } else { " " });
        let row = pod_row(pod, &columns, mark, state, theme);
        if i == cursor.selected && focused {
            row.style(theme.selection)
        } else {
            row
        }
    });
    let mut widths: Vec<Constraint> = columns
        .iter()
        .map(|c| c.width(name_width, ns_width))
        .collect();
    if focused {
        widths.insert(0, Constraint::Length(1));
    }
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

/// The pods table's columns, in the order they are given up when space runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Namespace,
    Name,
    Ready,
    Status,
    Restarts,
    Age,
    Probe,
    Node,
    Warning,
}

impl Column {
    const BY_PRIORITY: [Column; 9] = [
        Column::Name,
        Column::Namespace,
        Column::Ready,
        Column::Status,
        Column::Restarts,
        Column::Age,
        Column::Probe,
        Column::Node,
        Column::Warning,
    ];

    fn title(self) -> &'static str {
        match self {
            Column::Namespace => "NAMESPACE",
            Column::Name => "NAME",
            Column::Ready => "READY",
            Column::Status => "STATUS",
            Column::Restarts => "RESTARTS",
            Column::Age => "AGE",
            Column::Probe => "PROBE",
            Column::Node => "NODE",
            Column::Warning => "LAST WARNING",
        }
    }

    fn width(self, name: u16, namespace: u16) -> Constraint {
        match self {
            Column::Namespace => Constraint::Length(namespace),
            Column::Name => Constraint::Length(name),
            Column::Ready => Constraint::Length(5),
            Column::Status => Constraint::Length(17),
            Column::Restarts => Constraint::Length(8),
            Column::Age => Constraint::Length(6),
            Column::Probe => Constraint::Length(10),
            Column::Node => Constraint::Length(12),
            Column::Warning => Constraint::Fill(1),
        }
    }

    fn min_width(self, name: u16, namespace: u16) -> u16 {
        match self.width(name, namespace) {
            Constraint::Length(n) => n,
            _ => 24,
        }
    }
}

/// Columns that fit in `width`, most important first, shown in table order. A zero
/// `namespace` width means one namespace: no NAMESPACE column.
fn fit_columns(width: u16, name: u16, namespace: u16) -> Vec<Column> {
    let mut used = 0u16;
    let mut out = Vec::new();
    for c in Column::BY_PRIORITY {
        if c == Column::Namespace && namespace == 0 {
            continue;
        }
        let need = c.min_width(name, namespace) + u16::from(!out.is_empty());
        if c != Column::Name && used + need > width {
            continue;
        }
        used += need;
        out.push(c);
    }
    // Shown in kubectl's order: NAMESPACE first.
    out.sort_by_key(|c| *c != Column::Namespace);
    out
}

fn pod_row<'a>(
    pod: &'a PodRow,
    columns: &[Column],
    mark: Option<&'static str>,
    state: &State,
    theme: &Theme,
) -> Row<'a> {
    let ready_style = if pod.is_ready() { theme.ok } else { theme.warn };
    let status_style = status_style(pod, theme);
    let restarts_style = if pod.restarts > 0 {
        theme.warn
    } else {
        theme.text
    };
    let (probe, probe_style) = probe_text(pod.probe(state.now), theme);
    let warning = || {
        state
            .env()
            .and_then(|e| e.events.last_warning_for("Pod", &pod.name))
            .map(|e| {
                let when = age(state.now, e.last_seen);
                format!("{when} {}: {}", e.reason, truncate(&e.message, 80))
            })
            .unwrap_or_default()
    };
    let cells = columns.iter().map(|c| match c {
        Column::Namespace => Cell::from(pod.namespace.as_str()),
        Column::Name => Cell::from(pod.name.as_str()),
        Column::Ready => Cell::from(Span::styled(
            format!("{}/{}", pod.ready, pod.containers),
            ready_style,
        )),
        Column::Status => Cell::from(Span::styled(pod.status_text().to_owned(), status_style)),
        Column::Restarts => Cell::from(Span::styled(pod.restarts.to_string(), restarts_style)),
        Column::Age => Cell::from(age(state.now, pod.created)),
        Column::Node => Cell::from(pod.node.as_deref().unwrap_or("-")),
        Column::Probe => Cell::from(Span::styled(probe.clone(), probe_style)),
        Column::Warning => Cell::from(Span::styled(warning(), theme.warn)),
    });
    Row::new(mark.map(Cell::from).into_iter().chain(cells))
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
        Probe::Failed => ("✖ failed".into(), theme.error),
        Probe::Terminating => ("stopping".into(), theme.muted),
    }
}
