//! The ReplicaSet controller: keeps `spec.replicas` active pods (named `<rs>-<5 chars>`,
//! owned by the RS), deletes not-ready then newest pods first when scaling down, and writes
//! status (replicas, fullyLabeled, ready, available, observedGeneration) with the real events.

use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::fmt_time;
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::objects::rand_suffix;
use crate::resources::{PODS, REPLICASETS, def};
use crate::store::selector::LabelSelector;
use crate::store::{Entry, WriteMode};

const SOURCE: Source<'static> = Source {
    component: "replicaset-controller",
    host: None,
};

/// Pods controlled by the named RS in `ns` (by controller owner name and uid).
pub fn owned_pods(shared: &Shared, ns: &str, rs: &str) -> Vec<Entry> {
    shared
        .store
        .list(def(PODS), Some(ns), |m| m.owner.as_deref() == Some(rs))
        .1
}

fn is_active(e: &Entry) -> bool {
    !e.meta.deleting && !matches!(e.meta.field("status.phase"), "Succeeded" | "Failed")
}

/// Puts a non-zero int in `status` or leaves it out (omitempty).
pub fn put_count(status: &mut Value, k: &str, n: i64) {
    if n != 0 {
        status[k] = json!(n);
    } else if let Some(m) = status.as_object_mut() {
        m.remove(k);
    }
}

/// Deletes a pod gracefully, as the API server does for a DELETE from a controller.
pub fn delete_pod_gracefully(shared: &Shared, e: &Entry) {
    let mut pod = e.value();
    if pod["metadata"]
        .get("deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return;
    }
    let grace = pod
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    let at = shared.clock.now() + jiff::SignedDuration::from_secs(grace);
    pod["metadata"]["deletionTimestamp"] = json!(fmt_time(at));
    pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    let _ = shared
        .store
        .write(def(PODS), &mut pod, WriteMode::Update(Some(e.meta.rv)));
}

fn new_pod(rs: &Value) -> Value {
    let name = rs["metadata"]["name"].as_str().unwrap_or("");
    let tmpl = &rs["spec"]["template"];
    let mut md = json!({
        "name": format!("{name}-{}", rand_suffix(5)),
        "generateName": format!("{name}-"),
        "labels": tmpl.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
        "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name,
            "uid": rs["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
        }],
    });
    if let Some(a) = tmpl.pointer("/metadata/annotations") {
        md["annotations"] = a.clone();
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))})
}

/// Rank for deletion: lower goes first (unscheduled, pending, not ready, then newest).
fn deletion_rank(e: &Entry) -> (u8, u8, u8, std::cmp::Reverse<Box<str>>) {
    let scheduled = u8::from(!e.meta.field("spec.nodeName").is_empty());
    let phase = match e.meta.field("status.phase") {
        "Pending" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    (
        scheduled,
        phase,
        u8::from(e.meta.ready),
        std::cmp::Reverse(e.meta.created.clone()),
    )
}

/// One sync of one ReplicaSet. Returns true when it wrote anything.
pub fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) -> bool {
    let Some(e) = shared.store.get(def(REPLICASETS), ns, name) else {
        return false;
    };
    let mut rs = e.value();
    if e.meta.deleting {
        return false;
    }
    let pods: Vec<Entry> = owned_pods(shared, ns, name)
        .into_iter()
        .filter(is_active)
        .collect();
    let desired = rs
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut wrote = false;
    let diff = pods.len() as i64 - desired;
    if diff < 0 {
        for _ in 0..(-diff) {
            let mut pod = new_pod(&rs);
            if prepare_create(shared, def(PODS), Some(ns), &mut pod).is_err() {
                break;
            }
            if shared
                .store
                .write(def(PODS), &mut pod, WriteMode::Create)
                .is_ok()
            {
                let msg = format!(
                    "Created pod: {}",
                    pod["metadata"]["name"].as_str().unwrap_or("")
                );
                rec.record(
                    shared,
                    NewEvent {
                        obj: &rs,
                        field_path: None,
                        reason: "SuccessfulCreate",
                        message: msg,
                        warning: false,
                        source: SOURCE,
                    },
                );
                wrote = true;
            }
        }
    } else if diff > 0 {
        let mut victims: Vec<&Entry> = pods.iter().collect();
        victims.sort_by_key(|p| deletion_rank(p));
        for p in victims.into_iter().take(diff as usize) {
            delete_pod_gracefully(shared, p);
            let msg = format!("Deleted pod: {}", p.meta.name);
            rec.record(
                shared,
                NewEvent {
                    obj: &rs,
                    field_path: None,
                    reason: "SuccessfulDelete",
                    message: msg,
                    warning: false,
                    source: SOURCE,
                },
            );
            wrote = true;
        }
    }
    // Status from the pods observed at the start of this sync, as the real controller does.
    let tmpl_labels = LabelSelector::from_object(&json!({"matchLabels": rs.pointer("/spec/template/metadata/labels").cloned().unwrap_or(json!({}))}))
        .unwrap_or_default();
    let ready = pods.iter().filter(|p| p.meta.ready).count() as i64;
    let labeled = pods.iter().filter(|p| tmpl_labels.matches(&p.meta)).count() as i64;
    let mut status = rs
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    status["replicas"] = json!(pods.len());
    put_count(&mut status, "fullyLabeledReplicas", labeled);
    put_count(&mut status, "readyReplicas", ready);
    put_count(&mut status, "availableReplicas", ready);
    status["observedGeneration"] = rs["metadata"]["generation"].clone();
    if rs.get("status") != Some(&status) {
        rs["status"] = status;
        wrote |= shared
            .store
            .write(
                def(REPLICASETS),
                &mut rs,
                WriteMode::Update(Some(e.meta.rv)),
            )
            .is_ok();
    }
    wrote
}
