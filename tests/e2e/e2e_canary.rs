//! End to end: `rollcall sim` with the DictaMesh canary in flight, the real `rollcall`
//! binary against it in a pseudo-terminal, and the real `kubectl` reading the Rollout after
//! each action: abort (weight 0, Degraded/aborted), retry (progresses again), promote at a
//! pause (next step), undo to the previous revision (a new revision with the old template).
//! Each time kubectl must see the fields the kubectl-argo-rollouts plugin's request changes.
//! Missing kubectl fails under CI=true and is a loud SKIP otherwise.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rollcall_testkit::kubectl::kubectl_or_skip;
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);

fn rollout(kubectl: &Path, kc: &Path) -> Value {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kc)
        .args([
            "get",
            "rollout",
            "customer-adapter",
            "-n",
            "dictamesh-prod",
            "-o",
            "json",
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl prints JSON")
}

/// Polls kubectl until `check` holds (the controller acts on the simulated clock).
fn eventually(
    tui: &Tui,
    (kubectl, kc): (&Path, &Path),
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let ro = rollout(kubectl, kc);
        if check(&ro) {
            return ro;
        }
        if Instant::now() >= deadline {
            tui.fail(&format!(
                "kubectl never showed {what}; last status:\n{:#}",
                ro["status"]
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn confirm(tui: &mut Tui, key: &str) {
    tui.send(key);
    // Abort and pause take Enter; the others the typed name (production).
    tui.confirm("customer-adapter", WAIT);
}

#[test]
fn abort_retry_promote_undo_through_the_tui_match_the_plugin() {
    let Some(kubectl) = kubectl_or_skip("e2e_canary") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    // The demo's Argo CD app customer-adapter-prod self-heals: as a real one would, it
    // puts back the Git template within seconds of the undo and set-image below. Turn
    // its auto-sync off first, on the Application itself, as a kubectl user can.
    let out = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kc)
        .args([
            "patch",
            "application",
            "customer-adapter-prod",
            "-n",
            "argocd",
        ])
        .args([
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"syncPolicy":{"automated":null}}}"#,
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = rollout(&kubectl, &kc);
    assert_eq!(before["status"]["phase"], "Paused");
    assert_eq!(before["status"]["currentStepIndex"], 1);
    let canary_hash = before["status"]["currentPodHash"].clone();

    let args: Vec<OsString> = vec![
        "run".into(),
        "--kubeconfig".into(),
        kc.clone().into(),
        "--audit-log".into(),
        dir.path().join("audit.jsonl").into(),
        "--log-file".into(),
        dir.path().join("rollcall.log").into(),
    ];
    let home: OsString = dir.path().into();
    let env: Vec<(&str, &OsStr)> = vec![("HOME", &home), ("XDG_CONFIG_HOME", &home)];
    let mut tui = Tui::spawn(BIN, &args, &env);
    tui.wait_for("Environments", WAIT);
    tui.send("]]3");
    tui.wait_for("Canary · customer-adapter · prod", WAIT);
    tui.wait_for("step 2/7", WAIT);

    // Abort: {"status":{"abort":true}} on /status.
    confirm(&mut tui, "a");
    tui.wait_for("(aborted)", WAIT);
    tui.wait_for("actual 0%", WAIT);
    let ro = eventually(&tui, (&kubectl, &kc), "the abort", |r| {
        r["status"]["abort"] == true
    });
    assert!(ro["status"]["abortedAt"].is_string());
    assert_eq!(ro["status"]["phase"], "Degraded");
    assert!(
        ro["status"]["message"]
            .as_str()
            .unwrap()
            .starts_with("RolloutAborted")
    );
    assert_eq!(ro["status"]["canary"]["weights"]["canary"]["weight"], 0);
    assert_eq!(ro["spec"], before["spec"], "abort changes status only");

    // Retry: {"status":{"abort":false}}: steps start again, and the canary comes back.
    confirm(&mut tui, "y");
    let ro = eventually(&tui, (&kubectl, &kc), "the retry", |r| {
        r["status"]["abortedAt"].is_null() && r["status"]["abort"] != true
    });
    assert_eq!(ro["spec"], before["spec"]);
    eventually(&tui, (&kubectl, &kc), "the first pause again", |r| {
        r["status"]["currentStepIndex"] == 1 && r["status"]["phase"] == "Paused"
    });
    tui.wait_for("step 2/7", WAIT);

    // Promote at the pause: {"status":{"pauseConditions":null}} → the next step.
    confirm(&mut tui, "p");
    let ro = eventually(&tui, (&kubectl, &kc), "the promote", |r| {
        r["status"]["currentStepIndex"].as_u64().unwrap_or(0) >= 2
    });
    assert_eq!(ro["spec"], before["spec"]);
    tui.wait_until("step 3/7 or later", WAIT, |s| {
        Ok(["step 3/7", "step 4/7", "step 5/7", "step 6/7"]
            .iter()
            .any(|t| s.contains(t))
            .then_some(()))
    });

    // Undo to the previous revision (the cursor starts on it): a JSON patch of
    // /spec/template with that revision's template → a new revision, old image.
    let stable_hash = ro["status"]["stableRS"].clone();
    confirm(&mut tui, "u");
    let ro = eventually(&tui, (&kubectl, &kc), "the undo", |r| {
        r["status"]["currentPodHash"] == stable_hash && r["status"]["phase"] == "Healthy"
    });
    let image = ro["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    assert!(image.ends_with(":v1.1.4"), "{image}");
    assert!(ro["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"].is_null());
    assert_ne!(
        ro["metadata"]["generation"],
        before["metadata"]["generation"]
    );
    assert_ne!(stable_hash, canary_hash);
    let out = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["get", "rs", "-n", "dictamesh-prod", "-o", "json"])
        .output()
        .expect("kubectl runs");
    let rss: Value = serde_json::from_slice(&out.stdout).unwrap();
    let revision = |hash: &Value| {
        rss["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|rs| rs["metadata"]["labels"]["rollouts-pod-template-hash"] == *hash)
            .and_then(|rs| rs["metadata"]["annotations"]["rollout.argoproj.io/revision"].as_str())
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(
        revision(&stable_hash) > revision(&canary_hash),
        "the old template is now the newest revision"
    );
    tui.wait_for("fully promoted", WAIT);

    // Set image to a version the simulator crash-loops: GET + PUT of the Rollout; the
    // pane turns red with the restarts and the reason while the canary is still at step 1.
    tui.send("i");
    tui.wait_for("set image · rollout/customer-adapter", WAIT);
    tui.send(&"\x7f".repeat("v1.1.4".len()));
    tui.send("v1.2.1-broken\r");
    tui.wait_for("type customer-adapter to confirm", WAIT);
    tui.confirm("customer-adapter", WAIT);
    tui.wait_for("CrashLoopBackOff", WAIT);
    let screen = tui.wait_until("canary restarts", WAIT, |s| {
        Ok(s.lines()
            .find(|l| l.contains("canary v1.2.1-broken"))
            .filter(|l| !l.contains(" 0 restarts"))
            .map(|_| s.to_string()))
    });
    assert!(screen.contains("step 1/7"), "{screen}");
    let ro = rollout(&kubectl, &kc);
    let image = ro["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    assert!(image.ends_with(":v1.2.1-broken"), "{image}");

    let audit = rollcall_testkit::audit::outcomes(&dir.path().join("audit.jsonl"));
    assert_eq!(audit.len(), 5, "{audit:?}");
    tui.quit(Duration::from_secs(10));
}

#[test]
fn demo_canary_moves_as_the_simulated_pauses_elapse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tui = Tui::demo(BIN, dir.path(), &["--speed", "20"]);
    tui.wait_for("Environments", WAIT);
    tui.send("]]3");
    // The demo opens in the first 5-minute pause at 20%; at ×20 it ends in seconds.
    let first = tui.wait_for("step 2/7", WAIT);
    assert!(first.contains("set 20% actual 20%"), "{first}");
    assert!(first.contains("left (CanaryPauseStep)"), "{first}");
    tui.wait_for("set 50% actual 50%", Duration::from_secs(60));
    tui.quit(Duration::from_secs(10));
}
