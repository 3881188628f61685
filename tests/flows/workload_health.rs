//! A workload's state as the upstream tools read it (kubectl rollout status for a
//! Deployment, Argo Rollouts' phase for a Rollout), with what they only wait on told
//! apart, and a total outage read as one: every pod of staging and prod crash-looping
//! shows ✖ with the reason and the drift from policy, never "rolling".

use rollcall::app::EnvUpdate;
use rollcall::domain::environment::summarize;
use rollcall::domain::{Health, RolloutState, WatchUpdate, WatchedDeployment, WatchedRollout};
use rollcall_testkit::fixtures::{parse, real};
use rollcall_testkit::state::*;
use serde_json::json;

/// A Deployment of 3 replicas, all updated, `available` of them available, whose
/// Progressing condition has `reason` (status False for the deadline).
fn deployment(available: u32, reason: &str, observed: i64) -> rollcall::domain::DeploymentRow {
    let status = if reason == "ProgressDeadlineExceeded" {
        "False"
    } else {
        "True"
    };
    let v = json!({
        "metadata": {"name": "api", "namespace": "ns", "uid": "u", "generation": 2},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": observed, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": available, "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": status, "reason": reason,
                "message": "ReplicaSet \"api-5c4b\" has timed out progressing."}]}
    });
    serde_json::from_value::<WatchedDeployment>(v).unwrap().row
}

#[test]
fn all_updated_but_unavailable_is_told_apart_as_kubectl_reads_it() {
    // During a rollout, within its deadline: kubectl waits, and so does rollcall.
    assert_eq!(
        deployment(1, "ReplicaSetUpdated", 2).rollout_state(),
        RolloutState::BecomingAvailable {
            available: 1,
            updated: 3
        }
    );
    // The rollout had completed; its pods were lost since. No deadline runs any more.
    assert_eq!(
        deployment(0, "NewReplicaSetAvailable", 2).rollout_state(),
        RolloutState::Unavailable {
            available: 0,
            updated: 3
        }
    );
    // Past the deadline: kubectl's error exit.
    assert_eq!(
        deployment(0, "ProgressDeadlineExceeded", 2).rollout_state(),
        RolloutState::Stalled {
            message: "ProgressDeadlineExceeded: ReplicaSet \"api-5c4b\" has timed out progressing."
                .into()
        }
    );
    // Not observed yet: nothing else is read (kubectl waits for the controller).
    assert!(matches!(
        deployment(0, "ProgressDeadlineExceeded", 1).rollout_state(),
        RolloutState::Progressing { .. }
    ));
    assert_eq!(
        deployment(3, "NewReplicaSetAvailable", 2).rollout_state(),
        RolloutState::Complete
    );
}

/// Argo CD's health of each `argocd-health--<health>-…` Rollout, read by rollcall.
#[test]
fn argo_rollouts_fixtures_read_with_their_upstream_health() {
    let Some(dir) = real("argo-rollouts") else {
        return;
    };
    let (mut seen, mut wrong) = (0, Vec::new());
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("argocd-health--") else {
            continue;
        };
        let state = parse::<WatchedRollout>(&path)
            .row
            .as_workload(None)
            .rollout_state();
        let health = rest
            .split(['-', '.'])
            .find(|w| ["healthy", "degraded", "suspended", "progressing"].contains(w))
            .unwrap_or_else(|| panic!("{name}: no health in the name"));
        let ok = match health {
            "healthy" => state == RolloutState::Complete,
            "degraded" => matches!(state, RolloutState::Stalled { .. }),
            "suspended" => state == RolloutState::Paused,
            _ => matches!(
                state,
                RolloutState::Progressing { .. } | RolloutState::BecomingAvailable { .. }
            ),
        };
        if !ok {
            wrong.push(format!("{name}: {state:?}"));
        }
        seen += 1;
    }
    assert!(seen >= 15, "{seen}");
    assert_eq!(wrong, Vec::<String>::new());
}

/// Every pod of staging and prod in CrashLoopBackOff, as the simulator's unhealthy switch
/// on every version leaves them: the Deployments keep Progressing=NewReplicaSetAvailable
/// with nothing available.
fn outage() -> rollcall::app::State {
    let mut s = populated(160, 48);
    for (env, ns, replicas) in [(1, "dictamesh-staging", 2), (2, "dictamesh-prod", 3)] {
        let tag = if env == 1 { "v1.2.0" } else { "v1.1.4" };
        // The pods listed again: the crash-looping ones replace the ready ones.
        feed(&mut s, env, EnvUpdate::Pods(WatchUpdate::Init));
        for svc in SERVICES {
            let names: Vec<String> = if env == 2 && svc == "graphql-gateway" {
                vec![
                    "graphql-gateway-blue".into(),
                    "graphql-gateway-green".into(),
                ]
            } else {
                vec![svc.to_owned()]
            };
            for name in &names {
                let d = deployment_row(ns, name, replicas, 0, tag);
                feed(&mut s, env, EnvUpdate::Deployments(WatchUpdate::Apply(d)));
                for i in 0..replicas {
                    let mut p = pod(PodSpec {
                        ns,
                        deploy: name,
                        hash: "5c4b9f7d8",
                        suffix: &format!("crash{i}"),
                        ready: false,
                        restarts: 4,
                        age_secs: 300,
                        node: NODES[i as usize % 3],
                    });
                    p.reason = Some("CrashLoopBackOff".into());
                    feed(&mut s, env, EnvUpdate::Pods(WatchUpdate::InitApply(p)));
                }
            }
        }
        feed(&mut s, env, EnvUpdate::Pods(WatchUpdate::InitDone));
    }
    s
}

fn deployment_row(
    ns: &str,
    name: &str,
    desired: u32,
    ready: u32,
    tag: &str,
) -> rollcall::domain::DeploymentRow {
    rollcall_testkit::state::deployment(ns, name, desired, ready, tag)
}

#[test]
fn a_total_outage_reads_as_failure_with_its_reason() {
    let s = outage();
    for env in [1, 2] {
        let e = &s.envs[env];
        let workloads = rollcall::app::panes::bluegreen::workloads(&s, env);
        let sum = summarize(&e.config, &workloads, &e.pods, s.now);
        assert_eq!(sum.health, Health::Degraded, "{}", e.config.name);
        assert_eq!(sum.ready, 0);
        for svc in &sum.services {
            assert_eq!(svc.health, Health::Degraded, "{}: {svc:?}", svc.name);
            let detail = svc.detail.as_deref().unwrap();
            assert!(detail.contains("CrashLoopBackOff"), "{detail}");
        }
        assert!(sum.rolling().is_empty(), "{:?}", sum.rolling());
        // Below the policy's minimum of ready replicas, in every environment.
        let drift: Vec<String> = sum.drift.iter().map(|d| d.describe()).collect();
        assert_eq!(drift.len(), 3, "{drift:?}");
        assert!(
            drift.iter().all(|d| d.contains("only 0 ready")),
            "{drift:?}"
        );
    }

    // On screen: staging selected, then prod.
    let mut s = s;
    press(&mut s, "]");
    let screen = screen_text(&s);
    let row = screen
        .lines()
        .find(|l| l.contains("dictamesh-staging"))
        .unwrap();
    assert!(row.contains("0/6") && row.contains('✖'), "{row}");
    assert!(!screen.contains("rolling:"), "{screen}");
    assert!(!screen.contains("no drift from policy"), "{screen}");
    assert!(
        screen.contains("✖ customer-adapter: 2 pods CrashLoopBackOff, 0/2 available"),
        "{screen}"
    );
    press(&mut s, "]");
    let screen = screen_text(&s);
    let row = screen
        .lines()
        .find(|l| l.contains("dictamesh-prod"))
        .unwrap();
    assert!(row.contains('✖'), "{row}");
    assert!(
        screen.contains("✖ customer-adapter: 3 pods CrashLoopBackOff, 0/3 available"),
        "{screen}"
    );
    let matrix = screen
        .lines()
        .find(|l| l.contains("graphql-gateway  "))
        .unwrap();
    assert_eq!(matrix.matches('✖').count(), 2, "{matrix}");
}
