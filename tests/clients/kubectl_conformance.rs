//! Conformance, part 1: the real `kubectl` against the simulator over HTTPS with bearer
//! tokens — api-versions, api-resources, get (table, yaml, jsonpath), apply -f (created,
//! unchanged, configured), rollout status/history/undo --to-revision/pause/resume/restart and
//! patch (strategic, merge, json, 422) — asserting what a real API server makes kubectl print.
//! Part 2 is `kubectl_conformance_ops.rs`.

use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::kubectl::{K, WEB, cols, kubectl_or_skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_a_real_api_server() {
    let Some(bin) = kubectl_or_skip("kubectl conformance") else {
        return;
    };
    let sim = sim::start(SimOptions {
        speed: 10.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    assert!(sim.base_url().starts_with("https://"));
    let k = K::new(bin, &sim);

    // Discovery.
    let out = k.ok(&["api-versions"]).await;
    for gv in [
        "apps/v1",
        "v1",
        "authorization.k8s.io/v1",
        "authentication.k8s.io/v1",
    ] {
        assert!(
            out.lines().any(|l| l == gv),
            "api-versions lacks {gv}:\n{out}"
        );
    }
    let out = k.ok(&["api-resources"]).await;
    assert!(
        out.lines()
            .any(|l| cols(l) == ["deployments", "deploy", "apps/v1", "true", "Deployment"]),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| cols(l) == ["pods", "po", "v1", "true", "Pod"]),
        "{out}"
    );
    assert!(
        out.lines().any(|l| cols(l)
            == [
                "selfsubjectaccessreviews",
                "authorization.k8s.io/v1",
                "false",
                "SelfSubjectAccessReview"
            ]),
        "{out}"
    );

    // get: table, yaml, jsonpath.
    let out = k.ok(&["get", "deploy", "-n", "dictamesh-staging"]).await;
    let rows: Vec<Vec<&str>> = out.lines().map(cols).collect();
    assert_eq!(rows[0], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(
        rows.iter()
            .any(|r| r[..4] == ["graphql-gateway", "2/2", "2", "2"]),
        "{out}"
    );
    let out = k
        .ok(&[
            "get",
            "deploy",
            "graphql-gateway",
            "-n",
            "dictamesh-staging",
            "-o",
            "yaml",
        ])
        .await;
    assert!(
        out.contains("kind: Deployment")
            && out.contains("deployment.kubernetes.io/revision: \"1\""),
        "{out}"
    );
    let out = k
        .ok(&[
            "get",
            "deploy",
            "graphql-gateway",
            "-n",
            "dictamesh-staging",
            "-o",
            "jsonpath={.spec.replicas} {.status.readyReplicas}",
        ])
        .await;
    assert_eq!(out, "2 2");

    // apply -f: created, configured, unchanged.
    let v1 = k.file("web1.yaml", &WEB.replace("IMAGE", "v1"));
    assert_eq!(
        k.ok(&["apply", "-f", &v1]).await.trim(),
        "deployment.apps/web created"
    );
    let (_, out, err) = k.run(&["apply", "-f", &v1, "-v=8"]).await;
    assert_eq!(
        out.trim(),
        "deployment.apps/web unchanged",
        "{}",
        err.lines()
            .filter(|l| l.contains("Request Body") || l.contains("PATCH"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let out = k
        .ok(&[
            "rollout",
            "status",
            "deploy/web",
            "-n",
            "dictamesh-dev",
            "--timeout=20s",
        ])
        .await;
    assert!(
        out.contains("deployment \"web\" successfully rolled out"),
        "{out}"
    );
    let v2 = k.file("web2.yaml", &WEB.replace("IMAGE", "v2"));
    assert_eq!(
        k.ok(&["apply", "-f", &v2]).await.trim(),
        "deployment.apps/web configured"
    );
    let out = k
        .ok(&[
            "rollout",
            "status",
            "deploy/web",
            "-n",
            "dictamesh-dev",
            "--timeout=20s",
        ])
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");

    // rollout history / undo --to-revision.
    let out = k
        .ok(&["rollout", "history", "deploy/web", "-n", "dictamesh-dev"])
        .await;
    let revs: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| cols(l).first().copied())
        .collect();
    assert!(out.starts_with("deployment.apps/web"), "{out}");
    assert_eq!(revs, ["1", "2"], "{out}");
    let out = k
        .ok(&[
            "rollout",
            "undo",
            "deploy/web",
            "-n",
            "dictamesh-dev",
            "--to-revision=1",
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web rolled back");
    let image = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await;
    assert_eq!(image, "ghcr.io/example/web:v1");
    let out = k
        .ok(&[
            "rollout",
            "status",
            "deploy/web",
            "-n",
            "dictamesh-dev",
            "--timeout=20s",
        ])
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let out = k
        .ok(&["rollout", "history", "deploy/web", "-n", "dictamesh-dev"])
        .await;
    let revs: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| cols(l).first().copied())
        .collect();
    assert_eq!(revs, ["2", "3"], "revision 1 became 3:\n{out}");

    // pause / resume / restart.
    assert_eq!(
        k.ok(&["rollout", "pause", "deploy/web", "-n", "dictamesh-dev"])
            .await
            .trim(),
        "deployment.apps/web paused"
    );
    let (code, _, err) = k
        .run(&["rollout", "undo", "deploy/web", "-n", "dictamesh-dev"])
        .await;
    assert!(
        code != 0 && err.contains("you cannot rollback a paused deployment"),
        "{err}"
    );
    assert_eq!(
        k.ok(&["rollout", "resume", "deploy/web", "-n", "dictamesh-dev"])
            .await
            .trim(),
        "deployment.apps/web resumed"
    );
    assert_eq!(
        k.ok(&["rollout", "restart", "deploy/web", "-n", "dictamesh-dev"])
            .await
            .trim(),
        "deployment.apps/web restarted"
    );
    let ann = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "-o",
            "jsonpath={.spec.template.metadata.annotations}",
        ])
        .await;
    assert!(ann.contains("kubectl.kubernetes.io/restartedAt"), "{ann}");

    // patch: strategic (container merged by name), merge, json.
    let out = k.ok(&["patch", "deploy", "web", "-n", "dictamesh-dev", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}}"#]).await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    let c = k.ok(&["get", "deploy", "web", "-n", "dictamesh-dev", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}"]).await;
    assert_eq!(
        c, "ghcr.io/example/web:v1 1",
        "strategic merge keeps the image"
    );
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "dictamesh-dev",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":"edge"}}}"#,
    ])
    .await;
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "dictamesh-dev",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/revisionHistoryLimit","value":4}]"#,
    ])
    .await;
    let out = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "-o",
            "jsonpath={.metadata.labels.tier} {.spec.revisionHistoryLimit}",
        ])
        .await;
    assert_eq!(out, "edge 4");
    let (code, _, err) = k
        .run(&[
            "patch",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":-1}]"#,
        ])
        .await;
    assert!(
        code != 0 && err.contains("Invalid value") && err.contains("spec.replicas"),
        "{err}"
    );

    sim.shutdown().await;
}
