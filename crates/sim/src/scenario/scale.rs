//! The scale scenario for benchmarks: N pods over M namespaces (`scale-0` …), owned by
//! ReplicaSets of 25, written straight into the store already Running and Ready (no
//! controller ticks, so 50,000 pods start in seconds), and a churn task making R pod status
//! changes per second (a pod's container restarts and it turns unready; a few seconds later
//! it is Ready again).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::Shared;
use crate::clock::fmt_time;
use crate::controllers::kubelet::NODES;
use crate::objects::new_uid;
use crate::resources::{NAMESPACES, PODS, REPLICASETS, def};
use crate::store::WriteMode;

/// Pods per ReplicaSet.
const PER_RS: u32 = 25;
/// How long a churned pod stays unready.
const UNREADY_FOR: Duration = Duration::from_secs(3);

fn cond(ty: &str, ok: bool, t: &str) -> Value {
    json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": t})
}

fn pod(ns: &str, rs: &Value, i: u32, t: &str) -> Value {
    let rs_name = rs["metadata"]["name"].as_str().unwrap_or("");
    let app = rs["metadata"]["labels"]["app"].as_str().unwrap_or("");
    let hash = rs["metadata"]["labels"]["pod-template-hash"].clone();
    let node = NODES[(i as usize) % NODES.len()];
    let image = format!("ghcr.io/controle-digital/{app}:v1.0.0");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{rs_name}-{:05x}", i), "generateName": format!("{rs_name}-"),
            "namespace": ns, "uid": new_uid(), "creationTimestamp": t,
            "labels": {"app": app, "pod-template-hash": hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                "uid": rs["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": app, "image": image, "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}],
            "nodeName": node, "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "serviceAccountName": "default", "terminationGracePeriodSeconds": 30},
        "status": {"phase": "Running", "qosClass": "Burstable", "startTime": t,
            "hostIP": "192.168.10.11", "podIP": format!("10.42.{}.{}", (i / 250) % 250, 2 + i % 250),
            "conditions": [cond("Initialized", true, t), cond("Ready", true, t),
                cond("ContainersReady", true, t), cond("PodScheduled", true, t)],
            "containerStatuses": [{"name": app, "image": image, "imageID": "", "ready": true,
                "restartCount": 0, "started": true, "state": {"running": {"startedAt": t}}}]},
    })
}

/// Writes the namespaces, ReplicaSets and pods. Returns every pod's (namespace, name).
pub fn build(shared: &Shared, pods: u32, namespaces: u32) -> Vec<(String, String)> {
    let namespaces = namespaces.max(1);
    let t = fmt_time(shared.clock.now());
    let mut keys = Vec::with_capacity(pods as usize);
    for n in 0..namespaces {
        let ns = format!("scale-{n}");
        let mut obj = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": new_uid(), "creationTimestamp": t,
                "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let _ = shared
            .store
            .write(def(NAMESPACES), &mut obj, WriteMode::Create);
    }
    let rs_count = pods.div_ceil(PER_RS);
    let mut made = 0;
    for r in 0..rs_count {
        let ns = format!("scale-{}", r % namespaces);
        let n = PER_RS.min(pods - made);
        let app = format!("svc-{r:04}");
        let hash = format!(
            "{:010x}",
            u64::from(r).wrapping_mul(0x9e37_79b9_7f4a) % (1 << 40)
        );
        let labels = json!({"app": app, "pod-template-hash": hash});
        let mut rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{app}-{hash}"), "namespace": ns, "uid": new_uid(),
                "creationTimestamp": t, "generation": 1, "labels": labels,
                "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": n, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": app, "image": "x"}]}}},
            "status": {"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": n,
                "availableReplicas": n, "observedGeneration": 1}});
        let _ = shared
            .store
            .write(def(REPLICASETS), &mut rs, WriteMode::Create);
        for i in 0..n {
            let mut p = pod(&ns, &rs, made + i, &t);
            keys.push((
                ns.clone(),
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            ));
            let _ = shared.store.write(def(PODS), &mut p, WriteMode::Create);
        }
        made += n;
    }
    keys
}

/// Flips one pod's readiness (a restart when it goes down).
fn flip(shared: &Shared, ns: &str, name: &str, ready: bool) -> bool {
    let Some(e) = shared.store.get(def(PODS), ns, name) else {
        return false;
    };
    if e.meta.ready == ready {
        return false;
    }
    let mut p = e.value();
    let t = fmt_time(shared.clock.now());
    if let Some(cs) = p["status"]["conditions"].as_array_mut() {
        for c in cs
            .iter_mut()
            .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
        {
            *c = cond(c["type"].as_str().unwrap_or(""), ready, &t);
        }
    }
    let c = &mut p["status"]["containerStatuses"][0];
    c["ready"] = json!(ready);
    if !ready {
        let restarts = c["restartCount"].as_i64().unwrap_or(0) + 1;
        c["restartCount"] = json!(restarts);
        c["lastState"] =
            json!({"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": t}});
        c["state"] = json!({"running": {"startedAt": t}});
    }
    shared
        .store
        .write(def(PODS), &mut p, WriteMode::Update(Some(e.meta.rv)))
        .is_ok()
}

/// Makes `per_sec` pod status changes per second until shutdown.
pub async fn churn(
    shared: Arc<Shared>,
    keys: Vec<(String, String)>,
    per_sec: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    if keys.is_empty() || per_sec == 0 {
        return;
    }
    let tick = Duration::from_millis(50);
    let mut every = tokio::time::interval(tick);
    let mut owed = 0.0;
    let mut down: VecDeque<(Instant, usize)> = VecDeque::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = every.tick() => {}
        }
        owed += f64::from(per_sec) * tick.as_secs_f64();
        while owed >= 1.0 {
            owed -= 1.0;
            match down.front() {
                Some((at, i)) if *at <= Instant::now() => {
                    let i = *i;
                    down.pop_front();
                    flip(&shared, &keys[i].0, &keys[i].1, true);
                }
                _ => {
                    let i = fastrand::usize(..keys.len());
                    if flip(&shared, &keys[i].0, &keys[i].1, false) {
                        down.push_back((Instant::now() + UNREADY_FOR, i));
                    }
                }
            }
        }
    }
}
