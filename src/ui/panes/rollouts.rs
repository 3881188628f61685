//! The canary pane: the selected environment's Rollout (phase, step n/N with the step
//! list, set vs actual weight as a stable/canary bar, pause countdown, images, revisions
//! with pods ready and the undo cursor, canary restarts and why it fails, its analysis
//! runs with each metric's measurements against their limits and, first, the metric that
//! failed and whether that aborted the Rollout, a chart of weight and readiness) above
//! the board of every Rollout across environments.
//! Red when the canary is degraded or its pods restart.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::panes::rollouts::{analysis, board, selected};
use crate::app::state::StreamState;
use crate::app::{Pane, State};
use crate::config::Theme;
use crate::domain::analysis::{AnalysisView, RunPhase};
use crate::domain::format::{duration, truncate};
use crate::domain::rollout::view::{BoardRow, CanaryView, Phase, RevisionRole, StepMark};
use crate::ui::panes::pane_block;

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn phase_style(phase: Phase, theme: &Theme) -> Style {
    match phase {
        Phase::Healthy => theme.ok,
        Phase::Progressing | Phase::Paused => theme.warn,
        Phase::Degraded => theme.error,
        Phase::Unknown => theme.muted,
    }
}

/// The image's tag, or the image when it has none.
fn tag(image: Option<&str>) -> String {
    match image {
        Some(i) => i.rsplit_once(':').map_or(i, |(_, t)| t).to_owned(),
        None => "-".into(),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Rollouts;
    let env_name = state.env().map_or("", |e| e.config.name.as_str());
    let shown = selected(state);
    let alarm = shown.as_ref().is_some_and(|(_, v)| v.alarm());
    let title = match &shown {
        Some((_, v)) => format!(" Canary · {} · {env_name} ", v.name),
        None => format!(" Canary · {env_name} "),
    };
    let mut block = pane_block(title, focused, theme);
    if alarm {
        block = block.border_style(theme.error);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = board(state);
    let board_height = (rows.len() as u16 + 1).min(inner.height / 3).max(2);
    let [top, bottom] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(board_height)]).areas(inner);
    match &shown {
        Some((_, view)) => detail(frame, top, state, view, theme),
        None => {
            let stream = state
                .rollouts
                .envs
                .get(state.selected_env)
                .and_then(|e| e.stream.clone());
            let msg = match stream {
                None => "waiting for Rollouts from the cluster…".to_owned(),
                Some(StreamState::Down { message, .. }) => {
                    format!("Rollouts unavailable: {message}")
                }
                Some(_) => format!("no Argo Rollouts in {env_name}"),
            };
            frame.render_widget(Paragraph::new(Span::styled(msg, theme.muted)), top);
        }
    }
    render_board(frame, bottom, &rows, state, theme);
}

fn detail(frame: &mut Frame, area: Rect, state: &State, v: &CanaryView, theme: &Theme) {
    let width = area.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut head = vec![Span::styled(
        format!("{} {}", v.phase.icon(), v.phase.label()),
        phase_style(v.phase, theme),
    )];
    if v.aborted {
        head.push(Span::styled(" (aborted)", theme.error));
    }
    if let Some((i, n)) = v.step {
        head.push(Span::raw(format!("  step {i}/{n}")));
    }
    head.push(Span::raw(format!(
        "  set {}% actual {}%",
        v.set_weight, v.actual_weight
    )));
    lines.push(Line::from(head));
    if !v.message.is_empty() {
        lines.push(Line::styled(
            truncate(&v.message, width),
            phase_style(v.phase, theme),
        ));
    }
    let analysis = analysis(state).unwrap_or_default();
    lines.extend(failure_lines(&analysis, width, theme));
    // The stable/canary bar: canary's share of traffic, told apart by glyph as well as
    // colour (█ stable, ▒ canary) so a monochrome terminal shows the split too.
    let bar_width = width.saturating_sub(27).max(10);
    let canary_weight = v.actual_weight.min(100);
    let canary_cells = (canary_weight as usize * bar_width)
        .div_ceil(100)
        .min(bar_width);
    lines.push(Line::from(vec![
        Span::styled(format!("stable {:>3}% ", 100 - canary_weight), theme.stable),
        Span::styled("█".repeat(bar_width - canary_cells), theme.stable),
        Span::styled("▒".repeat(canary_cells), theme.canary),
        Span::styled(format!(" canary {canary_weight:>3}%"), theme.canary),
    ]));
    let mut pause = Vec::new();
    match &v.pause {
        Some((reason, Some(left))) => {
            pause.push(Span::styled(
                format!("pause {} left", duration(*left)),
                theme.warn,
            ));
            pause.push(Span::styled(format!(" ({reason})"), theme.muted));
        }
        Some((reason, None)) => {
            pause.push(Span::styled(
                format!("paused ({reason}) until promoted"),
                theme.warn,
            ));
        }
        None if v.fully_promoted => pause.push(Span::styled("fully promoted", theme.ok)),
        None => {}
    }
    if let Some(next) = &v.next {
        let sep = if pause.is_empty() { "" } else { " · " };
        pause.push(Span::styled(format!("{sep}next: {next}"), theme.muted));
    }
    if !pause.is_empty() {
        lines.push(Line::from(pause));
    }
    if !v.steps.is_empty() {
        let mut spans = vec![Span::styled("steps ", theme.muted)];
        for (label, mark) in &v.steps {
            let (prefix, style) = match mark {
                StepMark::Done => ("✔", theme.muted),
                StepMark::Current => ("▶", theme.accent),
                StepMark::Todo => ("·", theme.text),
            };
            spans.push(Span::styled(format!("{prefix}{label} "), style));
        }
        lines.push(Line::from(spans));
    }
    lines.extend(analysis_lines(&analysis, width, theme));
    if !v.fully_promoted {
        let mut canary = vec![
            Span::styled(
                format!("canary {}", tag(v.canary_image.as_deref())),
                theme.canary,
            ),
            Span::raw(format!("  {}/{} ready  ", v.canary_ready, v.canary_pods)),
        ];
        let restarts = format!("{} restarts", v.canary_restarts);
        canary.push(if v.canary_restarts > 0 {
            Span::styled(restarts, theme.error)
        } else {
            Span::raw(restarts)
        });
        if let Some(why) = &v.failing {
            canary.push(Span::styled(format!("  {why}"), theme.error));
        }
        lines.push(Line::from(canary));
    }
    lines.push(Line::styled(
        format!("stable {}", tag(v.stable_image.as_deref())),
        theme.stable,
    ));
    lines.push(Line::styled(
        "REV  ROLE    IMAGE              PODS   RESTARTS",
        theme.title,
    ));
    let cursor = state.rollouts.revision.selected;
    for (i, r) in v.revisions.iter().enumerate() {
        let role = match r.role {
            RevisionRole::Canary => "canary",
            RevisionRole::Stable => "stable",
            RevisionRole::Old => "",
        };
        let rev = r.revision.map_or("-".into(), |n| n.to_string());
        let marker = if i == cursor && i > 0 { "▶" } else { " " };
        let text = format!(
            "{marker}{rev:<3} {role:<7} {:<18} {}/{:<4} {}",
            truncate(&tag(r.image.as_deref()), 18),
            r.ready,
            r.desired,
            r.restarts
        );
        let style = if i == cursor && i > 0 && state.focus == Pane::Rollouts {
            theme.selection
        } else {
            theme.text
        };
        lines.push(Line::styled(truncate(&text, width), style));
    }
    if let Some(h) = state
        .rollouts
        .envs
        .get(state.selected_env)
        .and_then(|e| e.history.get(&v.name))
    {
        let n = width.saturating_sub(10) / 2;
        let skip = h.0.len().saturating_sub(n);
        let spark = |f: fn(&crate::domain::rollout::view::Sample) -> u8| -> String {
            h.0.iter()
                .skip(skip)
                .map(|s| SPARKS[(usize::from(f(s)) * 7) / 100])
                .collect()
        };
        lines.push(Line::from(vec![
            Span::styled("weight ", theme.muted),
            Span::styled(spark(|s| s.weight), theme.canary),
            Span::styled(" ready ", theme.muted),
            Span::styled(spark(|s| s.ready), theme.ok),
        ]));
    }
    let mut keys = Vec::new();
    if v.can_promote {
        keys.push("p promote · P full");
    }
    if v.can_abort {
        keys.push("a abort");
    }
    if v.can_retry {
        keys.push("y retry");
    }
    keys.push("u undo to ▶ · s/S pause/resume");
    lines.push(Line::styled(
        truncate(&keys.join(" · "), width),
        theme.muted,
    ));
    let height = area.height as usize;
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), area);
}

fn run_style(phase: RunPhase, theme: &Theme) -> Style {
    match phase {
        RunPhase::Successful => theme.ok,
        RunPhase::Failed | RunPhase::Error => theme.error,
        RunPhase::Inconclusive => theme.warn,
        RunPhase::Pending | RunPhase::Running => theme.accent,
    }
}

/// The failing metric, first and in red, and whether it aborted the Rollout.
fn failure_lines(a: &AnalysisView, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(f) = &a.failing else {
        return Vec::new();
    };
    let what = if a.aborted_by_analysis {
        "Aborted by analysis"
    } else {
        "Analysis failed"
    };
    let metric = if f.metric.is_empty() {
        f.phase.label().to_owned()
    } else {
        format!("metric \"{}\" {}", f.metric, f.phase.label())
    };
    let mut out = vec![
        Line::styled(truncate(&format!("✖ {what}: {metric}"), width), theme.error),
        Line::styled(truncate(&format!("  {}", f.reason), width), theme.error),
    ];
    if !f.run.is_empty() {
        out.push(Line::styled(
            truncate(&format!("  {} run {}", f.kind.label(), f.run), width),
            theme.muted,
        ));
    }
    out
}

/// Each run (step or background) and its metrics: the last measurements as marks and
/// bars, the last value, successes of the count and failures against the limit.
fn analysis_lines(a: &AnalysisView, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if let Some((name, phase, pods)) = &a.experiment {
        let line = Line::from(vec![
            Span::styled("experiment ", theme.muted),
            Span::styled(
                format!("{} {}", phase.icon(), phase.label()),
                run_style(*phase, theme),
            ),
            Span::styled(format!("  {name} · {pods}"), theme.muted),
        ]);
        out.push(clip(line, width));
    }
    for r in &a.runs {
        let ended = if r.terminated && r.phase.completed() {
            " (stopped)"
        } else {
            ""
        };
        let line = Line::from(vec![
            Span::styled(format!("analysis {} ", r.kind.label()), theme.muted),
            Span::styled(
                format!("{} {}{ended}", r.phase.icon(), r.phase.label()),
                run_style(r.phase, theme),
            ),
            Span::styled(format!("  {}", r.name), theme.muted),
        ]);
        out.push(clip(line, width));
        for m in &r.metrics {
            let mut spans = vec![Span::raw(format!("  {:<14} ", truncate(&m.name, 14)))];
            for mark in &m.marks {
                let glyph = match mark {
                    RunPhase::Successful => "✔",
                    RunPhase::Failed => "✖",
                    RunPhase::Inconclusive => "?",
                    RunPhase::Error => "!",
                    RunPhase::Pending | RunPhase::Running => "◐",
                };
                spans.push(Span::styled(glyph, run_style(*mark, theme)));
            }
            if !m.spark.is_empty() {
                spans.push(Span::styled(format!(" {}", m.spark), theme.canary));
            }
            if let Some(last) = &m.last {
                spans.push(Span::raw(format!("  last {last}")));
            }
            let of = m.count_limit.map_or("∞".to_owned(), |c| c.to_string());
            spans.push(Span::styled(format!("  ✔ {}/{of}", m.successful), theme.ok));
            let over = i64::from(m.failed) > m.failure_limit;
            spans.push(Span::styled(
                format!("  ✖ {} (limit {})", m.failed, m.failure_limit),
                if over {
                    theme.error
                } else if m.failed > 0 {
                    theme.warn
                } else {
                    theme.muted
                },
            ));
            if m.inconclusive > 0 {
                spans.push(Span::styled(
                    format!("  ? {} (limit {})", m.inconclusive, m.inconclusive_limit),
                    theme.warn,
                ));
            }
            if m.error > 0 {
                spans.push(Span::styled(format!("  ! {} errors", m.error), theme.warn));
            }
            out.push(clip(Line::from(spans), width));
            if let Some(msg) = m.message.as_ref().filter(|_| m.error > 0 || m.phase.bad()) {
                out.push(Line::styled(
                    truncate(&format!("    {msg}"), width),
                    theme.warn,
                ));
            }
        }
    }
    out
}

/// A line cut to `width` columns, span by span.
fn clip(line: Line<'static>, width: usize) -> Line<'static> {
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let n = span.content.chars().count();
        if n <= left {
            left -= n;
            spans.push(span);
        } else {
            spans.push(Span::styled(truncate(&span.content, left), span.style));
            left = 0;
        }
    }
    Line::from(spans)
}

fn render_board(frame: &mut Frame, area: Rect, rows: &[BoardRow], state: &State, theme: &Theme) {
    let mut lines = vec![Line::styled(
        "ROLLOUTS  ENV      NAME                 PHASE        STEP  WEIGHT  WAITING",
        theme.title,
    )];
    for r in rows.iter().take(area.height.saturating_sub(1) as usize) {
        let step = r.step.map_or("-".into(), |(i, n)| format!("{i}/{n}"));
        let waiting = match r.waiting {
            Some(Some(left)) => format!("promote in {}", duration(left)),
            Some(None) => "⚑ promote".into(),
            None => String::new(),
        };
        let text = format!(
            "          {:<8} {:<20} {} {:<10} {:<5} {:>3}%   {waiting}",
            truncate(&r.env, 8),
            truncate(&r.name, 20),
            r.phase.icon(),
            r.phase.label(),
            step,
            r.weight
        );
        let style = if r.waiting.is_some() {
            theme.warn
        } else {
            phase_style(r.phase, theme)
        };
        lines.push(Line::styled(truncate(&text, area.width as usize), style));
    }
    let _ = state;
    frame.render_widget(Paragraph::new(lines), area);
}

/// The set-image prompt, over the screen's centre.
pub fn prompt(
    frame: &mut Frame,
    area: Rect,
    p: &crate::app::panes::rollouts::Prompt,
    theme: &Theme,
) {
    let inner = crate::ui::dialogs::popup(frame, area, (86, 5), &p.title, theme.warn);
    let [field, hint] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    frame.render_widget(&p.input, field);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "image (a tag containing \"broken\" crash-loops in the simulator) · Enter · Esc",
            theme.muted,
        )),
        hint,
    );
}
