//! An app's Argo CD history, newest first: id, revision, when it was deployed, the
//! images it ran (when known) and who deployed it; the entry running now is marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::panes::argocd::images::{HistoryImages, history_images};
use crate::app::{Pane, State};
use crate::config::Theme;
use crate::domain::application::{image_tag, short_revision};
use crate::domain::format::{age, truncate};
use crate::ui::panes::argocd::{health_mark, sync_mark};
use crate::ui::panes::pane_block;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(h) = &state.argocd.history else {
        return;
    };
    let env_name = state
        .envs
        .get(h.env)
        .map_or("?", |e| e.config.name.as_str());
    let focused = state.focus == Pane::Argocd;
    let block = pane_block(
        format!(" History · {} · {env_name} ", h.app),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let re = state.argocd.env(h.env);
    let Some((re, app)) = re.and_then(|re| re.app(&h.app).map(|a| (re, a))) else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{} is not known to Argo CD (yet)", h.app),
                theme.muted,
            )),
            inner,
        );
        return;
    };
    let [status, table_area, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);

    let (s, ss) = sync_mark(app, theme);
    let (hm, hs) = health_mark(app, theme);
    let auto = match app.automated {
        Some(a) => Span::styled(
            format!(
                "auto-sync ON{}{} (rollback needs it off)",
                if a.self_heal { " self-heal" } else { "" },
                if a.prune { " prune" } else { "" }
            ),
            theme.warn,
        ),
        None => Span::styled("auto-sync off", theme.muted),
    };
    let mut first = Vec::new();
    if let Some(since) = app.deleting {
        first.push(Span::styled(
            format!("⌫ BEING DELETED since {} · ", since.strftime("%H:%M:%S")),
            theme.error,
        ));
    }
    first.extend([
        Span::styled(s, ss),
        Span::raw(format!(" {} ", app.sync_status)),
        Span::styled(hm, hs),
        Span::raw(format!(" {}  ", app.health)),
        auto,
    ]);
    if app.operation_in_flight() {
        let phase = app
            .operation_state
            .as_ref()
            .map_or("requested", |o| o.phase.as_str());
        first.push(Span::styled(format!("  ⟳ operation {phase}"), theme.accent));
    }
    // A failed image fetch of the selected entry gets the whole line: the cell cuts it.
    let selected_failed = app
        .history
        .iter()
        .rev()
        .nth(h.cursor.selected)
        .and_then(|e| match history_images(re, app, &e.revision) {
            HistoryImages::Failed(err) => Some((short_revision(&e.revision), err)),
            _ => None,
        });
    let second = match (&app.health_message, selected_failed) {
        (_, Some((rev, err))) => Line::styled(
            truncate(&format!("images of {rev}: {err}"), inner.width as usize),
            theme.error,
        ),
        (Some(m), None) => Line::styled(truncate(m, inner.width as usize), theme.muted),
        (None, None) => Line::styled(
            format!(
                "project {} · resources {} ({} out of sync)",
                app.project, app.resources.total, app.resources.out_of_sync
            ),
            theme.muted,
        ),
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), status);

    let current = app.current_history_id();
    let header =
        Row::new(["", "ID", "REVISION", "DEPLOYED", "AGE", "IMAGES", "BY"]).style(theme.title);
    let height = table_area.height.saturating_sub(1) as usize;
    let rows = app
        .history
        .iter()
        .rev()
        .enumerate()
        .skip(h.cursor.offset)
        .take(height)
        .map(|(i, e)| {
            let images = match history_images(re, app, &e.revision) {
                HistoryImages::Known([]) => "none".into(),
                HistoryImages::Known(imgs) => imgs
                    .iter()
                    .map(|i| image_tag(i))
                    .collect::<Vec<_>>()
                    .join(","),
                HistoryImages::Fetching => "fetching…".into(),
                HistoryImages::Failed(e) => format!("✖ {e}"),
                HistoryImages::Unknown => "—".into(),
            };
            let mark = match (i == h.cursor.selected, Some(e.id) == current) {
                (true, true) => "▶●",
                (true, false) => "▶ ",
                (false, true) => " ●",
                (false, false) => "  ",
            };
            let row = Row::new(vec![
                Cell::from(mark),
                Cell::from(e.id.to_string()),
                Cell::from(short_revision(&e.revision).to_owned()),
                Cell::from(
                    e.deployed_at
                        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::from(age(state.now, e.deployed_at)),
                Cell::from(images),
                Cell::from(e.initiated_by.clone().unwrap_or_else(|| "-".into())),
            ]);
            if i == h.cursor.selected && focused {
                row.style(theme.selection)
            } else if Some(e.id) == current {
                row.style(theme.ok)
            } else {
                row
            }
        });
    let widths = [
        Constraint::Length(2),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(4),
        Constraint::Min(8),
        Constraint::Length(12),
    ];
    if app.history.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no history yet (nothing synced by Argo CD)",
                theme.muted,
            )),
            table_area,
        );
    } else {
        frame.render_widget(Table::new(rows, widths).header(header), table_area);
    }
    let text = if state.readonly {
        "● running now · j/k choose · Esc back"
    } else if app.operation_running() {
        "● running now · T terminate op · j/k choose · R roll back to ▶ · Y sync · A auto-sync off · Esc back"
    } else {
        "● running now · j/k choose · R roll back to ▶ · Y sync · A auto-sync off · Esc back"
    };
    frame.render_widget(Paragraph::new(Line::styled(text, theme.muted)), hint);
}
