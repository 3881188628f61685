//! The demo's Argo Rollouts objects: customer-adapter in dictamesh-prod as the seed's
//! canary (3 replicas, 20% → pause 5m → analysis of the canary's success rate → 50% →
//! pause 5m → 80% → pause 5m, Istio VirtualService customer-adapter-vsvc), the
//! AnalysisTemplate `success-rate` it runs, its canary/stable Services, a history
//! (v1.1.3, then v1.1.4) and, at start, v1.2.0 in flight, paused at step 1.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::{finish_update, prepare_create};
use crate::controllers::Controllers;
use crate::resources::{ANALYSISTEMPLATES, ROLLOUTS, ResourceDef, SERVICES, VIRTUALSERVICES, def};
use crate::store::WriteMode;

pub const NAME: &str = "customer-adapter";
/// The seed's environment table runs prod at 3 replicas per service (its Rollout
/// snippet says 5; the table is what the environments are held to).
pub const REPLICAS: i64 = 3;
/// The AnalysisTemplate the canary's analysis step runs.
pub const SUCCESS_RATE: &str = "success-rate";

/// `success-rate`: the share of the canary version's requests that are not 5xx, over the
/// last minute, every 10 s, 5 times; at least 95 %, at most 2 failed measurements. The
/// address is what a cluster's Prometheus would be; the simulator answers the query from
/// its own Prometheus history (the monitoring port's).
pub fn success_rate_template(ns: &str) -> Value {
    let matchers = format!(
        "namespace=\"{ns}\",service=\"{{{{args.service-name}}}}\",rollouts_pod_template_hash=\"{{{{args.canary-hash}}}}\""
    );
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": SUCCESS_RATE},
        "spec": {
            "args": [{"name": "service-name"}, {"name": "canary-hash"}],
            "metrics": [{
                "name": SUCCESS_RATE,
                "interval": "10s",
                "count": 5,
                "successCondition": "result[0] >= 0.95",
                "failureLimit": 2,
                "provider": {"prometheus": {
                    "address": "http://prometheus.monitoring.svc:9090",
                    "query": format!(
                        "sum(rate(http_requests_total{{{matchers},code!~\"5..\"}}[1m])) /\nsum(rate(http_requests_total{{{matchers}}}[1m]))\n"
                    ),
                }},
            }],
        },
    })
}

/// The canary step that gates 50 % on the canary's success rate.
fn analysis_step(name: &str) -> Value {
    json!({"analysis": {
        "templates": [{"templateName": SUCCESS_RATE}],
        "args": [
            {"name": "service-name", "value": name},
            {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
        ],
    }})
}

fn create(shared: &Shared, d: &ResourceDef, ns: &str, mut obj: Value) {
    if prepare_create(shared, d, Some(ns), &mut obj).is_ok() {
        let _ = shared.store.write(d, &mut obj, WriteMode::Create);
    }
}

/// The seed's canary Rollout for a service, with the template a Deployment would have.
pub fn canary_rollout(name: &str, deployment: &Value) -> Value {
    let mut template = deployment["spec"]["template"].clone();
    template["metadata"]["creationTimestamp"] = Value::Null;
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "labels": deployment["metadata"]["labels"]},
        "spec": {
            "replicas": REPLICAS,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": deployment["spec"]["selector"],
            "template": template,
            "strategy": {"canary": {
                "canaryService": format!("{name}-canary"),
                "stableService": format!("{name}-stable"),
                "steps": [
                    {"setWeight": 20}, {"pause": {"duration": "5m"}}, analysis_step(name),
                    {"setWeight": 50}, {"pause": {"duration": "5m"}},
                    {"setWeight": 80}, {"pause": {"duration": "5m"}},
                ],
                "trafficRouting": {"istio": {"virtualService": {
                    "name": format!("{name}-vsvc"), "routes": ["primary"]}}},
            }},
        },
    })
}

/// Creates the Rollout, its canary/stable Services and the VirtualService, with a past:
/// v1.1.3 a week before now (the scenario clock), then the deployment's tag (promoted in
/// full, as a release long done).
pub fn create_canary(shared: &Shared, ctl: &mut Controllers, ns: &str, deployment: &Value) {
    let labels = deployment["metadata"]["labels"].clone();
    create(
        shared,
        def(ANALYSISTEMPLATES),
        ns,
        success_rate_template(ns),
    );
    for suffix in ["canary", "stable"] {
        create(
            shared,
            def(SERVICES),
            ns,
            json!({"metadata": {"name": format!("{NAME}-{suffix}"), "labels": labels},
                   "spec": {"selector": {"app": NAME}, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}}),
        );
    }
    create(
        shared,
        def(VIRTUALSERVICES),
        ns,
        json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
               "metadata": {"name": format!("{NAME}-vsvc"), "labels": labels},
               "spec": {"hosts": [NAME], "http": [{"name": "primary", "route": [
                   {"destination": {"host": format!("{NAME}-stable")}, "weight": 100},
                   {"destination": {"host": format!("{NAME}-canary")}, "weight": 0}]}]}}),
    );
    let released = shared.clock.now();
    let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let tag = image
        .rsplit_once(':')
        .map_or("latest", |(_, t)| t)
        .to_string();
    let mut first = canary_rollout(NAME, deployment);
    first["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!(format!("ghcr.io/controle-digital/{NAME}:v1.1.3"));
    shared
        .clock
        .set(released - SignedDuration::from_hours(24 * 7));
    create(shared, def(ROLLOUTS), ns, first);
    let healthy = |s: &Value| s["phase"] == "Healthy" && s["stableRS"] == s["currentPodHash"];
    settle_until(shared, ctl, ns, healthy);
    shared.clock.set(released);
    set_image(shared, ns, &tag);
    // The controller resets a new template's status (promoteFull too, as Argo's
    // resetRolloutStatus does): ask for the full promotion once it has seen it.
    ctl.drain();
    ctl.tick();
    ctl.drain();
    promote_full(shared, ns);
    settle_until(shared, ctl, ns, healthy);
}

/// Changes the Rollout's image as `kubectl argo rollouts set image` would.
pub fn set_image(shared: &Shared, ns: &str, tag: &str) {
    let Some(e) = shared.store.get(def(ROLLOUTS), ns, NAME) else {
        return;
    };
    let old = e.value();
    let mut new = old.clone();
    let image = format!("ghcr.io/controle-digital/{NAME}:{tag}");
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    let Ok(mut new) = finish_update(def(ROLLOUTS), None, &old, new) else {
        return;
    };
    let _ = shared
        .store
        .write(def(ROLLOUTS), &mut new, WriteMode::Update(Some(e.meta.rv)));
}

/// `kubectl argo rollouts promote --full`: skip the remaining steps (an old release, done).
fn promote_full(shared: &Shared, ns: &str) {
    let Some(e) = shared.store.get(def(ROLLOUTS), ns, NAME) else {
        return;
    };
    let mut v = e.value();
    v["status"]["promoteFull"] = json!(true);
    let _ = shared
        .store
        .write(def(ROLLOUTS), &mut v, WriteMode::Update(Some(e.meta.rv)));
}

/// Runs the controllers on the simulated clock until `done` holds for the Rollout's status.
pub fn settle_until(
    shared: &Shared,
    ctl: &mut Controllers,
    ns: &str,
    done: impl Fn(&Value) -> bool,
) {
    for _ in 0..2000 {
        ctl.drain();
        ctl.tick();
        ctl.drain();
        let status = shared
            .store
            .get(def(ROLLOUTS), ns, NAME)
            .map(|e| e.value()["status"].clone())
            .unwrap_or(Value::Null);
        if done(&status) && ctl.idle() {
            return;
        }
        shared.clock.advance(SignedDuration::from_millis(500));
    }
}

/// Starts `tag` 100 s before `now`, so the demo opens in the first 5-minute pause.
pub fn start_canary(shared: &Shared, ctl: &mut Controllers, ns: &str, tag: &str, now: Timestamp) {
    shared.clock.set(now - SignedDuration::from_secs(100));
    set_image(shared, ns, tag);
    settle_until(shared, ctl, ns, |s| {
        s["currentStepIndex"] == json!(1) && s["phase"] == "Paused"
    });
}
