//! The checklist pane's part of `update()`: the release being walked in the selected
//! environment, the live data its checks read, and ticks. A tick is sent through the
//! pipeline at once (no confirm: it only records a person's word) and kept as unsynced
//! until the cluster has it; a refused or failed write stays, is saved to a local file
//! by the loop (`Effect::SaveTicks`) and is sent again every little while.

pub mod facts;

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent};
use jiff::{SignedDuration, Timestamp};
use ratatui_textarea::TextArea;
use serde::{Deserialize, Serialize};

use super::{Pane, PaneSpec};
use crate::app::action::Action;
use crate::app::state::{Mode, State, TableCursor};
use crate::app::update::Effect;
use crate::bus::{Command, OpId};
use crate::config::Checklists;
use crate::domain::RowStore;
use crate::domain::checklist::checks::HttpProbe;
use crate::domain::checklist::shared::{Change, SharedChecklist, SharedRow};
use crate::domain::checklist::walk::{ItemView, walk};
use crate::domain::checklist::{Mark, Progress, Release, tickable};
use crate::domain::cnpg::BackupRow;
use crate::domain::environment::summarize;
use crate::domain::feed::{ChecklistStream, ChecklistUpdate};
use crate::domain::vulnerability::VulnerabilityReportRow;

/// How long an unsynced tick waits before it is sent again.
pub const RETRY_AFTER: SignedDuration = SignedDuration::from_secs(10);

/// What the checklist's watchers said about one environment.
#[derive(Debug, Default)]
pub struct EnvChecklist {
    pub backups: RowStore<BackupRow>,
    pub reports: RowStore<VulnerabilityReportRow>,
    pub shared: RowStore<SharedRow>,
    pub jobs: RowStore<crate::domain::job::JobRow>,
    /// The GitOps remote as last read.
    pub git: Option<crate::domain::gitops::GitState>,
    /// Metric checks' queries, as last read.
    pub metrics: HashMap<String, crate::domain::checklist::metric::MetricRead>,
    /// The last failure of each stream, until it lists again.
    pub errors: HashMap<ChecklistStream, String>,
}

/// A tick the cluster does not have yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsynced {
    /// The environment's name (its index may differ between runs).
    pub env: String,
    pub release: String,
    pub title: String,
    pub change: Change,
    /// Why the last attempt failed.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(skip)]
    pub op: Option<OpId>,
    #[serde(skip)]
    pub last_try: Option<Timestamp>,
    /// The cluster took it; it goes once the watch shows it.
    #[serde(skip)]
    pub sent: bool,
}

#[derive(Debug, Default)]
pub struct ChecklistState {
    pub lists: Checklists,
    pub envs: Vec<EnvChecklist>,
    /// The last answer per probed URL.
    pub probes: HashMap<String, HttpProbe>,
    /// The release walked per environment (by name), once the user picked one.
    pub chosen: HashMap<String, Release>,
    pub cursor: TableCursor,
    /// Who the cluster says the user is, per environment index (SelfSubjectReview).
    pub identity: HashMap<usize, String>,
    pub unsynced: Vec<Unsynced>,
}

pub const SPEC: PaneSpec = PaneSpec {
    pane: Pane::Checklist,
    title: "Checklist",
    short_title: "Chk",
    focus: Action::PaneChecklist,
    pinned: false,
    on_action,
    move_cursor,
};

/// The note asked for when ticking: the change it will make.
#[derive(Debug)]
pub struct NotePrompt {
    pub title: String,
    pub input: TextArea<'static>,
    pub env: usize,
    pub release: Release,
    pub item: String,
    pub item_title: String,
    pub done: bool,
    /// A runbook step passed over rather than done.
    pub skipped: bool,
    /// Set when a note is required, saying why (a skip, a gate overridden).
    pub reason_required: Option<String>,
}

impl ChecklistState {
    pub fn new(lists: Checklists, envs: usize) -> Self {
        ChecklistState {
            lists,
            envs: (0..envs).map(|_| EnvChecklist::default()).collect(),
            ..ChecklistState::default()
        }
    }
}

/// The release checklists in environment `env`'s namespace.
fn shared_in(state: &State, env: usize) -> Vec<&SharedChecklist> {
    let Some(c) = state.checklist.envs.get(env) else {
        return Vec::new();
    };
    c.shared
        .iter()
        .filter_map(|r| r.checklist.as_ref())
        .collect()
}

/// The releases the pane offers for environment `env`: those with a checklist there
/// already, then what runs in another environment but not here (what would be promoted).
pub fn releases(state: &State, env: usize) -> Vec<Release> {
    let mut out: Vec<Release> = shared_in(state, env)
        .into_iter()
        .map(|s| s.release.clone())
        .collect();
    out.sort();
    let Some(here) = state.envs.get(env) else {
        return out;
    };
    let versions = |i: usize| -> BTreeMap<String, String> {
        let e = &state.envs[i];
        summarize(
            &e.config,
            &crate::app::panes::bluegreen::workloads(state, i),
            &e.pods,
            state.now,
        )
        .services
        .into_iter()
        .filter_map(|s| Some((s.name, s.version?)))
        .collect()
    };
    // Each environment summarised once (this runs while the pane is drawn).
    let all: Vec<BTreeMap<String, String>> = (0..state.envs.len()).map(versions).collect();
    let mine = &all[env];
    for svc in &here.config.services {
        for other in (0..state.envs.len()).filter(|i| *i != env) {
            if let Some(v) = all[other].get(&svc.name)
                && mine.get(&svc.name) != Some(v)
            {
                let r = Release::new(&svc.name, v);
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The release the pane walks in environment `env`.
pub fn release(state: &State, env: usize) -> Option<Release> {
    let all = releases(state, env);
    let name = &state.envs.get(env)?.config.name;
    match state.checklist.chosen.get(name) {
        Some(r) if all.contains(r) => Some(r.clone()),
        _ => all.into_iter().next(),
    }
}

/// The marks of `release` in `env`: what the cluster has, with unsynced ticks over it.
pub fn marks(state: &State, env: usize, release: &Release) -> BTreeMap<String, Mark> {
    let mut shared = shared_in(state, env)
        .into_iter()
        .find(|s| &s.release == release)
        .cloned()
        .unwrap_or_else(|| SharedChecklist::new("", "", release.clone()));
    let name = state.envs.get(env).map(|e| e.config.name.as_str());
    let text = release.to_string();
    for u in &state.checklist.unsynced {
        if Some(u.env.as_str()) == name && u.release == text {
            shared.apply(&u.change);
        }
    }
    shared.marks
}

/// The walked checklist of the selected environment: the release, its items, the
/// counts, and which items are unsynced.
pub struct Walked {
    pub release: Release,
    pub items: Vec<ItemView>,
    pub progress: Progress,
}

/// How many items environment `env` walks: fixed by the config, so the cursor is kept
/// in range without evaluating any check (this runs on every checklist watch event).
fn item_count(state: &State, env: usize) -> usize {
    let production = state.envs.get(env).is_some_and(|e| e.config.production);
    state.checklist.lists.items(production).count()
}

pub fn walked(state: &State, env: usize) -> Option<Walked> {
    let release = release(state, env)?;
    let marks = marks(state, env, &release);
    let environments: Vec<crate::config::Environment> =
        state.envs.iter().map(|e| e.config.clone()).collect();
    let facts = facts::LiveFacts { state, env };
    let (items, progress) = walk(
        &state.checklist.lists,
        &environments,
        env,
        &release,
        &marks,
        &facts,
    );
    Some(Walked {
        release,
        items,
        progress,
    })
}

/// Whether a tick of `item` for `release` in `env` is waiting for the cluster.
pub fn is_unsynced<'a>(
    state: &'a State,
    env: usize,
    release: &Release,
    item: &str,
) -> Option<&'a Unsynced> {
    let name = state.envs.get(env)?.config.name.as_str();
    let text = release.to_string();
    state
        .checklist
        .unsynced
        .iter()
        .rev()
        .find(|u| u.env == name && u.release == text && u.change.item == item)
}

fn move_cursor(state: &mut State, delta: isize, page: usize) {
    let len = item_count(state, state.selected_env);
    state.checklist.cursor.move_by(delta, len, page);
}

/// Called when the environment changes.
pub fn reset(state: &mut State) {
    state.checklist.cursor = TableCursor::default();
}

fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::PaneChecklist => state.focus = Pane::Checklist,
        Action::ChecklistNextRelease => next_release(state),
        Action::ChecklistTick => open_note(state),
        _ => return None,
    }
    Some(Vec::new())
}

fn next_release(state: &mut State) {
    let env = state.selected_env;
    let all = releases(state, env);
    if all.is_empty() {
        state.flash = Some((
            state.now,
            "no release to walk in this environment".into(),
            false,
        ));
        return;
    }
    let at = release(state, env)
        .and_then(|r| all.iter().position(|x| *x == r))
        .map_or(0, |i| (i + 1) % all.len());
    if let Some(name) = state.envs.get(env).map(|e| e.config.name.clone()) {
        state.checklist.chosen.insert(name, all[at].clone());
    }
    state.checklist.cursor = TableCursor::default();
}

/// `x`: tick (or untick) the selected item, asking for an optional note first.
fn open_note(state: &mut State) {
    let env = state.selected_env;
    let Some(w) = walked(state, env) else {
        state.flash = Some((
            state.now,
            "no release to walk in this environment".into(),
            false,
        ));
        return;
    };
    let Some(view) = w.items.get(state.checklist.cursor.selected) else {
        return;
    };
    if !tickable(&view.item.check, view.evaluation.as_ref()) {
        let why = format!(
            "\"{}\" is checked by rollcall, not ticked: {}",
            view.item.title,
            view.evaluation
                .as_ref()
                .map_or("checking…", |e| e.evidence.as_str())
        );
        state.flash = Some((state.now, why, false));
        return;
    }
    let done = !view.mark.as_ref().is_some_and(|m| m.done);
    let mut input = TextArea::default();
    input.set_placeholder_text(if done {
        "note (optional), e.g. who you reached or where the evidence is"
    } else {
        "why untick (optional)"
    });
    state.mode = Mode::Note(Box::new(NotePrompt {
        title: format!(
            " {} \"{}\" for {} ",
            if done { "tick" } else { "untick" },
            view.item.title,
            w.release
        ),
        input,
        env,
        release: w.release,
        item: view.item.id.clone(),
        item_title: view.item.title.clone(),
        done,
        skipped: false,
        reason_required: None,
    }));
}

/// Keys in the note prompt: Enter sends the tick, Esc cancels.
pub fn on_note_key(state: &mut State, key: KeyEvent) -> (Vec<Effect>, bool) {
    let Mode::Note(prompt) = &mut state.mode else {
        return (Vec::new(), false);
    };
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            state.flash = Some((state.now, "cancelled: nothing ticked".into(), true));
            (Vec::new(), true)
        }
        KeyCode::Enter => {
            let note = prompt.input.lines().join(" ").trim().to_owned();
            if note.is_empty()
                && let Some(why) = &prompt.reason_required
            {
                state.flash = Some((state.now, format!("a reason is needed: {why}"), false));
                return (Vec::new(), true);
            }
            let Mode::Note(prompt) = std::mem::replace(&mut state.mode, Mode::Normal) else {
                return (Vec::new(), true);
            };
            (record(state, &prompt, note), true)
        }
        _ => {
            prompt.input.input(key);
            (Vec::new(), true)
        }
    }
}

/// Records a tick (or a runbook mark) and sends it; it stays unsynced until the
/// cluster has it.
pub fn record(state: &mut State, p: &NotePrompt, note: String) -> Vec<Effect> {
    let (env, release, done, skipped) = (p.env, &p.release, p.done, p.skipped);
    let (item, title) = (p.item.clone(), p.item_title.clone());
    let Some(name) = state.envs.get(env).map(|e| e.config.name.clone()) else {
        return Vec::new();
    };
    let by = state
        .checklist
        .identity
        .get(&env)
        .cloned()
        .unwrap_or_else(|| state.user.clone());
    state.checklist.unsynced.push(Unsynced {
        env: name,
        release: release.to_string(),
        title,
        change: Change {
            item,
            mark: Mark {
                done,
                by,
                at: state.now,
                note,
                skipped,
            },
        },
        error: None,
        op: None,
        last_try: None,
        sent: false,
    });
    let index = state.checklist.unsynced.len() - 1;
    let mut effects = send(state, index);
    effects.push(save(state));
    effects
}

/// Sends unsynced tick `index` through the pipeline.
fn send(state: &mut State, index: usize) -> Vec<Effect> {
    let Some(u) = state.checklist.unsynced.get(index) else {
        return Vec::new();
    };
    let Some(env) = state.envs.iter().find(|e| e.config.name == u.env) else {
        return Vec::new();
    };
    let command = Command::MarkChecklist {
        env: u.env.clone(),
        namespace: env.config.namespace.clone(),
        release: u.release.clone(),
        item: u.change.item.clone(),
        title: u.title.clone(),
        mark: u.change.mark.clone(),
    };
    let op = OpId(state.next_op);
    state.next_op += 1;
    state.ops.insert(
        op,
        crate::app::state::OpRecord {
            op,
            summary: command.summary(),
            target: (command.env().to_owned(), command.target_name().to_owned()),
            started: state.now,
            outcome: None,
        },
    );
    let now = state.now;
    if let Some(u) = state.checklist.unsynced.get_mut(index) {
        u.op = Some(op);
        u.last_try = Some(now);
    }
    vec![Effect::Send {
        op,
        command,
        reason: None,
    }]
}

/// The ticks to keep on disk: every one the cluster has not taken.
fn save(state: &State) -> Effect {
    Effect::SaveTicks(
        state
            .checklist
            .unsynced
            .iter()
            .filter(|u| !u.sent)
            .cloned()
            .collect(),
    )
}

/// A tick's write finished: taken (kept until the watch shows it), or kept to retry.
pub fn on_op_finished(
    state: &mut State,
    op: OpId,
    outcome: &Result<String, String>,
) -> Vec<Effect> {
    let Some(u) = state
        .checklist
        .unsynced
        .iter_mut()
        .find(|u| u.op == Some(op))
    else {
        return Vec::new();
    };
    u.op = None;
    match outcome {
        Ok(_) => {
            u.sent = true;
            u.error = None;
        }
        Err(why) => u.error = Some(why.clone()),
    }
    vec![save(state)]
}

/// Every second: unsynced ticks whose last try is old enough go again.
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    if state.readonly {
        return Vec::new();
    }
    let now = state.now;
    let due: Vec<usize> = state
        .checklist
        .unsynced
        .iter()
        .enumerate()
        .filter(|(_, u)| !u.sent && u.op.is_none())
        .filter(|(_, u)| {
            u.last_try
                .is_none_or(|t| now.duration_since(t) >= RETRY_AFTER)
        })
        .map(|(i, _)| i)
        .collect();
    due.into_iter().flat_map(|i| send(state, i)).collect()
}

/// Watch data for the checklist of environment `env`: whether anything changed, and
/// the local file's new content when ticks it held are now in the cluster.
pub fn on_event(state: &mut State, env: usize, update: ChecklistUpdate) -> (Vec<Effect>, bool) {
    let mut effects = Vec::new();
    let Some(c) = state.checklist.envs.get_mut(env) else {
        return (effects, false);
    };
    let changed = match update {
        ChecklistUpdate::WatchError { stream, message } => {
            c.errors.insert(stream, message).is_none()
        }
        ChecklistUpdate::Backups(u) => {
            c.errors.remove(&ChecklistStream::Backups);
            c.backups.apply(u)
        }
        ChecklistUpdate::Reports(u) => {
            c.errors.remove(&ChecklistStream::Reports);
            c.reports.apply(u)
        }
        ChecklistUpdate::Jobs(u) => {
            c.errors.remove(&ChecklistStream::Jobs);
            c.jobs.apply(u)
        }
        ChecklistUpdate::Shared(u) => {
            c.errors.remove(&ChecklistStream::Shared);
            let changed = c.shared.apply(u);
            let before = state.checklist.unsynced.len();
            prune_synced(state);
            if state.checklist.unsynced.len() != before {
                effects.push(save(state));
            }
            changed
        }
    };
    if changed && env == state.selected_env {
        let len = item_count(state, env);
        let page = crate::app::layout::table_rows(state, Pane::Checklist).max(1);
        state.checklist.cursor.scroll_into_view(len, page);
    }
    (effects, changed)
}

/// Drops unsynced ticks the cluster's checklists now log.
fn prune_synced(state: &mut State) {
    let names: Vec<String> = state.envs.iter().map(|e| e.config.name.clone()).collect();
    let checklist = &mut state.checklist;
    let envs = &checklist.envs;
    checklist.unsynced.retain(|u| {
        let Some(i) = names.iter().position(|n| *n == u.env) else {
            return true;
        };
        let logged = envs.get(i).is_some_and(|c| {
            c.shared.iter().any(|r| {
                r.checklist.as_ref().is_some_and(|s| {
                    s.release.to_string() == u.release && s.log.contains(&u.change)
                })
            })
        });
        !logged
    });
}

/// A probe answered.
pub fn on_probe(state: &mut State, probe: HttpProbe) -> bool {
    let changed = state.checklist.probes.get(&probe.url) != Some(&probe);
    state.checklist.probes.insert(probe.url.clone(), probe);
    changed
}

/// A read of the environment's GitOps remote.
pub fn on_git(state: &mut State, env: usize, git: crate::domain::gitops::GitState) -> bool {
    let Some(c) = state.checklist.envs.get_mut(env) else {
        return false;
    };
    let changed = c.git.as_ref() != Some(&git);
    c.git = Some(git);
    changed
}

/// A read of a metric check's query.
pub fn on_metric(
    state: &mut State,
    env: usize,
    query: String,
    read: crate::domain::checklist::metric::MetricRead,
) -> bool {
    let Some(c) = state.checklist.envs.get_mut(env) else {
        return false;
    };
    c.metrics.insert(query, read);
    true
}
