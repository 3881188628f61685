//! The production runbook walked in a pseudo-terminal against `rollcall sim`, for
//! metadata-catalog v1.2.0: the staging check marked, a backup run through the pipeline
//! and completed by the simulator's CNPG controller, the release tagged and pushed from
//! the user's clone of the GitOps repository, the incomplete checklist passed over with a
//! reason, maintenance mode turned on, the overlay's image set, committed and pushed, the
//! smoke-test Job run to completion and maintenance mode off. Afterwards the remote has
//! the tag and the kustomization commit, kubectl saw the flag go true then false and the
//! Job complete, and the audit holds every step.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rollcall_testkit::kubectl::kubectl_or_skip;
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;
use rollcall_testkit::tools::git;

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
    // The user's clone of the GitOps repository, where the built-in config expects it
    // (~/src/dictamesh; HOME is the test's directory).
    let remote = dir.path().join("git/gitops.git");
    let clone = dir.path().join("src/dictamesh");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            &remote.to_string_lossy(),
            &clone.to_string_lossy(),
        ],
    );
    git(&clone, &["config", "user.email", "oncall@dictamesh.io"]);
    git(&clone, &["config", "user.name", "On-call"]);
    let audit = dir.path().join("audit.jsonl");
    let mut tui = Tui::run_against(BIN, dir.path(), &kc);
    tui.wait_for("Environments", WAIT);
    // The release whose image prod does not run yet: the checklist's third.
    tui.send("]]8");
    tui.wait_for("Checklist · customer-adapter v1.2.0 → prod", WAIT);
    tui.send("N");
    tui.wait_for("Checklist · graphql-gateway v1.2.0 → prod", WAIT);
    tui.send("N");
    tui.wait_for("Checklist · metadata-catalog v1.2.0 → prod", WAIT);
    tui.send("0z");
    tui.wait_for("Runbook · metadata-catalog v1.2.0 → prod", WAIT);
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
    tui.confirm("metadata-catalog-db", WAIT);
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
    // The tag: planned from the remote as read, typed to confirm, pushed.
    tui.wait_for("✖ Tag the release", WAIT);
    tui.send("\r");
    tui.wait_for("GIT push origin refs/tags/v1.2.0", WAIT);
    tui.confirm("v1.2.0", WAIT);
    tui.wait_for("▸ Tag the release", WAIT);
    answer(&mut tui, "x", "done: T-24h", "", "✔ Tag the release");

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
    tui.confirm("feature-flags", WAIT);
    tui.wait_for("✔ Enable maintenance mode", WAIT);
    assert_eq!(flag(&kubectl, &kc), "true");
    tui.send("j");
    // The image: the overlay's one line, committed and pushed from the clone.
    tui.wait_for("✖ Update the image tag in Git", WAIT);
    tui.send("\r");
    tui.wait_for("+  newTag: v1.2.0", WAIT);
    tui.confirm("metadata-catalog", WAIT);
    tui.wait_for("▸ Update the image tag in Git", WAIT);
    answer(
        &mut tui,
        "x",
        "done: T-0",
        "",
        "✔ Update the image tag in Git",
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
    tui.confirm("smoke-tests", WAIT);
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
    tui.confirm("feature-flags", WAIT);
    tui.wait_for("✔ Disable maintenance mode", WAIT);
    assert_eq!(flag(&kubectl, &kc), "false");
    tui.wait_for("T-0 ", WAIT);
    tui.quit(WAIT);

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
    assert_eq!(runs.len(), 6, "{lines}");
    let marks: Vec<&str> = records
        .iter()
        .filter(|r| r["command"] == "mark-checklist" && r["result"] == "ok")
        .filter_map(|r| r["item"].as_str())
        .collect();
    // The remote has the tag and the kustomization commit; the user's clone followed.
    let file = "infrastructure/k8s/overlays/prod/metadata-catalog/kustomization.yaml";
    assert_eq!(git(&remote, &["cat-file", "-t", "v1.2.0"]).trim(), "tag");
    let last = git(
        &remote,
        &["log", "-1", "--format=%s%n%an", "--numstat", "main"],
    );
    assert_eq!(
        last,
        format!("deploy: metadata-catalog v1.2.0 to prod\nOn-call\n\n1\t1\t{file}\n")
    );
    assert!(git(&remote, &["show", &format!("main:{file}")]).contains("newTag: v1.2.0"));
    assert_eq!(
        git(&clone, &["rev-parse", "HEAD"]),
        git(&remote, &["rev-parse", "main"])
    );
    for want in [
        "rb.check-staging",
        "rb.backup",
        "rb.tag",
        "rb.set-image",
        "rb.gate",
        "rb.maintenance-on",
        "rb.maintenance-off",
    ] {
        assert!(marks.contains(&want), "no {want} in {marks:?}");
    }
}
