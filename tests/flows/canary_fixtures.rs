//! Every real Argo Rollouts object in shared/fixtures/real/argo-rollouts decodes into the
//! slim Rollout/ReplicaSet/Pod rows, and the canary view reads them the way the
//! kubectl-argo-rollouts plugin does (phase, step, weights, revisions, pods ready).

use std::path::PathBuf;

use rollcall::domain::rollout::view::{Phase, RevisionRole, canary_view, phase};
use rollcall::domain::rollout::{Step, Strategy};
use rollcall::domain::{ReplicaSetRow, WatchedPod, WatchedReplicaSet, WatchedRollout};
use rollcall_testkit::fixtures::{Kind, parse, real};

fn of_kind(kind: &str) -> Vec<PathBuf> {
    let Some(d) = real("argo-rollouts") else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|f| parse::<Kind>(f).kind == kind)
        .collect();
    out.sort();
    out
}

fn rollout(name: &str) -> rollcall::domain::RolloutRow {
    let d = real("argo-rollouts").unwrap();
    parse::<WatchedRollout>(&d.join(name)).row
}

#[test]
fn every_rollout_replicaset_and_pod_decodes() {
    let rollouts = of_kind("Rollout");
    let rss = of_kind("ReplicaSet");
    let pods = of_kind("Pod");
    if real("argo-rollouts").is_none() {
        return;
    }
    assert!(rollouts.len() >= 20, "{}", rollouts.len());
    assert!(rss.len() >= 10 && pods.len() >= 10);
    for f in &rollouts {
        let row = parse::<WatchedRollout>(f).row;
        assert!(!row.name.is_empty(), "{}", f.display());
        // Never panics, whatever the layout; a phase is always shown.
        let (p, _) = phase(&row);
        let _ = p.label();
    }
    for f in &rss {
        let row = parse::<WatchedReplicaSet>(f).row;
        // Experiment ReplicaSets belong to an Experiment and carry neither.
        if row.owner.as_ref().is_none_or(|(k, _)| k != "Rollout") {
            continue;
        }
        assert!(
            row.hash.is_some(),
            "{}: rollouts-pod-template-hash",
            f.display()
        );
        assert!(row.revision.is_some(), "{}: revision", f.display());
    }
    for f in &pods {
        let row = parse::<WatchedPod>(f).row;
        assert!(row.template_hash.is_some(), "{}", f.display());
    }
}

#[test]
fn observed_generation_as_string_and_as_old_hash() {
    if real("argo-rollouts").is_none() {
        return;
    }
    let r = rollout("canary-degraded-timeout--rollout.yaml");
    assert_eq!(r.observed_generation.as_deref(), Some("429"));
    let old = rollout("argocd-health--healthy-legacy-v0.9-observed-generation.yaml");
    // A hash, not a number: the plugin's generation check does not apply.
    assert!(
        old.observed_generation
            .as_deref()
            .unwrap()
            .parse::<i64>()
            .is_err()
    );
}

#[test]
fn degraded_timeout_canary_reads_like_the_plugin() {
    if real("argo-rollouts").is_none() {
        return;
    }
    let d = real("argo-rollouts").unwrap();
    let r = rollout("canary-degraded-timeout--rollout.yaml");
    assert_eq!(r.strategy, Strategy::Canary);
    assert_eq!(r.steps.first(), Some(&Step::SetWeight(20)));
    let rss: Vec<ReplicaSetRow> = ["rs-canary", "rs-stable", "rs-old"]
        .iter()
        .map(|n| {
            parse::<WatchedReplicaSet>(&d.join(format!("canary-degraded-timeout--{n}.yaml"))).row
        })
        .collect();
    let pods: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with("canary-degraded-timeout--pod-")
        })
        .map(|f| parse::<WatchedPod>(&f).row)
        .collect();
    let rs_refs: Vec<&ReplicaSetRow> = rss.iter().collect();
    let pod_refs: Vec<_> = pods.iter().collect();
    let now = "2019-10-28T05:00:00Z".parse().unwrap();
    let v = canary_view(&r, &rs_refs, &pod_refs, now);
    let (p, msg) = phase(&r);
    assert_eq!(v.phase, p);
    if r.phase.is_none() {
        assert_eq!(p, Phase::Degraded, "{msg}");
        assert!(msg.starts_with("ProgressDeadlineExceeded"), "{msg}");
    }
    assert_eq!(v.step, Some((1, r.steps.len())));
    assert_eq!(v.set_weight, 20);
    assert_eq!(v.canary_pods, 1);
    assert_eq!(v.canary_ready, 0);
    assert_eq!(v.failing.as_deref(), Some("ImagePullBackOff"));
    assert!(v.alarm());
    let stable = v
        .revisions
        .iter()
        .find(|r| r.role == RevisionRole::Stable)
        .unwrap();
    assert_eq!((stable.ready, stable.pods), (5, 5));
    assert_eq!(v.revisions.first().and_then(|r| r.revision), Some(31));
    assert!(v.can_abort && !v.can_retry && !v.can_promote);
}

#[test]
fn paused_step_aborted_and_bluegreen() {
    if real("argo-rollouts").is_none() {
        return;
    }
    let paused = rollout("argocd-actions--canary-paused-step-modern-status.yaml");
    assert_eq!(phase(&paused).0, Phase::Paused);
    assert!(paused.can_promote());
    let aborted = rollout("argocd-health--canary-degraded-aborted.yaml");
    assert!(aborted.abort && aborted.can_retry() && !aborted.can_abort());
    assert_eq!(phase(&aborted).0, Phase::Degraded);
    let bg = rollout("bluegreen-paused-preview--rollout.yaml");
    assert_eq!(bg.strategy, Strategy::BlueGreen);
    assert_eq!(bg.active_selector.as_deref(), Some("6cbccd9f99"));
    assert_eq!(bg.pause_conditions[0].reason, "BlueGreenPause");
    let ctrl = rollout("argocd-health--suspended-controller-pause.yaml");
    let _ = phase(&ctrl);
}

/// Every real Rollout, read as upstream reads it: the kubectl plugin's phase
/// (`GetRolloutPhase`, `CalculateRolloutPhase` for pre-v1.0 status) and Argo CD's health
/// check. The `argocd-health--` files are Argo CD's own test cases, named by the health
/// Argo CD expects.
#[test]
fn every_real_rollout_has_upstreams_phase_and_argo_cds_health() {
    use Phase as P;
    use rollcall::domain::rollout::health::{ArgoHealth as H, argocd_health};
    if real("argo-rollouts").is_none() {
        return;
    }
    let deadline = "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.";
    let invalid = "The Rollout \"basic\" is invalid: spec.strategy.strategy: Required value: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'";
    let table: &[(&str, P, &str, H)] = &[
        (
            "argocd-actions--canary-pause-condition-background-analysis",
            P::Paused,
            "CanaryPauseStep",
            H::Suspended,
        ),
        (
            "argocd-actions--canary-paused-step-modern-status",
            P::Paused,
            "CanaryPauseStep",
            H::Suspended,
        ),
        // Pre-v0.8 blue-green: no stableRS, so the plugin waits on post-promotion
        // verification while Argo CD (which tolerates v0.7) calls it Healthy.
        (
            "argocd-health--bluegreen-healthy-serving-active",
            P::Progressing,
            "waiting for post-promotion verification to complete",
            H::Healthy,
        ),
        (
            "argocd-health--bluegreen-progressing-adding-replicas",
            P::Progressing,
            "more replicas need to be updated",
            H::Progressing,
        ),
        (
            "argocd-health--canary-degraded-aborted",
            P::Degraded,
            "RolloutAborted: Rollout is aborted",
            H::Degraded,
        ),
        (
            "argocd-health--canary-healthy-empty-steps-list",
            P::Healthy,
            "",
            H::Healthy,
        ),
        (
            "argocd-health--canary-healthy-executed-all-steps",
            P::Healthy,
            "",
            H::Healthy,
        ),
        (
            "argocd-health--canary-healthy-no-steps",
            P::Healthy,
            "",
            H::Healthy,
        ),
        (
            "argocd-health--canary-progressing-no-steps",
            P::Progressing,
            "updated replicas are still becoming available",
            H::Progressing,
        ),
        (
            "argocd-health--canary-progressing-setweight-step",
            P::Progressing,
            "more replicas need to be updated",
            H::Progressing,
        ),
        (
            "argocd-health--degraded-invalid-spec",
            P::Degraded,
            &format!("InvalidSpec: {invalid}"),
            H::Degraded,
        ),
        (
            "argocd-health--degraded-progress-deadline-exceeded",
            P::Degraded,
            "ProgressDeadlineExceeded: ReplicaSet \"guestbook-bluegreen-helm-guestbook-6b8cf6f7db\" has timed out progressing.",
            H::Degraded,
        ),
        (
            "argocd-health--healthy-legacy-v0.9-observed-generation",
            P::Healthy,
            "",
            H::Healthy,
        ),
        (
            "argocd-health--healthy-new-workload-generation",
            P::Healthy,
            "",
            H::Healthy,
        ),
        (
            "argocd-health--progressing-new-generation",
            P::Progressing,
            "waiting for rollout spec update to be observed",
            H::Progressing,
        ),
        (
            "argocd-health--progressing-new-workload-generation",
            P::Progressing,
            "waiting for rollout spec update to be observed for the reference workload",
            H::Progressing,
        ),
        (
            "argocd-health--suspended-controller-pause",
            P::Paused,
            "CanaryPauseStep",
            H::Suspended,
        ),
        (
            "argocd-health--suspended-v1.0-paused",
            P::Paused,
            "CanaryPauseStep",
            H::Suspended,
        ),
        (
            "bluegreen-paused-preview--rollout",
            P::Paused,
            "BlueGreenPause",
            H::Suspended,
        ),
        (
            "canary-degraded-timeout--rollout-pingpong",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-degraded-timeout--rollout-smi-no-weights",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-degraded-timeout--rollout-smi-weights",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-degraded-timeout--rollout-workloadref-deploy",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-degraded-timeout--rollout-workloadref",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-degraded-timeout--rollout",
            P::Degraded,
            deadline,
            H::Degraded,
        ),
        (
            "canary-experiment-inconclusive--rollout",
            P::Degraded,
            "ProgressDeadlineExceeded: ReplicaSet \"rollout-experiment-analysis-6f646bf7b7\" has timed out progressing.",
            H::Degraded,
        ),
    ];
    let files = of_kind("Rollout");
    assert_eq!(
        files.len(),
        table.len(),
        "a Rollout fixture without its expectation"
    );
    for (name, want_phase, want_message, want_health) in table {
        let row = rollout(&format!("{name}.yaml"));
        let (p, m) = phase(&row);
        assert_eq!((p, m.as_str()), (*want_phase, *want_message), "{name}");
        assert_eq!(argocd_health(&row).0, *want_health, "{name}");
    }
    // Argo CD surfaces the condition's message as is.
    let bad = rollout("argocd-health--degraded-invalid-spec.yaml");
    assert_eq!(argocd_health(&bad).1, invalid);
}
