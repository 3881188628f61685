//! The real `kubectl` against the simulator's CloudNativePG and Trivy objects: discovery,
//! the demo's Clusters, Backups and VulnerabilityReports with their printer columns, a
//! backup created as `kubectl cnpg backup` does that the controller completes, one that
//! fails while the Cluster's object store is broken, and a new ReplicaSet getting scanned.

use std::time::{Duration, Instant};

use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::kubectl::{K, WEB, cols, kubectl_or_skip};

/// Polls until the output's words are `want`'s words in any order; returns them sorted.
async fn wait_for(k: &K, args: &[&str], want: &str) -> String {
    let sorted = |s: &str| {
        let mut words: Vec<&str> = s.split_whitespace().collect();
        words.sort_unstable();
        words.join(" ")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, out, _) = k.run(args).await;
        if sorted(&out) == sorted(want) || Instant::now() > deadline {
            return sorted(&out);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_backups_clusters_and_vulnerability_reports() {
    let Some(bin) = kubectl_or_skip("kubectl CNPG and Trivy") else {
        return;
    };
    let sim = sim::start(SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let k = K::new(bin, &sim);

    let out = k.ok(&["api-resources"]).await;
    for want in [
        vec!["backups", "postgresql.cnpg.io/v1", "true", "Backup"],
        vec!["clusters", "postgresql.cnpg.io/v1", "true", "Cluster"],
        vec![
            "vulnerabilityreports",
            "vuln,vulns",
            "aquasecurity.github.io/v1alpha1",
            "true",
            "VulnerabilityReport",
        ],
    ] {
        assert!(
            out.lines().any(|l| cols(l) == want),
            "no {want:?} in:\n{out}"
        );
    }

    // The acceptance's listing: both kinds, every namespace.
    let out = k.ok(&["get", "backups,vulnerabilityreports", "-A"]).await;
    let backups: Vec<Vec<&str>> = out
        .lines()
        .map(cols)
        .filter(|c| c.get(1).is_some_and(|n| n.starts_with("backup.")))
        .collect();
    assert_eq!(
        backups.len(),
        6,
        "four prod and two staging backups:\n{out}"
    );
    let prod: Vec<&Vec<&str>> = backups
        .iter()
        .filter(|c| c[0] == "dictamesh-infra")
        .collect();
    assert_eq!(
        prod.iter().map(|c| c[4]).collect::<Vec<_>>(),
        ["completed", "failed", "completed", "completed"],
        "{out}"
    );
    assert!(prod.iter().all(|c| c[3] == "metadata-catalog-db"));
    assert!(out.contains("Barman cloud backup exception"), "{out}");
    let critical = out
        .lines()
        .filter(|l| {
            l.contains("vulnerabilityreport.aquasecurity.github.io/replicaset-customer-adapter-")
        })
        .count();
    assert!(
        critical >= 3,
        "customer-adapter is scanned everywhere:\n{out}"
    );

    let out = k
        .ok(&["get", "vulns", "-n", "dictamesh-staging", "-o", "wide"])
        .await;
    let header = cols(out.lines().next().unwrap_or(""));
    assert_eq!(
        header,
        [
            "NAME",
            "REPOSITORY",
            "TAG",
            "SCANNER",
            "AGE",
            "CRITICAL",
            "HIGH",
            "MEDIUM",
            "LOW",
            "UNKNOWN"
        ]
    );
    let adapter = out
        .lines()
        .map(cols)
        .find(|c| c[0].starts_with("replicaset-customer-adapter-"))
        .unwrap_or_else(|| panic!("no customer-adapter report:\n{out}"));
    assert_eq!(
        adapter[1..4],
        ["controle-digital/customer-adapter", "v1.2.0", "Trivy"]
    );
    assert_eq!(adapter[5..], ["1", "1", "1", "0", "0"], "{out}");

    let out = k.ok(&["get", "clusters", "-n", "dictamesh-infra"]).await;
    assert_eq!(
        cols(out.lines().next().unwrap_or("")),
        ["NAME", "AGE", "INSTANCES", "READY", "STATUS", "PRIMARY"]
    );
    assert!(
        out.contains("metadata-catalog-db") && out.contains("Cluster in healthy state"),
        "{out}"
    );

    // A backup as `kubectl cnpg backup metadata-catalog-db` sends it.
    let file = k.file(
        "backup.yaml",
        "apiVersion: postgresql.cnpg.io/v1\nkind: Backup\nmetadata:\n  name: metadata-catalog-db-manual\n  labels:\n    cnpg.io/cluster: metadata-catalog-db\nspec:\n  cluster:\n    name: metadata-catalog-db\n",
    );
    k.ok(&["create", "-n", "dictamesh-infra", "-f", &file])
        .await;
    let phase = [
        "get",
        "backup",
        "metadata-catalog-db-manual",
        "-n",
        "dictamesh-infra",
        "-o",
        "jsonpath={.status.phase}",
    ];
    assert_eq!(wait_for(&k, &phase, "completed").await, "completed");
    let last = k
        .ok(&[
            "get",
            "cluster",
            "metadata-catalog-db",
            "-n",
            "dictamesh-infra",
            "-o",
            "jsonpath={.status.lastSuccessfulBackup} {.status.conditions[?(@.type==\"LastBackupSucceeded\")].status}",
        ])
        .await;
    let stopped = k
        .ok(&[
            "get",
            "backup",
            "metadata-catalog-db-manual",
            "-n",
            "dictamesh-infra",
            "-o",
            "jsonpath={.status.stoppedAt}",
        ])
        .await;
    assert_eq!(last.trim(), format!("{} True", stopped.trim()));

    // A broken object store fails the next one, with the error on the Backup.
    k.ok(&[
        "annotate",
        "cluster",
        "metadata-catalog-db",
        "-n",
        "dictamesh-infra",
        "sim.rollcall.dev/fail-backups=true",
    ])
    .await;
    let file = k.file(
        "backup2.yaml",
        "apiVersion: postgresql.cnpg.io/v1\nkind: Backup\nmetadata:\n  name: metadata-catalog-db-broken\nspec:\n  cluster:\n    name: metadata-catalog-db\n",
    );
    k.ok(&["create", "-n", "dictamesh-infra", "-f", &file])
        .await;
    let phase = [
        "get",
        "backup",
        "metadata-catalog-db-broken",
        "-n",
        "dictamesh-infra",
        "-o",
        "jsonpath={.status.phase}",
    ];
    assert_eq!(wait_for(&k, &phase, "failed").await, "failed");

    // A new Deployment's ReplicaSet gets scanned, and so does its next release's.
    let web = k.file("web.yaml", &WEB.replace("IMAGE", "v1"));
    k.ok(&["apply", "-f", &web]).await;
    let tags = [
        "get",
        "vulns",
        "-n",
        "dictamesh-dev",
        "-l",
        "trivy-operator.container.name=web",
        "-o",
        "jsonpath={.items[*].report.artifact.tag}",
    ];
    assert_eq!(wait_for(&k, &tags, "v1").await, "v1");
    k.ok(&[
        "set",
        "image",
        "deployment/web",
        "web=ghcr.io/example/web:v2",
        "-n",
        "dictamesh-dev",
    ])
    .await;
    assert_eq!(wait_for(&k, &tags, "v1 v2").await, "v1 v2");
    sim.shutdown().await;
}
