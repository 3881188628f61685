//! The Kafka pane: the selected environment's consumer groups (state, members, total
//! lag and its last minutes) over the selected group's partitions (committed, end, lag,
//! consumer); or the topics view, live `KafkaTopic`s against the backup, field by
//! field. Only the rows that fit are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::panes::kafka::{
    KafkaView, ResetChoice, ResetPrompt, diffs, groups, selected_diff, selected_group,
};
use crate::app::{Action, Pane, State};
use crate::config::Theme;
use crate::domain::format::{age, truncate};
use crate::domain::kafka::topics::Verdict;
use crate::domain::kafka::{GroupState, GroupView};
use crate::ui::panes::pane_block;

fn key(state: &State, action: Action) -> String {
    state
        .keys
        .keys_for(action)
        .first()
        .cloned()
        .unwrap_or_default()
}

/// `values` as a line of block characters scaled to their largest, the last `width`.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().copied().max().unwrap_or(0);
    shown
        .iter()
        .map(|&v| {
            let i = (v.saturating_mul(7) + max / 2)
                .checked_div(max)
                .unwrap_or(0);
            BARS[usize::try_from(i).unwrap_or(7).min(7)]
        })
        .collect()
}

fn state_style(state: Option<&GroupState>, theme: &Theme) -> Style {
    match state {
        Some(GroupState::Stable) => theme.ok,
        Some(GroupState::Empty) => theme.muted,
        Some(s) if s.rebalancing() => theme.warn,
        Some(GroupState::Dead) => theme.error,
        _ => theme.warn,
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Pane::Kafka;
    let env = state.env();
    let env_name = env.map_or("", |e| e.config.name.as_str());
    let kafka = env.and_then(|e| e.config.kafka.as_ref());
    let view = state.kafka.view;
    let title = match (kafka, view) {
        (Some(k), KafkaView::Groups) => format!(" Kafka · {env_name} · {}/{} ", k.namespace, k.pod),
        (Some(k), KafkaView::Topics) => format!(" Kafka topics · {env_name} · {} ", k.namespace),
        (None, _) => format!(" Kafka · {env_name} "),
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [body, hint] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    if kafka.is_none() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{env_name} has no Kafka (kafka: in environments.yaml)"),
                theme.muted,
            )),
            body,
        );
        return;
    }
    let hint_text = match view {
        KafkaView::Groups => {
            render_groups(frame, body, state, theme, focused);
            format!(
                "{} reset offsets · {} topics vs backup",
                key(state, Action::KafkaResetOffsets),
                key(state, Action::KafkaTopics)
            )
        }
        KafkaView::Topics => {
            render_topics(frame, body, state, theme, focused);
            format!(
                "{} restore the topic from the backup · {} consumer groups",
                key(state, Action::KafkaRestoreTopic),
                key(state, Action::KafkaTopics)
            )
        }
    };
    if !state.readonly {
        frame.render_widget(
            Paragraph::new(Line::styled(
                truncate(&hint_text, hint.width as usize),
                theme.muted,
            )),
            hint,
        );
    }
}

fn render_groups(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, focused: bool) {
    let width = area.width as usize;
    let read = state.kafka.env(state.selected_env);
    let groups = groups(state);
    let mut lines = Vec::new();
    let status = match read {
        None
        | Some(crate::app::panes::kafka::EnvKafka {
            read_at: None,
            error: None,
            ..
        }) => Line::styled("reading the consumer groups…", theme.muted),
        Some(k) => {
            let when = k
                .read_at
                .map(|t| format!("read {} ago", age(state.now, Some(t))))
                .unwrap_or_else(|| "never read".into());
            match &k.error {
                Some(e) => Line::styled(truncate(&format!("✖ {e} ({when})"), width), theme.error),
                None => Line::styled(format!("{} groups · {when}", groups.len()), theme.muted),
            }
        }
    };
    lines.push(status);
    // The partitions of the selected group take what the groups leave.
    let group_rows = groups.len().clamp(1, 6);
    let [top, bottom] = Layout::vertical([
        Constraint::Length(group_rows as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    // Columns as wide as what they hold; the chart takes the rest.
    let name_w = groups
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 32);
    let state_w = groups
        .iter()
        .map(|g| g.state.as_ref().map_or(1, |s| s.state.as_str().len()))
        .max()
        .unwrap_or(5)
        .max(5);
    let chart = width
        .saturating_sub(1 + name_w + 1 + state_w + 1 + 7 + 1 + 8 + 2)
        .min(40);
    lines.push(Line::styled(
        truncate(
            &format!(
                " {:<name_w$} {:<state_w$} {:>7} {:>8}  {}",
                "GROUP",
                "STATE",
                "MEMBERS",
                "LAG",
                if chart >= 6 { "LAG TREND" } else { "" }
            ),
            width,
        ),
        theme.header,
    ));
    let cur = state.kafka.group;
    let offset = cur.visible_offset(groups.len(), group_rows);
    for (i, g) in groups.iter().enumerate().skip(offset).take(group_rows) {
        let pointer = if i == cur.selected && focused {
            "▶"
        } else {
            " "
        };
        let st = g.state.as_ref().map(|s| &s.state);
        let members = g.members().map_or("-".to_owned(), |m| m.to_string());
        let mut spans = vec![
            Span::raw(format!("{pointer}{:<name_w$} ", truncate(&g.name, name_w))),
            Span::styled(
                format!("{:<state_w$} ", st.map_or("?", |s| s.as_str())),
                state_style(st, theme),
            ),
            Span::raw(format!("{members:>7} {:>8}  ", g.total_lag())),
        ];
        if chart >= 6 {
            spans.push(Span::styled(sparkline(&g.history, chart), theme.accent));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), top);
    if let Some(g) = selected_group(state) {
        render_partitions(frame, bottom, g, theme);
    }
}

fn render_partitions(frame: &mut Frame, area: Rect, g: &GroupView, theme: &Theme) {
    let width = area.width as usize;
    let mut lines = vec![Line::styled(
        truncate(
            &format!(
                "{} · {} · lag {}",
                g.name,
                match &g.state {
                    Some(s) if s.members == 0 =>
                        "no active members: offsets can be reset".to_owned(),
                    Some(s) => format!("{} active member(s): stop them to reset", s.members),
                    None => "state unknown".to_owned(),
                },
                g.total_lag()
            ),
            width,
        ),
        theme.title,
    )];
    if let Some(e) = &g.error {
        lines.push(Line::styled(
            truncate(&format!("✖ {e}"), width),
            theme.error,
        ));
    }
    let topic_width = g
        .partitions
        .iter()
        .map(|p| p.topic.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 28);
    lines.push(Line::styled(
        truncate(
            &format!(
                "{:<topic_width$} {:>4} {:>10} {:>10} {:>7}  CONSUMER",
                "TOPIC", "PART", "COMMITTED", "END", "LAG"
            ),
            width,
        ),
        theme.header,
    ));
    let room = (area.height as usize).saturating_sub(lines.len());
    let opt = |v: Option<i64>| v.map_or("-".to_owned(), |n| n.to_string());
    for p in g.partitions.iter().take(room) {
        let consumer = match (&p.client_id, &p.host) {
            (Some(c), Some(h)) => format!("{c} {h}"),
            (Some(c), None) => c.clone(),
            _ => p.consumer_id.clone().unwrap_or_else(|| "-".into()),
        };
        let lag = p.lag();
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<topic_width$} {:>4} {:>10} {:>10} ",
                truncate(&p.topic, topic_width),
                p.partition,
                opt(p.current),
                opt(p.end)
            )),
            Span::styled(
                format!("{:>7}", opt(lag)),
                if lag.unwrap_or(0) > 0 {
                    theme.warn
                } else {
                    theme.text
                },
            ),
            Span::styled(
                truncate(
                    &format!("  {consumer}"),
                    width.saturating_sub(topic_width + 36),
                ),
                theme.muted,
            ),
        ]));
    }
    if g.partitions.len() > room {
        let more = g.partitions.len() - room;
        if let Some(last) = lines.last_mut() {
            *last = Line::styled(
                format!("… {more} more partitions (zoom to see all)"),
                theme.muted,
            );
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn render_topics(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, focused: bool) {
    let width = area.width as usize;
    let read = state.kafka.env(state.selected_env);
    let mut lines = Vec::new();
    let backup_path = state
        .env()
        .and_then(|e| e.config.kafka.as_ref())
        .and_then(|k| k.topics_backup.as_ref())
        .map(|p| p.display().to_string());
    match (read.and_then(|k| k.backup.as_ref()), &backup_path) {
        (_, None) => lines.push(Line::styled(
            "no backup named (kafka.topics_backup in environments.yaml)",
            theme.muted,
        )),
        (Some(Err(e)), _) => lines.push(Line::styled(
            truncate(&format!("✖ backup {e}"), width),
            theme.error,
        )),
        (_, Some(p)) => lines.push(Line::styled(
            truncate(&format!("live vs backup {p}"), width),
            theme.muted,
        )),
    }
    match read.and_then(|k| k.live_topics.as_ref()) {
        None => lines.push(Line::styled("reading the KafkaTopic objects…", theme.muted)),
        Some(Err(e)) => lines.push(Line::styled(
            truncate(&format!("✖ KafkaTopics: {e}"), width),
            theme.error,
        )),
        Some(Ok(_)) => {}
    }
    let diffs = diffs(state);
    let rows = diffs.len().clamp(1, 8);
    lines.push(Line::styled(
        truncate(
            &format!(" {:<32} {:>5} {:>5}  STATUS", "KAFKATOPIC", "PARTS", "REPL"),
            width,
        ),
        theme.header,
    ));
    let cur = state.kafka.topic;
    let offset = cur.visible_offset(diffs.len(), rows);
    for (i, d) in diffs.iter().enumerate().skip(offset).take(rows) {
        let pointer = if i == cur.selected && focused {
            "▶"
        } else {
            " "
        };
        let spec = d.live.as_ref().or(d.backup.as_ref());
        let num = |v: Option<i64>| v.map_or("-".to_owned(), |n| n.to_string());
        let status = d.status();
        let style = if status.contains("restore") {
            theme.warn
        } else if status.contains("refuses") || d.live.is_none() {
            theme.error
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{pointer}{:<32} {:>5} {:>5}  ",
                truncate(&d.name, 32),
                num(spec.and_then(|s| s.partitions)),
                num(spec.and_then(|s| s.replicas))
            )),
            Span::styled(status, style),
        ]));
    }
    let [top, bottom] = Layout::vertical([
        Constraint::Length(lines.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(lines), top);
    let Some(d) = selected_diff(state) else {
        return;
    };
    let mut detail = vec![Line::styled(
        truncate(&format!("{} · live → backup", d.name), width),
        theme.title,
    )];
    if let Some((false, why)) = d.live.as_ref().and_then(|l| l.ready.as_ref()) {
        detail.push(Line::styled(
            truncate(&format!("⚠ not Ready: {why}"), width),
            theme.error,
        ));
    }
    let key_width = d
        .rows
        .iter()
        .map(|r| r.field.chars().count())
        .max()
        .unwrap_or(0)
        .min(30);
    for r in &d.rows {
        let l = r.live.as_deref().unwrap_or("(unset)");
        let b = r.backup.as_deref().unwrap_or("(unset: broker default)");
        let (text, style) = match &r.verdict {
            Verdict::Same => (format!("  {:<key_width$} {l}", r.field), theme.muted),
            Verdict::Apply => (
                format!("  {:<key_width$} {l} → {b}  restore", r.field),
                theme.warn,
            ),
            Verdict::Refused(why) => (
                format!("✖ {:<key_width$} {l} → {b}  not sent: {why}", r.field),
                theme.error,
            ),
        };
        detail.push(Line::styled(text, style));
    }
    frame.render_widget(Paragraph::new(detail).wrap(Wrap { trim: false }), bottom);
}

/// The reset question: where to, on which topic; the datetime with its zone.
pub fn reset_prompt(frame: &mut Frame, area: Rect, p: &ResetPrompt, theme: &Theme) {
    let title = format!(" reset offsets · {} ", p.group);
    let inner = crate::ui::dialogs::popup(frame, area, (86, 12), &title, theme.warn);
    let [topic, choices, field, info, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(inner);
    let more = if p.topics.len() > 1 {
        "  (↑/↓ other topics)"
    } else {
        ""
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("topic ", theme.muted),
            Span::raw(p.topics.get(p.topic).cloned().unwrap_or_default()),
            Span::styled(more, theme.muted),
        ])),
        topic,
    );
    let mut spans = vec![Span::styled("reset ", theme.muted)];
    for c in ResetChoice::ALL {
        let style = if c == p.choice {
            theme.selection
        } else {
            theme.muted
        };
        spans.push(Span::styled(format!(" {} ", c.label()), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), choices);
    let label = match p.choice {
        ResetChoice::Datetime => {
            "datetime YYYY-MM-DDTHH:mm:SS.sss, zone Z or ±hh:mm (UTC when none)"
        }
        ResetChoice::Shift => "N: -N replays N messages per partition, +N skips N",
        ResetChoice::Earliest => "every partition back to its first message (replays all kept)",
        ResetChoice::Latest => "every partition to its end (skips everything not read)",
    };
    if matches!(p.choice, ResetChoice::Datetime | ResetChoice::Shift) {
        let mut input = p.input.clone();
        input.set_block(Block::bordered().title(label).border_style(theme.accent));
        frame.render_widget(&input, field);
    } else {
        frame.render_widget(Paragraph::new(Line::styled(label, theme.text)), field);
    }
    let info_line = match (&p.error, p.choice) {
        (Some(e), _) => Line::styled(e.clone(), theme.error),
        (None, ResetChoice::Datetime) => {
            match crate::domain::kafka::datetime::parse(&p.input.lines().join(""), p.now) {
                Ok(t) => Line::styled(format!("→ {}", t.describe()), theme.ok),
                Err(_) => Line::styled(
                    format!("now is {} UTC", p.now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")),
                    theme.muted,
                ),
            }
        }
        (None, _) => Line::raw(""),
    };
    frame.render_widget(Paragraph::new(info_line).wrap(Wrap { trim: true }), info);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "Tab kind of reset · Enter dry run and confirm · Esc cancel",
            theme.muted,
        )),
        hint,
    );
}
