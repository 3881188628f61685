//! The controllers stepped on the simulated clock with Prometheus sampled every 15 s: a
//! canary's analysis step that passes, one that fails when the canary's version is marked
//! unhealthy and aborts the Rollout as Argo does, background analysis that runs beside the
//! steps and is terminated at promotion, and an experiment step.

use std::sync::Arc;

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::Shared;
use crate::controllers::Controllers;
use crate::metrics::{History, sample_now};
use crate::resources::{
    ANALYSISRUNS, ANALYSISTEMPLATES, EXPERIMENTS, NAMESPACES, PODS, REPLICASETS, ROLLOUTS, def,
};
use crate::scenario::rollouts::success_rate_template;
use crate::store::WriteMode;

const NS: &str = "shop";

struct World {
    shared: Arc<Shared>,
    ctl: Controllers,
    history: Arc<History>,
    last_sample_ms: i64,
    _tx: tokio::sync::watch::Sender<bool>,
}

impl World {
    fn new() -> World {
        let (shared, tx) = Shared::for_tests();
        let history = Arc::new(History::default());
        let mut ctl = Controllers::new(shared.clone());
        ctl.set_metrics(history.clone());
        let w = World {
            shared,
            ctl,
            history,
            last_sample_ms: 0,
            _tx: tx,
        };
        w.create(NAMESPACES, json!({"metadata": {"name": NS}}));
        w.create(ANALYSISTEMPLATES, success_rate_template(NS));
        w
    }

    fn create(&self, kind: usize, mut obj: Value) {
        let ns = (kind != NAMESPACES).then_some(NS);
        crate::api::admission::prepare_create(&self.shared, def(kind), ns, &mut obj).unwrap();
        self.shared
            .store
            .write(def(kind), &mut obj, WriteMode::Create)
            .unwrap();
    }

    /// Runs the controllers for `secs` simulated seconds, sampling as Prometheus does.
    fn run_for(&mut self, secs: i64) {
        for _ in 0..secs * 2 {
            self.ctl.drain();
            self.ctl.tick();
            self.ctl.drain();
            let now = self.shared.clock.now().as_millisecond();
            if now - self.last_sample_ms >= 15_000 {
                sample_now(&self.shared, &self.history);
                self.last_sample_ms = now;
            }
            self.shared.clock.advance(SignedDuration::from_millis(500));
        }
    }

    /// Runs until `done` holds for the Rollout (at most `secs`).
    fn run_until(&mut self, secs: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..secs {
            let ro = self.rollout();
            if done(&ro) {
                return ro;
            }
            self.run_for(1);
        }
        panic!("never {what}: {:#}", self.rollout()["status"]);
    }

    fn rollout(&self) -> Value {
        self.shared
            .store
            .get(def(ROLLOUTS), NS, "web")
            .unwrap()
            .value()
    }

    fn runs(&self) -> Vec<Value> {
        self.shared
            .store
            .list(def(ANALYSISRUNS), Some(NS), |_| true)
            .1
            .iter()
            .map(|e| e.value())
            .collect()
    }

    fn set_image(&self, tag: &str) {
        let e = self.shared.store.get(def(ROLLOUTS), NS, "web").unwrap();
        let mut ro = e.value();
        ro["spec"]["template"]["spec"]["containers"][0]["image"] = json!(format!("web:{tag}"));
        let mut ro =
            crate::api::admission::finish_update(def(ROLLOUTS), None, &e.value(), ro).unwrap();
        self.shared
            .store
            .write(def(ROLLOUTS), &mut ro, WriteMode::Update(Some(e.meta.rv)))
            .unwrap();
    }

    fn replicas_of(&self, hash: &str) -> i64 {
        self.shared
            .store
            .get(def(REPLICASETS), NS, &format!("web-{hash}"))
            .map_or(-1, |e| e.value()["spec"]["replicas"].as_i64().unwrap_or(0))
    }
}

fn step_analysis() -> Value {
    json!({"analysis": {
        "templates": [{"templateName": "success-rate"}],
        "args": [
            {"name": "service-name", "value": "web"},
            {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
        ],
    }})
}

/// Rollout `web` (3 replicas, app=web) at v1, fully rolled out, with `canary` as strategy.
fn rolled_out(w: &mut World, canary: Value) {
    w.create(
        ROLLOUTS,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "web:v1"}]}},
                "strategy": {"canary": canary}}}),
    );
    w.run_until(60, "rolled out", |r| r["status"]["phase"] == "Healthy");
}

#[test]
fn an_analysis_step_that_passes_lets_the_canary_go_on() {
    let mut w = World::new();
    rolled_out(
        &mut w,
        json!({"steps": [{"setWeight": 33}, step_analysis(), {"setWeight": 67}]}),
    );
    w.set_image("v2");
    let ro = w.run_until(30, "at the analysis step", |r| {
        r["status"]["currentStepIndex"] == 1
    });
    let hash = ro["status"]["currentPodHash"].as_str().unwrap().to_owned();
    let runs = w.runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    // Upstream's name and labels: <rollout>-<podhash>-<revision>-<step>.
    assert_eq!(run["metadata"]["name"], format!("web-{hash}-2-1"));
    assert_eq!(run["metadata"]["labels"]["rollout-type"], "Step");
    assert_eq!(run["metadata"]["labels"]["step-index"], "1");
    assert_eq!(
        run["metadata"]["labels"]["rollouts-pod-template-hash"],
        hash
    );
    assert_eq!(run["metadata"]["ownerReferences"][0]["kind"], "Rollout");
    assert_eq!(
        run["spec"]["args"][1],
        json!({"name": "canary-hash", "value": hash})
    );
    let ro = w.run_until(90, "fully promoted", |r| {
        r["status"]["stableRS"] == r["status"]["currentPodHash"]
    });
    assert_eq!(ro["status"]["phase"], "Healthy");
    let run = &w.runs()[0];
    let st = &run["status"];
    assert_eq!(st["phase"], "Successful", "{st:#}");
    let m = &st["metricResults"][0];
    assert_eq!(m["name"], "success-rate");
    assert_eq!(
        (m["count"].as_i64(), m["successful"].as_i64()),
        (Some(5), Some(5))
    );
    assert!(m.get("failed").is_none(), "zero counts are omitted: {m}");
    // A measurement before Prometheus first saw the new version has no data: an error,
    // retried, that does not count.
    let ms: Vec<&Value> = m["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["phase"] != "Error")
        .collect();
    assert_eq!(ms.len(), 5, "{m:#}");
    for x in ms {
        assert_eq!(x["phase"], "Successful");
        let v = x["value"].as_str().unwrap();
        let rate: f64 = v.trim_matches(['[', ']']).parse().unwrap();
        assert!(rate > 0.99, "{v}");
        assert!(x["startedAt"].is_string() && x["finishedAt"].is_string());
    }
    assert_eq!(st["runSummary"], json!({"count": 1, "successful": 1}));
}

#[test]
fn a_failing_analysis_aborts_the_rollout_as_argo_does() {
    let mut w = World::new();
    rolled_out(
        &mut w,
        json!({"steps": [{"setWeight": 33}, {"pause": {"duration": "60s"}}, step_analysis(),
            {"setWeight": 67}]}),
    );
    let stable = w.rollout()["status"]["stableRS"]
        .as_str()
        .unwrap()
        .to_owned();
    w.set_image("v2");
    let ro = w.run_until(30, "paused at 34%", |r| {
        r["status"]["currentStepIndex"] == 1
    });
    let hash = ro["status"]["currentPodHash"].as_str().unwrap().to_owned();
    assert_eq!(w.replicas_of(&hash), 1);
    // The canary's version goes bad during the pause.
    w.shared.unhealthy.set(vec!["v2".into()]);
    w.shared.unhealthy_changed.send_modify(|n| *n += 1);
    let ro = w.run_until(150, "aborted", |r| r["status"]["abort"] == true);
    let st = &ro["status"];
    let run = &w.runs()[0];
    assert_eq!(run["metadata"]["name"], format!("web-{hash}-2-2"));
    let rs = &run["status"];
    assert_eq!(rs["phase"], "Failed", "{rs:#}");
    let why = "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)";
    assert_eq!(rs["message"], why);
    let m = &rs["metricResults"][0];
    assert_eq!(m["phase"], "Failed");
    assert_eq!(
        (m["count"].as_i64(), m["failed"].as_i64()),
        (Some(3), Some(3))
    );
    for x in m["measurements"].as_array().unwrap() {
        assert_eq!(x["phase"], "Failed", "{x}");
        let rate: f64 = x["value"]
            .as_str()
            .unwrap()
            .trim_matches(['[', ']'])
            .parse()
            .unwrap();
        assert!(rate < 0.95, "{x}");
    }
    // The Rollout: abort, abortedAt, the condition naming the run's message, Degraded.
    assert!(st["abortedAt"].is_string());
    let cond = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(cond["status"], "False");
    assert_eq!(cond["reason"], "RolloutAborted");
    let message = format!(
        "Rollout aborted update to revision 2: Step-based analysis phase error/failed: {why}"
    );
    assert_eq!(cond["message"], message);
    assert_eq!(st["phase"], "Degraded");
    assert_eq!(st["message"], format!("RolloutAborted: {message}"));
    assert_eq!(
        st["canary"]["currentStepAnalysisRunStatus"]["status"],
        "Failed"
    );
    // The canary is scaled down, the stable keeps every replica.
    w.run_for(2);
    assert_eq!(w.replicas_of(&hash), 0);
    assert_eq!(w.replicas_of(&stable), 3);
    // Later syncs keep the first message (Argo sets the condition once).
    w.run_for(20);
    let later = w.rollout();
    assert_eq!(
        later["status"]["message"],
        format!("RolloutAborted: {message}")
    );
}

#[test]
fn background_analysis_runs_beside_the_steps_and_ends_at_promotion() {
    let mut w = World::new();
    let mut template = success_rate_template(NS);
    // Indefinite: measured every 10 s until the Rollout no longer needs it.
    template["metadata"]["name"] = json!("success-rate-forever");
    template["spec"]["metrics"][0]
        .as_object_mut()
        .unwrap()
        .remove("count");
    w.create(ANALYSISTEMPLATES, template);
    let mut background = step_analysis()["analysis"].clone();
    background["templates"][0]["templateName"] = json!("success-rate-forever");
    background["startingStep"] = json!(1);
    rolled_out(
        &mut w,
        json!({"analysis": background, "steps": [{"setWeight": 33}, {"pause": {}}]}),
    );
    w.set_image("v2");
    let ro = w.run_until(30, "paused", |r| r["status"]["phase"] == "Paused");
    let hash = ro["status"]["currentPodHash"].as_str().unwrap().to_owned();
    w.run_for(45);
    let runs = w.runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_eq!(run["metadata"]["name"], format!("web-{hash}-2"));
    assert_eq!(run["metadata"]["labels"]["rollout-type"], "Background");
    assert_eq!(run["status"]["phase"], "Running");
    let count = run["status"]["metricResults"][0]["count"].as_i64().unwrap();
    assert!(count >= 3, "{:#}", run["status"]);
    let ro = w.rollout();
    assert_eq!(
        ro["status"]["canary"]["currentBackgroundAnalysisRunStatus"]["name"],
        run["metadata"]["name"]
    );
    // Promote past the indefinite pause: the Rollout completes, the run is terminated.
    let e = w.shared.store.get(def(ROLLOUTS), NS, "web").unwrap();
    let mut v = e.value();
    v["status"]["pauseConditions"] = Value::Null;
    w.shared
        .store
        .write(def(ROLLOUTS), &mut v, WriteMode::Update(Some(e.meta.rv)))
        .unwrap();
    w.run_until(30, "promoted", |r| {
        r["status"]["stableRS"] == r["status"]["currentPodHash"]
    });
    w.run_for(2);
    let run = &w.runs()[0];
    assert_eq!(run["spec"]["terminate"], true);
    assert_eq!(run["status"]["phase"], "Successful");
    assert_eq!(run["status"]["message"], "Run Terminated");
}

#[test]
fn failing_background_analysis_aborts_with_its_message() {
    let mut w = World::new();
    let mut background = step_analysis()["analysis"].clone();
    background["startingStep"] = json!(1);
    rolled_out(
        &mut w,
        json!({"analysis": background, "steps": [{"setWeight": 33}, {"pause": {}}]}),
    );
    w.set_image("v2");
    w.run_until(30, "paused", |r| r["status"]["phase"] == "Paused");
    w.shared.unhealthy.set(vec!["v2".into()]);
    w.shared.unhealthy_changed.send_modify(|n| *n += 1);
    let ro = w.run_until(120, "aborted", |r| r["status"]["abort"] == true);
    let message = ro["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "RolloutAborted: Rollout aborted update to revision 2: Background analysis phase error/failed: Metric \"success-rate\" assessed Failed due to failed ("
        ),
        "{message}"
    );
}

#[test]
fn an_experiment_step_runs_its_replicasets_for_the_duration() {
    let mut w = World::new();
    rolled_out(
        &mut w,
        json!({"steps": [{"setWeight": 33}, {"experiment": {"duration": "30s", "templates": [
            {"name": "baseline", "specRef": "stable", "replicas": 1},
            {"name": "canary", "specRef": "canary", "replicas": 1}]}}, {"setWeight": 67}]}),
    );
    w.set_image("v2");
    let ro = w.run_until(30, "at the experiment", |r| {
        r["status"]["canary"]["currentExperiment"].is_string()
    });
    let hash = ro["status"]["currentPodHash"].as_str().unwrap().to_owned();
    let name = format!("web-{hash}-2-1");
    assert_eq!(ro["status"]["canary"]["currentExperiment"], name);
    w.run_for(10);
    let ex = w
        .shared
        .store
        .get(def(EXPERIMENTS), NS, &name)
        .unwrap()
        .value();
    assert_eq!(ex["status"]["phase"], "Running", "{:#}", ex["status"]);
    assert_eq!(ex["status"]["templateStatuses"][1]["availableReplicas"], 1);
    let rs = w
        .shared
        .store
        .get(def(REPLICASETS), NS, &format!("{name}-canary"))
        .unwrap()
        .value();
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Experiment");
    assert_eq!(
        rs["metadata"]["annotations"]["experiment.argoproj.io/template-name"],
        "canary"
    );
    let exp_pods = w
        .shared
        .store
        .list(def(PODS), Some(NS), |m| {
            m.owner.as_deref() == Some(&format!("{name}-canary"))
        })
        .1
        .len();
    assert_eq!(exp_pods, 1);
    let ro = w.run_until(60, "past the experiment", |r| {
        r["status"]["currentStepIndex"].as_u64() >= Some(2)
    });
    assert!(ro["status"]["canary"]["currentExperiment"].is_null());
    w.run_for(3);
    let ex = w
        .shared
        .store
        .get(def(EXPERIMENTS), NS, &name)
        .unwrap()
        .value();
    assert_eq!(ex["status"]["phase"], "Successful");
    assert_eq!(rs_replicas(&w, &format!("{name}-canary")), 0);
}

fn rs_replicas(w: &World, name: &str) -> i64 {
    w.shared
        .store
        .get(def(REPLICASETS), NS, name)
        .map_or(-1, |e| e.value()["spec"]["replicas"].as_i64().unwrap_or(0))
}
