//! Deployment controller helpers (the real controller's `deployment/util`): annotations,
//! ReplicaSet views, conditions with `SetDeploymentCondition` semantics, scaling with events,
//! new ReplicaSet construction and revision-history cleanup.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::fmt_time;
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::controllers::rollout::Rs;
use crate::resources::{REPLICASETS, def};
use crate::store::{Entry, WriteMode};

pub const SOURCE: Source<'static> = Source {
    component: "deployment-controller",
    host: None,
};
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
const SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX,
];

pub struct RsView {
    pub entry: Option<Entry>,
    pub v: Value,
}

impl RsView {
    pub fn int(&self, ptr: &str) -> i64 {
        self.v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
    }
    pub fn revision(&self) -> i64 {
        self.v["metadata"]["annotations"][REVISION]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
    pub fn spec(&self) -> i64 {
        self.int("/spec/replicas")
    }
    pub fn name(&self) -> String {
        self.v["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    pub fn rs(&self) -> Rs {
        Rs {
            spec: self.spec(),
            available: self.int("/status/availableReplicas"),
        }
    }
}

/// Sets a condition with `SetDeploymentCondition` semantics (no-op when status and reason are
/// unchanged unless `force`; lastTransitionTime kept while status is unchanged).
pub fn set_condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
    force: bool,
) {
    let t = fmt_time(now);
    let pos = conds.iter().position(|c| c["type"] == ty);
    let mut transition = t.clone();
    if let Some(c) = pos.map(|i| &conds[i]) {
        if c["status"] == status && c["reason"] == reason && !force {
            return;
        }
        if c["status"] == status {
            transition = c["lastTransitionTime"].as_str().unwrap_or(&t).to_string();
        }
    }
    let c = json!({"type": ty, "status": status, "lastUpdateTime": t, "lastTransitionTime": transition, "reason": reason, "message": message});
    match pos {
        Some(i) => conds[i] = c,
        None => conds.push(c),
    }
}

pub fn reason_of<'a>(conds: &'a [Value], ty: &str) -> Option<&'a str> {
    conds
        .iter()
        .find(|c| c["type"] == ty)
        .and_then(|c| c["reason"].as_str())
}

pub fn scale(shared: &Shared, rec: &mut Recorder, d: &Value, rs: &mut RsView, to: i64, surge: i64) {
    let from = rs.spec();
    if from == to {
        return;
    }
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    rs.v["spec"]["replicas"] = json!(to);
    rs.v["metadata"]["annotations"][DESIRED] = json!(desired.to_string());
    rs.v["metadata"]["annotations"][MAX] = json!((desired + surge).to_string());
    let rv = rs.entry.as_ref().map(|e| e.meta.rv);
    if let Ok(e) = shared
        .store
        .write(def(REPLICASETS), &mut rs.v, WriteMode::Update(rv))
    {
        rs.entry = Some(e);
        let dir = if to > from { "up" } else { "down" };
        let msg = format!("Scaled {dir} replica set {} from {from} to {to}", rs.name());
        rec.record(
            shared,
            NewEvent {
                obj: d,
                field_path: None,
                reason: "ScalingReplicaSet",
                message: msg,
                warning: false,
                source: SOURCE,
            },
        );
    }
}

pub fn new_replica_set(d: &Value, hash: &str, revision: i64, replicas: i64, surge: i64) -> Value {
    let name = d["metadata"]["name"].as_str().unwrap_or("");
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut tmpl = d["spec"]["template"].clone();
    tmpl["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut ann = serde_json::Map::new();
    if let Some(a) = d["metadata"]["annotations"].as_object() {
        for (k, v) in a.iter().filter(|(k, _)| !SKIP.contains(&k.as_str())) {
            ann.insert(k.clone(), v.clone());
        }
    }
    ann.insert(REVISION.into(), json!(revision.to_string()));
    ann.insert(DESIRED.into(), json!(desired.to_string()));
    ann.insert(MAX.into(), json!((desired + surge).to_string()));
    let mut spec = json!({"replicas": replicas, "selector": selector, "template": tmpl});
    if let Some(m) = d.pointer("/spec/minReadySeconds") {
        spec["minReadySeconds"] = m.clone();
    }
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "labels": tmpl["metadata"]["labels"].clone(),
            "annotations": ann,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": d["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": spec,
    })
}

/// Deletes old, fully scaled-down ReplicaSets beyond `revisionHistoryLimit`, oldest first.
pub fn cleanup_history(shared: &Shared, d: &Value, rss: &[RsView], new_idx: Option<usize>) {
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .max(0) as usize;
    let dead: Vec<&RsView> = rss
        .iter()
        .enumerate()
        .filter(|(i, r)| Some(*i) != new_idx && r.spec() == 0 && r.int("/status/replicas") == 0)
        .map(|(_, r)| r)
        .collect();
    if dead.len() <= limit {
        return;
    }
    for r in dead.iter().take(dead.len() - limit) {
        let ns = r.v["metadata"]["namespace"].as_str().unwrap_or("");
        let _ = shared.store.delete(def(REPLICASETS), ns, &r.name(), None);
    }
}
