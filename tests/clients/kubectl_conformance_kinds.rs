//! Conformance, part 3: the real `kubectl` against the simulator for what issue 3 added —
//! create/apply with client-side validation on (OpenAPI + server-side fieldValidation,
//! unknown fields refused), nodes, jobs, secrets and service accounts with their columns,
//! the batch/v1 and events.k8s.io/v1 groups, `delete --cascade=orphan|foreground`, and a
//! Deployment whose new version never gets ready hitting its progress deadline.

use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::kubectl::{K, WEB, cols, kubectl_or_skip};

fn row<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .map(cols)
        .find(|c| c.first() == Some(&name))
        .unwrap_or_else(|| panic!("no row {name} in:\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_validates_and_sees_nodes_jobs_secrets_and_cascades() {
    let Some(bin) = kubectl_or_skip("kubectl conformance") else {
        return;
    };
    let sim = sim::start(SimOptions {
        speed: 10.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let k = K::new(bin, &sim);

    // Discovery lists the new kinds and groups.
    let out = k.ok(&["api-versions"]).await;
    for gv in ["batch/v1", "events.k8s.io/v1"] {
        assert!(
            out.lines().any(|l| l == gv),
            "api-versions lacks {gv}:\n{out}"
        );
    }
    let out = k.ok(&["api-resources"]).await;
    for want in [
        vec!["jobs", "batch/v1", "true", "Job"],
        vec!["nodes", "no", "v1", "false", "Node"],
        vec!["secrets", "v1", "true", "Secret"],
        vec!["serviceaccounts", "sa", "v1", "true", "ServiceAccount"],
        vec!["events", "ev", "events.k8s.io/v1", "true", "Event"],
    ] {
        assert!(
            out.lines().any(|l| cols(l) == want),
            "no {want:?} in:\n{out}"
        );
    }

    // Nodes, with pods scheduled onto them.
    let out = k.ok(&["get", "nodes"]).await;
    assert_eq!(
        cols(out.lines().next().unwrap()),
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    );
    assert_eq!(
        row(&out, "k3s-node-1"),
        [
            "k3s-node-1",
            "Ready",
            "control-plane,master",
            "30d",
            "v1.32.4+k3s1"
        ]
    );
    assert_eq!(
        row(&out, "k3s-node-3")[..3],
        ["k3s-node-3", "Ready", "<none>"]
    );
    let nodes = k
        .ok(&[
            "get",
            "pods",
            "-A",
            "-o",
            "jsonpath={.items[*].spec.nodeName}",
        ])
        .await;
    assert!(
        nodes.split_whitespace().all(|n| n.starts_with("k3s-node-")),
        "{nodes}"
    );

    // The demo's smoke test ran to completion.
    let out = k.ok(&["get", "jobs", "-n", "dictamesh-staging"]).await;
    assert_eq!(
        cols(out.lines().next().unwrap()),
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    );
    assert_eq!(
        row(&out, "smoke-test")[..3],
        ["smoke-test", "Complete", "1/1"]
    );
    let out = k
        .ok(&[
            "get", "job", "smoke-test", "-n", "dictamesh-staging", "-o",
            "jsonpath={.status.succeeded} {.status.conditions[*].type} {.status.conditions[*].reason}",
        ])
        .await;
    assert_eq!(
        out,
        "1 SuccessCriteriaMet Complete CompletionsReached CompletionsReached"
    );

    // Secrets and service accounts, with their columns.
    let out = k.ok(&["get", "secrets", "-n", "dictamesh-prod"]).await;
    assert_eq!(
        cols(out.lines().next().unwrap()),
        ["NAME", "TYPE", "DATA", "AGE"]
    );
    assert_eq!(
        row(&out, "metadata-catalog-db")[..3],
        ["metadata-catalog-db", "Opaque", "3"]
    );
    assert_eq!(
        row(&out, "ghcr-pull")[..3],
        ["ghcr-pull", "kubernetes.io/dockerconfigjson", "1"]
    );
    let out = k.ok(&["get", "sa", "-n", "dictamesh-dev"]).await;
    assert_eq!(row(&out, "default")[..2], ["default", "0"]);

    // create/apply with validation on: kubectl reads /openapi/v3 and sends
    // fieldValidation=Strict, so an unknown field is the server's 400.
    let secret = k.file(
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api-token, namespace: dictamesh-dev}\nstringData: {token: hunter2}\n",
    );
    assert_eq!(
        k.ok(&["create", "-f", &secret]).await.trim(),
        "secret/api-token created"
    );
    let out = k
        .ok(&[
            "get",
            "secret",
            "api-token",
            "-n",
            "dictamesh-dev",
            "-o",
            "jsonpath={.type} {.data.token}",
        ])
        .await;
    assert_eq!(out, "Opaque aHVudGVyMg==");
    let bad = k.file(
        "bad.yaml",
        &WEB.replace("IMAGE", "v1")
            .replace("ports:", "imagez: oops\n        ports:"),
    );
    let (code, _, err) = k.run(&["apply", "-f", &bad]).await;
    assert!(
        code != 0
            && err.contains("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.template.spec.containers[0].imagez\""),
        "{err}"
    );
    let job = k.file(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once, namespace: dictamesh-dev}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: once, image: 'busybox:1.36', command: [sh, -c, 'sleep 2']}]\n",
    );
    assert_eq!(
        k.ok(&["apply", "-f", &job]).await.trim(),
        "job.batch/once created"
    );
    k.ok(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "-n",
        "dictamesh-dev",
        "--timeout=20s",
    ])
    .await;

    // delete --cascade=orphan leaves the ReplicaSets and pods, without owner.
    let web = k.file("web.yaml", &WEB.replace("IMAGE", "v1"));
    k.ok(&["apply", "-f", &web]).await;
    k.ok(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "dictamesh-dev",
        "--timeout=20s",
    ])
    .await;
    assert_eq!(
        k.ok(&[
            "delete",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "--cascade=orphan"
        ])
        .await
        .trim(),
        "deployment.apps \"web\" deleted"
    );
    let out = k
        .ok(&[
            "get",
            "rs,pods",
            "-n",
            "dictamesh-dev",
            "-l",
            "app=web",
            "-o",
            "jsonpath={range .items[*]}{.kind}:{.metadata.ownerReferences[*].kind};{end}",
        ])
        .await;
    assert_eq!(out.matches("ReplicaSet:;").count(), 1, "{out}");
    assert_eq!(out.matches("Pod:ReplicaSet;").count(), 2, "{out}");
    // ... and --cascade=foreground takes the orphaned ReplicaSet's pods with it.
    let rs = k
        .ok(&[
            "get",
            "rs",
            "-n",
            "dictamesh-dev",
            "-l",
            "app=web",
            "-o",
            "name",
        ])
        .await;
    k.ok(&[
        "delete",
        rs.trim(),
        "-n",
        "dictamesh-dev",
        "--cascade=foreground",
    ])
    .await;
    let out = k
        .ok(&[
            "get",
            "rs,pods",
            "-n",
            "dictamesh-dev",
            "-l",
            "app=web",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(out.trim(), "", "foreground left {out}");

    // A version that never gets ready exceeds its progress deadline (10 s, simulated).
    let stuck = k.file(
        "stuck.yaml",
        &WEB.replace("IMAGE", "v9-broken")
            .replace("name: web\n  namespace", "name: stuck\n  namespace")
            .replace("{app: web}", "{app: stuck}")
            .replace("replicas: 2", "replicas: 1\n  progressDeadlineSeconds: 10"),
    );
    k.ok(&["apply", "-f", &stuck]).await;
    let (code, _, err) = k
        .run(&[
            "rollout",
            "status",
            "deploy/stuck",
            "-n",
            "dictamesh-dev",
            "--timeout=25s",
        ])
        .await;
    assert!(
        code != 0 && err.contains("error: deployment \"stuck\" exceeded its progress deadline"),
        "{code} {err}"
    );
    let out = k
        .ok(&[
            "get", "deploy", "stuck", "-n", "dictamesh-dev", "-o",
            "jsonpath={.status.conditions[?(@.type==\"Progressing\")].status} {.status.conditions[?(@.type==\"Progressing\")].reason}",
        ])
        .await;
    assert_eq!(out, "False ProgressDeadlineExceeded");
    sim.shutdown().await;
}
