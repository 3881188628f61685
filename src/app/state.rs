//! The whole app state: plain data. Only `update()` changes it; `render()` reads it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::Timestamp;
use ratatui_textarea::TextArea;

use crate::app::KeyMap;
pub use crate::app::panes::Pane;
use crate::bus::{Command, OpId, Preview};
use crate::config::Environment;
use crate::domain::{DeploymentRow, EventRow, PodRow, RowStore, ServiceRow};

/// How one watch stream is doing (the Rollouts watch's, for the canary pane).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Connecting,
    Live,
    /// Down since `since`; the data shown is as of then.
    Down {
        since: Timestamp,
        message: String,
    },
}

pub use crate::app::link::Connection;

#[derive(Debug)]
pub struct EnvState {
    pub config: Environment,
    /// Whether requests to its API server succeed (`app::link`).
    pub link: crate::app::link::Link,
    pub pods: RowStore<PodRow>,
    pub deployments: RowStore<DeploymentRow>,
    pub services: RowStore<ServiceRow>,
    pub events: EventLog,
    pub migrations: crate::domain::migrations::EnvMigrations,
}

impl EnvState {
    pub fn new(config: Environment) -> Self {
        EnvState {
            link: Default::default(),
            pods: RowStore::default(),
            deployments: RowStore::default(),
            services: RowStore::default(),
            events: EventLog::default(),
            migrations: crate::domain::migrations::EnvMigrations::configured(
                config.database.as_ref(),
            ),
            config,
        }
    }

    pub fn connection(&self) -> Connection {
        self.link.connection()
    }
}

/// Recent events of an environment, and the last warning per involved object.
#[derive(Debug, Default)]
pub struct EventLog {
    pub last_warning: HashMap<(String, String), EventRow>,
    pub recent: VecDeque<EventRow>,
}

impl EventLog {
    pub const RECENT: usize = 200;

    pub fn last_warning_for(&self, kind: &str, name: &str) -> Option<&EventRow> {
        self.last_warning.get(&(kind.to_owned(), name.to_owned()))
    }
}

/// A mutation waiting for the user's confirmation. It owns the command: nothing
/// else can send it.
#[derive(Debug)]
pub struct ConfirmDialog {
    pub command: Command,
    pub preview: Preview,
    /// In production the user must type this (the target's name) to confirm.
    pub typed: Option<(String, TextArea<'static>)>,
    pub error: Option<String>,
    /// A warning shown above the request (e.g. the Deployment is managed by an ArgoCD
    /// app with self-heal, which will revert the change).
    pub warning: Option<String>,
    /// What the environment's policy says about this change (a closed change window, an
    /// unsafe migration), shown above the request.
    pub notes: Vec<String>,
    /// A reason the policy asks for (outside the change window): the prompt, and what
    /// is typed; it goes to the audit log with the command.
    pub reason: Option<(String, TextArea<'static>)>,
    /// Typing goes to the reason (else to the typed name).
    pub reason_focused: bool,
    /// How far the body is scrolled (↑/↓) when it does not fit, and the furthest row
    /// shown so far: a dialog is confirmed only once all of it was seen.
    pub scroll: u16,
    pub seen_to: u16,
    /// Why the name is typed: PRODUCTION, UNSAFE MIGRATION.
    pub typed_because: &'static str,
    /// The server-side dry run, sent when the dialog opens.
    pub dry_run: DryRun,
}

/// The server's verdict on what the dialog would send, asked when it opens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DryRun {
    #[default]
    NotAsked,
    Asking,
    /// What the server said: what would happen, or why it refuses.
    Done(Result<String, String>),
    /// This family has no dry run to ask before confirming, and why.
    Unavailable(&'static str),
}

impl ConfirmDialog {
    /// A dialog for `command`; in production the user must type `name` to confirm.
    pub fn new(command: Command, production: bool, name: String) -> Self {
        let typed = production.then(|| {
            let mut input = TextArea::default();
            input.set_placeholder_text(format!("type {name} to confirm"));
            (name, input)
        });
        ConfirmDialog {
            preview: command.preview(),
            command,
            typed,
            error: None,
            warning: None,
            notes: Vec::new(),
            reason: None,
            reason_focused: false,
            scroll: 0,
            seen_to: 0,
            typed_because: "PRODUCTION",
            dry_run: DryRun::NotAsked,
        }
    }

    /// Body rows visible in a terminal `height` rows tall.
    pub fn visible_rows(&self, height: u16) -> u16 {
        height.saturating_sub(crate::app::confirm::input_rows(self) + 4)
    }

    /// Whether every row of the body has been on screen at `width`×`height`.
    pub fn seen_all(&self, (width, height): (u16, u16)) -> bool {
        let body = crate::app::confirm::body_lines(self);
        let rows = crate::app::confirm::wrapped_rows(body.iter().map(String::as_str), width);
        let visible = self.visible_rows(height);
        visible > 0 && self.seen_to.max(self.scroll.saturating_add(visible)) >= rows
    }

    /// Whether the target's name must be typed (the name kept either way).
    pub fn require_typed(&mut self, typed: bool) {
        match (&self.typed, typed) {
            (None, true) => {
                let name = self.command.target_name().to_owned();
                let mut input = TextArea::default();
                input.set_placeholder_text(format!("type {name} to confirm"));
                self.typed = Some((name, input));
            }
            (Some(_), false) => self.typed = None,
            _ => {}
        }
    }

    /// The reason typed, if the policy asked for one.
    pub fn reason_text(&self) -> Option<String> {
        self.reason
            .as_ref()
            .map(|(_, input)| input.lines().join(" ").trim().to_owned())
    }

    pub fn with_warning(mut self, warning: Option<String>) -> Self {
        self.warning = warning;
        self
    }

    pub fn ready(&self) -> bool {
        let typed = match &self.typed {
            None => true,
            Some((expected, input)) => input.lines().join("") == *expected,
        };
        typed && self.reason_text().is_none_or(|r| !r.is_empty())
    }
}

#[derive(Debug)]
pub enum Mode {
    Normal,
    Filter,
    Help,
    Confirm(Box<ConfirmDialog>),
    /// A one-line answer that builds a command (the image for set image).
    Prompt(Box<crate::app::panes::rollouts::Prompt>),
    /// Why switch a blue/green Service to a colour that is not fully ready.
    Reason(Box<crate::app::panes::bluegreen::ReasonPrompt>),
    /// The note of a checklist tick.
    Note(Box<crate::app::panes::checklist::NotePrompt>),
    /// Typing the logs pane's filter.
    LogFilter,
    /// Where to reset a consumer group's offsets.
    KafkaReset(Box<crate::app::panes::kafka::ResetPrompt>),
    /// The rollback advisor's plans for one service.
    Advice(Box<crate::app::advisor::AdviceView>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpRecord {
    pub op: OpId,
    pub summary: String,
    /// The environment and the object it acts on: one command per target at a time.
    pub target: (String, String),
    pub started: Timestamp,
    /// None while in flight.
    pub outcome: Option<Result<String, String>>,
}

/// Cursor and scroll of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCursor {
    pub selected: usize,
    pub offset: usize,
}

impl TableCursor {
    /// Moves by `delta` within `len` rows and keeps the selection in a window of
    /// `height` rows.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            *self = TableCursor::default();
            return;
        }
        let target = (self.selected as isize + delta).clamp(0, len as isize - 1);
        self.selected = target as usize;
        self.scroll_into_view(len, height);
    }

    /// The offset to draw `len` rows in `height` with: the stored one, moved only as
    /// far as needed to show the selection, and 0 when everything fits (a scroll made
    /// while the table was hidden, at another size, must not hide rows now).
    pub fn visible_offset(&self, len: usize, height: usize) -> usize {
        let mut c = *self;
        c.scroll_into_view(len, height);
        c.offset
    }

    pub fn scroll_into_view(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

#[derive(Debug)]
pub struct State {
    pub now: Timestamp,
    pub envs: Vec<EnvState>,
    pub keys: KeyMap,
    pub focus: Pane,
    pub zoomed: bool,
    pub mode: Mode,
    /// The environment whose pods are shown.
    pub selected_env: usize,
    pub env_cursor: TableCursor,
    pub pod_cursor: TableCursor,
    /// The selected row of the migrations pane, and whether it shows the down SQL.
    pub migration_cursor: TableCursor,
    /// The version the user put the migrations cursor on: it stays on that version when
    /// a migration file arrives or leaves above it. Until the user moves, it follows the
    /// recorded (current or dirty) version, so `F` and `=` start from where the
    /// database is rather than from migration 1.
    pub migration_anchor: Option<u64>,
    pub migration_show_down: bool,
    /// Argo Rollouts per environment, the chart history and the canary pane's cursors.
    pub rollouts: crate::app::panes::rollouts::RolloutsState,
    /// Changes self-heal may take back, watched after they went through.
    pub reverts: crate::app::reverts::Reverts,
    /// The rollback plan being run, step by step.
    pub advisor: crate::app::advisor::AdvisorState,
    /// The drill in progress (`rollcall demo --drill`), and its score once done.
    pub drill: Option<crate::app::drill::DrillRun>,
    /// Argo CD apps per environment, the release matrix, history and waits.
    pub argocd: crate::app::panes::argocd::ArgocdState,
    /// The blue/green pane's cursor.
    pub bluegreen: crate::app::panes::bluegreen::BlueGreenState,
    /// The revisions pane's cursors and open Deployment.
    pub revisions: crate::app::panes::revisions::RevisionsState,
    /// The checklist: its lists, what its checks read, ticks not yet in the cluster.
    pub checklist: crate::app::panes::checklist::ChecklistState,
    /// The production runbook and the runbook pane's cursor.
    pub runbook: crate::app::panes::runbook::RunbookState,
    /// The logs pane's view and its stream session.
    pub logs: crate::app::panes::logs::LogsState,
    /// What the Kafka watchers read, and the Kafka pane's view and cursors.
    pub kafka: crate::app::panes::kafka::KafkaState,
    pub filter: TextArea<'static>,
    /// The pods passing `filter`, kept in step with the watch by `update()`.
    pub pod_filter: crate::app::panes::pods::filter::PodFilterIndex,
    /// The pods pane's order, and its index when it is not by name.
    pub pod_sort: crate::app::panes::pods::sort::PodSort,
    pub pod_sort_index: crate::app::panes::pods::sort::PodSortIndex,
    pub readonly: bool,
    /// Who the audit log says did it, and what the header shows.
    pub user: String,
    /// Where the data comes from (a kube context, or the simulator), for the header.
    pub source: String,
    pub size: (u16, u16),
    pub ops: BTreeMap<OpId, OpRecord>,
    pub next_op: u64,
    /// A one-line message for the footer (last result or a refusal).
    pub flash: Option<(Timestamp, String, bool)>,
    /// Until when plain keys are not commands: a dialog just closed, and what is still
    /// being typed (its name) must not run as keys.
    pub key_guard_until: Option<Timestamp>,
    /// How much faster than the wall clock `now` runs (the demo's simulator speed): the
    /// key guard is human time, so it is this much longer in clock time.
    pub clock_speed: f64,
    /// Until when a second quit quits although commands are in flight.
    pub quit_armed_until: Option<Timestamp>,
    /// How far the help screen is scrolled (it does not fit small terminals).
    pub help_scroll: u16,
    /// The pod the pods cursor was put on (namespace, name): the cursor follows it when
    /// pods arrive, leave or re-sort above it, so `r` means the pod the user chose.
    pub pod_anchor: Option<(String, String)>,
    pub should_quit: bool,
}

impl State {
    pub fn new(envs: Vec<Environment>, keys: KeyMap, now: Timestamp) -> Self {
        let envs_len = envs.len();
        State {
            now,
            envs: envs.into_iter().map(EnvState::new).collect(),
            keys,
            focus: Pane::Environments,
            zoomed: false,
            mode: Mode::Normal,
            selected_env: 0,
            env_cursor: TableCursor::default(),
            pod_cursor: TableCursor::default(),
            migration_cursor: TableCursor::default(),
            migration_anchor: None,
            migration_show_down: false,
            rollouts: crate::app::panes::rollouts::RolloutsState::new(),
            reverts: Default::default(),
            advisor: Default::default(),
            drill: None,
            argocd: crate::app::panes::argocd::ArgocdState::default(),
            bluegreen: Default::default(),
            revisions: Default::default(),
            checklist: crate::app::panes::checklist::ChecklistState::new(
                Default::default(),
                envs_len,
            ),
            runbook: Default::default(),
            logs: Default::default(),
            kafka: Default::default(),
            filter: TextArea::default(),
            pod_filter: Default::default(),
            pod_sort: Default::default(),
            pod_sort_index: Default::default(),
            readonly: false,
            user: "unknown".into(),
            source: String::new(),
            size: (80, 24),
            ops: BTreeMap::new(),
            next_op: 1,
            flash: None,
            key_guard_until: None,
            clock_speed: 1.0,
            quit_armed_until: None,
            help_scroll: 0,
            pod_anchor: None,
            should_quit: false,
        }
    }

    /// Every configured service name, in config order, each once.
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for env in &self.envs {
            for s in &env.config.services {
                if !names.contains(&s.name) {
                    names.push(s.name.clone());
                }
            }
        }
        names
    }

    pub fn env(&self) -> Option<&EnvState> {
        self.envs.get(self.selected_env)
    }

    pub fn filter_text(&self) -> String {
        self.filter.lines().join("")
    }

    /// Pods of the selected environment that pass the filter, in the pane's order.
    pub fn visible_pods(&self) -> Box<dyn Iterator<Item = &PodRow> + '_> {
        let Some(env) = self.env() else {
            return Box::new(std::iter::empty());
        };
        let needle = self.filter_text().to_lowercase();
        if self.pod_sort != crate::app::panes::pods::sort::PodSort::Name {
            let index = &self.pod_sort_index;
            let sorted: Box<dyn Iterator<Item = &PodRow>> =
                if index.is_current(self.selected_env, self.pod_sort, &env.pods) {
                    Box::new(index.rows(&env.pods))
                } else {
                    // Only between a change and the end of its `update()`; kept correct anyway.
                    let mut rows: Vec<&PodRow> = env.pods.iter().collect();
                    let sort = self.pod_sort;
                    rows.sort_by(|a, b| sort.key(a).cmp(&sort.key(b)));
                    Box::new(rows.into_iter())
                };
            if needle.is_empty() {
                return sorted;
            }
            return Box::new(sorted.filter(move |p| pod_matches(p, &needle)));
        }
        if needle.is_empty() {
            return Box::new(env.pods.iter());
        }
        if self
            .pod_filter
            .is_current(self.selected_env, &needle, &env.pods)
        {
            return Box::new(self.pod_filter.rows(&env.pods));
        }
        // Only between a change and the end of its `update()`; kept correct anyway.
        Box::new(env.pods.iter().filter(move |p| pod_matches(p, &needle)))
    }

    /// How many pods pass the filter; O(1) with or without a filter.
    pub fn visible_len(&self) -> usize {
        match self.env() {
            None => 0,
            Some(env) if self.filter.lines().iter().all(|l| l.is_empty()) => env.pods.len(),
            Some(env)
                if self.pod_filter.is_current(
                    self.selected_env,
                    &self.filter_text().to_lowercase(),
                    &env.pods,
                ) =>
            {
                self.pod_filter.len()
            }
            Some(_) => self.visible_pods().count(),
        }
    }

    /// Brings the filter index up to date after anything that may have changed the
    /// filter text, the environment or the pods behind its back (cheap when current).
    pub fn sync_pod_filter(&mut self) {
        let needle = self.filter_text().to_lowercase();
        let Some(env) = self.envs.get(self.selected_env) else {
            return;
        };
        if !self
            .pod_filter
            .is_current(self.selected_env, &needle, &env.pods)
        {
            self.pod_filter
                .rebuild(self.selected_env, needle, &env.pods);
        }
    }

    /// Brings the sort index up to date (cheap when current; empty when by name).
    pub fn sync_pod_sort(&mut self) {
        let Some(env) = self.envs.get(self.selected_env) else {
            return;
        };
        if !self
            .pod_sort_index
            .is_current(self.selected_env, self.pod_sort, &env.pods)
        {
            self.pod_sort_index
                .rebuild(self.selected_env, self.pod_sort, &env.pods);
        }
    }

    pub fn selected_pod(&self) -> Option<&PodRow> {
        self.visible_pods().nth(self.pod_cursor.selected)
    }
}

/// Case-insensitive match on what the pods pane shows, without allocating per pod
/// (it runs over every pod on each frame of a filtered 50k-pod list).
pub fn pod_matches(pod: &PodRow, needle_lower: &str) -> bool {
    let hit = |s: &str| contains_ignore_case(s, needle_lower);
    hit(&pod.name)
        || pod.node.as_deref().is_some_and(hit)
        || hit(pod.status_text())
        || pod.app.as_deref().is_some_and(hit)
}

/// Whether `haystack` contains `needle_lower` ignoring case; `needle_lower` must
/// already be lower case.
fn contains_ignore_case(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_ascii() && haystack.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
        return n.is_empty()
            || h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b));
    }
    haystack.to_lowercase().contains(needle_lower)
}

#[cfg(test)]
mod tests {
    use crate::app::state::contains_ignore_case;

    #[test]
    fn matching_ignores_case_with_and_without_ascii() {
        assert!(contains_ignore_case("CrashLoopBackOff", "loopback"));
        assert!(contains_ignore_case("metadata-catalog-x", ""));
        assert!(!contains_ignore_case("Running", "pending"));
        assert!(contains_ignore_case("Ünïcode-Pod", "ünï"));
    }
}
