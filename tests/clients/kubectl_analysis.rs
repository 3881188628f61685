//! The real `kubectl` against the simulator's Argo Rollouts analysis: discovery of
//! AnalysisRuns, AnalysisTemplates, ClusterAnalysisTemplates and Experiments, the demo's
//! `success-rate` template, and the canary's analysis step seen with `kubectl get
//! analysisruns` (Status column) from Running to Successful once the pause is promoted;
//! with the canary's version marked unhealthy the run fails and the Rollout aborts.

use std::time::{Duration, Instant};

use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::kubectl::{K, cols, kubectl_or_skip};
use serde_json::Value;

const NS: &str = "dictamesh-prod";

async fn rollout(k: &K) -> Value {
    let out = k
        .ok(&["get", "rollout", "customer-adapter", "-n", NS, "-o", "json"])
        .await;
    serde_json::from_str(&out).expect("kubectl prints JSON")
}

/// Polls `kubectl get analysisruns` until a row's status is one of `want`; the row.
async fn run_row(k: &K, want: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = k.ok(&["get", "analysisruns", "-n", NS]).await;
        let row = out
            .lines()
            .skip(1)
            .map(|l| cols(l).into_iter().map(str::to_owned).collect::<Vec<_>>())
            .find(|r| r.get(1).is_some_and(|s| want.contains(&s.as_str())));
        if let Some(row) = row {
            assert_eq!(
                cols(out.lines().next().unwrap_or("")),
                ["NAME", "STATUS", "AGE"],
                "{out}"
            );
            return row;
        }
        assert!(Instant::now() < deadline, "no run {want:?} in:\n{out}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `kubectl argo rollouts promote`: the pause condition removed on /status.
async fn promote(k: &K) {
    k.ok(&[
        "patch",
        "rollout",
        "customer-adapter",
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"pauseConditions":null}}"#,
    ])
    .await;
}

async fn demo(k_bin: std::path::PathBuf) -> (sim::SimHandle, K) {
    let sim = sim::start(SimOptions {
        speed: 10.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let k = K::new(k_bin, &sim).with_timeout(Duration::from_secs(60));
    (sim, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_analysis_kinds_and_the_canarys_run() {
    let Some(bin) = kubectl_or_skip("kubectl get analysisruns") else {
        return;
    };
    let (_sim, k) = demo(bin).await;
    let out = k.ok(&["api-resources", "--api-group=argoproj.io"]).await;
    for want in [
        vec![
            "analysisruns",
            "ar",
            "argoproj.io/v1alpha1",
            "true",
            "AnalysisRun",
        ],
        vec![
            "analysistemplates",
            "at",
            "argoproj.io/v1alpha1",
            "true",
            "AnalysisTemplate",
        ],
        vec![
            "clusteranalysistemplates",
            "cat",
            "argoproj.io/v1alpha1",
            "false",
            "ClusterAnalysisTemplate",
        ],
        vec![
            "experiments",
            "exp",
            "argoproj.io/v1alpha1",
            "true",
            "Experiment",
        ],
    ] {
        assert!(
            out.lines().any(|l| cols(l) == want),
            "no {want:?} in:\n{out}"
        );
    }
    let out = k.ok(&["get", "analysistemplates", "-n", NS]).await;
    assert!(out.lines().any(|l| cols(l)[0] == "success-rate"), "{out}");
    let out = k.ok(&["get", "analysisruns", "-n", NS]).await;
    assert!(
        out.trim().is_empty() || !out.contains("customer-adapter"),
        "{out}"
    );

    // Promote past the first pause: the analysis step creates its run.
    let before = rollout(&k).await;
    let hash = before["status"]["currentPodHash"]
        .as_str()
        .unwrap()
        .to_owned();
    promote(&k).await;
    let row = run_row(&k, &["Running", "Successful"]).await;
    assert_eq!(row[0], format!("customer-adapter-{hash}-3-2"));
    let row = run_row(&k, &["Successful"]).await;
    let run: Value =
        serde_json::from_str(&k.ok(&["get", "ar", &row[0], "-n", NS, "-o", "json"]).await).unwrap();
    let m = &run["status"]["metricResults"][0];
    assert_eq!(m["name"], "success-rate");
    assert_eq!(m["phase"], "Successful");
    assert_eq!(m["successful"], 5, "{m:#}");
    assert_eq!(
        run["metadata"]["ownerReferences"][0]["name"],
        "customer-adapter"
    );
    // The step passed: the canary goes on to 50 %.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rollout(&k).await["status"]["currentStepIndex"].as_u64() < Some(3) {
        assert!(
            Instant::now() < deadline,
            "the canary never passed the analysis"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_canary_fails_its_analysis_and_the_rollout_aborts() {
    let Some(bin) = kubectl_or_skip("kubectl get analysisruns") else {
        return;
    };
    let (sim, k) = demo(bin).await;
    sim.set_unhealthy_images(vec!["v1.2.0".into()]);
    // A minute of the bad version in Prometheus' window, then the analysis step.
    tokio::time::sleep(Duration::from_secs(7)).await;
    promote(&k).await;
    let row = run_row(&k, &["Failed"]).await;
    let run: Value =
        serde_json::from_str(&k.ok(&["get", "ar", &row[0], "-n", NS, "-o", "json"]).await).unwrap();
    let why = "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)";
    assert_eq!(run["status"]["message"], why);
    let deadline = Instant::now() + Duration::from_secs(30);
    let ro = loop {
        let ro = rollout(&k).await;
        if ro["status"]["abort"] == true {
            break ro;
        }
        assert!(Instant::now() < deadline, "{:#}", ro["status"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(ro["status"]["phase"], "Degraded");
    assert_eq!(
        ro["status"]["message"],
        format!(
            "RolloutAborted: Rollout aborted update to revision 3: Step-based analysis phase error/failed: {why}"
        )
    );
}
