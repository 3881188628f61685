//! The blue/green pane: per blue-green service of the selected environment, the colour
//! its Service selects and both Deployments' readiness and images, live; `b` switches
//! the selected one to its other colour (and back).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::panes::bluegreen::{ReasonPrompt, views};
use crate::app::{Action, Pane, State};
use crate::config::{Colour, Theme};
use crate::domain::bluegreen::{BlueGreenView, SideView};
use crate::domain::format::truncate;
use crate::ui::panes::pane_block;

fn colour_style(colour: Colour, theme: &Theme) -> Style {
    match colour {
        Colour::Blue => theme.stable,
        Colour::Green => theme.canary,
    }
}

fn side_line(v: &BlueGreenView, side: &SideView, width: usize, theme: &Theme) -> Line<'static> {
    let live = v.live == Some(side.colour);
    let marker = if live { "● LIVE " } else { "  idle " };
    let (ready, style) = if !side.found {
        ("missing".to_owned(), theme.error)
    } else if side.fully_ready {
        (format!("{}/{} ✔", side.ready, side.desired), theme.ok)
    } else {
        (format!("{}/{} ◐", side.ready, side.desired), theme.warn)
    };
    let name = format!("{:<6}", side.colour.as_str());
    let fixed = 2 + 7 + 6 + 1 + 10;
    let rest = width.saturating_sub(fixed);
    let dep_width = rest.min(side.deployment.len() + 1).min(rest / 2);
    // Whole images when they fit, else their tags (the version is what differs).
    let full = side.images.join(", ");
    let images = if side.images.is_empty() {
        "-".to_owned()
    } else if full.chars().count() <= rest.saturating_sub(dep_width) {
        full
    } else {
        side.images
            .iter()
            .map(|i| crate::domain::deployment::image_tag(i).unwrap_or(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Line::from(vec![
        Span::raw("  "),
        Span::styled(
            marker,
            if live {
                colour_style(side.colour, theme)
            } else {
                theme.muted
            },
        ),
        Span::styled(name, colour_style(side.colour, theme)),
        Span::raw(" "),
        Span::styled(format!("{ready:<10}"), style),
        Span::raw(format!(
            "{:<dep_width$}",
            truncate(&side.deployment, dep_width)
        )),
        Span::styled(
            truncate(&images, rest.saturating_sub(dep_width)),
            theme.muted,
        ),
    ])
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::BlueGreen;
    let env_name = state.env().map_or("", |e| e.config.name.as_str());
    let block = pane_block(format!(" Blue/green · {env_name} "), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let views = views(state, state.selected_env);
    let width = inner.width as usize;
    let mut lines = Vec::new();
    if views.is_empty() {
        lines.push(Line::styled(
            format!("no blue-green service in {env_name} (kind: blue-green in environments.yaml)"),
            theme.muted,
        ));
    }
    let selected = state.bluegreen.pair.min(views.len().saturating_sub(1));
    for (i, v) in views.iter().enumerate() {
        let pointer = if i == selected && focused { "▶" } else { " " };
        let selects = match (&v.selector_value, v.service_found) {
            (_, false) => Span::styled("service not found", theme.error),
            (None, true) => {
                Span::styled(format!("no `{}` in selector", v.selector_key), theme.warn)
            }
            (Some(value), true) => match v.live {
                Some(c) => Span::styled(
                    format!("{}={value}", v.selector_key),
                    colour_style(c, theme),
                ),
                None => Span::styled(
                    format!("{}={value} (neither colour)", v.selector_key),
                    theme.warn,
                ),
            },
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{pointer}{} ", v.name), theme.title),
            Span::styled(format!("service/{} selects ", v.service), theme.muted),
            selects,
        ]));
        lines.push(side_line(v, &v.blue, width, theme));
        lines.push(side_line(v, &v.green, width, theme));
        let to = v.target();
        let hint = match v.side(to).not_ready_reason() {
            None => Line::styled(
                format!("  {to} is fully ready: switching sends all traffic to it"),
                theme.ok,
            ),
            Some(why) => Line::styled(format!("  ⚠ {why}: switching needs a reason"), theme.warn),
        };
        lines.push(hint);
        lines.push(Line::raw(""));
    }
    if !state.readonly
        && let Some(key) = state.keys.keys_for(Action::SwitchBlueGreen).first()
    {
        let nav = state.keys.keys_for(Action::Down);
        let nav = nav
            .first()
            .map_or(String::new(), |k| format!(" · {k}/… choose"));
        lines.push(Line::styled(
            format!("{key} switch to the other colour (again to switch back){nav}"),
            theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The override question: why switch to a colour that is not fully ready.
pub fn reason_prompt(frame: &mut Frame, area: Rect, p: &ReasonPrompt, theme: &Theme) {
    let inner = crate::ui::dialogs::popup(frame, area, (76, 8), &p.title, theme.warn);
    let [text, field, hint] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(2),
        ratatui::layout::Constraint::Length(3),
        ratatui::layout::Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::styled(p.refusal.clone(), theme.error)).wrap(Wrap { trim: true }),
        text,
    );
    let mut input = p.input.clone();
    input.set_block(Block::bordered().border_style(theme.accent));
    frame.render_widget(&input, field);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "Enter: switch anyway with this reason (audited) · Esc: cancel",
            theme.muted,
        )),
        hint,
    );
}
