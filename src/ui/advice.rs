//! The rollback advisor's overlay: the ranked plans for one service, the chosen one's
//! steps (why, how long) and risks, alternatives with why they rank lower.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::advisor::AdviceView;
use crate::config::Theme;
use crate::domain::advisor::Severity;
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
        if !chosen {
            continue;
        }
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
        lines.push(Line::raw(""));
    }
    let title = format!(" Ways back · {} · {env} ", view.service);
    let block = Block::bordered()
        .title(title)
        .title_bottom(" j/k choose · Enter run (each step confirms) · Esc close ")
        .border_style(theme.warn);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
