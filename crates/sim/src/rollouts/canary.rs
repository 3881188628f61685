//! The canary strategy as Argo Rollouts runs it: steps (setWeight, pause with and without
//! duration, setCanaryScale, analysis and experiment), background analysis, abort (by the
//! user or a failed analysis) and retry,
//! promoteFull, and with Istio traffic routing the VirtualService weights; the stable
//! ReplicaSet stays fully scaled while traffic moves, as the real controller does.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::clock::{fmt_time, parse_time};
use crate::rollouts::canary_analysis::{self, Gate};
use crate::rollouts::experiment;
use crate::rollouts::replicasets::{RsView, scale};
use crate::rollouts::{Ctx, event, istio, parse_duration, remove, scale_down_others};

/// The traffic weight and canary pod count that steps `0..=idx` ask for.
pub fn targets(steps: &[Value], idx: usize, replicas: i64) -> (i64, i64) {
    let mut weight = 0;
    let mut fixed: Option<i64> = None;
    for s in steps.iter().take(idx + 1) {
        if let Some(w) = s.get("setWeight").and_then(Value::as_i64) {
            weight = w.clamp(0, 100);
        } else if let Some(cs) = s.get("setCanaryScale") {
            fixed = if cs["matchTrafficWeight"] == json!(true) {
                None
            } else if let Some(r) = cs["replicas"].as_i64() {
                Some(r.max(0))
            } else {
                cs["weight"].as_i64().map(|w| ceil_pct(w, replicas))
            };
        }
    }
    (weight, fixed.unwrap_or_else(|| ceil_pct(weight, replicas)))
}

fn ceil_pct(weight: i64, replicas: i64) -> i64 {
    (weight.clamp(0, 100) * replicas + 99) / 100
}

fn routed(ro: &Value) -> bool {
    ro.pointer("/spec/strategy/canary/trafficRouting")
        .is_some_and(Value::is_object)
}

/// One reconcile of a canary Rollout; writes ReplicaSets and routes, fills `c.st`.
pub fn reconcile(c: &mut Ctx) {
    let spec = &c.ro["spec"]["strategy"]["canary"];
    let steps: Vec<Value> = spec["steps"].as_array().cloned().unwrap_or_default();
    let n = steps.len();
    let new_hash = c.rss[c.new].hash().to_string();
    let stable_hash = c.st["stableRS"].as_str().unwrap_or("").to_string();
    let stable = c.rss.iter().position(|r| r.hash() == stable_hash);
    if stable.is_none() {
        // First deploy (or the stable ReplicaSet is gone): the new one is stable at once.
        c.st["stableRS"] = json!(new_hash);
    }
    if c.st["stableRS"] == json!(new_hash) {
        return promoted(c, n, &new_hash);
    }
    let stable = stable.unwrap_or(c.new);
    let mut idx = (c.st["currentStepIndex"].as_u64().unwrap_or(0) as usize).min(n);

    if c.st["abort"] == json!(true) {
        return aborted(c, stable, &new_hash, &stable_hash);
    }
    if c.st.get("abortedAt").is_some() {
        // Retry: the user set abort back to false; the steps (and their analysis) start over.
        remove(c.st, "abortedAt");
        canary_analysis::forget(c, true, true);
        idx = 0;
    }
    if c.st["promoteFull"] == json!(true) {
        idx = n;
    }
    let mut weight = c.st["canary"]["weights"]["canary"]["weight"]
        .as_i64()
        .unwrap_or(0);
    let manual = c.ro["spec"]["paused"] == json!(true);
    let waiting_on_user = c.st["pauseConditions"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["reason"] != "CanaryPauseStep"));
    // Background analysis runs beside the steps, from its starting step on.
    if idx < n && !waiting_on_user {
        match canary_analysis::background(c, idx) {
            Gate::Abort(message) => return abort_for(c, stable, message),
            Gate::Pause => return pause_for(c, canary_analysis::INCONCLUSIVE, stable, idx),
            Gate::Wait | Gate::Passed => {}
        }
    }
    while idx < n && !manual && !waiting_on_user {
        let (set, count) = targets(&steps, idx, c.replicas);
        scale_to(c, c.new, count);
        let step = &steps[idx];
        let available = c.rss[c.new].available();
        if step.get("setWeight").is_some() {
            if available < count {
                break;
            }
            weight = set;
        } else if let Some(p) = step.get("pause") {
            if !pause_done(c, p) {
                break;
            }
        } else if step.get("setCanaryScale").is_some() && available < count {
            break;
        } else if let Some(a) = step.get("analysis") {
            match canary_analysis::step(c, a, idx) {
                Gate::Passed => canary_analysis::forget(c, true, false),
                Gate::Wait => break,
                Gate::Abort(message) => return abort_for(c, stable, message),
                Gate::Pause => return pause_for(c, canary_analysis::INCONCLUSIVE, stable, idx),
            }
        } else if let Some(x) = step.get("experiment") {
            match experiment::step(c, x, idx) {
                Gate::Passed => {}
                Gate::Wait => break,
                Gate::Abort(message) => return abort_for(c, stable, message),
                Gate::Pause => {
                    return pause_for(c, experiment::inconclusive_reason(), stable, idx);
                }
            }
        }
        idx += 1;
        event(
            c,
            "RolloutStepCompleted",
            format!("Rollout step {idx}/{n} completed ({})", describe(step)),
            false,
        );
    }
    c.st["currentStepIndex"] = json!(idx);
    if idx >= n && !manual {
        // All steps done: the canary becomes stable.
        c.st["stableRS"] = json!(new_hash);
        event(
            c,
            "RolloutCompleted",
            format!(
                "Rollout completed update to revision {} ({new_hash}): Completed all {n} canary steps",
                c.rss[c.new].revision()
            ),
            false,
        );
        return promoted(c, n, &new_hash);
    }
    let keep = canary_analysis::current_names(c.st);
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    canary_analysis::terminate_others(c, &keep);
    settle(c, stable, idx, weight);
}

/// Scales the canary and stable to the step's counts and routes `weight` to the canary.
fn settle(c: &mut Ctx, stable: usize, idx: usize, weight: i64) {
    let steps: Vec<Value> = c.ro["spec"]["strategy"]["canary"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let n = steps.len();
    let routed = routed(c.ro);
    let new_hash = c.rss[c.new].hash().to_string();
    let stable_hash = c.rss[stable].hash().to_string();
    let (_, count) = targets(&steps, idx.min(n.saturating_sub(1)), c.replicas);
    scale_to(c, c.new, count);
    let stable_count = if routed {
        c.replicas
    } else {
        (c.replicas - count).max(0)
    };
    scale_to(c, stable, stable_count);
    scale_down_others(c, &[c.new, stable], 0);
    set_weights(c, routed, weight, &new_hash, &stable_hash);
}

/// A run or experiment failed: the Rollout aborts with its message (Argo's `AddAbort`),
/// which the `RolloutAborted` condition carries after the revision.
fn abort_for(c: &mut Ctx, stable: usize, message: String) {
    c.st["abort"] = json!(true);
    c.abort_message = Some(message);
    let new_hash = c.rss[c.new].hash().to_string();
    let stable_hash = c.rss[stable].hash().to_string();
    aborted(c, stable, &new_hash, &stable_hash);
}

/// An inconclusive run or experiment: the Rollout waits for the user (promote or abort).
fn pause_for(c: &mut Ctx, reason: &str, stable: usize, idx: usize) {
    let mut conds = c.st["pauseConditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !conds.iter().any(|p| p["reason"] == reason) {
        conds.push(json!({"reason": reason, "startTime": fmt_time(c.now)}));
        c.st["pauseConditions"] = json!(conds);
        c.st["controllerPause"] = json!(true);
        event(
            c,
            "RolloutPaused",
            format!("Rollout is paused ({reason})"),
            false,
        );
    }
    c.st["currentStepIndex"] = json!(idx);
    let weight = c.st["canary"]["weights"]["canary"]["weight"]
        .as_i64()
        .unwrap_or(0);
    settle(c, stable, idx, weight);
}

/// Aborted: traffic back to stable, the canary scaled down (after
/// `abortScaleDownDelaySeconds`), analysis and experiments terminated.
fn aborted(c: &mut Ctx, stable: usize, new_hash: &str, stable_hash: &str) {
    let spec = &c.ro["spec"]["strategy"]["canary"];
    let routed = routed(c.ro);
    let aborted_at = match c.st["abortedAt"].as_str().and_then(parse_time) {
        Some(t) => t,
        None => {
            c.st["abortedAt"] = json!(fmt_time(c.now));
            let rev = c.rss[c.new].revision();
            let mut message = format!("Rollout aborted update to revision {rev}");
            if let Some(m) = c.abort_message.as_deref() {
                message = format!("{message}: {m}");
            }
            event(c, "RolloutAborted", message, true);
            c.now
        }
    };
    remove(c.st, "pauseConditions");
    remove(c.st, "controllerPause");
    c.st["currentStepIndex"] = json!(0);
    let delay = spec["abortScaleDownDelaySeconds"]
        .as_i64()
        .unwrap_or(if routed { 30 } else { 0 });
    let stable_count = c.replicas;
    scale_to(c, stable, stable_count);
    if c.now >= aborted_at + SignedDuration::from_secs(delay.max(0)) {
        scale_to(c, c.new, 0);
    }
    scale_down_others(c, &[c.new, stable], 0);
    canary_analysis::terminate_others(c, &[]);
    experiment::terminate_all(c);
    experiment::forget(c);
    set_weights(c, routed, 0, new_hash, stable_hash);
}

/// A pause step: adds the pause condition when reached; done when its duration passed
/// or the user removed the condition (promote) while `controllerPause` is set.
fn pause_done(c: &mut Ctx, pause: &Value) -> bool {
    let conds = c.st["pauseConditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mine = conds.iter().find(|p| p["reason"] == "CanaryPauseStep");
    let controller_pause = c.st["controllerPause"] == json!(true);
    let Some(cond) = mine else {
        if controller_pause {
            remove(c.st, "controllerPause");
            return true;
        }
        let mut all = conds.clone();
        all.push(json!({"reason": "CanaryPauseStep", "startTime": fmt_time(c.now)}));
        c.st["pauseConditions"] = json!(all);
        c.st["controllerPause"] = json!(true);
        event(
            c,
            "RolloutPaused",
            "Rollout is paused (CanaryPauseStep)".into(),
            false,
        );
        return false;
    };
    let started = cond["startTime"].as_str().and_then(parse_time);
    let due = pause
        .get("duration")
        .and_then(parse_duration)
        .zip(started)
        .is_some_and(|(d, s)| c.now >= s + d);
    if due {
        let rest: Vec<Value> = conds
            .into_iter()
            .filter(|p| p["reason"] != "CanaryPauseStep")
            .collect();
        if rest.is_empty() {
            remove(c.st, "pauseConditions");
            remove(c.st, "controllerPause");
        } else {
            c.st["pauseConditions"] = json!(rest);
        }
        event(c, "RolloutResumed", "Rollout is resumed".into(), false);
    }
    due
}

fn describe(step: &Value) -> String {
    match step.as_object().and_then(|m| m.iter().next()) {
        Some((k, v)) => format!("{k}: {v}"),
        None => "empty step".into(),
    }
}

/// Fully promoted: the stable ReplicaSet is the current one; older ones scale down after
/// `scaleDownDelaySeconds` (30 with traffic routing, 0 without).
fn promoted(c: &mut Ctx, n: usize, hash: &str) {
    canary_analysis::terminate_others(c, &[]);
    canary_analysis::forget(c, true, true);
    experiment::terminate_all(c);
    experiment::forget(c);
    remove(c.st, "pauseConditions");
    remove(c.st, "controllerPause");
    remove(c.st, "promoteFull");
    remove(c.st, "abortedAt");
    if n > 0 {
        c.st["currentStepIndex"] = json!(n);
    }
    let routed = routed(c.ro);
    let count = c.replicas;
    scale_to(c, c.new, count);
    let delay = c.ro["spec"]["strategy"]["canary"]["scaleDownDelaySeconds"]
        .as_i64()
        .unwrap_or(if routed { 30 } else { 0 });
    scale_down_others(c, &[c.new], delay);
    set_weights(c, routed, 0, hash, hash);
}

fn scale_to(c: &mut Ctx, i: usize, to: i64) {
    let rs: &mut RsView = &mut c.rss[i];
    scale(c.shared, c.rec, c.ro, rs, to);
}

/// `status.canary.weights` and the VirtualService routes and Service selectors.
fn set_weights(c: &mut Ctx, routed: bool, weight: i64, canary: &str, stable: &str) {
    if !c.st["canary"].is_object() {
        c.st["canary"] = json!({});
    }
    if !routed {
        return;
    }
    let spec = &c.ro["spec"]["strategy"]["canary"];
    let mut w = json!({
        "canary": {"weight": weight, "podTemplateHash": canary},
        "stable": {"weight": 100 - weight, "podTemplateHash": stable},
    });
    if let Some(s) = spec["canaryService"].as_str() {
        w["canary"]["serviceName"] = json!(s);
    }
    if let Some(s) = spec["stableService"].as_str() {
        w["stable"]["serviceName"] = json!(s);
    }
    c.st["canary"]["weights"] = w;
    istio::route(c.shared, c.ro, weight);
    istio::select(c.shared, c.ro, "canaryService", canary);
    istio::select(c.shared, c.ro, "stableService", stable);
}
