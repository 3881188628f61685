//! States read the way their upstream projects read them (issue 16), each with an object
//! shaped like upstream's: Argo Rollouts' `GetRolloutPhase` (an invalid spec, an
//! observedGeneration ahead of the generation, a pre-v0.8 stable ReplicaSet), Argo CD's
//! health of a Rollout in the environments pane (an aborted canary is not "rolling" and
//! does not run the canary's version), an Application being deleted, a Failed pod, and a
//! Deployment whose status leaves out readyReplicas.

use rollcall::app::panes::argocd::ArgoUpdate;
use rollcall::domain::environment::{Health, summarize};
use rollcall::domain::rollout::health::{ArgoHealth, argocd_health};
use rollcall::domain::rollout::view::{Phase, canary_view, phase};
use rollcall::domain::{
    PodPhase, Probe, WatchUpdate, WatchedDeployment, WatchedPod, WatchedRollout,
};
use rollcall_testkit::canary::{PROD, Phase as Scene, with_rollout};
use rollcall_testkit::release::{REV_NEW, app, app_json, argo, with_apps};
use rollcall_testkit::state::*;
use serde_json::{Value, json};

fn rollout(v: Value) -> rollcall::domain::RolloutRow {
    serde_json::from_value::<WatchedRollout>(v).unwrap().row
}

/// A canary Rollout as the controller leaves it, with `status` merged over a healthy
/// v1.0 status.
fn canary(generation: i64, status: Value) -> Value {
    let mut st = json!({"observedGeneration": generation.to_string(), "replicas": 1,
        "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
        "currentPodHash": "5b4bb8bc5d", "stableRS": "5b4bb8bc5d", "currentStepIndex": 1,
        "conditions": []});
    for (k, v) in status.as_object().unwrap() {
        st[k] = v.clone();
    }
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "basic", "namespace": "default", "generation": generation},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "basic"}},
            "template": {"spec": {"containers": [{"name": "basic", "image": "nginx:1.19"}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 50}]}}},
        "status": st})
}

#[test]
fn an_invalid_spec_is_degraded_with_its_message_and_offers_no_abort() {
    let message = "The Rollout \"basic\" is invalid: spec.strategy.canary.steps[0].setWeight: \
                   Invalid value: 150: must be between 0 and 100";
    let ro = rollout(canary(
        2,
        json!({"stableRS": "", "conditions": [{"type": "InvalidSpec", "status": "True",
            "reason": "InvalidSpec", "message": message}]}),
    ));
    assert_eq!(
        phase(&ro),
        (Phase::Degraded, format!("InvalidSpec: {message}"))
    );
    assert_eq!(
        argocd_health(&ro),
        (ArgoHealth::Degraded, message.to_owned())
    );
    let view = canary_view(&ro, &[], &[], now());
    assert!(!view.can_abort && !view.can_promote && !view.can_retry);
    assert!(view.alarm());
}

#[test]
fn an_observed_generation_ahead_of_the_generation_counts_as_observed() {
    let ro = rollout(canary(
        3,
        json!({"observedGeneration": "5", "phase": "Healthy"}),
    ));
    assert_eq!(phase(&ro).0, Phase::Healthy);
    assert_eq!(argocd_health(&ro).0, ArgoHealth::Healthy);
    // Behind is not observed yet.
    let behind = rollout(canary(
        3,
        json!({"observedGeneration": 2, "phase": "Healthy"}),
    ));
    assert_eq!(
        phase(&behind),
        (
            Phase::Progressing,
            "waiting for rollout spec update to be observed".to_owned()
        )
    );
}

#[test]
fn a_pre_v0_8_stable_replicaset_under_status_canary_is_read() {
    // Argo CD's test object `healthy_executedAllStepsPreV0.8`: no phase, no status.stableRS.
    let ro = rollout(canary(
        4,
        json!({"stableRS": null, "observedGeneration": "6b4bb8bc5d",
            "canary": {"stableRS": "5b4bb8bc5d"}, "currentStepIndex": 1}),
    ));
    assert_eq!(ro.stable_rs.as_deref(), Some("5b4bb8bc5d"));
    assert_eq!(phase(&ro), (Phase::Healthy, String::new()));
    assert_eq!(argocd_health(&ro).0, ArgoHealth::Healthy);
    assert!(canary_view(&ro, &[], &[], now()).fully_promoted);
}

#[test]
fn an_aborted_canary_reads_as_failed_running_the_stable_version() {
    let mut s = populated(160, 48);
    with_rollout(&mut s, Scene::Aborted, 0);
    let e = &s.envs[PROD];
    let workloads = rollcall::app::panes::bluegreen::workloads(&s, PROD);
    let sum = summarize(&e.config, &workloads, &e.pods, s.now);
    let svc = sum
        .services
        .iter()
        .find(|x| x.name == "customer-adapter")
        .unwrap();
    assert_eq!(svc.health, Health::Degraded, "{svc:?}");
    assert!(!svc.rolling, "{svc:?}");
    let detail = svc.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("RolloutAborted"), "{detail}");
    // The stable ReplicaSet's image runs; the spec still names the aborted canary's.
    assert_eq!(svc.version.as_deref(), Some("v1.1.4"), "{svc:?}");
    assert!(sum.rolling().is_empty());
}

#[test]
fn an_application_being_deleted_says_so_and_offers_nothing() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    let mut v = app_json("customer-adapter-dev", true, REV_NEW, "v1.2.0");
    v["metadata"]["deletionTimestamp"] = json!("2026-11-26T13:58:00Z");
    v["metadata"]["finalizers"] = json!(["resources-finalizer.argocd.argoproj.io"]);
    argo(&mut s, 0, ArgoUpdate::Apps(WatchUpdate::Apply(app(v))));
    press(&mut s, "5");
    assert!(screen_text(&s).contains('⌫'), "{}", screen_text(&s));
    // Sync, auto-sync off: refused, saying why.
    for k in ["Y", "A"] {
        press(&mut s, k);
        assert!(matches!(s.mode, rollcall::app::Mode::Normal), "{k}");
        let flash = &s.flash.as_ref().unwrap().1;
        assert!(flash.contains("being deleted"), "{k}: {flash}");
    }
    rollcall::app::update(&mut s, rollcall::app::Event::Key(enter()));
    assert!(screen_text(&s).contains("BEING DELETED"));
}

fn enter() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )
}

#[test]
fn a_failed_pod_is_failed_not_starting() {
    // An evicted pod, as the kubelet leaves it.
    let v = json!({"metadata": {"name": "api-5c4b-x2x", "namespace": "ns", "uid": "u",
            "resourceVersion": "9", "creationTimestamp": "2026-11-26T12:00:00Z"},
        "spec": {"containers": [{"name": "api", "image": "api:v1",
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]},
        "status": {"phase": "Failed", "reason": "Evicted",
            "message": "The node was low on resource: memory.",
            "startTime": "2026-11-26T12:00:01Z"}});
    let pod = serde_json::from_value::<WatchedPod>(v).unwrap().row;
    assert_eq!(pod.phase, PodPhase::Failed);
    assert_eq!(pod.probe(now()), Probe::Failed);
}

#[test]
fn available_replicas_without_ready_replicas_is_healthy_as_argo_cd_reads_it() {
    let v = json!({"metadata": {"name": "api", "namespace": "dictamesh-dev", "uid": "u",
            "generation": 1, "resourceVersion": "1"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "api", "image": "ghcr.io/x/api:v1"}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
            "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "True",
                "reason": "MinimumReplicasAvailable"}]}});
    let row = serde_json::from_value::<WatchedDeployment>(v).unwrap().row;
    // kubectl's READY column reads readyReplicas: 0/1, as kubectl prints it.
    assert_eq!((row.ready, row.available), (0, 1));
    let s = populated(160, 48);
    let mut env = s.envs[0].config.clone();
    env.services.retain(|x| x.name == "customer-adapter");
    env.services[0].workload = "api".into();
    env.policy.min_replicas = 1;
    let mut store = rollcall::domain::RowStore::default();
    store.apply(WatchUpdate::Init);
    store.apply(WatchUpdate::InitApply(row));
    store.apply(WatchUpdate::InitDone);
    let sum = summarize(&env, &store, &Default::default(), now());
    assert_eq!(
        sum.services[0].health,
        Health::Healthy,
        "{:?}",
        sum.services
    );
    assert!(sum.drift.is_empty(), "{:?}", sum.drift);
}
