//! The Rollout's ReplicaSets as the Argo Rollouts controller keeps them: named
//! `<rollout>-<hash>`, labelled and selected by `rollouts-pod-template-hash`, numbered by
//! `rollout.argoproj.io/revision`, owned by the Rollout; found by hash first and, as in
//! Argo's `FindNewReplicaSet`, by template equality after defaulting (so an undo re-uses
//! the old ReplicaSet under a new revision).

use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::objects::{default_pod_spec, template_hash};
use crate::resources::{REPLICASETS, def};
use crate::store::{Entry, WriteMode};

pub const HASH: &str = "rollouts-pod-template-hash";
pub const REVISION: &str = "rollout.argoproj.io/revision";
const REVISION_HISTORY: &str = "rollout.argoproj.io/revision-history";
const DESIRED: &str = "rollout.argoproj.io/desired-replicas";
/// When a superseded ReplicaSet may be scaled to zero (Argo's scaleDownDelaySeconds).
pub const SCALE_DOWN_DEADLINE: &str = "scale-down-deadline";

pub const SOURCE: Source<'static> = Source {
    component: "rollouts-controller",
    host: None,
};

/// One ReplicaSet of a Rollout, parsed once per sync.
pub struct RsView {
    pub entry: Entry,
    pub v: Value,
}

impl RsView {
    pub fn int(&self, ptr: &str) -> i64 {
        self.v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
    }
    pub fn spec(&self) -> i64 {
        self.int("/spec/replicas")
    }
    pub fn available(&self) -> i64 {
        self.int("/status/availableReplicas")
    }
    pub fn hash(&self) -> &str {
        self.v["metadata"]["labels"][HASH].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.v["metadata"]["name"].as_str().unwrap_or("")
    }
    pub fn revision(&self) -> i64 {
        self.v["metadata"]["annotations"][REVISION]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
    pub fn annotation(&self, k: &str) -> Option<&str> {
        self.v["metadata"]["annotations"][k].as_str()
    }
}

/// The hash of a Rollout template, with the hash label itself left out.
pub fn rollout_hash(template: &Value, collisions: u64) -> String {
    let mut t = template.clone();
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove(HASH);
    }
    template_hash(&t, collisions)
}

/// The template as the API server stores it in a ReplicaSet: defaulted, hash label removed.
fn comparable(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(spec) = t.get_mut("spec") {
        default_pod_spec(spec, false);
    }
    if let Some(md) = t.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("creationTimestamp");
        if let Some(l) = md.get_mut("labels").and_then(Value::as_object_mut) {
            l.remove(HASH);
        }
    }
    t
}

/// The Rollout's live ReplicaSets (controller ownerRef with its uid), oldest revision first.
pub fn owned(shared: &Shared, ro: &Value) -> Vec<RsView> {
    let ns = ro["metadata"]["namespace"].as_str().unwrap_or("");
    let name = ro["metadata"]["name"].as_str().unwrap_or("");
    let uid = &ro["metadata"]["uid"];
    let mut out: Vec<RsView> = shared
        .store
        .list(def(REPLICASETS), Some(ns), |m| {
            m.owner.as_deref() == Some(name) && !m.deleting
        })
        .1
        .into_iter()
        .map(|e| RsView {
            v: e.value(),
            entry: e,
        })
        .filter(|r| {
            r.v["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["uid"] == *uid && o["kind"] == "Rollout"))
        })
        .collect();
    out.sort_by_key(|r| r.revision());
    out
}

/// Finds or creates the ReplicaSet of the Rollout's current template; returns its index.
/// A matching older ReplicaSet gets the next revision, as Argo does on undo.
pub fn ensure_new(
    shared: &Shared,
    rec: &mut Recorder,
    ro: &Value,
    rss: &mut Vec<RsView>,
) -> Option<usize> {
    let template = &ro["spec"]["template"];
    let collisions = ro["status"]["collisionCount"].as_u64().unwrap_or(0);
    let hash = rollout_hash(template, collisions);
    let want = comparable(template);
    let max = rss.iter().map(RsView::revision).max().unwrap_or(0);
    let found = rss.iter().position(|r| r.hash() == hash).or_else(|| {
        rss.iter()
            .position(|r| comparable(&r.v["spec"]["template"]) == want)
    });
    if let Some(i) = found {
        let r = &mut rss[i];
        if r.revision() < max {
            let old = r.revision().to_string();
            let ann = &mut r.v["metadata"]["annotations"];
            let history = match ann[REVISION_HISTORY].as_str() {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old,
            };
            ann[REVISION_HISTORY] = json!(history);
            ann[REVISION] = json!((max + 1).to_string());
            if let Ok(e) = shared.store.write(
                def(REPLICASETS),
                &mut r.v,
                WriteMode::Update(Some(r.entry.meta.rv)),
            ) {
                r.entry = e;
            }
        }
        return Some(i);
    }
    let name = ro["metadata"]["name"].as_str().unwrap_or("");
    let ns = ro["metadata"]["namespace"].as_str().unwrap_or("");
    let mut tmpl = template.clone();
    if let Some(md) = tmpl.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("creationTimestamp");
    }
    tmpl["metadata"]["labels"][HASH] = json!(hash);
    let mut selector = ro["spec"]["selector"].clone();
    selector["matchLabels"][HASH] = json!(hash);
    let desired = ro["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "labels": tmpl["metadata"]["labels"].clone(),
            "annotations": {DESIRED: desired.to_string(), REVISION: (max + 1).to_string()},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name,
                "uid": ro["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": 0, "selector": selector, "template": tmpl},
    });
    if let Some(m) = ro.pointer("/spec/minReadySeconds") {
        rs["spec"]["minReadySeconds"] = m.clone();
    }
    prepare_create(shared, def(REPLICASETS), Some(ns), &mut rs).ok()?;
    let e = shared
        .store
        .write(def(REPLICASETS), &mut rs, WriteMode::Create)
        .ok()?;
    rec.record(
        shared,
        NewEvent {
            obj: ro,
            field_path: None,
            reason: "RolloutUpdated",
            message: format!("Rollout updated to revision {}", max + 1),
            warning: false,
            source: SOURCE,
        },
    );
    rec.record(
        shared,
        NewEvent {
            obj: ro,
            field_path: None,
            reason: "NewReplicaSetCreated",
            message: format!(
                "Created ReplicaSet {} (revision {}) with size 0",
                e.meta.name,
                max + 1
            ),
            warning: false,
            source: SOURCE,
        },
    );
    rss.push(RsView {
        v: e.value(),
        entry: e,
    });
    Some(rss.len() - 1)
}

/// Scales one ReplicaSet, with Argo's `ScalingReplicaSet` event. Returns true when written.
pub fn scale(shared: &Shared, rec: &mut Recorder, ro: &Value, rs: &mut RsView, to: i64) -> bool {
    let from = rs.spec();
    let desired = ro["spec"]["replicas"].as_i64().unwrap_or(1).to_string();
    let stale_desired = rs.annotation(DESIRED) != Some(desired.as_str());
    if from == to && !stale_desired {
        return false;
    }
    rs.v["spec"]["replicas"] = json!(to);
    rs.v["metadata"]["annotations"][DESIRED] = json!(desired);
    if to > 0
        && let Some(a) = rs.v["metadata"]["annotations"].as_object_mut()
    {
        a.remove(SCALE_DOWN_DEADLINE);
    }
    let Ok(e) = shared.store.write(
        def(REPLICASETS),
        &mut rs.v,
        WriteMode::Update(Some(rs.entry.meta.rv)),
    ) else {
        return false;
    };
    rs.entry = e;
    if from != to {
        let dir = if to > from { "up" } else { "down" };
        rec.record(
            shared,
            NewEvent {
                obj: ro,
                field_path: None,
                reason: "ScalingReplicaSet",
                message: format!(
                    "Scaled {dir} ReplicaSet {} (revision {}) from {from} to {to}",
                    rs.name(),
                    rs.revision()
                ),
                warning: false,
                source: SOURCE,
            },
        );
    }
    true
}

/// Writes the scale-down deadline annotation on a superseded ReplicaSet.
pub fn mark_scale_down(shared: &Shared, rs: &mut RsView, at: &str) {
    rs.v["metadata"]["annotations"][SCALE_DOWN_DEADLINE] = json!(at);
    if let Ok(e) = shared.store.write(
        def(REPLICASETS),
        &mut rs.v,
        WriteMode::Update(Some(rs.entry.meta.rv)),
    ) {
        rs.entry = e;
    }
}
