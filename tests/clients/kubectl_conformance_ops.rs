//! Conformance, part 2: the real `kubectl` against the simulator — scale with get -w,
//! describe, create -f (and AlreadyExists), logs (--tail, -f), auth can-i as admin and as
//! viewer, auth whoami, a Forbidden write, --dry-run=server and delete.

use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::kubectl::{K, WEB, cols, kubectl_or_skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scale_describe_logs_auth_and_delete() {
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
    // scale and get -w.
    let during = async {
        assert_eq!(
            k.ok(&[
                "scale",
                "deploy/graphql-gateway",
                "--replicas=3",
                "-n",
                "dictamesh-staging"
            ])
            .await
            .trim(),
            "deployment.apps/graphql-gateway scaled"
        );
    };
    let seen = k
        .lines(
            &[
                "get",
                "deploy",
                "graphql-gateway",
                "-n",
                "dictamesh-staging",
                "-w",
            ],
            3,
            during,
        )
        .await;
    assert!(
        cols(&seen[0])[0] == "NAME"
            && seen
                .iter()
                .skip(1)
                .any(|l| cols(l).get(1).is_some_and(|r| r.ends_with("/3"))),
        "{seen:?}"
    );

    // describe.
    let out = k
        .ok(&[
            "describe",
            "deploy",
            "graphql-gateway",
            "-n",
            "dictamesh-staging",
        ])
        .await;
    for want in [
        "Name:                   graphql-gateway",
        "Replicas:",
        "StrategyType:           RollingUpdate",
        "NewReplicaSet:",
        "ScalingReplicaSet",
    ] {
        assert!(out.contains(want), "describe lacks {want:?}:\n{out}");
    }

    // create -f and AlreadyExists.
    let cm = k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: dictamesh-dev}\ndata: {a: b}\n");
    assert_eq!(
        k.ok(&["create", "-f", &cm]).await.trim(),
        "configmap/cfg created"
    );
    let (code, _, err) = k.run(&["create", "-f", &cm]).await;
    assert!(
        code != 0 && err.contains("configmaps \"cfg\" already exists"),
        "{err}"
    );

    // logs --tail and -f.
    let pods = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "dictamesh-staging",
            "-l",
            "app=graphql-gateway",
            "--sort-by=.metadata.creationTimestamp",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ])
        .await;
    let out = k
        .ok(&["logs", &pods, "-n", "dictamesh-staging", "--tail=3"])
        .await;
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.contains("INFO") || out.contains("WARN") || out.contains("DEBUG"),
        "{out}"
    );
    let followed = k
        .lines(
            &["logs", "-f", &pods, "-n", "dictamesh-staging", "--tail=1"],
            3,
            async {},
        )
        .await;
    assert_eq!(followed.len(), 3, "logs -f keeps streaming: {followed:?}");

    // auth can-i / whoami as admin and viewer.
    assert_eq!(
        k.ok(&[
            "auth",
            "can-i",
            "patch",
            "deployments",
            "-n",
            "dictamesh-prod"
        ])
        .await
        .trim(),
        "yes"
    );
    let (code, out, _) = k
        .run(&[
            "--context",
            "rollcall-sim-viewer",
            "auth",
            "can-i",
            "patch",
            "deployments",
            "-n",
            "dictamesh-prod",
        ])
        .await;
    assert_eq!((code, out.trim()), (1, "no"));
    let out = k
        .ok(&[
            "--context",
            "rollcall-sim-viewer",
            "auth",
            "can-i",
            "list",
            "pods",
            "-n",
            "dictamesh-prod",
        ])
        .await;
    assert_eq!(out.trim(), "yes");
    let out = k
        .ok(&["--context", "rollcall-sim-viewer", "auth", "whoami"])
        .await;
    assert!(
        out.lines().any(|l| cols(l) == ["Username", "viewer"]),
        "{out}"
    );
    assert!(out.contains("rollcall:viewers"), "{out}");
    let (code, _, err) = k
        .run(&[
            "--context",
            "rollcall-sim-viewer",
            "scale",
            // prod's graphql-gateway is a blue/green pair; metadata-catalog is a Deployment.
            "deploy/metadata-catalog",
            "--replicas=1",
            "-n",
            "dictamesh-prod",
        ])
        .await;
    assert!(
        code != 0 && err.contains("User \"viewer\" cannot patch resource \"deployments/scale\""),
        "{err}"
    );

    // --dry-run=server changes nothing; delete.
    let web = k.file("web.yaml", &WEB.replace("IMAGE", "v1"));
    k.ok(&["create", "-f", &web]).await;
    let out = k
        .ok(&[
            "delete",
            "deploy",
            "web",
            "-n",
            "dictamesh-dev",
            "--dry-run=server",
        ])
        .await;
    assert_eq!(
        out.trim(),
        "deployment.apps \"web\" deleted (server dry run)"
    );
    k.ok(&["get", "deploy", "web", "-n", "dictamesh-dev"]).await;
    let out = k
        .ok(&["delete", "deploy", "web", "-n", "dictamesh-dev"])
        .await;
    assert_eq!(out.trim(), "deployment.apps \"web\" deleted");
    let (code, _, err) = k
        .run(&["get", "deploy", "web", "-n", "dictamesh-dev"])
        .await;
    assert!(
        code != 0 && err.contains("deployments.apps \"web\" not found"),
        "{err}"
    );
    sim.shutdown().await;
}
