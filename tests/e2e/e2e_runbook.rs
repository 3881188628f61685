//! The production runbook walked in a pseudo-terminal against `rollcall sim`: the
//! staging check marked, a backup run through the pipeline and completed by the
//! simulator's CNPG controller, the tag skipped with a reason, the incomplete checklist
//! passed over with a reason, maintenance mode turned on, the smoke-test Job run to
//! completion and maintenance mode off (kubectl sees the flag go true then false and the
//! Job complete), and the audit holding every step.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rollcall_testkit::kubectl::kubectl_or_skip;
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);

fn flag(kubectl: &Path, kc: &Path) -> String {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kc)
        .args([
            "get",
            "configmap",
            "feature-flags",
            "-n",
            "dictamesh-prod",
            "-o",
            "jsonpath={.data.maintenance_mode}",
        ])
        .output()
        .expect("kubectl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Marks or skips the current step and waits for the pane to show it.
fn answer(tui: &mut Tui, key: &str, prompt: &str, note: &str, shown: &str) {
    tui.send(key);
    tui.wait_for(prompt, WAIT);
    tui.send(&format!("{note}\r"));
    tui.wait_for(shown, WAIT);
    tui.send("j");
}

#[test]
fn the_production_runbook_from_the_backup_to_maintenance_off() {
    let Some(kubectl) = kubectl_or_skip("the runbook walk") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    let audit = dir.path().join("audit.jsonl");
    let mut tui = Tui::run_against(BIN, dir.path(), &kc);
    tui.wait_for("Environments", WAIT);
    tui.send("]]0z");
    tui.wait_for("Runbook · customer-adapter v1.2.0 → prod", WAIT);
    assert_eq!(flag(&kubectl, &kc), "false");

    // T-24h: staging (no Argo CD here, so a person decides), then the backup.
    answer(
        &mut tui,
        "x",
        "done: T-24h",
        "",
        "✔ Verify the staging deployment",
    );
    tui.wait_for("✖ Create a production backup", WAIT);
    tui.send("\r");
    tui.wait_for(
        "POST /apis/postgresql.cnpg.io/v1/namespaces/dictamesh-infra/backups",
        WAIT,
    );
    tui.send("metadata-catalog-db\r");
    tui.wait_for("last run", WAIT);
    // The controller completes it on the simulated clock; then its check passes.
    tui.wait_for("▸ Create a production backup", WAIT);
    answer(
        &mut tui,
        "x",
        "done: T-24h",
        "",
        "✔ Create a production backup",
    );
    answer(
        &mut tui,
        "X",
        "skip T-24h",
        "tagged by CI",
        "↷ Tag the release",
    );

    // T-0: the checklist is incomplete; going on needs a reason.
    tui.send("O");
    tui.wait_for("go on with the checklist", WAIT);
    tui.send("accepted for the e2e test\r");
    tui.wait_for("checklist passed over by", WAIT);
    tui.send("\r");
    tui.wait_for(
        "PATCH /api/v1/namespaces/dictamesh-prod/configmaps/feature-flags",
        WAIT,
    );
    tui.send("feature-flags\r");
    tui.wait_for("✔ Enable maintenance mode", WAIT);
    assert_eq!(flag(&kubectl, &kc), "true");
    tui.send("j");
    answer(
        &mut tui,
        "X",
        "skip T-0",
        "image set by hand",
        "↷ Update the image tag in Git",
    );
    answer(
        &mut tui,
        "X",
        "skip T-0",
        "synced by hand",
        "↷ Sync the Argo CD application",
    );

    // T+5m: verified, then maintenance mode off.
    answer(&mut tui, "x", "done: T+5m", "all ready", "✔ Check the pods");
    answer(&mut tui, "x", "done: T+5m", "no errors", "✔ Check the logs");
    // The smoke tests: a Job from the built-in manifest, complete on the simulator.
    tui.wait_for("✖ Run the smoke tests", WAIT);
    tui.send("\r");
    tui.wait_for("POST /apis/batch/v1/namespaces/dictamesh-prod/jobs", WAIT);
    tui.send("smoke-tests\r");
    tui.wait_for("job/smoke-tests complete", WAIT);
    answer(&mut tui, "x", "done: T+5m", "", "✔ Run the smoke tests");
    let out = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kc)
        .args([
            "get",
            "job",
            "smoke-tests",
            "-n",
            "dictamesh-prod",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "True");
    answer(
        &mut tui,
        "X",
        "skip T+5m",
        "no grafana here",
        "↷ Verify the metrics",
    );
    tui.send("\r");
    tui.wait_for(
        "PATCH /api/v1/namespaces/dictamesh-prod/configmaps/feature-flags",
        WAIT,
    );
    tui.send("feature-flags\r");
    tui.wait_for("✔ Disable maintenance mode", WAIT);
    assert_eq!(flag(&kubectl, &kc), "false");
    tui.wait_for("T-0 ", WAIT);
    tui.send("q");
    tui.wait_exit(WAIT);

    // The audit has every step: the runs and the marks.
    let lines = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let runs: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["command"] == "runbook-step" && r["result"] == "ok")
        .collect();
    assert_eq!(runs.len(), 4, "{lines}");
    let marks: Vec<&str> = records
        .iter()
        .filter(|r| r["command"] == "mark-checklist" && r["result"] == "ok")
        .filter_map(|r| r["item"].as_str())
        .collect();
    for want in [
        "rb.check-staging",
        "rb.backup",
        "rb.tag",
        "rb.gate",
        "rb.maintenance-on",
        "rb.maintenance-off",
    ] {
        assert!(marks.contains(&want), "no {want} in {marks:?}");
    }
}
