//! `rollcall checklist` as a CI gate would run it, against the embedded simulator
//! (`--demo`): the half-walked prod checklist of customer-adapter v1.2.0 is incomplete
//! (exit 1) with the critical vulnerability's evidence, the same as JSON, a checklist
//! whose checks all pass is complete (exit 0), and bad input exits 2.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env_remove("KUBECONFIG")
        .output()
        .expect("rollcall runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_prod_checklist_is_incomplete_with_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "checklist",
        "--demo",
        "--env",
        "prod",
        "--release",
        "customer-adapter@v1.2.0",
    ];
    let out = run(dir.path(), &args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for want in [
        "customer-adapter@v1.2.0 → prod: ",
        "✖ Security scan passed (Trivy) — customer-adapter:v1.2.0: 1 at CRITICAL or worse: CVE-2024-45337",
        "✔ Tests passing in CI — ticked by maria.santos@dictamesh.io",
        "✔ Staging deployment successful — customer-adapter-staging Synced · Healthy",
        "✔ Backup verified within last 24h — metadata-catalog-db-",
        "✔ Monitoring dashboards ready — GET http://127.0.0.1:",
        "☐ Load testing completed — not ticked",
        "☐ On-call engineer available — not ticked; reach DictaMesh platform on-call",
    ] {
        assert!(stdout.contains(want), "no {want:?} in\n{stdout}");
    }

    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    let out = run(dir.path(), &json_args);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["environment"], "prod");
    assert_eq!(doc["progress"]["total"], 17);
    let items = doc["items"].as_array().unwrap();
    let scan = items.iter().find(|i| i["id"] == "security-scan").unwrap();
    assert_eq!(scan["state"], "failing");
    assert_eq!(scan["automatic"], true);
    assert!(
        scan["evidence"]
            .as_str()
            .unwrap()
            .contains("CVE-2024-45337")
    );
    let ci = items.iter().find(|i| i["id"] == "ci-tests").unwrap();
    assert_eq!(ci["state"], "done");
    assert_eq!(ci["mark"]["by"], "maria.santos@dictamesh.io");
}

#[test]
fn complete_exits_0_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    // Only checks the demo passes: a fresh backup, Grafana answering, nothing else rolling.
    std::fs::write(
        config.join("checklists.yaml"),
        "checklists:\n  - name: gate\n    items:\n      - id: backup\n        title: Backup fresh\n        check: {kind: backup, max_age: 24h}\n      - id: monitoring\n        title: Monitoring up\n        check: {kind: monitoring-health}\n      - id: quiet\n        title: Nothing else rolling\n        check: {kind: no-other-rollout}\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = run(
        dir.path(),
        &[
            "--config",
            config,
            "checklist",
            "--demo",
            "--env",
            "prod",
            "--release",
            "customer-adapter@v1.2.0",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("3/3 done, 0 failing, 0 open — complete"),
        "{stdout}"
    );

    for (args, want) in [
        (
            vec![
                "checklist",
                "--demo",
                "--env",
                "qa",
                "--release",
                "customer-adapter@v1.2.0",
            ],
            "no environment `qa` (known: dev, staging, prod)",
        ),
        (
            vec![
                "checklist",
                "--demo",
                "--env",
                "prod",
                "--release",
                "customer-adapter",
            ],
            "expected SERVICE@VERSION",
        ),
    ] {
        let out = run(dir.path(), &args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{stderr}");
    }

    std::fs::write(
        dir.path().join("config/checklists.yaml"),
        "checklists:\n  - name: gate\n    items:\n      - id: x\n        title: X\n        check: {kind: coffee}\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "--config",
            config,
            "checklist",
            "--demo",
            "--env",
            "prod",
            "--release",
            "a@v1",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("checklists.yaml:6:"), "{stderr}");
    assert!(stderr.contains("unknown check kind `coffee`"), "{stderr}");
}

#[test]
fn status_says_what_runs_where_and_exits_1_when_something_is_degraded() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's staging database is left DIRTY: degraded.
    let out = run(dir.path(), &["status", "--demo"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for want in [
        "staging (dictamesh-staging) · 6/6 ready ✔ Healthy",
        "migrations: DIRTY at version 4",
        "✖ migrations DIRTY",
        "canary ॥ Paused step 2/7 20%",
        "graphql-gateway    v1.1.4   3/3 ✔  argocd Synced/Healthy",
        "checklist customer-adapter@v1.2.0: 9/17 done, 3 failing",
    ] {
        assert!(stdout.contains(want), "no {want:?} in\n{stdout}");
    }

    let out = run(
        dir.path(),
        &["status", "--demo", "--env", "prod", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["degraded"], false);
    let prod = &doc["environments"][0];
    assert_eq!(prod["env"], "prod");
    let adapter = &prod["services"][0];
    assert_eq!(adapter["name"], "customer-adapter");
    assert_eq!(adapter["canary"]["phase"], "Paused");
    assert_eq!(adapter["argocd"]["sync"], "Synced");
    assert_eq!(prod["checklists"][0]["release"], "customer-adapter@v1.2.0");
    assert_eq!(prod["checklists"][0]["complete"], false);

    let out = run(dir.path(), &["status", "--demo", "--env", "qa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no environment `qa`"));
}
