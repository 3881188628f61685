//! The Job row: whether a Job (the runbook's smoke tests) has completed or failed, by
//! its conditions as `kubectl wait --for=condition=complete` reads them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::store::Keyed;
use super::wire::{LenientVec, MetaWire, slim_resource, watch_meta};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub namespace: String,
    pub name: String,
    pub succeeded: u32,
    pub active: u32,
    /// The Complete condition is True.
    pub complete: bool,
    /// The Failed condition's message, when it is True.
    pub failed: Option<String>,
}

impl Keyed for JobRow {
    fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "JobWire")]
pub struct WatchedJob {
    pub meta: ObjectMeta,
    pub row: JobRow,
}

slim_resource!(WatchedJob, "Job", "batch", "v1", "jobs");

#[derive(Deserialize)]
struct JobWire {
    #[serde(default)]
    metadata: MetaWire,
    #[serde(default)]
    status: Option<StatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusWire {
    #[serde(deserialize_with = "super::wire::lenient_u32")]
    succeeded: u32,
    #[serde(deserialize_with = "super::wire::lenient_u32")]
    active: u32,
    conditions: LenientVec<ConditionWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConditionWire {
    #[serde(rename = "type")]
    type_: String,
    status: String,
    reason: Option<String>,
    message: Option<String>,
}

impl From<JobWire> for WatchedJob {
    fn from(w: JobWire) -> Self {
        let meta = watch_meta(&w.metadata);
        let status = w.status.unwrap_or_default();
        let holds = |t: &str| {
            status
                .conditions
                .0
                .iter()
                .find(|c| c.type_ == t && c.status == "True")
        };
        let failed = holds("Failed").map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_else(|| "failed".into())
        });
        let row = JobRow {
            namespace: w.metadata.namespace.unwrap_or_default(),
            name: w.metadata.name.unwrap_or_default(),
            succeeded: status.succeeded,
            active: status.active,
            complete: holds("Complete").is_some(),
            failed,
        };
        WatchedJob { meta, row }
    }
}
