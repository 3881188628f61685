//! The Rollout status the controller writes after a reconcile: replica counts from the
//! ReplicaSets, the selector string, `observedGeneration` as a string, the conditions with
//! Argo's reasons (including the progress deadline), and phase/message in the order of
//! Argo's `CalculateRolloutPhase`.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::clock::parse_time;
use crate::controllers::deployment_util::set_condition;
use crate::controllers::replicaset::put_count;
use crate::objects::template_hash;
use crate::rollouts::replicasets::HASH;
use crate::rollouts::{Ctx, event, remove};
use crate::store::selector::LabelSelector;

/// What counts as progress for the deadline: any change of these.
fn progress_marks(st: &Value) -> Vec<Value> {
    [
        "/currentPodHash",
        "/currentStepIndex",
        "/updatedReplicas",
        "/readyReplicas",
        "/availableReplicas",
        "/canary/weights/canary/weight",
        "/blueGreen/activeSelector",
        "/abort",
    ]
    .iter()
    .map(|p| st.pointer(p).cloned().unwrap_or(Value::Null))
    .collect()
}

pub fn finish(c: &mut Ctx, old: Option<&Value>) {
    let ro = c.ro;
    let sum = |ptr: &str| c.rss.iter().map(|r| r.int(ptr)).sum::<i64>();
    let (replicas, ready, available) = (
        sum("/status/replicas"),
        sum("/status/readyReplicas"),
        sum("/status/availableReplicas"),
    );
    let updated = c.rss[c.new].int("/status/replicas");
    let st = &mut *c.st;
    st["replicas"] = json!(replicas);
    st["HPAReplicas"] = json!(replicas);
    put_count(st, "updatedReplicas", updated);
    put_count(st, "readyReplicas", ready);
    put_count(st, "availableReplicas", available);
    let mut selector = ro["spec"]["selector"].clone();
    if let Some(active) = st["blueGreen"]["activeSelector"].as_str() {
        selector["matchLabels"][HASH] = json!(active);
    }
    st["selector"] = json!(
        LabelSelector::from_object(&selector)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    st["observedGeneration"] = json!(
        ro["metadata"]["generation"]
            .as_i64()
            .unwrap_or(1)
            .to_string()
    );
    if let Some(steps) = ro.pointer("/spec/strategy/canary/steps") {
        st["currentStepHash"] = json!(template_hash(steps, 0));
    }
    for k in ["canary", "blueGreen"] {
        if !st[k].is_object() {
            st[k] = json!({});
        }
    }
    // Requests the user set back to false are omitted, as Go's omitempty writes them.
    for k in ["abort", "promoteFull", "controllerPause"] {
        if st[k] == json!(false) {
            remove(st, k);
        }
    }
    conditions(c, old);
    let (phase, message) = phase(ro, c.st);
    c.st["phase"] = json!(phase);
    c.st["message"] = json!(message);
    if message.is_empty() {
        remove(c.st, "message");
    }
}

fn conditions(c: &mut Ctx, old: Option<&Value>) {
    let now = c.now;
    let rs_name = c.rss[c.new].name().to_string();
    let revision = c.rss[c.new].revision();
    let mut conds: Vec<Value> = c.st["conditions"].as_array().cloned().unwrap_or_default();
    let st = &*c.st;
    let spec_replicas = c.replicas;
    let available = st["availableReplicas"].as_i64().unwrap_or(0);
    let (ok, msg) = if available >= spec_replicas {
        ("True", "Rollout has minimum availability")
    } else {
        ("False", "Rollout does not have minimum availability")
    };
    set_condition(
        &mut conds,
        "Available",
        ok,
        "AvailableReason",
        msg.into(),
        now,
        false,
    );

    let paused = c.ro["spec"]["paused"] == json!(true)
        || st["pauseConditions"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
    let aborted = st["abort"] == json!(true);
    let promoted = st["stableRS"] == st["currentPodHash"];
    let complete = promoted
        && st["updatedReplicas"].as_i64().unwrap_or(0) >= spec_replicas
        && available >= spec_replicas;
    let prev = conds
        .iter()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .unwrap_or(Value::Null);
    let progressed = old.is_none_or(|o| progress_marks(o) != progress_marks(st));
    let deadline = c.ro["spec"]["progressDeadlineSeconds"]
        .as_i64()
        .unwrap_or(600);
    let mut timed_out = false;
    let (status, reason, message, force) = if aborted {
        let mut message = format!("Rollout aborted update to revision {revision}");
        if let Some(m) = &c.abort_message {
            message = format!("{message}: {m}");
        }
        ("False", "RolloutAborted", message, false)
    } else if paused {
        (
            "Unknown",
            "RolloutPaused",
            "Rollout is paused".to_string(),
            false,
        )
    } else if complete {
        (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            false,
        )
    } else if prev["reason"] == "RolloutPaused" {
        (
            "True",
            "RolloutResumed",
            "Rollout is resumed".to_string(),
            true,
        )
    } else if progressed
        || prev["reason"] != "ReplicaSetUpdated"
            && prev["reason"] != "RolloutResumed"
            && prev["reason"] != "ProgressDeadlineExceeded"
    {
        (
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
            true,
        )
    } else {
        let last = prev["lastUpdateTime"]
            .as_str()
            .and_then(parse_time)
            .unwrap_or(now);
        if prev["reason"] == "ProgressDeadlineExceeded"
            || now > last + SignedDuration::from_secs(deadline)
        {
            timed_out = prev["reason"] != "ProgressDeadlineExceeded";
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                false,
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
                false,
            )
        }
    };
    set_condition(
        &mut conds,
        "Progressing",
        status,
        reason,
        message.clone(),
        now,
        force,
    );
    if paused {
        set_condition(
            &mut conds,
            "Paused",
            "True",
            "RolloutPaused",
            "Rollout is paused".into(),
            now,
            false,
        );
    } else {
        conds.retain(|c| c["type"] != "Paused");
    }
    let (done, _) = if complete {
        ("True", ())
    } else {
        ("False", ())
    };
    set_condition(
        &mut conds,
        "Completed",
        done,
        "RolloutCompleted",
        "RolloutCompleted".into(),
        now,
        false,
    );
    c.st["conditions"] = json!(conds);
    let (phase, _) = phase(c.ro, c.st);
    let healthy = phase == "Healthy";
    let (h, hm) = if healthy {
        ("True", "Rollout is healthy")
    } else {
        ("False", "Rollout is not healthy")
    };
    let mut conds: Vec<Value> = c.st["conditions"].as_array().cloned().unwrap_or_default();
    set_condition(
        &mut conds,
        "Healthy",
        h,
        "RolloutHealthy",
        hm.into(),
        now,
        false,
    );
    c.st["conditions"] = json!(conds);
    if timed_out {
        event(c, "ProgressDeadlineExceeded", message, true);
    }
}

/// Phase and message, first match wins (Argo's `CalculateRolloutPhase`).
pub fn phase(ro: &Value, st: &Value) -> (&'static str, String) {
    let conds = st["conditions"].as_array().cloned().unwrap_or_default();
    if let Some(c) = conds.iter().find(|c| c["type"] == "InvalidSpec") {
        return (
            "Degraded",
            format!("InvalidSpec: {}", c["message"].as_str().unwrap_or("")),
        );
    }
    if let Some(c) = conds
        .iter()
        .find(|c| c["reason"] == "RolloutAborted" || c["reason"] == "ProgressDeadlineExceeded")
    {
        let r = c["reason"].as_str().unwrap_or("");
        return (
            "Degraded",
            format!("{r}: {}", c["message"].as_str().unwrap_or("")),
        );
    }
    if ro["spec"]["paused"] == json!(true) {
        return ("Paused", "manually paused".into());
    }
    if let Some(p) = st["pauseConditions"].as_array().and_then(|a| a.first()) {
        return ("Paused", p["reason"].as_str().unwrap_or("").into());
    }
    let int = |k: &str| st[k].as_i64().unwrap_or(0);
    let replicas = ro["spec"]["replicas"].as_i64().unwrap_or(1);
    if int("updatedReplicas") < replicas {
        return ("Progressing", "more replicas need to be updated".into());
    }
    if int("availableReplicas") < int("updatedReplicas") {
        return (
            "Progressing",
            "updated replicas are still becoming available".into(),
        );
    }
    let current = &st["currentPodHash"];
    if ro
        .pointer("/spec/strategy/blueGreen")
        .is_some_and(Value::is_object)
    {
        if st["blueGreen"]["activeSelector"] != *current {
            return ("Progressing", "active service cutover pending".into());
        }
        if st["stableRS"] != *current {
            return ("Progressing", "waiting for analysis to complete".into());
        }
    } else {
        let routed = ro
            .pointer("/spec/strategy/canary/trafficRouting")
            .is_some_and(Value::is_object);
        if !routed && int("replicas") > int("updatedReplicas") {
            return ("Progressing", "old replicas are pending termination".into());
        }
        if st["stableRS"] != *current {
            return ("Progressing", "waiting for all steps to complete".into());
        }
    }
    ("Healthy", String::new())
}
