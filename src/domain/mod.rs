//! Typed views derived from API objects. Everything here is pure data and pure
//! functions, unit-tested against the real upstream fixtures in shared/fixtures/real.

pub mod advisor;
pub mod analysis;
pub mod application;
pub mod bluegreen;
pub mod checklist;
pub mod clock;
pub mod cnpg;
pub mod deployment;
pub mod environment;
pub mod event;
pub mod failing;
pub mod feed;
pub mod format;
pub mod gitops;
pub mod job;
pub mod kafka;
pub mod logs;
pub mod metrics;
pub mod migrations;
pub mod op;
pub mod pod;
pub mod rollout;
pub mod runbook;
pub mod service;
pub mod store;
pub mod vulnerability;
pub(crate) mod wire;

pub use application::AppRow;
pub use clock::Clock;
pub use deployment::{DeploymentRow, RolloutState, WatchedDeployment};
pub use environment::{EnvironmentSummary, Health, PolicyDrift, ServiceSummary};
pub use event::{EventRow, WatchedEvent};
pub use feed::{ArgoUpdate, EnvUpdate, Stream};
pub use op::OpId;
pub use pod::{PodPhase, PodRow, Probe, WatchedPod};
pub use rollout::{ReplicaSetRow, RolloutRow, WatchedReplicaSet, WatchedRollout};
pub use service::{ServiceRow, WatchedService};
pub use store::{RowStore, WatchUpdate};
