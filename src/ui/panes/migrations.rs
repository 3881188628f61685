//! Migrations: one summary line per environment (version, DIRTY, pending), then for
//! the selected environment its database, the applied and pending migrations with
//! their lint verdicts, and the up (or down) SQL and findings of the selected one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use crate::app::{EnvState, Pane, State};
use crate::config::Theme;
use crate::domain::format::{age, truncate};
use crate::domain::migrations::{MigrationRow, RowState};
use crate::ui::panes::pane_block;
use rollcall_sqllint::Verdict;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Migrations;
    let Some(env) = state.env() else {
        frame.render_widget(pane_block(" Migrations ".into(), focused, theme), area);
        return;
    };
    let block = pane_block(
        format!(" Migrations · {} ", env.config.name),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut top = vec![summary_line(state, theme)];
    top.extend(detail_lines(state, env, theme));
    let top_height = (top.len() as u16).min(inner.height / 2);
    let [top_area, table_area, sql_area] = Layout::vertical([
        Constraint::Length(top_height),
        Constraint::Percentage(45),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(top), top_area);
    let rows = env.migrations.rows();
    table(frame, table_area, state, &rows, theme);
    sql(frame, sql_area, state, env, &rows, theme);
}

/// `dev 5 ✔  staging 4 DIRTY ✖  prod 2 (3 pending, 1 unsafe ⚠)`.
fn summary_line<'a>(state: &State, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, env) in state.envs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        let name_style = if i == state.selected_env {
            theme.accent.add_modifier(Modifier::BOLD)
        } else {
            theme.text
        };
        spans.push(Span::styled(format!("{} ", env.config.name), name_style));
        let s = env.migrations.summary();
        if let Some(err) = &s.error {
            let text = if env.migrations.database.is_none() {
                "-".to_owned()
            } else if err.starts_with("checking") {
                "…".to_owned()
            } else {
                "? ✖".to_owned()
            };
            spans.push(Span::styled(text, theme.muted));
            continue;
        }
        let version = s
            .version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        if s.dirty {
            spans.push(Span::styled(
                format!("{version} DIRTY ✖"),
                theme
                    .error
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
        } else if s.pending == 0 {
            spans.push(Span::styled(format!("{version} ✔"), theme.ok));
        } else {
            spans.push(Span::styled(version, theme.text));
            let mut text = format!(" ({} pending", s.pending);
            if s.unsafe_pending > 0 {
                text.push_str(&format!(", {} unsafe ⚠", s.unsafe_pending));
            }
            text.push(')');
            let style = if s.unsafe_pending > 0 {
                theme.warn
            } else {
                theme.muted
            };
            spans.push(Span::styled(text, style));
        }
    }
    Line::from(spans)
}

fn detail_lines<'a>(state: &State, env: &EnvState, theme: &Theme) -> Vec<Line<'a>> {
    let m = &env.migrations;
    let mut lines = Vec::new();
    let Some(database) = &m.database else {
        lines.push(Line::styled(
            "no database: add `database: {url_env: VAR, migrations: DIR}` to this environment",
            theme.muted,
        ));
        return lines;
    };
    let s = m.summary();
    let mut head = vec![Span::styled(truncate(database, 48), theme.muted)];
    match (&m.status, s.version) {
        (Some(Ok(st)), _) => {
            let version = match s.version {
                Some(v) => format!("  version {v}"),
                None if st.recorded.is_none() => "  no schema_migrations table yet".into(),
                None => "  no migration applied".into(),
            };
            head.push(Span::styled(version, theme.title));
            if let Some(t) = &s.title {
                head.push(Span::raw(format!(" {t}")));
            }
            if let Some(at) = st.last_change {
                let what = st.last_change_source.unwrap_or("changed");
                head.push(Span::styled(
                    format!("  {what} {} ago", age(state.now, Some(at))),
                    theme.muted,
                ));
            }
            if let Some(holder) = &st.locked_by {
                head.push(Span::styled(format!("  LOCKED by {holder}"), theme.warn));
            }
        }
        (Some(Err(e)), _) => head.push(Span::styled(format!("  ✖ {e}"), theme.error)),
        (None, _) => head.push(Span::styled("  checking…", theme.muted)),
    }
    lines.push(Line::from(head));
    if s.dirty {
        let v = s.version.unwrap_or(-1);
        lines.push(Line::styled(
            format!(
                "✖ DIRTY at {v}: a migration failed or was cut off. Repair the schema, select the version it is really at, force it (F)."
            ),
            theme.error.add_modifier(Modifier::BOLD),
        ));
    }
    for p in s.problems.iter().take(2) {
        lines.push(Line::styled(format!("⚠ {p}"), theme.warn));
    }
    if let Some(last) = m.progress.last() {
        lines.push(Line::styled(format!("» {last}"), theme.muted));
    }
    lines
}

fn state_cell<'a>(row: &MigrationRow, theme: &Theme) -> Span<'a> {
    match row.state {
        RowState::Applied => Span::styled("applied", theme.muted),
        RowState::Current => Span::styled("current ✔", theme.ok),
        RowState::Dirty => Span::styled("DIRTY ✖", theme.error.add_modifier(Modifier::BOLD)),
        RowState::Pending => Span::styled("pending", theme.text),
        RowState::Missing => Span::styled("no file ✖", theme.error),
    }
}

fn lint_cell<'a>(row: &MigrationRow, theme: &Theme) -> Span<'a> {
    match row.verdict {
        None => Span::raw(""),
        Some(Verdict::Safe) => Span::styled("✔ safe", theme.ok),
        Some(Verdict::Unchecked) => Span::styled("? unparsed", theme.warn),
        Some(Verdict::Unsafe) => {
            let tags: Vec<&str> = row.rules.iter().map(|r| r.tag()).collect();
            Span::styled(
                format!("⚠ {}", tags.join(", ")),
                theme.warn.add_modifier(Modifier::BOLD),
            )
        }
    }
}

fn table(frame: &mut Frame, area: Rect, state: &State, rows: &[MigrationRow], theme: &Theme) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no migration files (yet)", theme.muted)),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(1) as usize;
    let cursor = state.migration_cursor;
    let focused = state.focus == Pane::Migrations;
    let body = rows
        .iter()
        .enumerate()
        .skip(cursor.offset)
        .take(height)
        .map(|(i, r)| {
            // The SQL below follows the cursor, focused or not: mark it without colour.
            let pointer = if i == cursor.selected { "▶" } else { " " };
            let row = Row::new([
                Cell::from(pointer),
                Cell::from(format!("{:06}", r.version)),
                Cell::from(r.title.clone()),
                Cell::from(state_cell(r, theme)),
                Cell::from(lint_cell(r, theme)),
            ]);
            if i == cursor.selected && focused {
                row.style(theme.selection)
            } else if i == cursor.selected {
                row.style(Style::default().add_modifier(Modifier::UNDERLINED))
            } else {
                row
            }
        });
    let header = Row::new(["", "VERSION", "TITLE", "STATE", "LINT"]).style(theme.title);
    let table = Table::new(
        body,
        [
            Constraint::Length(1),
            Constraint::Length(8),
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Fill(2),
        ],
    )
    .header(header);
    frame.render_widget(table, area);
}

fn sql(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    env: &EnvState,
    rows: &[MigrationRow],
    theme: &Theme,
) {
    let Some(row) = rows.get(state.migration_cursor.selected) else {
        return;
    };
    let snap = env.migrations.source.as_ref();
    let migration = snap.and_then(|s| s.source.get(row.version));
    let (which, other, text) = if state.migration_show_down {
        ("down", "up", migration.and_then(|m| m.down.clone()))
    } else {
        ("up", "down", migration.and_then(|m| m.up.clone()))
    };
    let mut lines = vec![Line::styled(
        format!(
            "── {:06} {} · {which} SQL (v: {other}) ──",
            row.version, row.title
        ),
        theme.title,
    )];
    if !state.migration_show_down
        && let Some(report) = snap.and_then(|s| s.lint.get(&row.version))
    {
        for f in &report.findings {
            lines.push(Line::styled(
                format!("⚠ line {}: {} → {}", f.line, f.message, f.safer),
                theme.warn,
            ));
        }
        for p in &report.problems {
            lines.push(Line::styled(
                format!("? line {}: {}", p.line, p.message),
                theme.warn,
            ));
        }
    }
    match text {
        Some(sql) => lines.extend(sql.lines().map(|l| Line::raw(l.to_owned()))),
        None => lines.push(Line::styled(
            format!("(no {which} file: golang-migrate moves the version without running SQL)"),
            theme.warn,
        )),
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
