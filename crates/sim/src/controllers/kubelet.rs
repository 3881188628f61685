//! Scheduler and kubelet in one: binds new pods round robin to the simulated nodes, starts
//! their containers 1–2 simulated seconds later, marks them Ready once the readiness probe's
//! initialDelaySeconds has passed, and on deletion stops containers and removes the pod after
//! a short grace, all on the simulated clock and with the kubelet's events.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::resources::{PODS, def};
use crate::store::{Meta, WriteMode};

pub const NODES: &[&str] = &["k3s-node-1", "k3s-node-2", "k3s-node-3"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Stage {
    Bind,
    Start,
    Ready,
    /// A run-to-completion pod's containers exit (see `completion.rs`).
    Finish,
    Kill,
    Remove,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    due: Timestamp,
    seq: u64,
    stage: Stage,
    ns: String,
    name: String,
    uid: String,
}

/// Pending pod transitions, keyed by the simulated time they are due.
#[derive(Default)]
pub struct Kubelet {
    timers: BinaryHeap<Reverse<Timer>>,
    planned: HashMap<String, Stage>,
    seq: u64,
    next_node: usize,
    next_ip: u32,
}

fn hex(n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

fn node_ip(node: &str) -> String {
    let i = NODES.iter().position(|n| *n == node).unwrap_or(0);
    format!("192.168.10.{}", 11 + i)
}

fn readiness_delay(pod: &Value) -> Option<i64> {
    let cs = pod.pointer("/spec/containers").and_then(Value::as_array)?;
    cs.iter()
        .filter_map(|c| c.get("readinessProbe"))
        .map(|p| {
            p.get("initialDelaySeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        })
        .max()
}

fn condition(ty: &str, status: bool, t: &str) -> Value {
    json!({"type": ty, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": t})
}

fn set_cond(pod: &mut Value, ty: &str, status: bool, t: &str, reason: Option<(&str, String)>) {
    let Some(conds) = pod
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let want = if status { "True" } else { "False" };
    let mut c = condition(ty, status, t);
    if let Some((r, m)) = reason {
        c["reason"] = json!(r);
        c["message"] = json!(m);
    }
    match conds.iter_mut().find(|c| c["type"] == ty) {
        Some(old) if old["status"] == want => {}
        Some(old) => *old = c,
        None => conds.push(c),
    }
}

impl Kubelet {
    /// True while any transition is still planned.
    pub fn busy(&self) -> bool {
        !self.timers.is_empty()
    }

    fn plan(&mut self, stage: Stage, due: Timestamp, m: &Meta) {
        if self.planned.get(&*m.uid).is_some_and(|s| *s >= stage) {
            return;
        }
        self.planned.insert(m.uid.to_string(), stage);
        self.seq += 1;
        self.timers.push(Reverse(Timer {
            due,
            seq: self.seq,
            stage,
            ns: m.namespace.to_string(),
            name: m.name.to_string(),
            uid: m.uid.to_string(),
        }));
    }

    /// Looks at a pod after any change and plans its next transition.
    pub fn observe(&mut self, shared: &Shared, m: &Meta, deleted: bool) {
        if deleted {
            self.planned.remove(&*m.uid);
            return;
        }
        let now = shared.clock.now();
        let phase = m.field("status.phase");
        if m.deleting {
            let stage = if m.field("spec.nodeName").is_empty() {
                Stage::Remove
            } else {
                Stage::Kill
            };
            self.plan(stage, now, m);
        } else if m.field("spec.nodeName").is_empty() {
            self.plan(Stage::Bind, now, m);
        } else if phase == "Pending" {
            let delay = SignedDuration::from_millis(1000 + fastrand::i64(0..1000));
            self.plan(Stage::Start, now + delay, m);
        } else if phase == "Running"
            && matches!(m.field("spec.restartPolicy"), "Never" | "OnFailure")
        {
            let pod = shared
                .store
                .get(def(PODS), &m.namespace, &m.name)
                .map(|e| e.value());
            let Some(pod) = pod else { return };
            let started = pod
                .pointer("/status/containerStatuses/0/state/running/startedAt")
                .and_then(Value::as_str)
                .and_then(parse_time)
                .unwrap_or(now);
            let runs = crate::controllers::completion::run_time(&pod);
            self.plan(Stage::Finish, started + runs, m);
        } else if phase == "Running" && !m.ready {
            if self
                .planned
                .get(&*m.uid)
                .is_some_and(|s| *s >= Stage::Ready)
            {
                return;
            }
            // Ready once the probe delay after the container start has passed.
            let pod = shared
                .store
                .get(def(PODS), &m.namespace, &m.name)
                .map(|e| e.value());
            let started = pod
                .as_ref()
                .and_then(|p| p.pointer("/status/containerStatuses/0/state/running/startedAt"))
                .and_then(Value::as_str)
                .and_then(parse_time)
                .unwrap_or(now);
            let delay = pod.as_ref().and_then(readiness_delay).unwrap_or(0);
            self.plan(Stage::Ready, started + SignedDuration::from_secs(delay), m);
        }
    }

    /// Runs every transition that is due. Returns true when anything was written.
    pub fn run_due(&mut self, shared: &Shared, rec: &mut Recorder) -> bool {
        let now = shared.clock.now();
        let mut wrote = false;
        while self.timers.peek().is_some_and(|Reverse(t)| t.due <= now) {
            let Some(Reverse(t)) = self.timers.pop() else {
                break;
            };
            if self.planned.get(&t.uid) == Some(&t.stage) {
                self.planned.remove(&t.uid);
            }
            wrote |= self.fire(shared, rec, &t, now);
        }
        wrote
    }

    fn fire(&mut self, shared: &Shared, rec: &mut Recorder, t: &Timer, now: Timestamp) -> bool {
        let Some(e) = shared.store.get(def(PODS), &t.ns, &t.name) else {
            return false;
        };
        if *e.meta.uid != *t.uid {
            return false;
        }
        let mut pod = e.value();
        let ts = fmt_time(now);
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let names: Vec<String> = containers
            .iter()
            .map(|c| c["name"].as_str().unwrap_or("").to_string())
            .collect();
        let kubelet = Source {
            component: "kubelet",
            host: Some(&node),
        };
        let mut events: Vec<(Option<String>, &str, String, Source<'_>)> = Vec::new();
        match t.stage {
            Stage::Bind => {
                if !node.is_empty() || e.meta.deleting {
                    return false;
                }
                let n = NODES[self.next_node % NODES.len()];
                self.next_node += 1;
                pod["spec"]["nodeName"] = json!(n);
                pod["status"]["conditions"] = json!([condition("PodScheduled", true, &ts)]);
                let msg = format!("Successfully assigned {}/{} to {n}", t.ns, t.name);
                events.push((
                    None,
                    "Scheduled",
                    msg,
                    Source {
                        component: "default-scheduler",
                        host: None,
                    },
                ));
            }
            Stage::Start => {
                if node.is_empty() || e.meta.deleting || e.meta.field("status.phase") != "Pending" {
                    return false;
                }
                let no_probe = readiness_delay(&pod).is_none();
                self.next_ip += 1;
                let node_idx = NODES.iter().position(|n| *n == node).unwrap_or(0);
                let ip = format!("10.42.{}.{}", node_idx, 2 + self.next_ip % 250);
                let host_ip = node_ip(&node);
                let statuses: Vec<Value> = containers
                    .iter()
                    .map(|c| {
                        let image = c["image"].as_str().unwrap_or("");
                        let repo = image
                            .rsplit_once(':')
                            .filter(|(_, t)| !t.contains('/'))
                            .map_or(image, |(r, _)| r);
                        json!({
                            "containerID": format!("containerd://{}", hex(64)),
                            "image": image,
                            "imageID": format!("{repo}@sha256:{}", hex(64)),
                            "lastState": {},
                            "name": c["name"],
                            "ready": no_probe,
                            "restartCount": 0,
                            "started": true,
                            "state": {"running": {"startedAt": ts}},
                        })
                    })
                    .collect();
                let unready = format!("containers with unready status: [{}]", names.join(" "));
                pod["status"]["phase"] = json!("Running");
                pod["status"]["hostIP"] = json!(host_ip);
                pod["status"]["hostIPs"] = json!([{"ip": host_ip}]);
                pod["status"]["podIP"] = json!(ip);
                pod["status"]["podIPs"] = json!([{"ip": ip}]);
                pod["status"]["startTime"] = json!(ts);
                pod["status"]["containerStatuses"] = json!(statuses);
                let scheduled = pod
                    .pointer("/status/conditions/0/lastTransitionTime")
                    .cloned()
                    .unwrap_or(json!(ts));
                let reason = (!no_probe).then_some(("ContainersNotReady", unready));
                let mut conds = vec![
                    condition("PodReadyToStartContainers", true, &ts),
                    condition("Initialized", true, &ts),
                    condition("Ready", no_probe, &ts),
                    condition("ContainersReady", no_probe, &ts),
                    condition("PodScheduled", true, scheduled.as_str().unwrap_or(&ts)),
                ];
                if let Some((r, m)) = reason {
                    for c in conds.iter_mut().filter(|c| c["status"] == "False") {
                        c["reason"] = json!(r);
                        c["message"] = json!(m);
                    }
                }
                pod["status"]["conditions"] = json!(conds);
                for c in &containers {
                    let name = c["name"].as_str().unwrap_or("");
                    let fp = Some(format!("spec.containers{{{name}}}"));
                    let image = c["image"].as_str().unwrap_or("");
                    events.push((
                        fp.clone(),
                        "Pulled",
                        format!("Container image \"{image}\" already present on machine"),
                        kubelet,
                    ));
                    events.push((
                        fp.clone(),
                        "Created",
                        format!("Created container: {name}"),
                        kubelet,
                    ));
                    events.push((fp, "Started", format!("Started container {name}"), kubelet));
                }
            }
            Stage::Ready => {
                if e.meta.deleting || e.meta.ready || e.meta.field("status.phase") != "Running" {
                    return false;
                }
                // A crash-looping container never passes its readiness probe (issue 4).
                if shared.unhealthy.pod(&pod) {
                    return false;
                }
                set_cond(&mut pod, "Ready", true, &ts, None);
                set_cond(&mut pod, "ContainersReady", true, &ts, None);
                if let Some(cs) = pod
                    .pointer_mut("/status/containerStatuses")
                    .and_then(Value::as_array_mut)
                {
                    for c in cs {
                        c["ready"] = json!(true);
                    }
                }
            }
            Stage::Finish => {
                if e.meta.deleting || e.meta.field("status.phase") != "Running" {
                    return false;
                }
                let failed = shared.unhealthy.pod(&pod);
                if let Some((name, msg)) =
                    crate::controllers::completion::finish(&mut pod, &ts, failed)
                {
                    let fp = Some(format!("spec.containers{{{name}}}"));
                    events.push((fp, "Started", msg, kubelet));
                }
            }
            Stage::Kill => {
                if !e.meta.deleting {
                    return false;
                }
                let grace = pod
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30);
                let after =
                    SignedDuration::from_millis((1000 + fastrand::i64(0..1000)).min(grace * 1000));
                let m = (*e.meta).clone();
                for name in &names {
                    let fp = Some(format!("spec.containers{{{name}}}"));
                    events.push((fp, "Killing", format!("Stopping container {name}"), kubelet));
                }
                let unready = format!("containers with unready status: [{}]", names.join(" "));
                set_cond(
                    &mut pod,
                    "Ready",
                    false,
                    &ts,
                    Some(("ContainersNotReady", unready.clone())),
                );
                set_cond(
                    &mut pod,
                    "ContainersReady",
                    false,
                    &ts,
                    Some(("ContainersNotReady", unready)),
                );
                if let Some(cs) = pod
                    .pointer_mut("/status/containerStatuses")
                    .and_then(Value::as_array_mut)
                {
                    for c in cs {
                        c["ready"] = json!(false);
                    }
                }
                self.plan(Stage::Remove, now + after, &m);
            }
            Stage::Remove => {
                return shared
                    .store
                    .delete(def(PODS), &t.ns, &t.name, Some(&t.uid))
                    .is_ok();
            }
        }
        let wrote = shared
            .store
            .write(def(PODS), &mut pod, WriteMode::Update(Some(e.meta.rv)))
            .is_ok();
        if !wrote {
            // Lost a race with an API write: look again on the next change.
            self.planned.remove(&t.uid);
            return false;
        }
        for (fp, reason, message, source) in events {
            rec.record(
                shared,
                NewEvent {
                    obj: &pod,
                    field_path: fp,
                    reason,
                    message,
                    warning: false,
                    source,
                },
            );
        }
        true
    }
}
