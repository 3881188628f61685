//! The AnalysisRun controller, as Argo Rollouts' `analysis` package runs it: each metric
//! is measured at once (after `initialDelay`), then every `interval` until `count`; each
//! measurement's result is judged by `successCondition` / `failureCondition`; a metric
//! fails when `failed > failureLimit`, is inconclusive when `inconclusive >
//! inconclusiveLimit`, errs when `consecutiveError > consecutiveErrorLimit` (4); the run
//! takes the worst completed metric's phase and its message ("Metric "x" assessed Failed
//! due to failed (3) > failureLimit (2)"). Prometheus metrics are answered from the
//! simulator's own Prometheus history, the same the monitoring port serves.

pub mod condition;
pub mod measure;

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder};
use crate::metrics::History;
use crate::resources::{ANALYSISRUNS, def};
use crate::rollouts::parse_duration;
use crate::rollouts::replicasets::SOURCE;
use crate::store::{Change, ChangeType, WriteMode};

type Key = (String, String);

/// Argo's `DefaultConsecutiveErrorLimit`.
const CONSECUTIVE_ERROR_LIMIT: i64 = 4;
/// Argo's `DefaultErrorRetryInterval`: a measurement that erred is retried this soon.
const ERROR_RETRY: SignedDuration = SignedDuration::from_secs(10);
/// Argo's `DefaultMeasurementHistoryLimit`: measurements kept per metric.
const MEASUREMENTS_KEPT: usize = 10;

/// The AnalysisRun controller's queue and the Prometheus it asks.
#[derive(Default)]
pub struct AnalysisController {
    dirty: BTreeSet<Key>,
    /// Runs still running: looked at again as their measurements fall due.
    running: BTreeSet<Key>,
    history: Option<Arc<History>>,
}

impl AnalysisController {
    pub fn set_history(&mut self, history: Arc<History>) {
        self.history = Some(history);
    }

    pub fn observe(&mut self, c: &Change) {
        let m = &c.entry.meta;
        if m.def != ANALYSISRUNS {
            return;
        }
        let key = (m.namespace.to_string(), m.name.to_string());
        if c.ty == ChangeType::Deleted {
            self.running.remove(&key);
        } else {
            self.dirty.insert(key);
        }
    }

    /// Reconciles changed runs, and with `all` every running one (measurements are timed).
    pub fn tick(&mut self, shared: &Shared, rec: &mut Recorder, all: bool) {
        if all {
            self.dirty.extend(self.running.iter().cloned());
        }
        for key in std::mem::take(&mut self.dirty) {
            if reconcile(shared, rec, self.history.as_deref(), &key.0, &key.1) {
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

/// Whether a phase is final (Argo's `AnalysisPhase.Completed`).
pub fn completed(phase: &str) -> bool {
    matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive")
}

/// Worse first: Argo's `IsWorse` order.
fn rank(phase: &str) -> u8 {
    match phase {
        "Error" => 4,
        "Failed" => 3,
        "Inconclusive" => 2,
        "Successful" => 1,
        _ => 0,
    }
}

/// An int-or-string field (`count: 5`, `count: "5"`).
fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// One reconcile of one run; true while it is still running.
fn reconcile(
    shared: &Shared,
    rec: &mut Recorder,
    history: Option<&History>,
    ns: &str,
    name: &str,
) -> bool {
    let Some(e) = shared.store.get(def(ANALYSISRUNS), ns, name) else {
        return false;
    };
    let mut run = e.value();
    if e.meta.deleting || completed(run["status"]["phase"].as_str().unwrap_or("")) {
        return false;
    }
    let now = shared.clock.now();
    let before = run["status"].clone();
    step(shared, rec, history, &mut run, now);
    let running = !completed(run["status"]["phase"].as_str().unwrap_or(""));
    if run["status"] != before {
        let _ = shared.store.write(
            def(ANALYSISRUNS),
            &mut run,
            WriteMode::Update(Some(e.meta.rv)),
        );
    }
    running
}

/// Measures what is due and assesses the run, in `run["status"]`.
pub fn step(
    shared: &Shared,
    rec: &mut Recorder,
    history: Option<&History>,
    run: &mut Value,
    now: Timestamp,
) {
    if !run["status"].is_object() {
        run["status"] = json!({});
    }
    if run["status"]["startedAt"].as_str().is_none() {
        run["status"]["startedAt"] = json!(fmt_time(now));
    }
    let started = run["status"]["startedAt"]
        .as_str()
        .and_then(parse_time)
        .unwrap_or(now);
    let metrics: Vec<Value> = run["spec"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let args = measure::args(&run["spec"]["args"]);
    let mut results: Vec<Value> = run["status"]["metricResults"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let terminating = run["spec"]["terminate"] == json!(true)
        || results.iter().any(|r| {
            matches!(
                r["phase"].as_str(),
                Some("Failed" | "Error" | "Inconclusive")
            )
        });
    for metric in &metrics {
        let name = metric["name"].as_str().unwrap_or("");
        let at = results.iter().position(|r| r["name"] == name);
        if terminating || !due(metric, at.map(|i| &results[i]), started, now) {
            continue;
        }
        let m = measure::take(history, metric, &args, now);
        let i = at.unwrap_or_else(|| {
            results.push(json!({"name": name, "phase": "Running"}));
            results.len() - 1
        });
        record(&mut results[i], m);
    }
    let terminating = run["spec"]["terminate"] == json!(true)
        || results.iter().any(|r| {
            matches!(
                r["phase"].as_str(),
                Some("Failed" | "Error" | "Inconclusive")
            )
        });
    let (phase, message, summary) = assess(shared, rec, run, &metrics, &mut results, terminating);
    run["status"]["metricResults"] = json!(results);
    // Argo's RunSummary, zero counts omitted.
    let mut sum = serde_json::Map::new();
    for (k, n) in ["count", "successful", "failed", "inconclusive", "error"]
        .iter()
        .zip(summary)
    {
        if n > 0 {
            sum.insert((*k).to_owned(), json!(n));
        }
    }
    run["status"]["runSummary"] = Value::Object(sum);
    if run["status"]["phase"].as_str() != Some(phase) {
        run["status"]["phase"] = json!(phase);
        if message.is_empty() {
            if let Some(st) = run["status"].as_object_mut() {
                st.remove("message");
            }
        } else {
            run["status"]["message"] = json!(message);
        }
        if completed(phase) {
            run["status"]["completedAt"] = json!(fmt_time(now));
            rec.record(
                shared,
                NewEvent {
                    obj: run,
                    field_path: None,
                    reason: &format!("AnalysisRun{phase}"),
                    message: format!("Analysis Completed. Result: {phase}"),
                    warning: matches!(phase, "Failed" | "Error"),
                    source: SOURCE,
                },
            );
        }
    }
}

/// Whether a metric needs a measurement now (Argo's `generateMetricTasks`).
fn due(metric: &Value, result: Option<&Value>, started: Timestamp, now: Timestamp) -> bool {
    let last = result.and_then(|r| r["measurements"].as_array()?.last().cloned());
    let Some(last) = last else {
        let delay = metric
            .get("initialDelay")
            .and_then(parse_duration)
            .unwrap_or(SignedDuration::ZERO);
        return now >= started + delay;
    };
    let result = result.unwrap_or(&Value::Null);
    if completed(result["phase"].as_str().unwrap_or("")) {
        return false;
    }
    if let Some(count) = effective_count(metric)
        && result["count"].as_i64().unwrap_or(0) >= count
    {
        return false;
    }
    let interval = if last["phase"] == "Error" {
        ERROR_RETRY
    } else {
        match metric.get("interval").and_then(parse_duration) {
            Some(d) => d,
            None => ERROR_RETRY,
        }
    };
    let finished = last["finishedAt"].as_str().and_then(parse_time);
    finished.is_none_or(|f| now > f + interval)
}

/// Argo's `EffectiveCount`: `count`, else 1 without an interval, else unbounded.
fn effective_count(metric: &Value) -> Option<i64> {
    match metric.get("count").and_then(int).filter(|c| *c != 0) {
        Some(c) => Some(c),
        None if metric.get("interval").is_none_or(Value::is_null) => Some(1),
        None => None,
    }
}

/// Adds a measurement to a metric's result and its counters.
fn record(result: &mut Value, m: Value) {
    let bump = |r: &mut Value, k: &str| r[k] = json!(r[k].as_i64().unwrap_or(0) + 1);
    match m["phase"].as_str() {
        Some("Successful") => {
            bump(result, "successful");
            bump(result, "count");
            result["consecutiveError"] = json!(0);
        }
        Some("Failed") => {
            bump(result, "failed");
            bump(result, "count");
            result["consecutiveError"] = json!(0);
        }
        Some("Inconclusive") => {
            bump(result, "inconclusive");
            bump(result, "count");
            result["consecutiveError"] = json!(0);
        }
        _ => {
            bump(result, "error");
            bump(result, "consecutiveError");
        }
    }
    // Zero counters are omitted, as Go writes them.
    if let Some(o) = result.as_object_mut() {
        o.retain(|_, v| v != &json!(0));
    }
    let mut ms = result["measurements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ms.push(m);
    let extra = ms.len().saturating_sub(MEASUREMENTS_KEPT);
    ms.drain(..extra);
    result["measurements"] = json!(ms);
}

/// Argo's `assessMetricFailureInconclusiveOrError`.
fn limits(metric: &Value, result: &Value) -> Option<(&'static str, String)> {
    let n = |k: &str| result[k].as_i64().unwrap_or(0);
    let failure_limit = metric.get("failureLimit").and_then(int).unwrap_or(0);
    let inconclusive_limit = metric.get("inconclusiveLimit").and_then(int).unwrap_or(0);
    let error_limit = metric
        .get("consecutiveErrorLimit")
        .and_then(int)
        .unwrap_or(CONSECUTIVE_ERROR_LIMIT);
    let mut out = None;
    if failure_limit >= 0 && n("failed") > failure_limit {
        out = Some((
            "Failed",
            format!("failed ({}) > failureLimit ({failure_limit})", n("failed")),
        ));
    }
    if n("inconclusive") > inconclusive_limit {
        out = Some((
            "Inconclusive",
            format!(
                "inconclusive ({}) > inconclusiveLimit ({inconclusive_limit})",
                n("inconclusive")
            ),
        ));
    }
    if n("consecutiveError") > error_limit {
        out = Some((
            "Error",
            format!(
                "consecutiveErrors ({}) > consecutiveErrorLimit ({error_limit})",
                n("consecutiveError")
            ),
        ));
    }
    out
}

/// Argo's `assessMetricStatus`.
fn metric_phase(metric: &Value, result: &Value, terminating: bool) -> &'static str {
    match result["phase"].as_str() {
        Some(p) if completed(p) => {
            return match p {
                "Successful" => "Successful",
                "Failed" => "Failed",
                "Error" => "Error",
                _ => "Inconclusive",
            };
        }
        _ => {}
    }
    let measured = result["measurements"]
        .as_array()
        .is_some_and(|m| !m.is_empty());
    if !measured {
        return if terminating { "Successful" } else { "Pending" };
    }
    if let Some((phase, _)) = limits(metric, result) {
        return phase;
    }
    if let Some(count) = effective_count(metric)
        && result["count"].as_i64().unwrap_or(0) >= count
    {
        return "Successful";
    }
    if terminating { "Successful" } else { "Running" }
}

/// Argo's `assessRunStatus`: sets each metric's phase, returns the run's and its message.
fn assess(
    shared: &Shared,
    rec: &mut Recorder,
    run: &Value,
    metrics: &[Value],
    results: &mut [Value],
    terminating: bool,
) -> (&'static str, String, [i64; 5]) {
    let mut worst: Option<&'static str> = None;
    let mut message = if run["spec"]["terminate"] == json!(true) {
        "Run Terminated".to_owned()
    } else {
        String::new()
    };
    let mut everything_completed = true;
    let mut summary = [0i64; 5];
    for metric in metrics {
        let name = metric["name"].as_str().unwrap_or("");
        let Some(result) = results.iter_mut().find(|r| r["name"] == name) else {
            everything_completed = false;
            continue;
        };
        summary[0] += 1;
        let phase = metric_phase(metric, result, terminating);
        if result["phase"].as_str() != Some(phase) {
            if completed(phase) {
                rec.record(
                    shared,
                    NewEvent {
                        obj: run,
                        field_path: None,
                        reason: &format!("Metric{phase}"),
                        message: format!("Metric '{name}' Completed. Result: {phase}"),
                        warning: matches!(phase, "Failed" | "Error"),
                        source: SOURCE,
                    },
                );
            }
            let last_message = result["measurements"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["message"].as_str())
                .map(str::to_owned);
            match last_message {
                Some(m) => result["message"] = json!(m),
                None => {
                    if let Some(o) = result.as_object_mut() {
                        o.remove("message");
                    }
                }
            }
            result["phase"] = json!(phase);
        }
        if !completed(phase) {
            everything_completed = false;
            continue;
        }
        let why = limits(metric, result);
        if worst.is_none_or(|w| rank(phase) > rank(w)) {
            worst = Some(phase);
            if let Some((_, why)) = &why {
                message = format!("Metric \"{name}\" assessed {phase} due to {why}");
                if let Some(m) = result["message"].as_str().filter(|m| !m.is_empty()) {
                    message.push_str(&format!(": \"Error Message: {m}\""));
                }
            }
        }
        let slot = match why.map(|(p, _)| p) {
            Some("Error") => 4,
            Some("Failed") => 2,
            Some("Inconclusive") => 3,
            _ => 1,
        };
        summary[slot] += 1;
    }
    let message = message.trim().to_owned();
    if terminating {
        return (worst.unwrap_or("Successful"), message, summary);
    }
    match worst {
        Some(w) if everything_completed => (w, message, summary),
        _ => ("Running", String::new(), summary),
    }
}

#[cfg(test)]
mod tests;
