//! Everything that can happen to the app: keys, clock ticks, watch data, finished
//! operations. Executors and watchers talk to the app only through these.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use crate::bus::OpId;
use crate::domain::feed::{ArgoUpdate, EnvUpdate};

// Rows are moved through the channel once; boxing them would add an allocation per
// watch event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    /// A key from the terminal, with when it was pressed: keys typed just after a
    /// dialog closed are not taken as commands.
    KeyAt {
        key: KeyEvent,
        at: jiff::Timestamp,
    },
    Resize {
        width: u16,
        height: u16,
    },
    /// The wall clock moved; ages and staleness are computed from it.
    Tick(Timestamp),
    /// Live data from the watchers of one environment (index into the config).
    Watch {
        env: usize,
        update: EnvUpdate,
    },
    /// Several watch updates of one environment that were ready together (a list
    /// streaming in), applied in order as one event so a big list costs one channel
    /// message and one filter sync per batch rather than per object.
    WatchBatch {
        env: usize,
        updates: Vec<EnvUpdate>,
    },
    /// What the probe of an environment's API server found (index into the config).
    Link {
        env: usize,
        probe: crate::domain::feed::LinkProbe,
    },
    /// Migration files, status or progress of one environment (index into the config).
    Migrations {
        env: usize,
        update: crate::domain::migrations::MigrationUpdate,
    },
    /// Argo Rollouts and their ReplicaSets in one environment (index into the config).
    Rollouts {
        env: usize,
        update: crate::domain::rollout::RolloutUpdate,
    },
    /// Argo CD Applications of one environment (index into the config).
    Argocd {
        env: usize,
        update: ArgoUpdate,
    },
    /// The images of an app's manifests at a revision, or why they could not be read.
    Manifests {
        fetch: crate::app::panes::argocd::images::ManifestFetch,
        result: Result<Vec<String>, String>,
    },
    /// Checklist data of one environment (index into the config).
    Checklist {
        env: usize,
        update: crate::domain::feed::ChecklistUpdate,
    },
    /// A line (or the end) of a logs view's streams.
    Log {
        session: u64,
        update: crate::domain::logs::LogUpdate,
    },
    /// The environment's GitOps remote was read.
    Git {
        env: usize,
        state: crate::domain::gitops::GitState,
    },
    /// A Prometheus query of a metric check was read.
    Metric {
        env: usize,
        query: String,
        read: crate::domain::checklist::metric::MetricRead,
    },
    /// A URL a check reads answered (or did not).
    Probe(crate::domain::checklist::checks::HttpProbe),
    /// What a read of one environment's Kafka found (index into the config).
    Kafka {
        env: usize,
        update: crate::domain::kafka::KafkaUpdate,
    },
    /// The server's answer to the dry run of an open dialog's command.
    DryRun {
        command: crate::bus::Command,
        result: Result<String, String>,
    },
    /// An operation sent through the command bus finished.
    OpFinished {
        op: OpId,
        outcome: Result<String, String>,
    },
}
