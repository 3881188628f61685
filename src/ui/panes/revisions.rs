//! The revisions pane: the selected environment's Deployments (revision, image, ready);
//! Enter opens one's revisions from its ReplicaSets, newest first, as `kubectl rollout
//! history` lists them, and `u` undoes it to the chosen one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::panes::revisions::{deployments, opened_revisions};
use crate::app::{Action, Pane, State};
use crate::config::Theme;
use crate::domain::format::{age, truncate};
use crate::ui::panes::pane_block;

fn key(state: &State, action: Action) -> String {
    state
        .keys
        .keys_for(action)
        .first()
        .cloned()
        .unwrap_or_default()
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Revisions;
    let env_name = state.env().map_or("", |e| e.config.name.as_str());
    let revs = opened_revisions(state);
    let title = match &revs {
        Some(r) => format!(" Revisions · deployment/{} · {env_name} ", r.deployment),
        None => format!(" Revisions · {env_name} "),
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [body, hint] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    let width = body.width as usize;
    let height = body.height.saturating_sub(1) as usize;
    let mut lines = Vec::new();
    let hint_text = match &revs {
        None => {
            lines.push(Line::styled(
                format!("{:<32} {:>4} {:>7}  IMAGE", "DEPLOYMENT", "REV", "READY"),
                theme.muted,
            ));
            let rows = deployments(state);
            if rows.is_empty() {
                lines.push(Line::styled("no Deployments", theme.muted));
            }
            let cur = state.revisions.deployment;
            for (i, d) in rows.iter().enumerate().skip(cur.offset).take(height) {
                let pointer = if i == cur.selected && focused {
                    "▶"
                } else {
                    " "
                };
                let ready = format!("{}/{}", d.ready, d.desired);
                let style = if d.ready >= d.desired {
                    theme.text
                } else {
                    theme.warn
                };
                let text = format!(
                    "{pointer}{:<31} {:>4} {:>7}  {}",
                    truncate(&d.name, 31),
                    d.revision.as_deref().unwrap_or("-"),
                    ready,
                    d.image.as_deref().unwrap_or("-"),
                );
                lines.push(Line::styled(truncate(&text, width), style));
            }
            format!("{} show revisions", key(state, Action::Select))
        }
        Some(r) => {
            lines.push(Line::styled(
                format!("{:>4}  {:<9} {:>5} {:>6}  IMAGE", "REV", "", "PODS", "AGE"),
                theme.muted,
            ));
            if r.revisions.is_empty() {
                lines.push(Line::styled(
                    "no revisions (no ReplicaSets with a revision seen yet)",
                    theme.muted,
                ));
            }
            let cur = state.revisions.revision;
            for (i, e) in r.revisions.iter().enumerate().skip(cur.offset).take(height) {
                let pointer = if i == cur.selected { "▶" } else { " " };
                let role = if e.current { "current" } else { "" };
                let text = format!(
                    "{pointer}{:>3}  {role:<9} {:>5} {:>6}  {}",
                    e.revision,
                    format!("{}/{}", e.ready, e.desired),
                    age(state.now, e.created),
                    e.images.join(", "),
                );
                let style = if e.current { theme.ok } else { theme.text };
                lines.push(Line::from(Span::styled(truncate(&text, width), style)));
            }
            if state.readonly {
                format!("{} back to Deployments", key(state, Action::Back))
            } else {
                format!(
                    "{} undo to ▶ (kubectl rollout undo --to-revision) · {} back",
                    key(state, Action::UndoRollout),
                    key(state, Action::Back)
                )
            }
        }
    };
    frame.render_widget(Paragraph::new(lines), body);
    let nav = key(state, Action::Down);
    frame.render_widget(
        Paragraph::new(Line::styled(
            truncate(
                &format!("{nav}/{} choose · {hint_text}", key(state, Action::Up)),
                width,
            ),
            theme.muted,
        )),
        hint,
    );
}
