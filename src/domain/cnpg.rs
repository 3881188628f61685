//! CloudNativePG's `Cluster` and `Backup` (postgresql.cnpg.io/v1), decoded into what the
//! checklist and the runbook read: a backup's phase, times and error; a cluster's health
//! as Argo CD's own health check for CNPG Clusters assesses it.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::store::Keyed;
use super::wire::{LenientVec, MetaWire, WireTime, slim_resource, watch_meta};

/// `status.phase` of a Backup (the exact strings of backup_types.go).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupPhase {
    /// No phase yet: the operator has not looked at it.
    New,
    Pending,
    Started,
    Running,
    Finalizing,
    Completed,
    Failed,
    WalArchivingFailing,
    InvalidDefinition,
    Other(String),
}

impl BackupPhase {
    pub fn parse(phase: Option<&str>) -> BackupPhase {
        match phase.unwrap_or("") {
            "" => BackupPhase::New,
            "pending" => BackupPhase::Pending,
            "started" => BackupPhase::Started,
            "running" => BackupPhase::Running,
            "finalizing" => BackupPhase::Finalizing,
            "completed" => BackupPhase::Completed,
            "failed" => BackupPhase::Failed,
            "walArchivingFailing" => BackupPhase::WalArchivingFailing,
            "invalid backup definition" => BackupPhase::InvalidDefinition,
            other => BackupPhase::Other(other.to_owned()),
        }
    }

    /// The phase as CNPG writes it (and `kubectl get backups` prints it).
    pub fn as_str(&self) -> &str {
        match self {
            BackupPhase::New => "",
            BackupPhase::Pending => "pending",
            BackupPhase::Started => "started",
            BackupPhase::Running => "running",
            BackupPhase::Finalizing => "finalizing",
            BackupPhase::Completed => "completed",
            BackupPhase::Failed => "failed",
            BackupPhase::WalArchivingFailing => "walArchivingFailing",
            BackupPhase::InvalidDefinition => "invalid backup definition",
            BackupPhase::Other(s) => s,
        }
    }

    /// Still moving: a runbook step waiting for it keeps waiting.
    pub fn in_progress(&self) -> bool {
        matches!(
            self,
            BackupPhase::New
                | BackupPhase::Pending
                | BackupPhase::Started
                | BackupPhase::Running
                | BackupPhase::Finalizing
        )
    }

    /// Ended without a usable backup.
    pub fn failed(&self) -> bool {
        matches!(
            self,
            BackupPhase::Failed | BackupPhase::WalArchivingFailing | BackupPhase::InvalidDefinition
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRow {
    pub namespace: String,
    pub name: String,
    /// `spec.cluster.name`.
    pub cluster: String,
    pub phase: BackupPhase,
    /// `status.error`, when it failed.
    pub error: Option<String>,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub stopped: Option<Timestamp>,
    /// `status.method`, else `spec.method`; empty when neither says.
    pub method: String,
}

impl Keyed for BackupRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

impl BackupRow {
    /// When the backup's data was taken: when it stopped, else when it was created.
    pub fn taken_at(&self) -> Option<Timestamp> {
        self.stopped.or(self.started).or(self.created)
    }

    /// How old the backup is at `now`.
    pub fn age(&self, now: Timestamp) -> Option<SignedDuration> {
        self.taken_at().map(|t| now.duration_since(t))
    }
}

/// The newest completed backup of `cluster` in `namespace`.
pub fn latest_completed<'a>(
    backups: impl IntoIterator<Item = &'a BackupRow>,
    namespace: &str,
    cluster: &str,
) -> Option<&'a BackupRow> {
    backups
        .into_iter()
        .filter(|b| b.namespace == namespace && b.cluster == cluster)
        .filter(|b| b.phase == BackupPhase::Completed)
        .max_by_key(|b| b.taken_at())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "BackupWire")]
pub struct WatchedBackup {
    pub meta: ObjectMeta,
    pub row: BackupRow,
}

slim_resource!(
    WatchedBackup,
    "Backup",
    "postgresql.cnpg.io",
    "v1",
    "backups"
);

#[derive(Deserialize)]
struct BackupWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<BackupSpecWire>,
    #[serde(default)]
    status: Option<BackupStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BackupSpecWire {
    cluster: Option<NameWire>,
    method: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameWire {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct BackupStatusWire {
    phase: Option<String>,
    error: Option<String>,
    method: Option<String>,
    started_at: WireTime,
    stopped_at: WireTime,
}

impl From<BackupWire> for WatchedBackup {
    fn from(w: BackupWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let spec = w.spec.unwrap_or_default();
        let status = w.status.unwrap_or_default();
        let method = status
            .method
            .or(spec.method)
            .filter(|m| !m.is_empty())
            .unwrap_or_default();
        let row = BackupRow {
            namespace: w.metadata.namespace.unwrap_or_default(),
            name: w.metadata.name.unwrap_or_default(),
            cluster: spec.cluster.and_then(|c| c.name).unwrap_or_default(),
            phase: BackupPhase::parse(status.phase.as_deref()),
            error: status.error.filter(|e| !e.is_empty()),
            created: w.metadata.creation_timestamp.0,
            started: status.started_at.0,
            stopped: status.stopped_at.0,
            method,
        };
        WatchedBackup { meta, row }
    }
}

/// A Cluster's health, in Argo CD's words for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterHealth {
    Healthy,
    Progressing,
    Degraded,
    Suspended,
    Unknown,
}

impl ClusterHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterHealth::Healthy => "Healthy",
            ClusterHealth::Progressing => "Progressing",
            ClusterHealth::Degraded => "Degraded",
            ClusterHealth::Suspended => "Suspended",
            ClusterHealth::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRow {
    pub namespace: String,
    pub name: String,
    /// `spec.instances`.
    pub instances: u32,
    /// `status.readyInstances`.
    pub ready: u32,
    /// `status.phase`, the operator's sentence (`Cluster in healthy state`).
    pub phase: String,
    pub phase_reason: String,
    pub current_primary: String,
    pub target_primary: String,
    pub last_successful_backup: Option<Timestamp>,
    pub health: ClusterHealth,
    /// Why, when the health is not plain Healthy.
    pub message: String,
}

impl Keyed for ClusterRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ClusterWire")]
pub struct WatchedCluster {
    pub meta: ObjectMeta,
    pub row: ClusterRow,
}

slim_resource!(
    WatchedCluster,
    "Cluster",
    "postgresql.cnpg.io",
    "v1",
    "clusters"
);

#[derive(Deserialize)]
struct ClusterWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    spec: Option<ClusterSpecWire>,
    #[serde(default)]
    status: Option<ClusterStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClusterSpecWire {
    #[serde(deserialize_with = "super::wire::lenient_u32")]
    instances: u32,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ClusterStatusWire {
    #[serde(deserialize_with = "super::wire::lenient_u32")]
    ready_instances: u32,
    phase: Option<String>,
    phase_reason: Option<String>,
    current_primary: Option<String>,
    target_primary: Option<String>,
    last_successful_backup: WireTime,
    conditions: LenientVec<ConditionWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConditionWire {
    #[serde(rename = "type")]
    type_: String,
    status: String,
    message: Option<String>,
}

/// The phases Argo CD's CNPG health check knows, and what each means.
const PHASES: &[(&str, ClusterHealth)] = &[
    ("Cluster in healthy state", ClusterHealth::Healthy),
    ("Setting up primary", ClusterHealth::Progressing),
    ("Creating a new replica", ClusterHealth::Progressing),
    ("Upgrading cluster", ClusterHealth::Progressing),
    (
        "Waiting for the instances to become active",
        ClusterHealth::Progressing,
    ),
    ("Promoting to primary cluster", ClusterHealth::Progressing),
    ("Switchover in progress", ClusterHealth::Degraded),
    ("Failing over", ClusterHealth::Degraded),
    ("Upgrading Postgres major version", ClusterHealth::Degraded),
    ("Cluster upgrade delayed", ClusterHealth::Degraded),
    ("Waiting for user action", ClusterHealth::Degraded),
    (
        "Primary instance is being restarted in-place",
        ClusterHealth::Degraded,
    ),
    (
        "Primary instance is being restarted without a switchover",
        ClusterHealth::Degraded,
    ),
    (
        "Cluster cannot execute instance online upgrade due to missing architecture binary",
        ClusterHealth::Degraded,
    ),
    ("Online upgrade in progress", ClusterHealth::Degraded),
    ("Applying configuration", ClusterHealth::Degraded),
    (
        "Unable to create required cluster objects",
        ClusterHealth::Suspended,
    ),
    (
        "Cluster cannot proceed to reconciliation due to an unknown plugin being required",
        ClusterHealth::Suspended,
    ),
    (
        "Cluster has incomplete or invalid image catalog",
        ClusterHealth::Suspended,
    ),
    (
        "Cluster is unrecoverable and needs manual intervention",
        ClusterHealth::Suspended,
    ),
];

/// Argo CD's assessment (resource_customizations/postgresql.cnpg.io/Cluster/health.lua):
/// reconciliation switched off is Suspended; hibernation decides next; then the phase;
/// no status yet is Progressing.
fn assess(meta: &MetaWire, status: Option<&ClusterStatusWire>) -> (ClusterHealth, String) {
    let suspended = ["cnpg.io/reconciliationLoop", "cnpg.io/reconciliation"]
        .iter()
        .any(|key| {
            meta.annotations
                .as_ref()
                .and_then(|a| a.get(*key))
                .is_some_and(|v| v == "disabled")
        });
    if suspended {
        return (
            ClusterHealth::Suspended,
            "Cluster reconciliation is suspended".into(),
        );
    }
    let reason = || {
        status
            .and_then(|s| s.phase_reason.clone())
            .unwrap_or_default()
    };
    let Some(status) = status.filter(|s| !s.conditions.0.is_empty()) else {
        return (
            ClusterHealth::Progressing,
            "Waiting for the CloudNativePG operator to report cluster status".into(),
        );
    };
    if let Some(h) = status
        .conditions
        .0
        .iter()
        .find(|c| c.type_ == "cnpg.io/hibernation")
    {
        let health = if h.status == "True" {
            ClusterHealth::Suspended
        } else {
            ClusterHealth::Degraded
        };
        return (health, h.message.clone().unwrap_or_default());
    }
    let phase = status.phase.as_deref().unwrap_or("");
    let health = PHASES
        .iter()
        .find(|(p, _)| *p == phase)
        .map_or(ClusterHealth::Unknown, |(_, h)| *h);
    (health, reason())
}

impl From<ClusterWire> for WatchedCluster {
    fn from(w: ClusterWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let (health, message) = assess(&w.metadata, w.status.as_ref());
        let status = w.status.unwrap_or_default();
        let row = ClusterRow {
            namespace: w.metadata.namespace.unwrap_or_default(),
            name: w.metadata.name.unwrap_or_default(),
            instances: w.spec.unwrap_or_default().instances,
            ready: status.ready_instances,
            phase: status.phase.unwrap_or_default(),
            phase_reason: status.phase_reason.unwrap_or_default(),
            current_primary: status.current_primary.unwrap_or_default(),
            target_primary: status.target_primary.unwrap_or_default(),
            last_successful_backup: status.last_successful_backup.0,
            health,
            message,
        };
        WatchedCluster { meta, row }
    }
}
