//! The rollback advisor's overlay: every ranked plan on a line with why it ranks there
//! (so the alternatives stay in sight at 80×24), then the chosen one's steps (why, how
//! long, what must come first) and risks, scrolled with PgDn/PgUp when they do not fit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::advisor::AdviceView;
use crate::config::Theme;
use crate::domain::advisor::{Plan, Severity};
use crate::domain::format::duration;

pub fn render(frame: &mut Frame, area: Rect, view: &AdviceView, env: &str, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(110);
    let height = area.height.saturating_sub(2);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + 1,
        width,
        height,
    };
    let title = format!(" Ways back · {} · {env} ", view.service);
    let block = Block::bordered()
        .title(title)
        .title_bottom(" j/k choose · PgDn/PgUp details · Enter run · Esc close ")
        .border_style(theme.warn);
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);

    let ranking = Paragraph::new(ranking(view, theme)).wrap(Wrap { trim: false });
    let ranking_rows = u16::try_from(ranking.line_count(inner.width))
        .unwrap_or(u16::MAX)
        // The details keep at least a third of the overlay.
        .min(inner.height.saturating_sub(inner.height / 3));
    let [top, rule, bottom] = Layout::vertical([
        Constraint::Length(ranking_rows),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(ranking, top);
    let Some(plan) = view.plans.get(view.cursor) else {
        return;
    };
    let details = Paragraph::new(details(plan, theme)).wrap(Wrap { trim: false });
    let total = u16::try_from(details.line_count(bottom.width)).unwrap_or(u16::MAX);
    let scroll = view.scroll.min(total.saturating_sub(bottom.height));
    let more = if total > bottom.height {
        format!(
            " rows {}–{} of {total} (PgDn/PgUp) ",
            scroll + 1,
            (scroll + bottom.height).min(total)
        )
    } else {
        String::new()
    };
    let fill = usize::from(rule.width).saturating_sub(more.chars().count());
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{}{more}", "─".repeat(fill)),
            theme.muted,
        )),
        rule,
    );
    frame.render_widget(details.scroll((scroll, 0)), bottom);
}

/// A line per plan, best first, each with why it ranks where it does.
fn ranking(view: &AdviceView, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, plan) in view.plans.iter().enumerate() {
        let chosen = i == view.cursor;
        let mark = if chosen { "▶" } else { " " };
        let rank = if plan.blocked() {
            "BLOCKED".to_owned()
        } else if i == 0 {
            "BEST".to_owned()
        } else {
            format!("#{}", i + 1)
        };
        let style = if plan.blocked() {
            theme.error
        } else if chosen {
            theme.focus
        } else {
            theme.title
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} {rank:<7} "), style),
            Span::styled(plan.title.clone(), style),
            Span::styled(
                format!("  ~{}", duration(plan.expected_secs as i64)),
                theme.muted,
            ),
        ]));
        lines.push(Line::styled(
            format!("          {}", plan.rank_reason),
            theme.muted,
        ));
    }
    lines
}

/// The chosen plan: its steps in order, then the risks found.
fn details(plan: &Plan, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            "{} — the steps, in order, each confirmed as it runs:",
            plan.title
        ),
        theme.title,
    )];
    for (n, step) in plan.steps.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(format!("    {}. ", n + 1), theme.accent),
            Span::raw(step.action.describe()),
            Span::styled(
                format!("  ~{}", duration(step.expected_secs as i64)),
                theme.muted,
            ),
        ]));
        lines.push(Line::styled(format!("       {}", step.why), theme.muted));
        if let Some(blocker) = &step.blocker {
            lines.push(Line::from(vec![
                Span::styled("       ✖ first: ", theme.error),
                Span::raw(blocker.clone()),
            ]));
        }
    }
    for risk in &plan.risks {
        let (tag, style) = match risk.severity {
            Severity::Blocker => ("✖ blocks", theme.error),
            Severity::Warning => ("⚠ risk", theme.warn),
            Severity::Note => ("· note", theme.muted),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("    {tag}: "), style),
            Span::raw(risk.text.clone()),
        ]));
    }
    lines
}
