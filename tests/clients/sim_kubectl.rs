//! The real `kubectl` against the simulator: table output of `get` (namespaced, `-A`,
//! `-o wide`), `get -w` printing changes while `rollout restart` rolls, `rollout status`,
//! jsonpath output and merge/strategic patches. Missing kubectl fails under CI=true and is
//! a loud skip otherwise.

use std::process::Stdio;
use std::time::Duration;

use rollcall_testkit::cluster::start;
use rollcall_testkit::kubectl::{K, kubectl_or_skip};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::timeout;

fn rows(out: &str) -> Vec<Vec<&str>> {
    out.lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[tokio::test]
async fn get_tables_jsonpath_and_patch() {
    let Some(bin) = kubectl_or_skip("kubectl conformance tests") else {
        return;
    };
    let sim = start(1.0).await;
    let k = K::new(bin, &sim).with_timeout(Duration::from_secs(60));

    let out = k.ok(&["get", "pods", "-n", "dictamesh-prod"]).await;
    let r = rows(&out);
    assert_eq!(
        r[0],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{out}"
    );
    // 9 pods of the three services, plus the demo canary's pod (issue 4).
    assert!(r.len() >= 10, "{out}");
    for row in &r[1..] {
        assert!(
            ["customer-adapter-", "graphql-gateway-", "metadata-catalog-"]
                .iter()
                .any(|p| row[0].starts_with(p)),
            "{out}"
        );
        assert_eq!(&row[1..4], ["1/1", "Running", "0"], "{out}");
        // The demo's customer-adapter canary has a fresh pod and graphql-gateway's green
        // side was deployed two hours ago; the rest are days old.
        if row[0].starts_with("customer-adapter-") || row[0].starts_with("graphql-gateway-green-") {
            continue;
        }
        assert!(
            row[4].ends_with('d') || row[4].contains('d'),
            "prod pods are days old: {out}"
        );
    }

    let out = k
        .ok(&["get", "pods", "-n", "dictamesh-dev", "-o", "wide"])
        .await;
    let header = out.lines().next().unwrap_or("");
    for col in ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] {
        assert!(header.contains(col), "{out}");
    }
    assert!(out.contains("k3s-node-") && out.contains("10.42."), "{out}");

    let out = k.ok(&["get", "deploy", "-A"]).await;
    let r = rows(&out);
    assert_eq!(
        r[0],
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ],
        "{out}"
    );
    // 10 Deployments: prod's customer-adapter is an Argo Rollout (issue 4), its
    // graphql-gateway a blue/green pair of two, and its Kafka consumer stopped (issue 17).
    assert_eq!(r.len(), 11, "{out}");
    for row in &r[1..] {
        let want = match row[0] {
            "dictamesh-prod" if row[1] == "metadata-catalog-consumer" => ["0/0", "0", "0"],
            "dictamesh-prod" => ["3/3", "3", "3"],
            "dictamesh-staging" => ["2/2", "2", "2"],
            "dictamesh-dev" => ["1/1", "1", "1"],
            other => panic!("unexpected namespace {other}: {out}"),
        };
        assert_eq!(&row[2..5], want, "{out}");
    }

    let out = k
        .ok(&[
            "get",
            "rs",
            "-n",
            "dictamesh-staging",
            "-l",
            "app=graphql-gateway",
        ])
        .await;
    let r = rows(&out);
    assert_eq!(
        r[0],
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        "{out}"
    );
    assert_eq!(&r[1][1..4], ["2", "2", "2"], "{out}");

    let out = k.ok(&["get", "svc,cm", "-n", "dictamesh-prod"]).await;
    assert!(
        out.contains("service/metadata-catalog")
            && out.contains("ClusterIP")
            && out.contains("8080/TCP"),
        "{out}"
    );
    assert!(out.contains("configmap/feature-flags"), "{out}");

    let flag = [
        "get",
        "configmap",
        "feature-flags",
        "-n",
        "dictamesh-prod",
        "-o",
        "jsonpath={.data.maintenance_mode}",
    ];
    assert_eq!(k.ok(&flag).await, "false");
    let out = k
        .ok(&[
            "patch",
            "configmap",
            "feature-flags",
            "-n",
            "dictamesh-prod",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"maintenance_mode":"true"}}"#,
        ])
        .await;
    assert_eq!(out.trim(), "configmap/feature-flags patched");
    assert_eq!(k.ok(&flag).await, "true");

    // Default patch type is strategic; on a Deployment it merges containers by name.
    let out = k
        .ok(&["patch", "deploy", "customer-adapter", "-n", "dictamesh-dev", "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"customer-adapter","env":[{"name":"LOG_LEVEL","value":"debug"}]}]}}}}"#])
        .await;
    assert_eq!(out.trim(), "deployment.apps/customer-adapter patched");
    let env = k
        .ok(&[
            "get",
            "deploy",
            "customer-adapter",
            "-n",
            "dictamesh-dev",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[*].name}",
        ])
        .await;
    assert_eq!(env, "ENVIRONMENT LOG_LEVEL");

    let (code, _, err) = k.run(&["get", "pod", "nope", "-n", "dictamesh-prod"]).await;
    assert_ne!(code, 0);
    assert!(err.contains("pods \"nope\" not found"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn get_watch_prints_changes_while_rollout_restart_rolls() {
    let Some(bin) = kubectl_or_skip("kubectl conformance tests") else {
        return;
    };
    let sim = start(20.0).await;
    let k = K::new(bin, &sim).with_timeout(Duration::from_secs(60));

    // How many pods the initial table will list (the demo canary adds its own).
    let initial = k
        .ok(&["get", "pods", "-n", "dictamesh-prod", "--no-headers"])
        .await
        .lines()
        .count();
    let mut watch = k
        .cmd(&["get", "pods", "-n", "dictamesh-prod", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl get -w starts");
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    // Wait for the initial table (header + every pod).
    let mut seen = Vec::new();
    while seen.len() < initial + 1 {
        let l = timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("initial table")
            .expect("watch output");
        seen.push(l);
    }
    assert!(
        seen[0].starts_with("NAME") && seen[0].contains("READY") && seen[0].contains("STATUS"),
        "{seen:?}"
    );
    let old: Vec<String> = seen[1..]
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();

    let out = k
        .ok(&[
            "rollout",
            "restart",
            "deploy/metadata-catalog",
            "-n",
            "dictamesh-prod",
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/metadata-catalog restarted");
    let out = k
        .ok(&[
            "rollout",
            "status",
            "deploy/metadata-catalog",
            "-n",
            "dictamesh-prod",
            "--timeout=60s",
        ])
        .await;
    assert!(
        out.contains("deployment \"metadata-catalog\" successfully rolled out"),
        "{out}"
    );
    assert!(
        out.contains("Waiting for deployment \"metadata-catalog\" rollout to finish"),
        "{out}"
    );

    // Collect what `get -w` printed during the roll.
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match timeout(Duration::from_millis(1500), rx.recv()).await {
            Ok(Some(l)) => events.push(l),
            Ok(None) => break,
            Err(_) => {
                // Done once three new pods have each been seen Running and ready.
                let ready_new: std::collections::BTreeSet<&str> = events
                    .iter()
                    .filter(|l| l.contains(" 1/1 ") && l.contains("Running"))
                    .filter_map(|l| l.split_whitespace().next())
                    .filter(|n| n.starts_with("metadata-catalog-") && !old.iter().any(|o| o == n))
                    .collect();
                if ready_new.len() >= 3 || tokio::time::Instant::now() > deadline {
                    break;
                }
            }
        }
    }
    let _ = watch.kill().await;
    let text = events.join("\n");
    let new_pods: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("metadata-catalog-") && !old.iter().any(|o| o == n))
        .collect();
    assert_eq!(new_pods.len(), 3, "three new pods expected in:\n{text}");
    assert!(
        events
            .iter()
            .any(|l| l.contains("0/1") && l.contains("Pending")),
        "{text}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("0/1") && l.contains("Running")),
        "{text}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("1/1") && l.contains("Running")),
        "{text}"
    );
    assert!(events.iter().any(|l| l.contains("Terminating")), "{text}");
    // Other services did not move.
    assert!(
        !events
            .iter()
            .any(|l| l.starts_with("customer-adapter-") || l.starts_with("graphql-gateway-")),
        "{text}"
    );

    let out = k
        .ok(&["get", "deploy", "metadata-catalog", "-n", "dictamesh-prod"])
        .await;
    assert!(rows(&out)[1][1..4] == ["3/3", "3", "3"], "{out}");
    let rev = k
        .ok(&[
            "get",
            "deploy",
            "metadata-catalog",
            "-n",
            "dictamesh-prod",
            "-o",
            "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
        ])
        .await;
    // Revision 2 is the demo's own image update; the restart makes revision 3.
    assert_eq!(rev, "3");
    sim.shutdown().await;
}
