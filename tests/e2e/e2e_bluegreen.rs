//! End to end: `rollcall sim` (the DictaMesh demo), the real `rollcall` binary against it
//! in a pseudo-terminal, and the real `kubectl` reading what each action changed: flip
//! graphql-gateway to green (the Service selects green), flip it back (blue), and undo
//! metadata-catalog to revision 1 (its pods run the old image).
//! Missing kubectl fails under CI=true and is a loud SKIP otherwise.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rollcall_testkit::kubectl::kubectl_or_skip;
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);
const NS: &str = "dictamesh-prod";

fn kubectl_out(kubectl: &Path, kc: &Path, args: &[&str]) -> String {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kubectl get svc graphql-gateway -n dictamesh-prod -o jsonpath={.spec.selector}`.
fn selector(kubectl: &Path, kc: &Path) -> serde_json::Value {
    let out = kubectl_out(
        kubectl,
        kc,
        &[
            "get",
            "svc",
            "graphql-gateway",
            "-n",
            NS,
            "-o",
            "jsonpath={.spec.selector}",
        ],
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("selector is not JSON ({e}): {out}"))
}

/// Polls kubectl until `check` holds on its output.
fn eventually(
    what: &str,
    mut read: impl FnMut() -> String,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = read();
        if check(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "kubectl never showed {what}; last:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn switch(tui: &mut Tui, to: &str) {
    tui.send("b");
    let dialog = tui.wait_for("type graphql-gateway to confirm", WAIT);
    for text in [
        "PATCH /api/v1/namespaces/dictamesh-prod/services/graphql-gateway",
        "Content-Type: application/strategic-merge-patch+json",
        &format!(r#"{{"spec":{{"selector":{{"version":"{to}"}}}}}}"#),
    ] {
        assert!(
            dialog.contains(text),
            "the switch dialog lacks {text:?}:\n{dialog}"
        );
    }
    tui.confirm("graphql-gateway", WAIT);
    tui.wait_for(
        &format!("✔ service/graphql-gateway now selects version={to}"),
        WAIT,
    );
}

#[test]
fn flip_graphql_gateway_and_undo_metadata_catalog_in_the_demo() {
    let Some(kubectl) = kubectl_or_skip("e2e_bluegreen") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    assert_eq!(selector(&kubectl, &kc)["version"], "blue");

    let audit = dir.path().join("audit.jsonl");
    let args: Vec<OsString> = vec![
        "run".into(),
        "--kubeconfig".into(),
        kc.clone().into(),
        "--audit-log".into(),
        audit.clone().into(),
        "--log-file".into(),
        dir.path().join("rollcall.log").into(),
    ];
    let home: OsString = dir.path().into();
    let env: Vec<(&str, &OsStr)> = vec![("HOME", &home), ("XDG_CONFIG_HOME", &home)];
    let mut tui = Tui::spawn(BIN, &args, &env);
    tui.wait_for("Environments", WAIT);
    tui.send("]]6");
    tui.wait_for("Blue/green · prod", WAIT);
    tui.wait_for("green is fully ready", WAIT);

    // To green, then back to blue: each one strategic merge patch of the selector.
    switch(&mut tui, "green");
    let sel = selector(&kubectl, &kc);
    assert_eq!(sel["version"], "green", "{sel}");
    assert_eq!(
        sel["app"], "graphql-gateway",
        "the patch dropped the other selector key: {sel}"
    );
    tui.wait_for("blue is fully ready", WAIT);
    switch(&mut tui, "blue");
    assert_eq!(selector(&kubectl, &kc)["version"], "blue");

    // Revisions: metadata-catalog is the last Deployment but one (the stopped Kafka
    // consumer, metadata-catalog-consumer, sorts after it); Enter opens its revisions
    // with the previous one (1) chosen; u undoes to it.
    tui.send("7");
    tui.wait_for("Revisions · prod", WAIT);
    tui.send("Gk\r");
    tui.wait_for("Revisions · deployment/metadata-catalog · prod", WAIT);
    tui.send("u");
    let dialog = tui.wait_for("type metadata-catalog to confirm", WAIT);
    for text in [
        "kubectl rollout undo deployment/metadata-catalog --to-revision=1",
        "PATCH /apis/apps/v1/namespaces/dictamesh-prod/deployments/metadata-catalog",
        "Content-Type: application/json-patch+json",
        "\"path\": \"/spec/template\"",
    ] {
        assert!(
            dialog.contains(text),
            "the undo dialog lacks {text:?}:\n{dialog}"
        );
    }
    tui.confirm("metadata-catalog", WAIT);
    tui.wait_for("✔ deployment.apps/metadata-catalog rolled back", WAIT);
    let image = kubectl_out(
        &kubectl,
        &kc,
        &[
            "get",
            "deploy",
            "metadata-catalog",
            "-n",
            NS,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    );
    assert_eq!(image, "ghcr.io/controle-digital/metadata-catalog:v1.1.3");
    // Every pod of the Deployment ends up on the old image, ready.
    eventually(
        "metadata-catalog's pods all on v1.1.3 and ready",
        || {
            kubectl_out(
                &kubectl,
                &kc,
                &[
                    "get",
                    "pods",
                    "-n",
                    NS,
                    "-l",
                    "app=metadata-catalog",
                    "-o",
                    "jsonpath={range .items[*]}{.spec.containers[0].image} \
                     {.status.containerStatuses[0].ready}{\"\\n\"}{end}",
                ],
            )
        },
        |out| {
            let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
            lines.len() == 3
                && lines
                    .iter()
                    .all(|l| *l == "ghcr.io/controle-digital/metadata-catalog:v1.1.3 true")
        },
    );
    let history = kubectl_out(
        &kubectl,
        &kc,
        &["rollout", "history", "deploy/metadata-catalog", "-n", NS],
    );
    let revs: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["2", "3"], "revision 1 became 3:\n{history}");

    let status = tui.quit(Duration::from_secs(5));
    assert!(status.success(), "rollcall exited with {status}");

    let entries = rollcall_testkit::audit::outcomes(&audit);
    let commands: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["command"].as_str().unwrap_or(""),
                e["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        commands,
        [
            ("switch-blue-green", "ok"),
            ("switch-blue-green", "ok"),
            ("undo-deployment", "ok")
        ],
        "{entries:?}"
    );
    assert_eq!(entries[0]["to_colour"], "green");
    assert_eq!(entries[1]["to_colour"], "blue");
    assert_eq!(entries[2]["to_revision"], 1);
}

/// The simulator's `viewer` reads everything and may change nothing in prod: rollcall
/// asks RBAC first (SelfSubjectAccessReview) and refuses the switch with the
/// permission it lacks, before any dry run or patch; the Service keeps blue.
#[test]
fn viewer_is_refused_by_rbac_before_anything_is_sent() {
    let Some(kubectl) = kubectl_or_skip("e2e_bluegreen") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    // The same kubeconfig with the viewer as its current context, so the environments
    // file (which names no context) runs as the viewer.
    let viewer_kc = dir.path().join("kubeconfig-viewer");
    std::fs::copy(&kc, &viewer_kc).expect("copy the kubeconfig");
    kubectl_out(
        &kubectl,
        &viewer_kc,
        &["config", "use-context", "rollcall-sim-viewer"],
    );
    let audit = dir.path().join("audit.jsonl");
    let args: Vec<OsString> = vec![
        "run".into(),
        "--kubeconfig".into(),
        viewer_kc.into(),
        "--audit-log".into(),
        audit.clone().into(),
        "--log-file".into(),
        dir.path().join("rollcall.log").into(),
    ];
    let home: OsString = dir.path().into();
    let env: Vec<(&str, &OsStr)> = vec![("HOME", &home), ("XDG_CONFIG_HOME", &home)];
    let mut tui = Tui::spawn(BIN, &args, &env);
    tui.wait_for("Environments", WAIT);
    tui.send("]]6");
    tui.wait_for("green is fully ready", WAIT);
    tui.send("b");
    tui.wait_for("type graphql-gateway to confirm", WAIT);
    // The dialog's dry run already says so; the send is refused the same way.
    tui.wait_for("server dry run ✖ forbidden: RBAC does not let you", WAIT);
    tui.confirm("graphql-gateway", WAIT);
    let screen = tui.wait_for("#1 ✖ forbidden: RBAC does not let you", WAIT);
    assert!(
        screen.contains("patch services graphql-gateway -n dictamesh-prod"),
        "{screen}"
    );
    assert_eq!(selector(&kubectl, &kc)["version"], "blue");
    let log = std::fs::read_to_string(&audit).expect("audit log written");
    assert!(log.contains("\"result\":\"error\""), "{log}");
    assert!(log.contains("nothing was sent"), "{log}");
    tui.quit(WAIT);
}
