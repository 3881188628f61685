//! Builders for canary tests: the demo's customer-adapter Rollout in each phase, its
//! ReplicaSets and pods, as the watchers decode them from the simulator's JSON.

use rollcall::app::{Event, State, update};
use rollcall::domain::analysis::WatchedAnalysisRun;
use rollcall::domain::rollout::RolloutUpdate;
use rollcall::domain::{WatchUpdate, WatchedPod, WatchedReplicaSet, WatchedRollout};
use serde_json::{Value, json};

use crate::state::ago;

pub const PROD: usize = 2;
pub const NS: &str = "dictamesh-prod";
pub const STABLE: &str = "7f96774cb9";
pub const CANARY: &str = "84c594f85b";
pub const OLD: &str = "69474d767b";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    Progressing,
    Paused,
    Aborted,
    Degraded,
    Healthy,
}

fn steps() -> Value {
    json!([{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"setWeight": 50},
           {"pause": {"duration": "5m"}}, {"setWeight": 80}, {"pause": {"duration": "5m"}}])
}

/// The Rollout JSON in `phase`, with its pause started `pause_ago` seconds before NOW.
pub fn rollout_json(phase: Phase, pause_ago: i64) -> Value {
    let healthy = phase == Phase::Healthy;
    let tag = if phase == Phase::Degraded {
        "v1.2.1-broken"
    } else {
        "v1.2.0"
    };
    let mut st = json!({
        "observedGeneration": "3", "currentPodHash": CANARY,
        "stableRS": if healthy { CANARY } else { STABLE },
        "replicas": 6, "updatedReplicas": 1, "readyReplicas": 6, "availableReplicas": 6,
        "currentStepIndex": 1, "blueGreen": {}, "selector": "app=customer-adapter",
        "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": CANARY},
                                "stable": {"weight": 80, "podTemplateHash": STABLE}}},
        "conditions": [{"type": "Available", "status": "True", "reason": "AvailableReason",
                        "message": "Rollout has minimum availability",
                        "lastUpdateTime": ago(3600), "lastTransitionTime": ago(3600)}],
    });
    match phase {
        Phase::Paused => {
            st["phase"] = json!("Paused");
            st["message"] = json!("CanaryPauseStep");
            st["controllerPause"] = json!(true);
            st["pauseConditions"] =
                json!([{"reason": "CanaryPauseStep", "startTime": ago(pause_ago)}]);
        }
        Phase::Progressing => {
            st["phase"] = json!("Progressing");
            st["message"] = json!("more replicas need to be updated");
            st["currentStepIndex"] = json!(2);
            st["canary"]["weights"]["canary"]["weight"] = json!(20);
        }
        Phase::Aborted => {
            st["phase"] = json!("Degraded");
            st["message"] = json!("RolloutAborted: Rollout aborted update to revision 3");
            st["abort"] = json!(true);
            st["abortedAt"] = json!(ago(20));
            st["currentStepIndex"] = json!(0);
            st["canary"]["weights"]["canary"]["weight"] = json!(0);
            st["canary"]["weights"]["stable"]["weight"] = json!(100);
            st["conditions"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "Progressing", "status": "False",
                "reason": "RolloutAborted", "message": "Rollout aborted update to revision 3"}));
        }
        Phase::Degraded => {
            st["phase"] = json!("Degraded");
            st["message"] = json!(format!(
                "ProgressDeadlineExceeded: ReplicaSet \"customer-adapter-{CANARY}\" has timed out progressing."
            ));
            st["currentStepIndex"] = json!(0);
            st["canary"]["weights"]["canary"]["weight"] = json!(0);
            st["canary"]["weights"]["stable"]["weight"] = json!(100);
            st["readyReplicas"] = json!(5);
            st["availableReplicas"] = json!(5);
        }
        Phase::Healthy => {
            st["phase"] = json!("Healthy");
            st["currentStepIndex"] = json!(6);
            st["updatedReplicas"] = json!(5);
            st["replicas"] = json!(5);
            st["canary"]["weights"]["canary"]["weight"] = json!(0);
            st["canary"]["weights"]["canary"]["podTemplateHash"] = json!(CANARY);
            st["canary"]["weights"]["stable"]["weight"] = json!(100);
            st["canary"]["weights"]["stable"]["podTemplateHash"] = json!(CANARY);
        }
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "customer-adapter", "namespace": NS, "uid": "ro-uid",
            "resourceVersion": "7", "generation": 3},
        "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "customer-adapter"}},
            "template": {"metadata": {"labels": {"app": "customer-adapter"}}, "spec": {"containers": [
                {"name": "customer-adapter", "image": format!("ghcr.io/controle-digital/customer-adapter:{tag}")}]}},
            "strategy": {"canary": {"canaryService": "customer-adapter-canary",
                "stableService": "customer-adapter-stable", "steps": steps(),
                "trafficRouting": {"istio": {"virtualService": {"name": "customer-adapter-vsvc"}}}}}},
        "status": st,
    })
}

/// customer-adapter's ReplicaSet at pod-template `hash`, its `revision` and image `tag`.
pub fn rs(hash: &str, revision: u64, tag: &str, replicas: u32) -> rollcall::domain::ReplicaSetRow {
    let v = json!({
        "metadata": {"name": format!("customer-adapter-{hash}"), "namespace": NS, "resourceVersion": "3",
            "labels": {"app": "customer-adapter", "rollouts-pod-template-hash": hash},
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "name": "customer-adapter", "uid": "ro-uid", "controller": true}]},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "customer-adapter", "image": format!("ghcr.io/controle-digital/customer-adapter:{tag}")}]}}},
        "status": {"replicas": replicas, "readyReplicas": replicas},
    });
    serde_json::from_value::<WatchedReplicaSet>(v).unwrap().row
}

fn pod(
    hash: &str,
    suffix: &str,
    ready: bool,
    restarts: u32,
    waiting: Option<&str>,
) -> rollcall::domain::PodRow {
    let name = format!("customer-adapter-{hash}-{suffix}");
    let state = match waiting {
        Some(r) => json!({"waiting": {"reason": r}}),
        None => json!({"running": {"startedAt": ago(600)}}),
    };
    let v = json!({
        "metadata": {"name": name, "namespace": NS, "uid": format!("uid-{name}"), "resourceVersion": "1",
            "creationTimestamp": ago(900),
            "labels": {"app": "customer-adapter", "rollouts-pod-template-hash": hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("customer-adapter-{hash}"), "uid": "rs", "controller": true}]},
        "spec": {"nodeName": "k3s-node-1", "containers": [{"name": "customer-adapter", "image": "x"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "customer-adapter", "ready": ready,
            "restartCount": restarts, "state": state}]}
    });
    serde_json::from_value::<WatchedPod>(v).unwrap().row
}

fn send(s: &mut State, update_: RolloutUpdate) {
    update(
        s,
        Event::Rollouts {
            env: PROD,
            update: update_,
        },
    );
}

/// Feeds the Rollout in `phase` with its ReplicaSets and pods into prod.
pub fn with_rollout(s: &mut State, phase: Phase, pause_ago: i64) {
    let row = serde_json::from_value::<WatchedRollout>(rollout_json(phase, pause_ago))
        .unwrap()
        .row;
    send(s, RolloutUpdate::Rollouts(WatchUpdate::Init));
    send(s, RolloutUpdate::Rollouts(WatchUpdate::InitApply(row)));
    send(s, RolloutUpdate::Rollouts(WatchUpdate::InitDone));
    let canary_tag = if phase == Phase::Degraded {
        "v1.2.1-broken"
    } else {
        "v1.2.0"
    };
    let (canary_n, stable_n) = match phase {
        Phase::Healthy => (5, 0),
        Phase::Aborted => (0, 5),
        _ => (1, 5),
    };
    send(s, RolloutUpdate::ReplicaSets(WatchUpdate::Init));
    for r in [
        rs(CANARY, 3, canary_tag, canary_n),
        rs(STABLE, 2, "v1.1.4", stable_n),
        rs(OLD, 1, "v1.1.3", 0),
    ] {
        send(s, RolloutUpdate::ReplicaSets(WatchUpdate::InitApply(r)));
    }
    send(s, RolloutUpdate::ReplicaSets(WatchUpdate::InitDone));
    let mut pods = Vec::new();
    let (stable_hash, stable_count) = if phase == Phase::Healthy {
        (CANARY, 5)
    } else {
        (STABLE, 5)
    };
    for (i, sfx) in ["a1b2c", "d3e4f", "g5h6i", "j7k8l", "m9n0p"]
        .iter()
        .enumerate()
        .take(stable_count)
    {
        let _ = i;
        pods.push(pod(stable_hash, sfx, true, 0, None));
    }
    match phase {
        Phase::Paused | Phase::Progressing => pods.push(pod(CANARY, "zz9yx", true, 0, None)),
        Phase::Degraded => pods.push(pod(CANARY, "zz9yx", false, 4, Some("CrashLoopBackOff"))),
        _ => {}
    }
    for p in pods {
        update(
            s,
            Event::Watch {
                env: PROD,
                update: rollcall::app::EnvUpdate::Pods(WatchUpdate::Apply(p)),
            },
        );
    }
}

/// What the demo's analysis step writes when the canary's success rate is bad: the run's
/// status after `failed` failed measurements (3 fails it: failureLimit 2).
pub fn analysis_run_json(failed: u32) -> Value {
    let values = ["0.7012", "0.6991", "0.7004"];
    let measurements: Vec<Value> = (0..failed.min(3) as usize)
        .map(|i| {
            let at = ago(30 - 10 * i as i64);
            json!({"phase": "Failed", "value": format!("[{}]", values[i]),
                   "startedAt": at, "finishedAt": at})
        })
        .collect();
    let done = failed > 2;
    let phase = if done { "Failed" } else { "Running" };
    let mut result = json!({"name": "success-rate", "phase": phase, "count": failed,
        "failed": failed, "measurements": measurements});
    let mut st = json!({"phase": phase, "startedAt": ago(30), "metricResults": [result.clone()]});
    if done {
        let why = "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)";
        st["message"] = json!(why);
        result["phase"] = json!("Failed");
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": format!("customer-adapter-{CANARY}-3-2"), "namespace": NS,
            "resourceVersion": "11", "creationTimestamp": ago(31),
            "labels": {"app": "customer-adapter", "rollout-type": "Step", "step-index": "2",
                "rollouts-pod-template-hash": CANARY},
            "annotations": {"rollout.argoproj.io/revision": "3"},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "name": "customer-adapter", "uid": "ro-uid", "controller": true}]},
        "spec": {"args": [{"name": "service-name", "value": "customer-adapter"},
                {"name": "canary-hash", "value": CANARY}],
            "metrics": [{"name": "success-rate", "interval": "10s", "count": 5,
                "successCondition": "result[0] >= 0.95", "failureLimit": 2,
                "provider": {"prometheus": {"address": "http://prometheus.monitoring.svc:9090",
                    "query": "sum(rate(http_requests_total{code!~\"5..\"}[1m]))"}}}]},
        "status": st,
    })
}

/// The Rollout aborted by its failed analysis step, as the simulator leaves it: the
/// `RolloutAborted` condition with Argo's message, the run Failed, the canary at zero.
pub fn with_failed_analysis(s: &mut State) {
    with_rollout(s, Phase::Aborted, 88);
    let why = "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)";
    let message = format!(
        "Rollout aborted update to revision 3: Step-based analysis phase error/failed: {why}"
    );
    let mut ro = rollout_json(Phase::Aborted, 88);
    ro["spec"]["strategy"]["canary"]["steps"] = json!([{"setWeight": 20},
        {"pause": {"duration": "5m"}},
        {"analysis": {"templates": [{"templateName": "success-rate"}]}},
        {"setWeight": 50}, {"pause": {"duration": "5m"}}, {"setWeight": 80},
        {"pause": {"duration": "5m"}}]);
    ro["status"]["message"] = json!(format!("RolloutAborted: {message}"));
    ro["status"]["conditions"][1]["message"] = json!(message);
    ro["status"]["canary"]["currentStepAnalysisRunStatus"] = json!({
        "name": format!("customer-adapter-{CANARY}-3-2"), "status": "Failed", "message": why});
    let row = serde_json::from_value::<WatchedRollout>(ro).unwrap().row;
    send(s, RolloutUpdate::Rollouts(WatchUpdate::Apply(row)));
    let run = serde_json::from_value::<WatchedAnalysisRun>(analysis_run_json(3))
        .unwrap()
        .row;
    send(s, RolloutUpdate::AnalysisRuns(WatchUpdate::Init));
    send(s, RolloutUpdate::AnalysisRuns(WatchUpdate::InitApply(run)));
    send(s, RolloutUpdate::AnalysisRuns(WatchUpdate::InitDone));
}
