//! The Job controller (batch/v1, NonIndexed): keeps `min(parallelism, completions −
//! succeeded)` pods running, recreating failed ones after the real controller's back-off
//! (10 s doubling, capped at 6 min) until `backoffLimit` failures; then the Job gets
//! FailureTarget + Failed (BackoffLimitExceeded) and its active pods are deleted. Enough
//! successes give SuccessCriteriaMet + Complete (CompletionsReached) and `completionTime`.
//! Status counts come from the Job's pods, which stay until the Job is deleted.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::controllers::replicaset::{delete_pod_gracefully, put_count};
use crate::objects::rand_suffix;
use crate::resources::{JOBS, PODS, def};
use crate::store::{Entry, WriteMode};

const SOURCE: Source<'static> = Source {
    component: "job-controller",
    host: None,
};

const BACKOFF_START: i64 = 10;
const BACKOFF_MAX: i64 = 360;

fn has_true(conds: &[Value], ty: &str) -> bool {
    conds
        .iter()
        .any(|c| c["type"] == ty && c["status"] == "True")
}

fn condition(ty: &str, reason: &str, message: &str, ts: &str) -> Value {
    json!({"type": ty, "status": "True", "lastProbeTime": ts, "lastTransitionTime": ts,
        "reason": reason, "message": message})
}

fn new_pod(job: &Value) -> Value {
    let name = job["metadata"]["name"].as_str().unwrap_or("");
    let tmpl = &job["spec"]["template"];
    let mut md = json!({
        "name": format!("{name}-{}", rand_suffix(5)),
        "generateName": format!("{name}-"),
        "labels": tmpl.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
        "ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "Job", "name": name,
            "uid": job["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
        }],
    });
    if let Some(a) = tmpl.pointer("/metadata/annotations") {
        md["annotations"] = a.clone();
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": md,
        "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))})
}

/// Failures counted against `backoffLimit`: failed pods, plus container restarts of
/// `OnFailure` pods (which restart in place).
fn failures(pods: &[(Entry, Value)]) -> (i64, i64) {
    let failed = pods
        .iter()
        .filter(|(e, _)| e.meta.field("status.phase") == "Failed")
        .count() as i64;
    let restarts: i64 = pods
        .iter()
        .filter(|(_, p)| p.pointer("/spec/restartPolicy") == Some(&json!("OnFailure")))
        .flat_map(|(_, p)| {
            p.pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum();
    (failed, failed + restarts)
}

/// When the last pod failed (its container's finishedAt), for the back-off.
fn last_failure(pods: &[(Entry, Value)]) -> Option<Timestamp> {
    pods.iter()
        .filter(|(e, _)| e.meta.field("status.phase") == "Failed")
        .filter_map(|(_, p)| {
            p.pointer("/status/containerStatuses/0/state/terminated/finishedAt")
                .and_then(Value::as_str)
                .and_then(parse_time)
        })
        .max()
}

fn event(
    shared: &Shared,
    rec: &mut Recorder,
    job: &Value,
    reason: &str,
    msg: String,
    warning: bool,
) {
    rec.record(
        shared,
        NewEvent {
            obj: job,
            field_path: None,
            reason,
            message: msg,
            warning,
            source: SOURCE,
        },
    );
}

/// One sync of one Job. Returns true when the Job needs no more syncs (finished or gone).
pub fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) -> bool {
    let Some(e) = shared.store.get(def(JOBS), ns, name) else {
        return true;
    };
    let mut job = e.value();
    let mut conds: Vec<Value> = job
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if e.meta.deleting || has_true(&conds, "Complete") || has_true(&conds, "Failed") {
        return true;
    }
    let spec_i = |k: &str, d: i64| job["spec"][k].as_i64().unwrap_or(d);
    let parallelism = spec_i("parallelism", 1).max(0);
    let completions = spec_i("completions", 1).max(1);
    let backoff_limit = spec_i("backoffLimit", 6).max(0);
    let now = shared.clock.now();
    let ts = fmt_time(now);
    let uid = job["metadata"]["uid"].clone();
    let pods: Vec<(Entry, Value)> = shared
        .store
        .list(def(PODS), Some(ns), |m| m.owner.as_deref() == Some(name))
        .1
        .into_iter()
        .map(|e| {
            let v = e.value();
            (e, v)
        })
        .filter(|(_, v)| {
            v["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["uid"] == uid))
        })
        .collect();
    let active: Vec<&Entry> = pods
        .iter()
        .map(|(e, _)| e)
        .filter(|e| {
            !e.meta.deleting && !matches!(e.meta.field("status.phase"), "Succeeded" | "Failed")
        })
        .collect();
    let succeeded = pods
        .iter()
        .filter(|(e, _)| e.meta.field("status.phase") == "Succeeded")
        .count() as i64;
    let (failed, counted) = failures(&pods);
    let mut status = job
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    let mut finished = false;
    let mut active_n = active.len() as i64;
    // `spec.suspend`: as the real controller, no pods run (active ones are deleted), the
    // Job says Suspended, and its start time is reset until it is resumed.
    let suspend = job["spec"]["suspend"].as_bool().unwrap_or(false);
    let was_suspended = has_true(&conds, "Suspended");
    if suspend {
        for p in &active {
            delete_pod_gracefully(shared, p);
        }
        active_n = 0;
        if let Some(st) = status.as_object_mut() {
            st.remove("startTime");
        }
        if !was_suspended {
            conds.retain(|c| c["type"] != "Suspended");
            conds.push(condition("Suspended", "JobSuspended", "Job suspended", &ts));
            event(
                shared,
                rec,
                &job,
                "Suspended",
                "Job suspended".into(),
                false,
            );
        }
    } else {
        if was_suspended {
            for c in conds.iter_mut().filter(|c| c["type"] == "Suspended") {
                *c = condition("Suspended", "JobResumed", "Job resumed", &ts);
                c["status"] = json!("False");
            }
            event(shared, rec, &job, "Resumed", "Job resumed".into(), false);
        }
        if status.get("startTime").is_none() {
            status["startTime"] = json!(ts);
        }
    }
    if !suspend && counted > backoff_limit {
        let msg = "Job has reached the specified backoff limit";
        for p in &active {
            delete_pod_gracefully(shared, p);
        }
        active_n = 0;
        conds.push(condition("FailureTarget", "BackoffLimitExceeded", msg, &ts));
        conds.push(condition("Failed", "BackoffLimitExceeded", msg, &ts));
        event(shared, rec, &job, "BackoffLimitExceeded", msg.into(), true);
        finished = true;
    } else if !suspend && succeeded >= completions {
        let msg = "Reached expected number of succeeded pods";
        conds.push(condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            msg,
            &ts,
        ));
        conds.push(condition("Complete", "CompletionsReached", msg, &ts));
        status["completionTime"] = json!(ts);
        event(
            shared,
            rec,
            &job,
            "Completed",
            "Job completed".into(),
            false,
        );
        finished = true;
    } else if !suspend {
        let want = parallelism.min(completions - succeeded) - active_n;
        let wait = (failed > 0).then(|| {
            let secs = BACKOFF_START.saturating_mul(1 << (failed - 1).clamp(0, 10));
            SignedDuration::from_secs(secs.min(BACKOFF_MAX))
        });
        let backing_off = match (wait, last_failure(&pods)) {
            (Some(w), Some(t)) => now < t + w,
            _ => false,
        };
        if !backing_off {
            for _ in 0..want.max(0) {
                let mut pod = new_pod(&job);
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
                    event(shared, rec, &job, "SuccessfulCreate", msg, false);
                    active_n += 1;
                }
            }
        }
    }
    let ready = active.iter().filter(|e| e.meta.ready).count() as i64;
    put_count(&mut status, "active", active_n);
    put_count(&mut status, "succeeded", succeeded);
    put_count(&mut status, "failed", failed);
    status["ready"] = json!(if finished { 0 } else { ready });
    status["terminating"] = json!(0);
    status["uncountedTerminatedPods"] = json!({});
    if !conds.is_empty() {
        status["conditions"] = json!(conds);
    }
    if job.get("status") != Some(&status) {
        job["status"] = status;
        let _ = shared
            .store
            .write(def(JOBS), &mut job, WriteMode::Update(Some(e.meta.rv)));
    }
    finished
}
