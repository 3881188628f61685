//! The real AnalysisRuns and Experiments in shared/fixtures/real/argo-rollouts decode into
//! the slim rows with their phase, message, each metric's counters, limits and
//! measurements; the analysis view reads them; and a canary with an experiment step no
//! longer counts the experiment's pods as canary pods (issue 16's "set 0 % actual 16 %").

use std::path::PathBuf;

use rollcall::app::panes::rollouts::{analysis, selected};
use rollcall::app::{EnvUpdate, Event, State, update};
use rollcall::domain::analysis::view::{RunKind, analysis_view};
use rollcall::domain::analysis::{
    AnalysisRunRow, ExperimentRow, RunPhase, WatchedAnalysisRun, WatchedExperiment,
};
use rollcall::domain::rollout::RolloutUpdate;
use rollcall::domain::rollout::view::RevisionRole;
use rollcall::domain::{WatchUpdate, WatchedPod, WatchedReplicaSet, WatchedRollout};
use rollcall_testkit::fixtures::{Kind, parse, real};
use rollcall_testkit::state::*;

fn dir() -> Option<PathBuf> {
    real("argo-rollouts")
}

fn run(name: &str) -> AnalysisRunRow {
    parse::<WatchedAnalysisRun>(&dir().unwrap().join(name)).row
}

fn experiment(name: &str) -> ExperimentRow {
    parse::<WatchedExperiment>(&dir().unwrap().join(name)).row
}

#[test]
fn every_analysis_run_and_experiment_decodes_with_its_phase() {
    let Some(d) = dir() else {
        return;
    };
    let mut runs = 0;
    let mut experiments = 0;
    for f in std::fs::read_dir(&d).unwrap().map(|f| f.unwrap().path()) {
        match parse::<Kind>(&f).kind.as_str() {
            "AnalysisRun" => {
                let r = parse::<WatchedAnalysisRun>(&f).row;
                assert!(!r.name.is_empty(), "{}", f.display());
                assert!(!r.metrics.is_empty(), "{}: metrics", f.display());
                runs += 1;
            }
            "Experiment" => {
                let x = parse::<WatchedExperiment>(&f).row;
                assert_ne!(x.phase, RunPhase::Pending, "{}", f.display());
                experiments += 1;
            }
            _ => {}
        }
    }
    assert_eq!((runs, experiments), (6, 4));
}

#[test]
fn argo_cds_analysis_runs_read_as_written() {
    if dir().is_none() {
        return;
    }
    let failed = run("argocd-analysisrun--failed.yaml");
    assert_eq!(failed.phase, RunPhase::Failed);
    let m = &failed.metrics[0];
    assert_eq!(m.name, "memory-usage");
    assert_eq!(m.phase, RunPhase::Failed);
    assert_eq!((m.count, m.failed, m.successful), (1, 1, 0));
    assert_eq!(m.interval.as_deref(), Some("10"));
    assert_eq!(m.count_limit, None, "an interval and no count: indefinite");
    assert_eq!(m.success_condition.as_deref(), Some("len(result) > 0"));
    assert_eq!(m.measurements.len(), 1);
    assert_eq!(m.measurements[0].phase, RunPhase::Failed);
    assert_eq!(m.measurements[0].number(), Some(0.9768211920529802));

    let error = run("argocd-analysisrun--error.yaml");
    assert_eq!(error.phase, RunPhase::Error);
    let m = &error.metrics[0];
    assert_eq!((m.error, m.consecutive_error, m.count), (5, 5, 0));
    assert_eq!(m.consecutive_error_limit, 4);
    assert_eq!(m.measurements.len(), 5);
    assert!(m.measurements.iter().all(|x| x.phase == RunPhase::Error));

    let running = run("argocd-analysisrun--running.yaml");
    assert_eq!(running.phase, RunPhase::Running);
    let m = &running.metrics[0];
    assert_eq!((m.count, m.successful, m.phase), (2, 2, RunPhase::Running));
    assert_eq!(m.failure_condition.as_deref(), Some("len(result) == 0"));

    let ok = run("argocd-analysisrun--successful.yaml");
    assert_eq!(ok.phase, RunPhase::Successful);
    let m = &ok.metrics[0];
    // No count and no interval: Argo takes one measurement.
    assert_eq!(m.count_limit, Some(1));
    assert_eq!((m.count, m.successful), (1, 1));

    // Metrics straight under spec (not analysisSpec), no results yet.
    let pending = run("argocd-analysisrun--pending.yaml");
    assert_eq!(pending.phase, RunPhase::Pending);
    assert_eq!(pending.metrics.len(), 1);
    assert_eq!(pending.metrics[0].name, "memory-usage");
    assert_eq!(pending.metrics[0].count, 0);
    assert!(pending.metrics[0].measurements.is_empty());
    assert_eq!(pending.message, None);
}

#[test]
fn the_rollouts_inconclusive_background_run() {
    if dir().is_none() {
        return;
    }
    let r = run("canary-experiment-inconclusive--analysisrun-inconclusive.yaml");
    assert_eq!(r.phase, RunPhase::Inconclusive);
    assert_eq!(r.rollout_type.as_deref(), Some("Background"));
    assert_eq!(r.pod_hash.as_deref(), Some("6f646bf7b7"));
    assert_eq!(r.revision, Some(2));
    assert_eq!(
        r.owner,
        Some(("Rollout".into(), "rollout-experiment-analysis".into()))
    );
    let m = &r.metrics[0];
    assert_eq!(m.name, "random-fail");
    assert_eq!(
        (m.count, m.successful, m.failed, m.inconclusive, m.error),
        (8, 4, 4, 1, 1)
    );
    assert_eq!(
        (m.count_limit, m.failure_limit, m.inconclusive_limit),
        (Some(10), 5, 1)
    );
    assert_eq!(m.measurements.len(), 8);
    // A job metric: phases, no values.
    assert!(m.measurements.iter().all(|x| x.value.is_none()));
    assert_eq!(m.measurements[0].phase, RunPhase::Failed);
    assert_eq!(m.measurements[7].phase, RunPhase::Successful);
}

#[test]
fn experiments_read_as_written() {
    if dir().is_none() {
        return;
    }
    let err = experiment("argocd-experiment--error.yaml");
    assert_eq!(err.phase, RunPhase::Error);
    assert_eq!(
        err.message.as_deref(),
        Some(
            "AnalysisTemplate verification failed for analysis 'does-not-exist': analysistemplate.argoproj.io \"does-not-exist\" not found"
        )
    );
    // Argo CD's fixture writes `phase:` where the controller writes `status:`.
    assert_eq!(
        err.templates,
        vec![("baseline".into(), "Successful".into(), 0, 0)]
    );
    let ok = experiment("argocd-experiment--successful.yaml");
    assert_eq!(ok.phase, RunPhase::Successful);
    assert_eq!(ok.templates.len(), 2);
    let running = experiment("canary-experiment-inconclusive--experiment-running.yaml");
    assert_eq!(running.phase, RunPhase::Running);
    assert_eq!(running.pod_hash.as_deref(), Some("6f646bf7b7"));
    assert_eq!(
        running.templates,
        vec![
            ("baseline".into(), "Running".into(), 1, 1),
            ("canary".into(), "Running".into(), 1, 1)
        ]
    );
    assert_eq!(
        experiment("argocd-experiment--running.yaml").phase,
        RunPhase::Running
    );
}

#[test]
fn the_view_shows_the_rollouts_run_and_experiment() {
    if dir().is_none() {
        return;
    }
    let d = dir().unwrap();
    let ro = parse::<WatchedRollout>(&d.join("canary-experiment-inconclusive--rollout.yaml")).row;
    let r = run("canary-experiment-inconclusive--analysisrun-inconclusive.yaml");
    let other = run("argocd-analysisrun--failed.yaml");
    let x = experiment("canary-experiment-inconclusive--experiment-running.yaml");
    let v = analysis_view(&ro, &[&r, &other], &[&x]);
    // Only the Rollout's own run (the failed one belongs to no Rollout).
    assert_eq!(v.runs.len(), 1);
    assert_eq!(v.runs[0].kind, RunKind::Background);
    assert_eq!(v.runs[0].phase, RunPhase::Inconclusive);
    let m = &v.runs[0].metrics[0];
    assert_eq!((m.successful, m.failed, m.failure_limit), (4, 4, 5));
    assert_eq!(m.marks.len(), 8);
    assert!(m.spark.is_empty(), "a job metric has no values to chart");
    assert!(v.failing.is_none() && !v.aborted_by_analysis);
    let (name, phase, pods) = v.experiment.unwrap();
    assert_eq!(name, "rollout-experiment-analysis-6f646bf7b7-1-vcv27");
    assert_eq!(phase, RunPhase::Running);
    assert_eq!(pods, "baseline 1/1 · canary 1/1");
}

/// The fixture scenario fed to the app as the watchers would: the Rollout, its two
/// ReplicaSets and the Experiment's two, and all six pods.
fn experiment_scene() -> Option<State> {
    let d = dir()?;
    let mut s = populated(160, 48);
    press(&mut s, "]]3");
    let env = 2;
    let send = |s: &mut State, u: RolloutUpdate| update(s, Event::Rollouts { env, update: u });
    let ro = parse::<WatchedRollout>(&d.join("canary-experiment-inconclusive--rollout.yaml")).row;
    send(&mut s, RolloutUpdate::Rollouts(WatchUpdate::Apply(ro)));
    for f in std::fs::read_dir(&d).unwrap().map(|f| f.unwrap().path()) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("canary-experiment-inconclusive--") {
            continue;
        }
        match parse::<Kind>(&f).kind.as_str() {
            "ReplicaSet" => {
                let rs = parse::<WatchedReplicaSet>(&f).row;
                send(&mut s, RolloutUpdate::ReplicaSets(WatchUpdate::Apply(rs)));
            }
            "Pod" => {
                let pod = parse::<WatchedPod>(&f).row;
                let u = EnvUpdate::Pods(WatchUpdate::Apply(pod));
                update(&mut s, Event::Watch { env, update: u });
            }
            "Experiment" => {
                let x = parse::<WatchedExperiment>(&f).row;
                send(&mut s, RolloutUpdate::Experiments(WatchUpdate::Apply(x)));
            }
            "AnalysisRun" => {
                let r = parse::<WatchedAnalysisRun>(&f).row;
                send(&mut s, RolloutUpdate::AnalysisRuns(WatchUpdate::Apply(r)));
            }
            _ => {}
        }
    }
    Some(s)
}

#[test]
fn experiment_pods_are_not_canary_pods() {
    let Some(s) = experiment_scene() else {
        return;
    };
    let (_, v) = selected(&s).unwrap();
    // One canary pod (not the experiment's canary pod with the same hash), three stable
    // pods (not the experiment's baseline pod with the stable hash).
    assert_eq!((v.canary_pods, v.canary_ready), (1, 1), "{v:#?}");
    let stable = v
        .revisions
        .iter()
        .find(|r| r.role == RevisionRole::Stable)
        .unwrap();
    assert_eq!((stable.pods, stable.desired), (3, 3));
    let canary = v
        .revisions
        .iter()
        .find(|r| r.role == RevisionRole::Canary)
        .unwrap();
    assert_eq!((canary.pods, canary.desired), (1, 1));
    // No traffic routing: the actual weight is the canary's share of ready pods, 1 of 4.
    assert_eq!((v.set_weight, v.actual_weight), (25, 25));
    let a = analysis(&s).unwrap();
    assert_eq!(a.runs.len(), 1);
    assert!(a.experiment.is_some());
}

#[test]
fn experiment_pods_are_told_apart_before_their_replicaset_is_seen() {
    let Some(mut s) = experiment_scene() else {
        return;
    };
    // The experiment's ReplicaSets not (yet) watched: their names still tell.
    let d = dir().unwrap();
    for f in ["rs-experiment-baseline", "rs-experiment-canary"] {
        let rs = parse::<WatchedReplicaSet>(
            &d.join(format!("canary-experiment-inconclusive--{f}.yaml")),
        )
        .row;
        update(
            &mut s,
            Event::Rollouts {
                env: 2,
                update: RolloutUpdate::ReplicaSets(WatchUpdate::Delete(rs)),
            },
        );
    }
    let (_, v) = selected(&s).unwrap();
    assert_eq!(v.canary_pods, 1);
    assert_eq!(v.actual_weight, 25);
}
