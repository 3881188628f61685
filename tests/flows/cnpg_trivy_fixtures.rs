//! Every real CloudNativePG and Trivy object in shared/fixtures/real decodes, and reads as
//! upstream reads it: a Cluster's health as Argo CD's CNPG health check says, a Backup's
//! phase, a VulnerabilityReport's counts, image and worst findings.

use std::path::Path;

use rollcall::domain::cnpg::{BackupPhase, ClusterHealth, WatchedBackup, WatchedCluster};
use rollcall::domain::vulnerability::{Severity, WatchedVulnerabilityReport};
use rollcall_testkit::fixtures::{parse, real};

fn cluster(dir: &Path, file: &str) -> rollcall::domain::cnpg::ClusterRow {
    parse::<WatchedCluster>(&dir.join(file)).row
}

#[test]
fn every_cnpg_object_reads_as_upstream_does() {
    let Some(dir) = real("cloudnative-pg") else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        seen += 1;
        if name.starts_with("backup--") {
            let b = parse::<WatchedBackup>(&path).row;
            assert_eq!(b.cluster, "cluster-sample", "{name}");
            // `status: {serverName: null}`: the operator has not looked at it yet.
            assert_eq!(b.phase, BackupPhase::New, "{name}");
            assert!(b.phase.in_progress() && !b.phase.failed());
            assert_eq!(b.error, None);
        } else {
            assert!(name.starts_with("cluster--"), "unexpected fixture {name}");
            let c = cluster(&dir, &name);
            assert_eq!(c.instances, 3, "{name}");
        }
    }
    assert_eq!(seen, 6, "the six CNPG fixtures");

    let healthy = cluster(&dir, "cluster--healthy.yaml");
    assert_eq!(healthy.health, ClusterHealth::Healthy);
    assert_eq!(healthy.message, "");
    assert_eq!((healthy.ready, healthy.instances), (3, 3));
    assert_eq!(healthy.current_primary, "cluster-example-1");
    assert_eq!(healthy.current_primary, healthy.target_primary);

    // Argo CD only trusts the phase once the operator has written conditions.
    let trimmed = cluster(&dir, "cluster--healthy-trimmed-status.yaml");
    assert_eq!(trimmed.phase, "Cluster in healthy state");
    assert_eq!(trimmed.health, ClusterHealth::Progressing);

    let minimal = cluster(&dir, "cluster--olm-sample-minimal-status.yaml");
    assert_eq!(minimal.health, ClusterHealth::Progressing);
    assert_eq!(
        minimal.message,
        "Waiting for the CloudNativePG operator to report cluster status"
    );
    assert_eq!(minimal.ready, 0);

    let setting_up = cluster(&dir, "cluster--progressing-setting-up-primary.yaml");
    assert_eq!(setting_up.health, ClusterHealth::Progressing);
    assert_eq!(setting_up.phase, "Setting up primary");
    assert_eq!(
        setting_up.message,
        "Creating primary instance cluster-example-1"
    );

    let suspended = cluster(&dir, "cluster--reconcile-suspended.yaml");
    assert_eq!(suspended.health, ClusterHealth::Suspended);
    assert_eq!(suspended.message, "Cluster reconciliation is suspended");
}

#[test]
fn backup_phases_are_cnpgs_strings() {
    for phase in [
        "pending",
        "started",
        "running",
        "finalizing",
        "completed",
        "failed",
        "walArchivingFailing",
        "invalid backup definition",
    ] {
        assert_eq!(BackupPhase::parse(Some(phase)).as_str(), phase);
    }
    assert!(BackupPhase::parse(Some("walArchivingFailing")).failed());
    assert!(!BackupPhase::parse(Some("completed")).in_progress());
    assert_eq!(
        BackupPhase::parse(Some("someday")),
        BackupPhase::Other("someday".into())
    );
}

#[test]
fn every_trivy_report_reads_with_its_counts_and_worst_findings() {
    let Some(dir) = real("trivy-operator") else {
        return;
    };
    let nginx = parse::<WatchedVulnerabilityReport>(
        &dir.join("vulnerabilityreport--docs-nginx-basic.yaml"),
    )
    .row;
    assert_eq!(
        (nginx.repository.as_str(), nginx.tag.as_str()),
        ("library/nginx", "1.16")
    );
    assert_eq!(nginx.registry, "index.docker.io");
    assert_eq!(
        (nginx.workload_kind.as_str(), nginx.workload_name.as_str()),
        ("ReplicaSet", "nginx-6d4cf56db6")
    );
    assert_eq!(nginx.container, "nginx");
    assert_eq!(nginx.summary.critical, 2);
    assert_eq!(nginx.summary.at_least(Severity::High), 2);
    assert_eq!(nginx.findings.len(), 2);
    assert!(
        nginx
            .findings
            .iter()
            .all(|f| f.severity == Severity::Critical)
    );
    // No fix yet: an empty fixedVersion.
    let webp = nginx
        .findings
        .iter()
        .find(|f| f.id == "CVE-2018-25009")
        .unwrap();
    assert_eq!(
        (webp.package.as_str(), webp.fixed.as_str()),
        ("libwebp6", "")
    );
    assert!(nginx.is_image("nginx:1.16") && nginx.is_image("library/nginx:1.16"));
    assert!(nginx.is_image("index.docker.io/library/nginx:1.16"));
    assert!(!nginx.is_image("library/nginx:1.17"));

    let coredns = parse::<WatchedVulnerabilityReport>(
        &dir.join("vulnerabilityreport--replicaset-coredns.yaml"),
    )
    .row;
    assert_eq!(coredns.namespace, "kube-system");
    assert_eq!(coredns.summary.critical, 0);
    assert_eq!(
        (
            coredns.summary.high,
            coredns.summary.medium,
            coredns.summary.unknown
        ),
        (12, 6, 9)
    );
    assert_eq!(coredns.summary.at_least(Severity::Critical), 0);
    assert_eq!(coredns.summary.at_least(Severity::High), 12);
    assert_eq!(coredns.updated.unwrap().to_string(), "2022-12-08T15:50:37Z");
    assert!(coredns.is_image("k8s.gcr.io/coredns/coredns:v1.8.0"));
}

#[test]
fn real_jobs_read_as_kubectl_wait_does() {
    let Some(dir) = rollcall_testkit::fixtures::real("kubernetes") else {
        return;
    };
    let job = |f: &str| parse::<rollcall::domain::job::WatchedJob>(&dir.join(f)).row;
    let done = job("job--succeeded.yaml");
    assert!(done.complete, "{done:?}");
    assert_eq!(done.failed, None);
    assert!(done.succeeded >= 1);
    let running = job("job--running.yaml");
    assert!(!running.complete && running.failed.is_none(), "{running:?}");
    assert!(running.active >= 1);
}
