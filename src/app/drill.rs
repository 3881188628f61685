//! A drill in progress (`rollcall demo --drill NAME`): its clock, the keys pressed, what
//! was sent and whether it was unsafe, and the goal checked after every update. When
//! the goal holds, the score stays on the header: time to mitigate, keys, unsafe sends.

use jiff::Timestamp;

use super::state::State;
use crate::bus::Command;
use crate::config::drills::{Drill, Goal};

/// What the simulator measured when it broke what the drill breaks, for a goal the
/// live state cannot judge alone (rollcall reads offsets, not message timestamps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// When the bad release of a `group_replayed` goal went out.
    pub bad_release: Option<Timestamp>,
    /// Per partition of the goal's topic, the first offset at or after the bad release
    /// (the log end where nothing arrived since): where a replay from it starts.
    pub replay_from: Vec<(u32, i64)>,
}

#[derive(Debug, Clone)]
pub struct DrillRun {
    pub drill: Drill,
    pub baseline: Baseline,
    pub started: Timestamp,
    pub keys: u32,
    pub sent: u32,
    /// Unsafe commands sent, in words.
    pub unsafe_sent: Vec<String>,
    /// When the goal was reached.
    pub done: Option<Timestamp>,
}

impl DrillRun {
    pub fn new(drill: Drill, started: Timestamp) -> Self {
        DrillRun {
            drill,
            baseline: Baseline::default(),
            started,
            keys: 0,
            sent: 0,
            unsafe_sent: Vec::new(),
            done: None,
        }
    }

    pub fn with_baseline(mut self, baseline: Baseline) -> Self {
        self.baseline = baseline;
        self
    }

    /// What the on-call engineer is told when paged: the brief, and the bad release's
    /// time when the goal is measured from it.
    pub fn page(&self) -> String {
        match self.baseline.bad_release {
            Some(at) => format!(
                "DRILL {}: the bad release went out at {}. {}",
                self.drill.title,
                crate::domain::advisor::tool_time(at),
                self.drill.brief
            ),
            None => format!("DRILL {}: {}", self.drill.title, self.drill.brief),
        }
    }

    /// Seconds of the user's time at `now` (frozen once done): the app's clock runs
    /// `speed` times faster in a fast demo.
    pub fn elapsed(&self, now: Timestamp, speed: f64) -> i64 {
        let end = self.done.unwrap_or(now);
        let clock = end.duration_since(self.started).as_secs_f64().max(0.0);
        (clock / speed.max(f64::MIN_POSITIVE)) as i64
    }

    /// The score line: time to mitigate against par, keys, and what unsafe was sent.
    pub fn score(&self, now: Timestamp, speed: f64) -> String {
        let took = self.elapsed(now, speed);
        let par = self.drill.par.as_secs();
        let pace = if took <= par {
            "within par"
        } else {
            "over par"
        };
        let safety = if self.unsafe_sent.is_empty() {
            "nothing unsafe sent".to_owned()
        } else {
            format!("UNSAFE: {}", self.unsafe_sent.join(", "))
        };
        format!(
            "mitigated in {} ({pace} {}) · {} keys · {} sent · {safety}",
            crate::domain::format::duration(took),
            crate::domain::format::duration(par),
            self.keys,
            self.sent
        )
    }
}

/// The kind a drill's `unsafe_commands` names a command by.
pub fn command_kind(command: &Command) -> String {
    use crate::bus::rollouts::RolloutAction as A;
    use rollcall_migrate::Request as R;
    match command {
        Command::Rollout { action, .. } => format!(
            "rollout-{}",
            match action {
                A::Promote { full: false } => "promote",
                A::Promote { full: true } => "promote-full",
                A::Abort => "abort",
                A::Retry => "retry",
                A::Pause => "pause",
                A::Resume => "resume",
                A::Undo { .. } => "undo",
                A::SetImage { .. } => "set-image",
            }
        ),
        Command::Migrate { plan, .. } => format!(
            "migrate-{}",
            match plan.request {
                R::Up { .. } => "up",
                R::Down { .. } => "down",
                R::Goto { .. } => "goto",
                R::Force { .. } => "force",
            }
        ),
        // By where it moves the offsets: a drill tells a replay from a skip.
        Command::KafkaResetOffsets { spec, .. } => format!(
            "kafka-reset-{}",
            match spec {
                crate::domain::kafka::ResetSpec::ToDatetime(_) => "to-datetime",
                crate::domain::kafka::ResetSpec::ToEarliest => "to-earliest",
                crate::domain::kafka::ResetSpec::ToLatest => "to-latest",
                crate::domain::kafka::ResetSpec::ShiftBy(_) => "shift-by",
            }
        ),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v["command"].as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// A key was pressed.
pub fn on_key(state: &mut State) {
    if let Some(run) = state.drill.as_mut().filter(|r| r.done.is_none()) {
        run.keys += 1;
    }
}

/// A command was confirmed: counted, and judged.
pub fn on_sent(state: &mut State, command: &Command) {
    let blind = state
        .envs
        .iter()
        .any(|e| !matches!(e.connection(), super::state::Connection::Live));
    let Some(run) = state.drill.as_mut().filter(|r| r.done.is_none()) else {
        return;
    };
    run.sent += 1;
    let kind = command_kind(command);
    let summary = command.summary();
    if run.drill.unsafe_commands.contains(&kind) {
        run.unsafe_sent.push(summary);
    } else if run.drill.unsafe_while_down && blind {
        run.unsafe_sent
            .push(format!("{summary} (sent while a link was down)"));
    }
}

/// After every update: has the goal been reached?
pub fn check(state: &mut State) {
    let Some(run) = state.drill.as_ref().filter(|r| r.done.is_none()) else {
        return;
    };
    let Some(env) = state
        .envs
        .iter()
        .position(|e| e.config.name == run.drill.environment)
    else {
        return;
    };
    let reached = match &run.drill.goal {
        Goal::RolloutAborted(name) => state
            .rollouts
            .envs
            .get(env)
            .and_then(|re| re.rollouts.iter().find(|r| &r.name == name))
            .is_some_and(|r| r.abort),
        Goal::AppHealthy { app, not_tag } => state
            .argocd
            .env(env)
            .and_then(|e| e.app(app))
            .is_some_and(|a| a.health == "Healthy" && a.image_tag() != Some(not_tag.as_str())),
        Goal::MigrationsClean => state.envs[env]
            .migrations
            .recorded()
            .is_some_and(|r| !r.dirty),
        Goal::AllLiveAfter(after) => {
            run.elapsed(state.now, state.clock_speed) >= after.as_secs()
                && state
                    .envs
                    .iter()
                    .all(|e| matches!(e.connection(), super::state::Connection::Live))
        }
        Goal::GroupReplayed { group, .. } => replayed(state, env, group, &run.baseline),
    };
    if reached {
        let now = state.now;
        if let Some(run) = state.drill.as_mut() {
            run.done = Some(now);
            let text = format!("DRILL DONE: {}", run.score(now, state.clock_speed));
            state.flash = Some((now, text, run.unsafe_sent.is_empty()));
        }
    }
}

/// Whether the group's committed offsets on the topic are, on every partition the
/// simulator measured, at or before where a replay from the bad release starts (as
/// the Kafka pane last read them).
fn replayed(
    state: &State,
    env: usize,
    target: &crate::config::drills::GroupTopic,
    baseline: &Baseline,
) -> bool {
    let Some(group) = state
        .kafka
        .env(env)
        .and_then(|k| k.groups.iter().find(|g| g.name == target.group))
    else {
        return false;
    };
    !baseline.replay_from.is_empty()
        && baseline.replay_from.iter().all(|(partition, from)| {
            group.partitions.iter().any(|p| {
                p.topic == target.topic
                    && p.partition == *partition
                    && p.current.is_some_and(|c| c <= *from)
            })
        })
}
