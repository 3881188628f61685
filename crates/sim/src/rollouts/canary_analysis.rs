//! A canary's analysis as the Rollout controller drives it (Argo's `rollout/analysis.go`):
//! an `analysis` step creates an AnalysisRun named `<rollout>-<podhash>-<revision>-<step>`
//! and the step completes when it is Successful; background analysis
//! (`spec.strategy.canary.analysis`, from `startingStep`) runs as
//! `<rollout>-<podhash>-<revision>` beside the steps. A Failed or Error run aborts the
//! Rollout with the run's message; an Inconclusive one pauses it. Runs still going when
//! the Rollout is promoted, aborted or replaced are terminated (`spec.terminate`).

use serde_json::{Value, json};

use crate::api::admission::prepare_create;
use crate::resources::{ANALYSISRUNS, ANALYSISTEMPLATES, CLUSTERANALYSISTEMPLATES, def};
use crate::rollouts::analysis::completed;
use crate::rollouts::replicasets::{HASH, REVISION};
use crate::rollouts::{Ctx, event};
use crate::store::WriteMode;

pub const TYPE_LABEL: &str = "rollout-type";
pub const STEP_INDEX_LABEL: &str = "step-index";
const STEP_STATUS: &str = "currentStepAnalysisRunStatus";
const BACKGROUND_STATUS: &str = "currentBackgroundAnalysisRunStatus";
/// Argo's pause reason for an inconclusive run.
pub const INCONCLUSIVE: &str = "InconclusiveAnalysisRun";

/// What a run says to the Rollout.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Still measuring (or could not be created yet).
    Wait,
    Passed,
    /// Abort with this message.
    Abort(String),
    /// Pause until the user decides (inconclusive).
    Pause,
}

/// The analysis step at `idx`.
pub fn step(c: &mut Ctx, analysis: &Value, idx: usize) -> Gate {
    let run = current(c, STEP_STATUS, |r| {
        r["metadata"]["labels"][STEP_INDEX_LABEL] == json!(idx.to_string())
    })
    .or_else(|| create(c, analysis, Some(idx)));
    let Some(run) = run else {
        return Gate::Wait;
    };
    remember(c, STEP_STATUS, &run);
    gate(&run, "Step-based analysis phase error/failed")
}

/// Background analysis, once the steps reached `startingStep`; Passed when there is none.
pub fn background(c: &mut Ctx, idx: usize) -> Gate {
    let spec = c.ro["spec"]["strategy"]["canary"]["analysis"].clone();
    let has_templates = spec["templates"].as_array().is_some_and(|t| !t.is_empty());
    let starting = spec["startingStep"].as_u64().unwrap_or(0) as usize;
    if !has_templates || idx < starting {
        return Gate::Passed;
    }
    let run = current(c, BACKGROUND_STATUS, |r| {
        r["metadata"]["labels"][TYPE_LABEL] == "Background"
    })
    .or_else(|| create(c, &spec, None));
    let Some(run) = run else {
        return Gate::Wait;
    };
    remember(c, BACKGROUND_STATUS, &run);
    match gate(&run, "Background analysis phase error/failed") {
        // A background run that ends well says nothing about the steps.
        Gate::Passed => Gate::Wait,
        g => g,
    }
}

fn gate(run: &Value, what: &str) -> Gate {
    let st = &run["status"];
    match st["phase"].as_str().unwrap_or("") {
        "Successful" => Gate::Passed,
        "Inconclusive" => Gate::Pause,
        "Failed" | "Error" => {
            let mut message = what.to_owned();
            if let Some(m) = st["message"].as_str().filter(|m| !m.is_empty()) {
                message = format!("{message}: {m}");
            }
            Gate::Abort(message)
        }
        _ => Gate::Wait,
    }
}

/// The run the status names, if it still exists and is for this template and step. An
/// inconclusive one the user promoted past (the controller's pause without its
/// condition) is done with: a new run starts, as Argo's `needsNewAnalysisRun` has it.
fn current(c: &mut Ctx, key: &str, fits: impl Fn(&Value) -> bool) -> Option<Value> {
    let name = c.st["canary"][key]["name"].as_str()?;
    let ns = c.ro["metadata"]["namespace"].as_str().unwrap_or("");
    let run = c.shared.store.get(def(ANALYSISRUNS), ns, name)?.value();
    let hash = c.rss[c.new].hash();
    if run["metadata"]["labels"][HASH] != hash || !fits(&run) {
        return None;
    }
    let resumed = c.st["controllerPause"] == json!(true)
        && c.st["pauseConditions"].as_array().is_none_or(Vec::is_empty);
    if resumed && run["status"]["phase"] == "Inconclusive" {
        crate::rollouts::remove(c.st, "controllerPause");
        return None;
    }
    Some(run)
}

fn remember(c: &mut Ctx, key: &str, run: &Value) {
    if !c.st["canary"].is_object() {
        c.st["canary"] = json!({});
    }
    let mut s = json!({
        "name": run["metadata"]["name"],
        "status": run["status"]["phase"].as_str().unwrap_or(""),
    });
    if let Some(m) = run["status"]["message"].as_str() {
        s["message"] = json!(m);
    }
    c.st["canary"][key] = s;
}

/// Forgets the step run (the step moved on) or every run (aborted, promoted).
pub fn forget(c: &mut Ctx, step_too: bool, background_too: bool) {
    if let Some(m) = c.st["canary"].as_object_mut() {
        if step_too {
            m.remove(STEP_STATUS);
        }
        if background_too {
            m.remove(BACKGROUND_STATUS);
        }
    }
}

/// Terminates the Rollout's runs that are still going, except `keep` (Argo's
/// `cancelAnalysisRuns`: `{"spec":{"terminate":true}}`).
pub fn terminate_others(c: &mut Ctx, keep: &[&str]) {
    let ns = c.ro["metadata"]["namespace"].as_str().unwrap_or("");
    let name = c.ro["metadata"]["name"].as_str().unwrap_or("");
    let uid = &c.ro["metadata"]["uid"];
    let (_, runs) = c.shared.store.list(def(ANALYSISRUNS), Some(ns), |m| {
        m.owner.as_deref() == Some(name)
    });
    for e in runs {
        let mut run = e.value();
        let owned = run["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["uid"] == *uid));
        let done = completed(run["status"]["phase"].as_str().unwrap_or(""));
        if !owned
            || done
            || run["spec"]["terminate"] == json!(true)
            || keep.contains(&&*e.meta.name)
        {
            continue;
        }
        run["spec"]["terminate"] = json!(true);
        let _ = c.shared.store.write(
            def(ANALYSISRUNS),
            &mut run,
            WriteMode::Update(Some(e.meta.rv)),
        );
    }
}

/// The names of the runs the status calls current.
pub fn current_names(st: &Value) -> Vec<String> {
    [STEP_STATUS, BACKGROUND_STATUS]
        .iter()
        .filter_map(|k| st["canary"][k]["name"].as_str().map(str::to_owned))
        .collect()
}

/// Creates the run of `analysis` (a step's or the background's); None when a template
/// is missing (an event says which) or the store refuses.
fn create(c: &mut Ctx, analysis: &Value, step: Option<usize>) -> Option<Value> {
    let ns = c.ro["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let ro_name = c.ro["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let (metrics, mut args) = match templates(c, &ns, analysis) {
        Ok(t) => t,
        Err(why) => {
            event(c, "AnalysisRunError", why, true);
            return None;
        }
    };
    for a in analysis["args"].as_array().into_iter().flatten() {
        let Some(name) = a["name"].as_str() else {
            continue;
        };
        let value = resolve_arg(c, a);
        match args.iter_mut().find(|x| x["name"] == name) {
            Some(x) => *x = json!({"name": name, "value": value}),
            None => args.push(json!({"name": name, "value": value})),
        }
    }
    let hash = c.rss[c.new].hash().to_owned();
    let revision = c.rss[c.new].revision().to_string();
    let mut labels = c.ro["spec"]["selector"]["matchLabels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels[HASH] = json!(hash);
    let mut base = format!("{ro_name}-{hash}-{revision}");
    match step {
        Some(i) => {
            labels[TYPE_LABEL] = json!("Step");
            labels[STEP_INDEX_LABEL] = json!(i.to_string());
            base = format!("{base}-{i}");
        }
        None => labels[TYPE_LABEL] = json!("Background"),
    }
    // Argo's CreateWithCollisionCounter: `<name>.<n>` when the name is taken (a retry).
    let name = (0..100)
        .map(|n| {
            if n == 0 {
                base.clone()
            } else {
                format!("{base}.{n}")
            }
        })
        .find(|n| c.shared.store.get(def(ANALYSISRUNS), &ns, n).is_none())?;
    let mut run = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {REVISION: revision},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "name": ro_name, "uid": c.ro["metadata"]["uid"], "controller": true,
                "blockOwnerDeletion": true}],
        },
        "spec": {"metrics": metrics, "args": args},
    });
    prepare_create(c.shared, def(ANALYSISRUNS), Some(&ns), &mut run).ok()?;
    let e = c
        .shared
        .store
        .write(def(ANALYSISRUNS), &mut run, WriteMode::Create)
        .ok()?;
    let what = match step {
        Some(i) => format!("for step '{i}'"),
        None => "in the background".to_owned(),
    };
    event(
        c,
        "AnalysisRunCreated",
        format!("Created AnalysisRun '{}' {what}", e.meta.name),
        false,
    );
    Some(e.value())
}

/// The metrics and declared args of the referenced templates, merged in order.
fn templates(c: &Ctx, ns: &str, analysis: &Value) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut metrics = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    for t in analysis["templates"].as_array().into_iter().flatten() {
        let name = t["templateName"].as_str().unwrap_or("");
        let cluster = t["clusterScope"] == json!(true);
        let found = if cluster {
            c.shared.store.get(def(CLUSTERANALYSISTEMPLATES), "", name)
        } else {
            c.shared.store.get(def(ANALYSISTEMPLATES), ns, name)
        };
        let Some(e) = found else {
            let kind = if cluster {
                "clusteranalysistemplate"
            } else {
                "analysistemplate"
            };
            return Err(format!("{kind}.argoproj.io \"{name}\" not found"));
        };
        let spec = e.value()["spec"].clone();
        metrics.extend(spec["metrics"].as_array().cloned().unwrap_or_default());
        for a in spec["args"].as_array().into_iter().flatten() {
            if !args.iter().any(|x| x["name"] == a["name"]) {
                args.push(a.clone());
            }
        }
    }
    Ok((metrics, args))
}

/// An argument's value: given, or from the pod-template hash or the Rollout's metadata.
fn resolve_arg(c: &Ctx, arg: &Value) -> String {
    if let Some(v) = arg["value"].as_str() {
        return v.to_owned();
    }
    let from = &arg["valueFrom"];
    match from["podTemplateHashValue"].as_str() {
        Some("Latest") => return c.rss[c.new].hash().to_owned(),
        Some("Stable") => return c.st["stableRS"].as_str().unwrap_or("").to_owned(),
        _ => {}
    }
    let path = from["fieldRef"]["fieldPath"].as_str().unwrap_or("");
    let ptr = format!("/{}", path.replace('.', "/"));
    c.ro.pointer(&ptr)
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .unwrap_or_default()
}
