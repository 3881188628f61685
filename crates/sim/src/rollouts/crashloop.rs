//! A kubelet fault for release drills: a container running an unhealthy version (an image
//! tag containing "broken", or one marked with `--unhealthy-image` / `POST /_sim/unhealthy`)
//! starts, exits with an error a few simulated seconds later, and is restarted with the
//! kubelet's doubling back-off (10s … 5m), so the pod is `CrashLoopBackOff`, never Ready,
//! and its restart count climbs — what a bad canary version looks like on a real cluster.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::fmt_time;
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::resources::{PODS, def};
use crate::store::{Change, ChangeType, WriteMode};

/// How long a broken container runs before it exits.
const RUNS_FOR: SignedDuration = SignedDuration::from_secs(3);

/// Pods with a broken container, by uid: when their next crash or restart is due.
#[derive(Default)]
pub struct CrashLoop {
    due: HashMap<String, (Timestamp, String, String)>,
}

impl CrashLoop {
    pub fn idle(&self) -> bool {
        self.due.is_empty()
    }

    pub fn observe(&mut self, shared: &Shared, c: &Change) {
        let m = &c.entry.meta;
        if c.ty == ChangeType::Deleted || m.deleting {
            self.due.remove(&*m.uid);
            return;
        }
        // Cheap pre-filter: most pods never mention it. Pods of Jobs (restartPolicy Never
        // or OnFailure) finish instead, failing (see the kubelet).
        let mentions =
            shared.unhealthy.any_marked() || c.entry.json.windows(6).any(|w| w == b"broken");
        if !mentions
            || self.due.contains_key(&*m.uid)
            || !matches!(m.field("spec.restartPolicy"), "Always" | "")
        {
            return;
        }
        let pod = c.entry.value();
        if !shared.unhealthy.pod(&pod) || m.field("status.phase") != "Running" {
            return;
        }
        let now = shared.clock.now();
        let status = &pod["status"]["containerStatuses"][0];
        let when = if status["state"].get("waiting").is_some() {
            now + backoff(status["restartCount"].as_i64().unwrap_or(0))
        } else {
            now + RUNS_FOR
        };
        self.due.insert(
            m.uid.to_string(),
            (when, m.namespace.to_string(), m.name.to_string()),
        );
    }

    /// Crashes or restarts every container whose time has come.
    pub fn run_due(&mut self, shared: &Shared, rec: &mut Recorder) {
        let now = shared.clock.now();
        let ready: Vec<String> = self
            .due
            .iter()
            .filter(|(_, (t, _, _))| *t <= now)
            .map(|(u, _)| u.clone())
            .collect();
        for uid in ready {
            let Some((_, ns, name)) = self.due.remove(&uid) else {
                continue;
            };
            let Some(e) = shared.store.get(def(PODS), &ns, &name) else {
                continue;
            };
            if *e.meta.uid != *uid || e.meta.deleting {
                continue;
            }
            let mut pod = e.value();
            // Marked healthy again (run-time switch): the waiting container starts and stays up.
            let broken = shared.unhealthy.pod(&pod);
            let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
            let ts = fmt_time(now);
            let Some(statuses) = pod
                .pointer_mut("/status/containerStatuses")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            let mut events = Vec::new();
            for s in statuses.iter_mut() {
                let cname = s["name"].as_str().unwrap_or("").to_string();
                if let Some(running) = s["state"].get("running").cloned().filter(|_| broken) {
                    let restarts = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(restarts);
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                        "startedAt": running["startedAt"], "finishedAt": ts,
                        "containerID": s["containerID"]}});
                    let wait = backoff(restarts).as_secs();
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off {wait}s restarting failed container={cname} pod={name}_{ns}({uid})")}});
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    events.push((
                        cname,
                        "BackOff",
                        format!(
                            "Back-off restarting failed container {} in pod {name}_{ns}({uid})",
                            s["name"].as_str().unwrap_or("")
                        ),
                        true,
                    ));
                } else if s["state"].get("running").is_none() {
                    s["state"] = json!({"running": {"startedAt": ts}});
                    s["started"] = json!(true);
                    events.push((
                        cname.clone(),
                        "Started",
                        format!("Started container {cname}"),
                        false,
                    ));
                }
            }
            if broken {
                not_ready(&mut pod, &ts);
            }
            if events.is_empty() {
                continue;
            }
            if shared
                .store
                .write(def(PODS), &mut pod, WriteMode::Update(Some(e.meta.rv)))
                .is_err()
            {
                continue;
            }
            for (cname, reason, message, warning) in events {
                rec.record(
                    shared,
                    NewEvent {
                        obj: &pod,
                        field_path: Some(format!("spec.containers{{{cname}}}")),
                        reason,
                        message,
                        warning,
                        source: Source {
                            component: "kubelet",
                            host: Some(&node),
                        },
                    },
                );
            }
        }
    }
}

/// A crashed container fails its readiness probe: the pod's Ready conditions go False
/// (pods that were Ready before the version was marked unhealthy included).
fn not_ready(pod: &mut Value, ts: &str) {
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let msg = format!("containers with unready status: [{}]", names.join(" "));
    let Some(conds) = pod
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in conds
        .iter_mut()
        .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
    {
        if c["status"] != "False" {
            *c = json!({"type": c["type"], "status": "False", "lastProbeTime": null,
                "lastTransitionTime": ts, "reason": "ContainersNotReady", "message": msg});
        }
    }
}

/// The kubelet's crash back-off: 10s doubling per restart, capped at 5 minutes.
fn backoff(restarts: i64) -> SignedDuration {
    let secs = 10i64.saturating_mul(1 << restarts.clamp(1, 6).saturating_sub(1));
    SignedDuration::from_secs(secs.min(300))
}
