//! The wire shapes of an Application: only the fields `AppRow` keeps, each lenient.

use serde::Deserialize;

use super::{AppRow, AutoSync, HistoryEntry, OperationRequest, OperationState, ResourceSummary};
use crate::domain::wire::{LenientVec, WireTime};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppWire {
    metadata: Option<MetaWire>,
    spec: Option<SpecWire>,
    status: Option<StatusWire>,
    operation: Option<OperationWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
struct MetaWire {
    name: Option<String>,
    namespace: Option<String>,
    deletion_timestamp: WireTime,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SpecWire {
    project: Option<String>,
    destination: Option<DestinationWire>,
    sync_policy: Option<SyncPolicyWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DestinationWire {
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncPolicyWire {
    automated: Option<AutomatedWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AutomatedWire {
    prune: Option<bool>,
    self_heal: Option<bool>,
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct StatusWire {
    sync: Option<SyncWire>,
    health: Option<HealthWire>,
    history: LenientVec<HistoryWire>,
    operation_state: Option<OperationStateWire>,
    resources: LenientVec<ResourceWire>,
    summary: Option<SummaryWire>,
    conditions: LenientVec<ConditionWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncWire {
    status: Option<String>,
    revision: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HealthWire {
    status: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HistoryWire {
    id: Option<serde_json::Value>,
    revision: Option<String>,
    deployed_at: WireTime,
    deploy_started_at: WireTime,
    initiated_by: Option<InitiatedByWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InitiatedByWire {
    username: Option<String>,
    automated: Option<bool>,
}

impl InitiatedByWire {
    fn who(&self) -> Option<String> {
        match (&self.username, self.automated) {
            (Some(u), _) if !u.is_empty() => Some(u.clone()),
            (_, Some(true)) => Some("automated".into()),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OperationWire {
    sync: Option<SyncOpWire>,
    initiated_by: Option<InitiatedByWire>,
    /// Any other operation kind, kept only by name.
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SyncOpWire {
    revision: Option<String>,
    dry_run: Option<bool>,
    prune: Option<bool>,
}

impl OperationWire {
    fn view(self) -> OperationRequest {
        let kind = if self.sync.is_some() {
            "sync".to_owned()
        } else {
            self.other
                .keys()
                .find(|k| !matches!(k.as_str(), "info" | "retry"))
                .cloned()
                .unwrap_or_else(|| "operation".into())
        };
        let sync = self.sync.unwrap_or_default();
        OperationRequest {
            kind,
            revision: sync.revision.filter(|r| !r.is_empty()),
            dry_run: sync.dry_run.unwrap_or(false),
            prune: sync.prune.unwrap_or(false),
            initiated_by: self.initiated_by.and_then(|i| i.who()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OperationStateWire {
    phase: Option<String>,
    message: Option<String>,
    operation: Option<OperationWire>,
    sync_result: Option<SyncResultWire>,
    started_at: WireTime,
    finished_at: WireTime,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncResultWire {
    revision: Option<String>,
    resources: LenientVec<SyncResultResourceWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncResultResourceWire {
    #[serde(deserialize_with = "strings")]
    images: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResourceWire {
    status: Option<String>,
    health: Option<HealthWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryWire {
    #[serde(deserialize_with = "strings")]
    images: Vec<String>,
}

/// A list of strings; anything else (a map, a scalar, null, non-string items) is
/// skipped. `LenientVec` only keeps map elements.
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConditionWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

/// An `int64` that Go may send as a number, or (through other encoders) a string.
fn history_id(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for AppRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = AppWire::deserialize(d)?;
        Ok(w.into_row())
    }
}

impl AppWire {
    fn into_row(self) -> AppRow {
        let meta = self.metadata.unwrap_or_default();
        let spec = self.spec.unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let automated = spec
            .sync_policy
            .and_then(|p| p.automated)
            // Auto-sync is on when `automated` is present and `enabled` is absent or true.
            .filter(|a| a.enabled != Some(false))
            .map(|a| AutoSync {
                prune: a.prune.unwrap_or(false),
                self_heal: a.self_heal.unwrap_or(false),
            });
        let sync = status.sync.unwrap_or_default();
        let health = status.health.unwrap_or_default();
        let mut history: Vec<HistoryEntry> = status
            .history
            .0
            .into_iter()
            .filter_map(|h| {
                Some(HistoryEntry {
                    id: history_id(h.id.as_ref()?)?,
                    revision: h.revision.unwrap_or_default(),
                    deployed_at: h.deployed_at.0,
                    deploy_started_at: h.deploy_started_at.0,
                    initiated_by: h.initiated_by.and_then(|i| i.who()),
                })
            })
            .collect();
        history.sort_by_key(|h| h.id);
        let operation_state = status.operation_state.map(|o| {
            let result = o.sync_result.unwrap_or_default();
            let mut result_images: Vec<String> = result
                .resources
                .0
                .into_iter()
                .flat_map(|r| r.images)
                .collect();
            result_images.sort();
            result_images.dedup();
            OperationState {
                phase: o.phase.unwrap_or_default(),
                message: o.message.filter(|m| !m.is_empty()),
                operation: o.operation.map(OperationWire::view),
                result_revision: result.revision.filter(|r| !r.is_empty()),
                result_images,
                started_at: o.started_at.0,
                finished_at: o.finished_at.0,
            }
        });
        let mut resources = ResourceSummary::default();
        for r in &status.resources.0 {
            resources.total += 1;
            if r.status.as_deref() == Some("OutOfSync") {
                resources.out_of_sync += 1;
            }
            match r.health.as_ref().and_then(|h| h.status.as_deref()) {
                Some("Healthy") => resources.healthy += 1,
                Some("Degraded") | Some("Missing") => resources.unhealthy += 1,
                _ => {}
            }
        }
        let mut images = status.summary.map(|s| s.images).unwrap_or_default();
        images.sort();
        AppRow {
            deleting: meta.deletion_timestamp.0,
            name: meta.name.unwrap_or_default(),
            namespace: meta.namespace.unwrap_or_default(),
            project: spec.project.unwrap_or_default(),
            destination_namespace: spec.destination.and_then(|d| d.namespace),
            sync_status: sync.status.unwrap_or_default(),
            sync_revision: sync.revision.filter(|r| !r.is_empty()),
            health: health.status.unwrap_or_default(),
            health_message: health.message.filter(|m| !m.is_empty()),
            automated,
            pending_operation: self.operation.map(OperationWire::view),
            operation_state,
            history,
            images,
            resources,
            conditions: status
                .conditions
                .0
                .into_iter()
                .map(|c| (c.kind.unwrap_or_default(), c.message.unwrap_or_default()))
                .collect(),
        }
    }
}
