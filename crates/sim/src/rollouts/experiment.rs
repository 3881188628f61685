//! Experiments, as Argo Rollouts runs them: a canary's `experiment` step creates an
//! Experiment named `<rollout>-<podhash>-<revision>-<step>` whose templates copy the
//! stable or canary pod template (`specRef`); the Experiment controller runs one
//! ReplicaSet per template (`<experiment>-<template>`, its own pod-template hash, the
//! `experiment.argoproj.io/*` annotations), and once all are available counts down
//! `duration`, then completes (Successful) and scales them to zero. The step completes
//! when the Experiment is Successful.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::deployment_util::set_condition;
use crate::controllers::events::Recorder;
use crate::objects::template_hash;
use crate::resources::{EXPERIMENTS, REPLICASETS, def};
use crate::rollouts::analysis::completed;
use crate::rollouts::canary_analysis::Gate;
use crate::rollouts::replicasets::{HASH, REVISION, RsView, scale};
use crate::rollouts::{Ctx, event, parse_duration};
use crate::store::{Change, ChangeType, WriteMode};

pub const NAME_ANNOTATION: &str = "experiment.argoproj.io/name";
pub const TEMPLATE_ANNOTATION: &str = "experiment.argoproj.io/template-name";
/// Argo's pause reason for an inconclusive experiment.
const INCONCLUSIVE: &str = "InconclusiveExperiment";

type Key = (String, String);

/// The experiment step at `idx`.
pub fn step(c: &mut Ctx, experiment: &Value, idx: usize) -> Gate {
    let ns = c.ro["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let ro_name = c.ro["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let hash = c.rss[c.new].hash().to_owned();
    let revision = c.rss[c.new].revision().to_string();
    let name = format!("{ro_name}-{hash}-{revision}-{idx}");
    let ex = match c.shared.store.get(def(EXPERIMENTS), &ns, &name) {
        Some(e) => e.value(),
        None => match create(c, experiment, &name, &ns, &ro_name, &hash, &revision) {
            Some(e) => e,
            None => return Gate::Wait,
        },
    };
    if !c.st["canary"].is_object() {
        c.st["canary"] = json!({});
    }
    let st = &ex["status"];
    match st["phase"].as_str().unwrap_or("") {
        "Successful" => {
            forget(c);
            Gate::Passed
        }
        "Inconclusive" => Gate::Pause,
        "Failed" | "Error" => {
            let mut message = "Experiment analysis phase is error/failed".to_owned();
            if let Some(m) = st["message"].as_str().filter(|m| !m.is_empty()) {
                message = format!("{message}: {m}");
            }
            Gate::Abort(message)
        }
        _ => {
            c.st["canary"]["currentExperiment"] = json!(name);
            Gate::Wait
        }
    }
}

/// The pause reason an inconclusive experiment leaves.
pub fn inconclusive_reason() -> &'static str {
    INCONCLUSIVE
}

/// The step is over (or the Rollout aborted): no current experiment.
pub fn forget(c: &mut Ctx) {
    if let Some(m) = c.st["canary"].as_object_mut() {
        m.remove("currentExperiment");
    }
}

/// Terminates the Rollout's running experiments (abort, promote, a new template).
pub fn terminate_all(c: &mut Ctx) {
    let ns = c.ro["metadata"]["namespace"].as_str().unwrap_or("");
    let name = c.ro["metadata"]["name"].as_str().unwrap_or("");
    let (_, exs) = c.shared.store.list(def(EXPERIMENTS), Some(ns), |m| {
        m.owner.as_deref() == Some(name)
    });
    for e in exs {
        let mut ex = e.value();
        if completed(ex["status"]["phase"].as_str().unwrap_or(""))
            || ex["spec"]["terminate"] == json!(true)
        {
            continue;
        }
        ex["spec"]["terminate"] = json!(true);
        let _ = c.shared.store.write(
            def(EXPERIMENTS),
            &mut ex,
            WriteMode::Update(Some(e.meta.rv)),
        );
    }
}

fn create(
    c: &mut Ctx,
    step: &Value,
    name: &str,
    ns: &str,
    ro_name: &str,
    hash: &str,
    revision: &str,
) -> Option<Value> {
    let stable = c.st["stableRS"].as_str().unwrap_or("");
    let stable_rs = c.rss.iter().find(|r| r.hash() == stable)?;
    let mut templates = Vec::new();
    for t in step["templates"].as_array().into_iter().flatten() {
        let rs = if t["specRef"] == "stable" {
            stable_rs
        } else {
            &c.rss[c.new]
        };
        let mut template = rs.v["spec"]["template"].clone();
        let mut selector = rs.v["spec"]["selector"].clone();
        for (k, v) in t["metadata"]["labels"].as_object().into_iter().flatten() {
            template["metadata"]["labels"][k] = v.clone();
            selector["matchLabels"][k] = v.clone();
        }
        templates.push(json!({
            "name": t["name"],
            "replicas": t["replicas"].as_i64().unwrap_or(1),
            "selector": selector,
            "template": template,
        }));
    }
    let mut labels = c.ro["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels[HASH] = json!(hash);
    let mut ex = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {REVISION: revision},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "name": ro_name, "uid": c.ro["metadata"]["uid"], "controller": true,
                "blockOwnerDeletion": true}],
        },
        "spec": {"templates": templates},
    });
    if let Some(d) = step.get("duration") {
        ex["spec"]["duration"] = d.clone();
    }
    if let Some(p) = c.ro["spec"].get("progressDeadlineSeconds") {
        ex["spec"]["progressDeadlineSeconds"] = p.clone();
    }
    prepare_create(c.shared, def(EXPERIMENTS), Some(ns), &mut ex).ok()?;
    let e = c
        .shared
        .store
        .write(def(EXPERIMENTS), &mut ex, WriteMode::Create)
        .ok()?;
    event(
        c,
        "ExperimentCreated",
        format!("Created Experiment '{}'", e.meta.name),
        false,
    );
    Some(e.value())
}

/// The Experiment controller's queue.
#[derive(Default)]
pub struct ExperimentController {
    dirty: BTreeSet<Key>,
    running: BTreeSet<Key>,
}

impl ExperimentController {
    pub fn observe(&mut self, c: &Change) {
        let m = &c.entry.meta;
        let key = |owner: &str| (m.namespace.to_string(), owner.to_string());
        match m.def {
            EXPERIMENTS if c.ty == ChangeType::Deleted => {
                self.running.remove(&key(&m.name));
            }
            EXPERIMENTS => {
                self.dirty.insert(key(&m.name));
            }
            REPLICASETS => {
                if let Some(o) = &m.owner {
                    self.dirty.insert(key(o));
                }
            }
            _ => {}
        }
    }

    pub fn tick(&mut self, shared: &Shared, rec: &mut Recorder, all: bool) {
        if all {
            self.dirty.extend(self.running.iter().cloned());
        }
        for key in std::mem::take(&mut self.dirty) {
            if sync(shared, rec, &key.0, &key.1) {
                self.running.insert(key);
            } else {
                self.running.remove(&key);
            }
        }
    }

    pub fn idle(&self) -> bool {
        self.dirty.is_empty()
    }
}

/// One sync of one Experiment; true while it runs.
fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) -> bool {
    let Some(e) = shared.store.get(def(EXPERIMENTS), ns, name) else {
        return false;
    };
    if e.meta.deleting {
        return false;
    }
    let mut ex = e.value();
    let now = shared.clock.now();
    let before = ex["status"].clone();
    if !ex["status"].is_object() {
        ex["status"] = json!({"phase": "Pending"});
    }
    let done = completed(ex["status"]["phase"].as_str().unwrap_or(""));
    let templates: Vec<Value> = ex["spec"]["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut statuses = Vec::new();
    let mut all_available = true;
    for t in &templates {
        let want = if done {
            0
        } else {
            t["replicas"].as_i64().unwrap_or(1).max(0)
        };
        let Some(mut rs) = ensure_rs(shared, &ex, t) else {
            all_available = false;
            continue;
        };
        scale(shared, rec, &ex, &mut rs, want);
        let available = rs.available();
        all_available &= available >= want;
        statuses.push(json!({
            "name": t["name"],
            "replicas": rs.int("/status/replicas"),
            "updatedReplicas": rs.int("/status/replicas"),
            "readyReplicas": rs.int("/status/readyReplicas"),
            "availableReplicas": available,
            "status": if done { "Successful" } else if available >= want { "Running" } else { "Progressing" },
            "lastTransitionTime": fmt_time(now),
        }));
    }
    keep_transition_times(&before, &mut statuses);
    ex["status"]["templateStatuses"] = json!(statuses);
    if !done {
        advance(&mut ex, all_available, now);
    }
    let running = !completed(ex["status"]["phase"].as_str().unwrap_or(""));
    if ex["status"] != before {
        let _ = shared.store.write(
            def(EXPERIMENTS),
            &mut ex,
            WriteMode::Update(Some(e.meta.rv)),
        );
    }
    // A completed experiment is synced once more, to scale its ReplicaSets down.
    running || !done
}

/// Phase, availability and the Progressing condition of a running experiment.
fn advance(ex: &mut Value, all_available: bool, now: Timestamp) {
    let name = ex["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let mut conds: Vec<Value> = ex["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if all_available && ex["status"]["availableAt"].is_null() {
        ex["status"]["availableAt"] = json!(fmt_time(now));
    }
    let available_at = ex["status"]["availableAt"].as_str().and_then(parse_time);
    let duration_over = ex["spec"]
        .get("duration")
        .and_then(parse_duration)
        .zip(available_at)
        .is_some_and(|(d, at)| now >= at + d);
    if duration_over || ex["spec"]["terminate"] == json!(true) {
        ex["status"]["phase"] = json!("Successful");
        set_condition(
            &mut conds,
            "Progressing",
            "False",
            "ExperimentCompleted",
            format!("Experiment \"{name}\" has successfully ran and completed."),
            now,
            false,
        );
    } else if available_at.is_some() {
        ex["status"]["phase"] = json!("Running");
        set_condition(
            &mut conds,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            format!("Experiment \"{name}\" is running."),
            now,
            false,
        );
    } else {
        ex["status"]["phase"] = json!("Pending");
        set_condition(
            &mut conds,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            format!("Experiment \"{name}\" is progressing."),
            now,
            false,
        );
    }
    ex["status"]["conditions"] = json!(conds);
}

/// A template status keeps its transition time while its status stays.
fn keep_transition_times(before: &Value, statuses: &mut [Value]) {
    for s in statuses {
        let old = before["templateStatuses"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["name"] == s["name"]));
        if let Some(old) = old.filter(|o| o["status"] == s["status"]) {
            s["lastTransitionTime"] = old["lastTransitionTime"].clone();
        }
    }
}

/// The ReplicaSet of one template, created at size 0 when missing.
fn ensure_rs(shared: &Shared, ex: &Value, t: &Value) -> Option<RsView> {
    let ns = ex["metadata"]["namespace"].as_str().unwrap_or("");
    let ex_name = ex["metadata"]["name"].as_str().unwrap_or("");
    let t_name = t["name"].as_str().unwrap_or("");
    let name = format!("{ex_name}-{t_name}");
    if let Some(e) = shared.store.get(def(REPLICASETS), ns, &name) {
        return Some(RsView {
            v: e.value(),
            entry: e,
        });
    }
    let mut template = t["template"].clone();
    if let Some(l) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove(HASH);
    }
    let hash = template_hash(&template, 0);
    template["metadata"]["labels"][HASH] = json!(hash);
    let mut selector = t["selector"].clone();
    selector["matchLabels"][HASH] = json!(hash);
    let mut rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "labels": template["metadata"]["labels"].clone(),
            "annotations": {NAME_ANNOTATION: ex_name, TEMPLATE_ANNOTATION: t_name},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment",
                "name": ex_name, "uid": ex["metadata"]["uid"], "controller": true,
                "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
    });
    prepare_create(shared, def(REPLICASETS), Some(ns), &mut rs).ok()?;
    let e = shared
        .store
        .write(def(REPLICASETS), &mut rs, WriteMode::Create)
        .ok()?;
    Some(RsView {
        v: e.value(),
        entry: e,
    })
}
