//! The Kafka pane's part of `update()`: the selected environment's consumer groups
//! (state, members, lag and its last minutes, each partition's offsets) as the watcher
//! last read them; the offset reset (refused at once while the group has active
//! members, as Kafka refuses it; else the prompt, then the confirm dialog with the
//! tool's dry run); and the topics view, live `KafkaTopic`s against the backup, with
//! the restore of one topic's configuration.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;
use ratatui_textarea::{CursorMove, TextArea};

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{ConfirmDialog, Mode, State, TableCursor};
use crate::app::update::Effect;
use crate::bus::kafka::{Broker, active_refusal};
use crate::bus::{Command, OpId};
use crate::domain::kafka::topics::{TopicDiff, TopicSpec, diff_all};
use crate::domain::kafka::{GroupView, KafkaUpdate, ResetSpec, datetime};

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Kafka,
    title: "Kafka",
    short_title: "Kafka",
    focus: Action::PaneKafka,
    pinned: false,
    on_action,
    move_cursor,
};

/// What the pane lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KafkaView {
    #[default]
    Groups,
    /// Live `KafkaTopic`s against the backup.
    Topics,
}

#[derive(Debug, Default)]
pub struct KafkaState {
    /// Per environment index.
    pub envs: HashMap<usize, EnvKafka>,
    pub view: KafkaView,
    pub group: TableCursor,
    pub topic: TableCursor,
    /// Kafka commands in flight, and their environment: read again when they finish.
    pub sent: HashMap<OpId, usize>,
}

impl KafkaState {
    pub fn env(&self, env: usize) -> Option<&EnvKafka> {
        self.envs.get(&env)
    }
}

/// What the watcher last read of one environment's Kafka.
#[derive(Debug, Default)]
pub struct EnvKafka {
    /// The groups as last read (kept while a later read fails).
    pub groups: Vec<GroupView>,
    /// When the groups were last read, `None` before the first answer.
    pub read_at: Option<Timestamp>,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
    pub live_topics: Option<Result<Vec<TopicSpec>, String>>,
    /// `None` when the environment names no backup file.
    pub backup: Option<Result<Vec<TopicSpec>, String>>,
    /// Live against backup, made when either arrives (not at each frame).
    pub diffs: Vec<TopicDiff>,
}

/// The reset prompt: where to move the group's offsets.
#[derive(Debug)]
pub struct ResetPrompt {
    pub env: String,
    pub broker: Broker,
    pub group: String,
    /// The group's topics; `topic` indexes it.
    pub topics: Vec<String>,
    pub topic: usize,
    pub choice: ResetChoice,
    /// The datetime, or the shift.
    pub input: TextArea<'static>,
    /// Why the last Enter was refused.
    pub error: Option<String>,
    /// What the prompt opened with, for the hint: now − 1 h in UTC.
    pub now: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetChoice {
    Datetime,
    Earliest,
    Latest,
    Shift,
}

impl ResetChoice {
    pub const ALL: [ResetChoice; 4] = [
        ResetChoice::Datetime,
        ResetChoice::Earliest,
        ResetChoice::Latest,
        ResetChoice::Shift,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ResetChoice::Datetime => "to a datetime",
            ResetChoice::Earliest => "to earliest",
            ResetChoice::Latest => "to latest",
            ResetChoice::Shift => "shift by N",
        }
    }
}

/// The selected environment's groups, or none.
pub fn groups(state: &State) -> &[GroupView] {
    state
        .kafka
        .env(state.selected_env)
        .map_or(&[], |e| e.groups.as_slice())
}

pub fn selected_group(state: &State) -> Option<&GroupView> {
    at_cursor(groups(state), state.kafka.group.selected)
}

/// The row under `cursor`, the last one when the list shrank below it.
fn at_cursor<T>(rows: &[T], cursor: usize) -> Option<&T> {
    rows.get(cursor.min(rows.len().saturating_sub(1)))
}

pub fn diffs(state: &State) -> &[TopicDiff] {
    state
        .kafka
        .env(state.selected_env)
        .map_or(&[], |e| e.diffs.as_slice())
}

pub fn selected_diff(state: &State) -> Option<&TopicDiff> {
    at_cursor(diffs(state), state.kafka.topic.selected)
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.kafka.group = TableCursor::default();
    state.kafka.topic = TableCursor::default();
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    match state.kafka.view {
        KafkaView::Groups => {
            let len = groups(state).len();
            state.kafka.group.move_by(delta, len, page.max(1));
        }
        KafkaView::Topics => {
            let len = diffs(state).len();
            state.kafka.topic.move_by(delta, len, page.max(1));
        }
    }
}

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneKafka => state.focus = Pane::Kafka,
        Action::KafkaTopics => {
            state.focus = Pane::Kafka;
            state.kafka.view = match state.kafka.view {
                KafkaView::Groups => KafkaView::Topics,
                KafkaView::Topics => KafkaView::Groups,
            };
        }
        Action::KafkaResetOffsets => request_reset(state),
        Action::KafkaRestoreTopic => request_restore(state),
        _ => return None,
    }
    Some(Vec::new())
}

fn flash(state: &mut State, text: impl Into<String>) {
    state.flash = Some((state.now, text.into(), false));
}

/// `t`: the reset prompt for the selected group, unless Kafka would refuse it.
fn request_reset(state: &mut State) {
    let Some(env) = state.env() else { return };
    let Some(kafka) = env.config.kafka.clone() else {
        let why = format!(
            "{} has no Kafka (kafka: in environments.yaml)",
            env.config.name
        );
        return flash(state, why);
    };
    let env_name = env.config.name.clone();
    let Some(group) = selected_group(state) else {
        return flash(state, format!("no consumer group read in {env_name} yet"));
    };
    // As Kafka refuses it: said at once, no dialog.
    if let Some(s) = &group.state
        && !s.state.resettable()
    {
        let why = active_refusal(&group.name, &s.state, s.members);
        return flash(state, why);
    }
    let topics: Vec<String> = group.topics().into_iter().map(str::to_owned).collect();
    if topics.is_empty() {
        let why = format!(
            "{} has no committed offsets on any topic to reset",
            group.name
        );
        return flash(state, why);
    }
    let group = group.name.clone();
    let now = state.now;
    state.mode = Mode::KafkaReset(Box::new(ResetPrompt {
        env: env_name,
        broker: Broker::of(&kafka),
        group,
        topics,
        topic: 0,
        choice: ResetChoice::Datetime,
        input: input_for(ResetChoice::Datetime, now),
        error: None,
        now,
    }));
}

fn input_for(choice: ResetChoice, now: Timestamp) -> TextArea<'static> {
    let text = match choice {
        ResetChoice::Datetime => datetime::default_input(now),
        ResetChoice::Shift => "-100".to_owned(),
        ResetChoice::Earliest | ResetChoice::Latest => String::new(),
    };
    let mut input = TextArea::new(vec![text]);
    input.move_cursor(CursorMove::End);
    input
}

/// Keys in the reset prompt: Tab picks the kind of reset, ↑/↓ the topic, Enter checks
/// the input and opens the confirm dialog (nothing is sent from here), Esc cancels.
pub fn on_reset_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    let Mode::KafkaReset(prompt) = &mut state.mode else {
        return (Vec::new(), false);
    };
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            state.flash = Some((state.now, "cancelled: no offsets moved".into(), true));
        }
        KeyCode::Tab | KeyCode::BackTab => {
            let at = ResetChoice::ALL
                .iter()
                .position(|c| *c == prompt.choice)
                .unwrap_or(0);
            let n = ResetChoice::ALL.len();
            let next = if key.code == KeyCode::Tab {
                (at + 1) % n
            } else {
                (at + n - 1) % n
            };
            prompt.choice = ResetChoice::ALL[next];
            prompt.input = input_for(prompt.choice, prompt.now);
            prompt.error = None;
        }
        KeyCode::Up | KeyCode::Down if prompt.topics.len() > 1 => {
            let n = prompt.topics.len();
            prompt.topic = if key.code == KeyCode::Down {
                (prompt.topic + 1) % n
            } else {
                (prompt.topic + n - 1) % n
            };
        }
        KeyCode::Enter => {
            let now = state.now;
            match spec_of(prompt.choice, &prompt.input.lines().join(""), now) {
                Err(why) => prompt.error = Some(why),
                Ok(spec) => {
                    let Mode::KafkaReset(prompt) = std::mem::replace(&mut state.mode, Mode::Normal)
                    else {
                        return (Vec::new(), true);
                    };
                    let topic = prompt.topics.get(prompt.topic).cloned().unwrap_or_default();
                    let command = Command::KafkaResetOffsets {
                        env: prompt.env,
                        broker: prompt.broker,
                        group: prompt.group.clone(),
                        topic,
                        spec,
                    };
                    open_confirm(state, command, prompt.group);
                }
            }
        }
        _ => {
            if matches!(prompt.choice, ResetChoice::Datetime | ResetChoice::Shift) {
                prompt.input.input(key);
                prompt.error = None;
            }
        }
    }
    (Vec::new(), true)
}

/// The spec the prompt's input makes, or why it makes none.
pub fn spec_of(choice: ResetChoice, input: &str, now: Timestamp) -> Result<ResetSpec, String> {
    match choice {
        ResetChoice::Datetime => datetime::parse(input, now).map(|t| ResetSpec::ToDatetime(t.tool)),
        ResetChoice::Earliest => Ok(ResetSpec::ToEarliest),
        ResetChoice::Latest => Ok(ResetSpec::ToLatest),
        ResetChoice::Shift => match input.trim().parse::<i64>() {
            Ok(0) => Err("a shift of 0 moves nothing".into()),
            Ok(n) => Ok(ResetSpec::ShiftBy(n)),
            Err(_) => Err(format!(
                "`{}` is not a whole number: -N replays N messages per partition, +N skips N",
                input.trim()
            )),
        },
    }
}

fn open_confirm(state: &mut State, command: Command, name: String) {
    let production = state
        .envs
        .iter()
        .find(|e| e.config.name == command.env())
        .is_some_and(|e| e.config.production);
    let dialog = ConfirmDialog::new(command, production, name);
    crate::app::confirm::open(state, dialog);
}

/// `B`: put the selected topic's configuration back to the backup's.
fn request_restore(state: &mut State) {
    let Some(env) = state.env() else { return };
    let Some(kafka) = env.config.kafka.clone() else {
        let why = format!(
            "{} has no Kafka (kafka: in environments.yaml)",
            env.config.name
        );
        return flash(state, why);
    };
    let env_name = env.config.name.clone();
    if kafka.topics_backup.is_none() {
        return flash(
            state,
            format!("{env_name} names no topics backup (kafka.topics_backup)"),
        );
    }
    state.kafka.view = KafkaView::Topics;
    let Some(diff) = selected_diff(state) else {
        return flash(state, "no topics read yet to compare with the backup");
    };
    let (Some(_), Some(backup)) = (&diff.live, &diff.backup) else {
        let why = format!("kafkatopic/{}: {}", diff.name, diff.status());
        return flash(state, why);
    };
    let left_out = diff.refused();
    let Some(patch) = diff.restore_patch() else {
        let why = if left_out.is_empty() {
            format!(
                "kafkatopic/{} is as in the backup: nothing to restore",
                diff.name
            )
        } else {
            format!(
                "kafkatopic/{}: nothing Kafka accepts to restore ({})",
                diff.name,
                left_out.join("; ")
            )
        };
        return flash(state, why);
    };
    let command = Command::KafkaTopicRestore {
        env: env_name,
        namespace: kafka.namespace,
        name: diff.name.clone(),
        backup: backup.to_object(),
        patch,
        left_out,
    };
    let name = diff.name.clone();
    open_confirm(state, command, name);
}

/// What the watcher read.
pub fn on_event(state: &mut State, env: usize, update: KafkaUpdate) -> bool {
    let entry = state.kafka.envs.entry(env).or_default();
    match update {
        KafkaUpdate::Groups { read_at, groups } => match groups {
            Ok(groups) => {
                entry.groups = groups;
                entry.read_at = Some(read_at);
                entry.error = None;
            }
            Err(e) => entry.error = Some(e),
        },
        KafkaUpdate::Topics { live, backup } => {
            entry.live_topics = Some(live);
            entry.backup = backup;
            entry.diffs = match (&entry.live_topics, &entry.backup) {
                (Some(Ok(live)), Some(Ok(backup))) => diff_all(live, backup),
                (Some(Ok(live)), _) => diff_all(live, &[]),
                _ => Vec::new(),
            };
        }
    }
    if env == state.selected_env {
        let groups = groups(state).len();
        let diffs = diffs(state).len();
        let k = &mut state.kafka;
        k.group.selected = k.group.selected.min(groups.saturating_sub(1));
        k.topic.selected = k.topic.selected.min(diffs.saturating_sub(1));
    }
    // Only the selected environment's data is on screen.
    env == state.selected_env && state.focus == Pane::Kafka
}

/// A Kafka command was sent: read its environment again when it finishes.
pub fn on_sent(state: &mut State, op: OpId, command: &Command) {
    if matches!(
        command,
        Command::KafkaResetOffsets { .. } | Command::KafkaTopicRestore { .. }
    ) && let Some(env) = state
        .envs
        .iter()
        .position(|e| e.config.name == command.env())
    {
        state.kafka.sent.insert(op, env);
    }
}

/// A Kafka command finished: its environment is read now, so the pane shows the new
/// offsets and lag (or the topic's new configuration) without waiting for the next read.
pub fn on_op_finished(state: &mut State, op: OpId) -> Vec<Effect> {
    state
        .kafka
        .sent
        .remove(&op)
        .map(|env| vec![Effect::RefreshKafka(env)])
        .unwrap_or_default()
}
