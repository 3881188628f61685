//! Kafka as rollcall sees it through the broker's own tools: consumer groups, their
//! state, offsets and lag (read from `kafka-consumer-groups.sh`), the reset plan a dry
//! run gives, and the topic configuration held in Strimzi `KafkaTopic` objects against
//! a backup of them. Pure: the clients run the tools and read the objects.

pub mod datetime;
pub mod exec;
pub mod history;
pub mod plan;
pub mod table;
pub mod topics;

use serde::Serialize;

pub use history::LagHistory;
pub use plan::{PartitionPlan, ResetPlan};
pub use table::{MemberRow, OffsetRow, ResetRow, StateRow, ToolError};

/// Where the tools are in a Strimzi Kafka image.
pub const CONSUMER_GROUPS: &str = "/opt/kafka/bin/kafka-consumer-groups.sh";

/// A consumer group's state, as the coordinator names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupState {
    Stable,
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Dead,
    /// A state this rollcall does not know (a newer protocol's), as printed.
    Other(String),
}

impl GroupState {
    pub fn parse(s: &str) -> GroupState {
        match s {
            "Stable" => GroupState::Stable,
            "Empty" => GroupState::Empty,
            "PreparingRebalance" => GroupState::PreparingRebalance,
            "CompletingRebalance" => GroupState::CompletingRebalance,
            "Dead" => GroupState::Dead,
            other => GroupState::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            GroupState::Stable => "Stable",
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Dead => "Dead",
            GroupState::Other(s) => s,
        }
    }

    /// Whether the tool lets its offsets be reset: only an Empty or Dead group.
    pub fn resettable(&self) -> bool {
        matches!(self, GroupState::Empty | GroupState::Dead)
    }

    pub fn rebalancing(&self) -> bool {
        matches!(
            self,
            GroupState::PreparingRebalance | GroupState::CompletingRebalance
        )
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a reset moves each partition: the tool's spec options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetSpec {
    /// `--to-datetime`, in the tool's format with its zone.
    ToDatetime(String),
    ToEarliest,
    ToLatest,
    /// `--shift-by N` (negative replays, positive skips).
    ShiftBy(i64),
}

impl ResetSpec {
    /// The tool's options for the spec.
    pub fn args(&self) -> Vec<String> {
        match self {
            ResetSpec::ToDatetime(t) => vec!["--to-datetime".into(), t.clone()],
            ResetSpec::ToEarliest => vec!["--to-earliest".into()],
            ResetSpec::ToLatest => vec!["--to-latest".into()],
            ResetSpec::ShiftBy(n) => vec!["--shift-by".into(), n.to_string()],
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ResetSpec::ToDatetime(t) => format!("to {t}"),
            ResetSpec::ToEarliest => "to earliest".into(),
            ResetSpec::ToLatest => "to latest".into(),
            ResetSpec::ShiftBy(n) => format!("shift by {n}"),
        }
    }
}

/// The arguments of `kafka-consumer-groups.sh --reset-offsets` for one group and topic.
pub fn reset_args(
    bootstrap: &str,
    group: &str,
    topic: &str,
    spec: &ResetSpec,
    execute: bool,
) -> Vec<String> {
    let mut args: Vec<String> = [
        CONSUMER_GROUPS,
        "--bootstrap-server",
        bootstrap,
        "--reset-offsets",
        "--group",
        group,
        "--topic",
        topic,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(spec.args());
    args.push(if execute { "--execute" } else { "--dry-run" }.into());
    args
}

/// `kafka-consumer-groups.sh --describe` of one group; `view` is `--state`,
/// `--members`, or `None` for the offsets.
pub fn describe_args(bootstrap: &str, group: &str, view: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = [
        CONSUMER_GROUPS,
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        group,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(view.map(str::to_owned));
    args
}

pub fn list_args(bootstrap: &str) -> Vec<String> {
    [CONSUMER_GROUPS, "--bootstrap-server", bootstrap, "--list"]
        .map(str::to_owned)
        .to_vec()
}

/// One consumer group as the pane shows it: state, members, partitions and lag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub name: String,
    /// `None` when `--state` could not be read (the error says why).
    pub state: Option<StateRow>,
    pub partitions: Vec<OffsetRow>,
    /// Why part of the group could not be read.
    pub error: Option<String>,
    /// The last minutes of its total lag, oldest first.
    pub history: Vec<u64>,
}

impl GroupView {
    /// The sum of the partitions' known lags.
    pub fn total_lag(&self) -> u64 {
        total_lag(&self.partitions)
    }

    pub fn members(&self) -> Option<u32> {
        self.state.as_ref().map(|s| s.members)
    }

    /// The topics the group has offsets on, in order, each once.
    pub fn topics(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.partitions {
            if !out.contains(&p.topic.as_str()) {
                out.push(&p.topic);
            }
        }
        out
    }
}

/// The sum of the rows' known lags.
pub fn total_lag(rows: &[OffsetRow]) -> u64 {
    rows.iter()
        .filter_map(OffsetRow::lag)
        .map(|l| u64::try_from(l).unwrap_or(0))
        .sum()
}

/// What one read of an environment's Kafka found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaUpdate {
    /// The groups (`--list`, then each described), or why they could not be read.
    Groups {
        read_at: jiff::Timestamp,
        groups: Result<Vec<GroupView>, String>,
    },
    /// The live `KafkaTopic` objects and the backup file, each or why not.
    Topics {
        live: Result<Vec<topics::TopicSpec>, String>,
        backup: Option<Result<Vec<topics::TopicSpec>, String>>,
    },
}
