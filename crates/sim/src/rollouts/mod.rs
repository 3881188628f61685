//! Argo Rollouts in the simulator: a controller for `argoproj.io/v1alpha1` Rollouts
//! (canary with Istio routing, analysis and experiments, blueGreen), the AnalysisRun and
//! Experiment controllers, a kubelet fault that crash-loops images whose
//! tag says "broken", and the demo's customer-adapter canary. The controller keeps its own
//! dirty set, fed from the store's change stream by `controllers::Controllers`, and
//! re-syncs every Rollout a few times a second so timed pauses end on the simulated clock.

pub mod analysis;
pub mod bluegreen;
pub mod canary;
pub mod canary_analysis;
pub mod crashloop;
pub mod experiment;
pub mod istio;
pub mod replicasets;
pub mod status;

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder};
use crate::resources::{ANALYSISRUNS, EXPERIMENTS, REPLICASETS, ROLLOUTS, def};
use crate::store::{Change, ChangeType, WriteMode};
use replicasets::{RsView, SCALE_DOWN_DEADLINE, SOURCE, scale};

type Key = (String, String);

/// The Rollouts controller's queue.
#[derive(Default)]
pub struct ArgoController {
    dirty: BTreeSet<Key>,
    ticks: u64,
    pub crashloop: crashloop::CrashLoop,
    /// AnalysisRuns and Experiments, run beside the Rollouts that create them.
    pub analysis: analysis::AnalysisController,
    experiments: experiment::ExperimentController,
}

impl ArgoController {
    /// Marks what a change concerns: the Rollout itself, or the owner of its ReplicaSet.
    pub fn observe(&mut self, shared: &Shared, c: &Change) {
        let m = &c.entry.meta;
        self.analysis.observe(c);
        self.experiments.observe(c);
        match m.def {
            ROLLOUTS if c.ty != ChangeType::Deleted => {
                self.dirty
                    .insert((m.namespace.to_string(), m.name.to_string()));
            }
            REPLICASETS => {
                if let Some(o) = &m.owner {
                    self.dirty.insert((m.namespace.to_string(), o.to_string()));
                }
            }
            // A run or experiment changed: the Rollout that owns it decides what follows.
            ANALYSISRUNS | EXPERIMENTS => {
                if let Some(o) = &m.owner {
                    self.dirty.insert((m.namespace.to_string(), o.to_string()));
                }
            }
            crate::resources::PODS => self.crashloop.observe(shared, c),
            _ => {}
        }
    }

    /// One round: crash-looping containers, dirty Rollouts, and every Rollout now and
    /// then (pause durations, scale-down delays and progress deadlines are timed).
    pub fn tick(&mut self, shared: &Shared, rec: &mut Recorder) {
        self.ticks += 1;
        self.crashloop.run_due(shared, rec);
        let all = self.ticks.is_multiple_of(8);
        self.analysis.tick(shared, rec, all);
        self.experiments.tick(shared, rec, all);
        if all {
            for e in shared.store.list(def(ROLLOUTS), None, |_| true).1 {
                self.dirty
                    .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
            }
        }
        for (ns, name) in std::mem::take(&mut self.dirty) {
            sync(shared, rec, &ns, &name);
        }
    }

    pub fn idle(&self) -> bool {
        self.dirty.is_empty()
            && self.crashloop.idle()
            && self.analysis.idle()
            && self.experiments.idle()
    }
}

/// Everything one sync of one Rollout works on.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub rec: &'a mut Recorder,
    pub ro: &'a Value,
    /// The status being built.
    pub st: &'a mut Value,
    pub rss: &'a mut Vec<RsView>,
    /// Index of the ReplicaSet of the current template.
    pub new: usize,
    pub now: Timestamp,
    pub replicas: i64,
    /// Why the controller aborts this sync (a failed analysis), for the condition.
    pub abort_message: Option<String>,
}

/// One sync of one Rollout. Writes ReplicaSets, routes and the Rollout's status.
pub fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) {
    let Some(e) = shared.store.get(def(ROLLOUTS), ns, name) else {
        return;
    };
    if e.meta.deleting {
        return;
    }
    let mut ro = e.value();
    let mut rss = replicasets::owned(shared, &ro);
    let Some(new) = replicasets::ensure_new(shared, rec, &ro, &mut rss) else {
        return;
    };
    let old = ro.get("status").cloned().filter(Value::is_object);
    let mut st = old.clone().unwrap_or_else(|| json!({}));
    let new_hash = rss[new].hash().to_string();
    if st["currentPodHash"].as_str() != Some(&new_hash) {
        // A new template: the steps start over and user requests are cleared.
        for k in [
            "pauseConditions",
            "controllerPause",
            "abort",
            "abortedAt",
            "promoteFull",
        ] {
            remove(&mut st, k);
        }
        if let Some(canary) = st["canary"].as_object_mut() {
            for k in [
                "currentStepAnalysisRunStatus",
                "currentBackgroundAnalysisRunStatus",
                "currentExperiment",
            ] {
                canary.remove(k);
            }
        }
        st["currentStepIndex"] = json!(0);
        st["currentPodHash"] = json!(new_hash);
    }
    let mut c = Ctx {
        shared,
        rec,
        ro: &ro,
        st: &mut st,
        rss: &mut rss,
        new,
        now: shared.clock.now(),
        replicas: ro["spec"]["replicas"].as_i64().unwrap_or(1).max(0),
        abort_message: None,
    };
    if ro
        .pointer("/spec/strategy/blueGreen")
        .is_some_and(Value::is_object)
    {
        remove(c.st, "currentStepIndex");
        bluegreen::reconcile(&mut c);
    } else {
        canary::reconcile(&mut c);
    }
    status::finish(&mut c, old.as_ref());
    if old.as_ref() != Some(&st) {
        ro["status"] = st;
        let _ = shared
            .store
            .write(def(ROLLOUTS), &mut ro, WriteMode::Update(Some(e.meta.rv)));
    }
}

/// Removes a status key (the controller's omitempty).
pub fn remove(st: &mut Value, k: &str) {
    if let Some(m) = st.as_object_mut() {
        m.remove(k);
    }
}

/// Records an event on the Rollout.
pub fn event(c: &mut Ctx, reason: &str, message: String, warning: bool) {
    c.rec.record(
        c.shared,
        NewEvent {
            obj: c.ro,
            field_path: None,
            reason,
            message,
            warning,
            source: SOURCE,
        },
    );
}

/// Scales every ReplicaSet not in `keep` to zero, `delay_secs` after it was superseded
/// (recorded in the `scale-down-deadline` annotation, as Argo does).
pub fn scale_down_others(c: &mut Ctx, keep: &[usize], delay_secs: i64) {
    for i in 0..c.rss.len() {
        if keep.contains(&i) || c.rss[i].spec() == 0 {
            continue;
        }
        if delay_secs > 0 {
            let deadline = c.rss[i]
                .annotation(SCALE_DOWN_DEADLINE)
                .and_then(parse_time);
            match deadline {
                None => {
                    let at = fmt_time(c.now + SignedDuration::from_secs(delay_secs));
                    replicasets::mark_scale_down(c.shared, &mut c.rss[i], &at);
                    continue;
                }
                Some(t) if c.now < t => continue,
                Some(_) => {}
            }
        }
        scale(c.shared, c.rec, c.ro, &mut c.rss[i], 0);
    }
}

/// `RolloutPause.DurationSeconds`: an integer (or integer string) is seconds, otherwise a
/// Go duration (`5m`, `1h30m`, `90s`); None when it cannot be read (pause indefinitely).
pub fn parse_duration(v: &Value) -> Option<SignedDuration> {
    if let Some(n) = v.as_i64() {
        return Some(SignedDuration::from_secs(n));
    }
    let s = v.as_str()?.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(SignedDuration::from_secs(n));
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    if s.is_empty() {
        return None;
    }
    while let Some(ch) = chars.next() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let mut unit = ch.to_string();
        if (ch == 'm' || ch == 'u' || ch == 'µ' || ch == 'n') && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(SignedDuration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_durations_read_like_argo() {
        let secs = |v: Value| parse_duration(&v).map(|d| d.as_secs());
        assert_eq!(secs(json!(10)), Some(10));
        assert_eq!(secs(json!("10")), Some(10));
        assert_eq!(secs(json!("5m")), Some(300));
        assert_eq!(secs(json!("1h30m")), Some(5400));
        assert_eq!(secs(json!("soon")), None);
        assert_eq!(secs(json!("")), None);
        assert_eq!(canary::targets(&[json!({"setWeight": 20})], 0, 5), (20, 1));
        let steps = [
            json!({"setWeight": 50}),
            json!({"setCanaryScale": {"replicas": 3}}),
        ];
        assert_eq!(canary::targets(&steps, 1, 5), (50, 3));
    }
}
