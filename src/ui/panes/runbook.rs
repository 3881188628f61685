//! The runbook pane: the phases (T-24h, T-0, T+5m, T+30m) and their steps for the
//! release, each ✔ done, ↷ skipped, ▸ current, ✖ failing (its check's evidence) or ·
//! to come, who marked it and how long it took; the T-0 clock; the gate while the
//! production checklist is incomplete; under it, the selected step's commands.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::panes::runbook::{Walked, walked_runbook};
use crate::app::{Action, Pane, State};
use crate::config::{Check, Theme};
use crate::domain::checklist::metric;
use crate::domain::format::{age, duration, truncate};
use crate::domain::metrics::{SPARK_MAX, Series, sparkline};
use crate::domain::runbook::{StepState, StepView};
use crate::ui::panes::pane_block;

fn style(s: StepState, theme: &Theme) -> Style {
    match s {
        StepState::Done => theme.ok,
        StepState::Skipped => theme.warn,
        StepState::Current => theme.accent,
        StepState::Failed => theme.error,
        StepState::Waiting => theme.warn,
        StepState::Pending => theme.muted,
    }
}

fn clock(state: &State, w: &Walked) -> String {
    match w.progress.t0 {
        None => "T-0 not reached".into(),
        Some(t0) => {
            let since = state.now.duration_since(t0).as_secs();
            let rel = if since >= 0 {
                format!("T+{}", duration(since))
            } else {
                format!("T-{}", duration(-since))
            };
            format!("T-0 {} UTC, now {rel}", t0.strftime("%H:%M"))
        }
    }
}

fn detail(state: &State, v: &StepView) -> String {
    match (&v.mark, &v.evaluation, v.state) {
        (Some(m), _, StepState::Skipped) => format!(
            "skipped by {} {} ago: {}",
            m.by.split('@').next().unwrap_or(&m.by),
            age(state.now, Some(m.at)),
            m.note
        ),
        (Some(m), _, _) => {
            let took = v
                .took
                .map(|t| format!(" · took {}", duration(t.as_secs().max(0))))
                .unwrap_or_default();
            let note = if m.note.is_empty() {
                String::new()
            } else {
                format!(" · \"{}\"", m.note)
            };
            format!(
                "{} {} ago{took}{note}",
                m.by.split('@').next().unwrap_or(&m.by),
                age(state.now, Some(m.at))
            )
        }
        (None, Some(e), _) => e.evidence.clone(),
        (None, None, StepState::Current) => "marked by hand when done".into(),
        (None, None, _) => String::new(),
    }
}

/// ▁▂▃▄▅▆▇█ from 0..=SPARK_MAX heights; NaN points read 0 (an empty bar).
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The series squeezed into `width` cells (each the highest point of its slice, so a
/// spike is never averaged away), with `┃` where T-0 falls.
fn spark(series: &Series, t0: Option<jiff::Timestamp>, width: usize) -> String {
    let heights = sparkline(series);
    if heights.is_empty() || width == 0 {
        return String::new();
    }
    let n = heights.len();
    let cells = width.min(n);
    let t0_at = t0.and_then(|t| series.points.iter().position(|(at, _)| *at >= t));
    let mut out = String::with_capacity(cells * 3);
    let mut marked = false;
    for c in 0..cells {
        let (from, to) = (c * n / cells, ((c + 1) * n / cells).max(c * n / cells + 1));
        if !marked && t0_at.is_some_and(|i| i < to) {
            out.push('┃');
            marked = true;
            continue;
        }
        let h = heights[from..to].iter().copied().max().unwrap_or(0);
        let i = (h * (BARS.len() as u64 - 1) / SPARK_MAX.max(1)) as usize;
        out.push(BARS[i.min(BARS.len() - 1)]);
    }
    out
}

/// A metric step's series, one line each: its label, the last hours drawn, T-0 marked.
fn metric_lines(
    state: &State,
    w: &Walked,
    v: &StepView,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(Check::Metric { series }) = &v.step.done_when else {
        return Vec::new();
    };
    let Some(env) = state.envs.get(state.selected_env) else {
        return Vec::new();
    };
    let reads = state.checklist.envs.get(state.selected_env);
    series
        .iter()
        .filter_map(|def| {
            let q = metric::query(def, &env.config.namespace, &w.release);
            let read = reads.and_then(|c| c.metrics.get(&q))?;
            let label = format!("{:<13}", truncate(&def.label, 13));
            Some(match &read.series {
                Ok(s) => {
                    let last = s
                        .points
                        .iter()
                        .rev()
                        .find(|(_, v)| v.is_finite())
                        .map_or("-".into(), |(_, v)| metric::show(*v, def.unit));
                    let tail = format!(" now {last}");
                    let room = width.saturating_sub(label.chars().count() + tail.chars().count());
                    Line::from(vec![
                        Span::styled(label, theme.muted),
                        Span::styled(spark(s, w.progress.t0, room), theme.accent),
                        Span::styled(tail, theme.text),
                    ])
                }
                Err(e) => Line::styled(format!("{label}cannot read: {e}"), theme.error),
            })
        })
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Runbook;
    let env_name = state.env().map_or("", |e| e.config.name.as_str());
    let w = walked_runbook(state, state.selected_env);
    let title = match &w {
        Some(w) => format!(
            " Runbook · {} {} → {env_name} · {}/{} ",
            w.release.service,
            w.release.version,
            w.progress.done + w.progress.skipped,
            w.progress.total
        ),
        None => format!(" Runbook · {env_name} "),
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(w) = w else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("no release to walk in {env_name} (the checklist pane picks it)"),
                theme.muted,
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let [top, list_area, detail_area, keys_area] = crate::ui::panes::walk_areas(inner, 5);
    let detail_height = detail_area.height;
    let mut head = vec![Span::styled(
        format!("{} · {}  ", state.runbook.runbook.title, clock(state, &w)),
        theme.muted,
    )];
    if let Some((done, total)) = w.gate {
        let key = state
            .keys
            .keys_for(Action::RunbookOverrideGate)
            .first()
            .cloned()
            .unwrap_or_default();
        head.push(Span::styled(
            format!("⚠ checklist {done}/{total}: T-0 steps need a reason ({key} to go on)"),
            theme.warn,
        ));
    } else if let Some(m) = &w.gate_override {
        head.push(Span::styled(
            format!(
                "⚠ checklist passed over by {}: {}",
                m.by.split('@').next().unwrap_or(&m.by),
                m.note
            ),
            theme.warn,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(head)), top);

    let width = list_area.width as usize;
    let title_width = (width * 2 / 5).clamp(16, 48);
    let selected = state
        .runbook
        .cursor
        .selected
        .min(w.steps.len().saturating_sub(1));
    let mut lines = Vec::new();
    let mut selected_line = 0;
    let mut phase = "";
    for (i, v) in w.steps.iter().enumerate() {
        if v.phase != phase {
            lines.push(Line::styled(
                format!("{} · {}", v.phase, v.phase_title),
                theme.title,
            ));
            phase = &v.phase;
        }
        if i == selected {
            selected_line = lines.len();
        }
        let pointer = if i == selected && focused { "▶" } else { " " };
        let rest = width.saturating_sub(title_width + 4);
        lines.push(Line::from(vec![
            Span::raw(pointer),
            Span::styled(format!("{} ", v.state.symbol()), style(v.state, theme)),
            Span::styled(
                format!("{:<title_width$} ", truncate(&v.step.title, title_width)),
                if i == selected && focused {
                    theme.selection
                } else {
                    theme.text
                },
            ),
            Span::styled(
                truncate(&detail(state, v), rest),
                if v.state == StepState::Failed {
                    theme.error
                } else {
                    theme.muted
                },
            ),
        ]));
    }
    crate::ui::panes::scrolled(frame, list_area, lines, selected_line);
    if detail_height > 0
        && let Some(v) = w.steps.get(selected)
    {
        let mut d = vec![Line::styled(
            format!("── {} · {}", v.phase, v.step.title),
            theme.title,
        )];
        if let Some(e) = &v.evaluation {
            d.push(Line::styled(
                format!("check: {}", e.evidence),
                style(v.state, theme),
            ));
        }
        d.extend(metric_lines(
            state,
            &w,
            v,
            detail_area.width as usize,
            theme,
        ));
        if state.runbook.running.values().any(|r| r.step == v.step.id) {
            d.push(Line::styled("running…", theme.accent));
        } else if let Some((at, outcome)) = &v.last_run {
            let (text, st) = match outcome {
                Ok(m) => (format!("✔ {m}"), theme.ok),
                Err(m) => (
                    format!(
                        "✖ {m} · {} to run it again",
                        state
                            .keys
                            .keys_for(Action::Select)
                            .first()
                            .cloned()
                            .unwrap_or_default()
                    ),
                    theme.error,
                ),
            };
            d.push(Line::styled(
                format!("last run {} ago: {text}", age(state.now, Some(*at))),
                st,
            ));
        }
        for l in v.run.as_deref().unwrap_or("").lines() {
            d.push(Line::styled(format!("$ {l}"), theme.text));
        }
        frame.render_widget(Paragraph::new(d), detail_area);
    }
    let key = |a: Action| state.keys.keys_for(a).first().cloned().unwrap_or_default();
    let runnable = w
        .steps
        .get(selected)
        .is_some_and(|v| v.step.action.is_some());
    let keys = if state.readonly {
        format!("{}/… move", key(Action::Down))
    } else {
        format!(
            "{}{} mark done / reopen · {} skip (with a reason) · {}/… move",
            if runnable {
                format!("{} run it · ", key(Action::Select))
            } else {
                String::new()
            },
            key(Action::ChecklistTick),
            key(Action::RunbookSkip),
            key(Action::Down)
        )
    };
    frame.render_widget(Paragraph::new(Line::styled(keys, theme.muted)), keys_area);
}
