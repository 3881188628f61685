//! Every real upstream Pod and Deployment in shared/fixtures/real decodes into the
//! slim rows, with the fields the panes show read correctly.

use std::path::{Path, PathBuf};

use rollcall::domain::{PodPhase, Probe, RolloutState, WatchedDeployment, WatchedPod};
use rollcall_testkit::fixtures::{Kind, parse, real_root};

fn all_of_kind(root: &Path, kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if parse::<Kind>(&f).kind == kind {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

fn pod(root: &Path, name: &str) -> rollcall::domain::PodRow {
    parse::<WatchedPod>(&root.join(name)).row
}

#[test]
fn every_real_pod_decodes() {
    let Some(root) = real_root() else { return };
    let pods = all_of_kind(&root, "Pod");
    assert!(
        pods.len() >= 20,
        "expected the fixture pods, found {}",
        pods.len()
    );
    for path in pods {
        let w: WatchedPod = parse(&path);
        assert!(!w.row.name.is_empty(), "{}", path.display());
        assert!(w.meta.resource_version.is_some(), "{}", path.display());
        assert!(w.row.containers >= 1, "{}", path.display());
        assert!(
            w.row.created.is_some(),
            "unquoted timestamps parse: {}",
            path.display()
        );
    }
}

#[test]
fn pod_states_read_like_kubectl() {
    let Some(root) = real_root() else { return };
    let crash = pod(
        &root,
        "kubernetes/pod--crashloopbackoff-restart-onfailure.yaml",
    );
    assert_eq!(crash.phase, PodPhase::Running);
    assert_eq!(crash.status_text(), "CrashLoopBackOff");
    assert_eq!((crash.ready, crash.containers, crash.restarts), (0, 1, 4));
    assert_eq!(crash.node.as_deref(), Some("minikube"));
    assert_eq!(crash.created.unwrap().to_string(), "2018-12-02T09:47:10Z");
    let now = "2018-12-02T10:00:00Z".parse().unwrap();
    assert_eq!(crash.probe(now), Probe::Failing);

    let pull = pod(&root, "kubernetes/pod--imagepullbackoff-pending.yaml");
    assert_eq!(pull.phase, PodPhase::Pending);
    assert_eq!(pull.status_text(), "ImagePullBackOff");
    assert!(!pull.is_ready());

    let ready = pod(&root, "kubernetes/pod--running-ready.yaml");
    assert!(ready.is_ready());
    assert_eq!(ready.status_text(), "Running");
    assert_eq!(ready.probe(now), Probe::Ready);

    let init = pod(&root, "kubernetes/pod--pending-initializing.yaml");
    assert_eq!(init.status_text(), "PodInitializing");

    let done = pod(&root, "kubernetes/pod--succeeded-completed.yaml");
    assert_eq!(done.phase, PodPhase::Succeeded);
    assert_eq!(done.status_text(), "Completed");

    let not_ready = pod(&root, "kubernetes/pod--running-not-ready.yaml");
    assert_eq!(not_ready.phase, PodPhase::Running);
    assert!(!not_ready.is_ready());
}

#[test]
fn pods_know_their_workload_through_the_replicaset_name() {
    let Some(root) = real_root() else { return };
    let canary = pod(
        &root,
        "argo-rollouts/canary-degraded-timeout--pod-canary-imagepullbackoff.yaml",
    );
    let (kind, rs) = canary.owner.clone().unwrap();
    assert_eq!(kind, "ReplicaSet");
    assert!(rs.ends_with(canary.template_hash.as_deref().unwrap()));
    assert_eq!(canary.deployment(), Some("canary-demo"));
    assert_eq!(canary.status_text(), "ImagePullBackOff");
}

#[test]
fn every_real_deployment_decodes_with_its_rollout_state() {
    let Some(root) = real_root() else { return };
    let paths = all_of_kind(&root, "Deployment");
    assert!(paths.len() >= 5, "found {}", paths.len());
    for path in &paths {
        let d: WatchedDeployment = parse(path);
        assert!(!d.row.name.is_empty(), "{}", path.display());
    }
    let row = |name: &str| parse::<WatchedDeployment>(&root.join(name)).row;

    let complete = row("kubernetes/deployment--healthy-complete.json");
    assert_eq!(complete.rollout_state(), RolloutState::Complete);
    assert_eq!((complete.ready, complete.desired), (3, 3));
    assert_eq!(complete.revision.as_deref(), Some("1"));

    let mid = row("kubernetes/deployment--progressing-mid-rollout.yaml");
    // spec.replicas 1, but the old ReplicaSet's pod is still there (status.replicas 2).
    assert!(matches!(
        mid.rollout_state(),
        RolloutState::Progressing {
            updated: 1,
            desired: 1
        }
    ));

    let paused = row("kubernetes/deployment--paused-mid-rollout.yaml");
    assert_eq!(paused.rollout_state(), RolloutState::Paused);

    let live = row("kubernetes/deployment--healthy-managedfields.yaml");
    assert_eq!(live.revision.as_deref(), Some("9"));
    assert_eq!(live.ready, 4);
    assert_eq!(live.rollout_state(), RolloutState::Complete);

    // No status section at all: nothing ready, nothing known, no panic.
    let bare = row("argo-rollouts/canary-degraded-timeout--deployment-workloadref.yaml");
    assert_eq!(bare.ready, 0);
}

#[test]
fn malformed_objects_decode_without_failing_the_list() {
    let odd = r#"{"metadata":{"name":"p","namespace":"n","resourceVersion":"1",
        "creationTimestamp":"not a time","ownerReferences":{}},
        "spec":null,"status":{"phase":"Running","conditions":{},
        "containerStatuses":[{"ready":"yes"},{"ready":true,"restartCount":2}]}}"#;
    let w: WatchedPod = serde_json::from_str(odd).unwrap();
    assert_eq!(w.row.name, "p");
    assert_eq!(w.row.created, None);
    // The status with a mistyped `ready` is kept (not ready), not dropped.
    assert_eq!((w.row.ready, w.row.containers, w.row.restarts), (1, 2, 2));
}
