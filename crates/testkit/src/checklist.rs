//! The checklist's data as its watchers and prober deliver it, for app-level tests:
//! CNPG backups, Trivy reports and release checklists decoded from the wire shapes, and
//! the DictaMesh prod checklist for customer-adapter v1.2.0 half walked.

use rollcall::app::{Event, State, update};
use rollcall::domain::WatchUpdate;
use rollcall::domain::checklist::checks::HttpProbe;
use rollcall::domain::checklist::shared::{SharedRow, WatchedChecklist};
use rollcall::domain::cnpg::{BackupRow, WatchedBackup};
use rollcall::domain::feed::ChecklistUpdate;
use rollcall::domain::vulnerability::{VulnerabilityReportRow, WatchedVulnerabilityReport};
use serde_json::{Value, json};

use crate::state::{ago, now};

pub const PROD: usize = 2;
pub const STAGING: usize = 1;
pub const HEALTH_URL: &str = "https://grafana.dictamesh.com/api/health";

/// A Backup of metadata-catalog-db in `ns` that stopped `secs` ago.
pub fn backup(ns: &str, name: &str, phase: &str, secs: i64, error: Option<&str>) -> BackupRow {
    let mut status = json!({"phase": phase, "startedAt": ago(secs + 20), "stoppedAt": ago(secs)});
    if let Some(e) = error {
        status["error"] = json!(e);
    }
    let v = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "1",
            "creationTimestamp": ago(secs + 20)},
        "spec": {"cluster": {"name": "metadata-catalog-db"}}, "status": status});
    serde_json::from_value::<WatchedBackup>(v).unwrap().row
}

/// A Trivy report of `service:tag` in `ns` with `critical` CRITICAL findings.
pub fn report(ns: &str, service: &str, tag: &str, critical: u32) -> VulnerabilityReportRow {
    let vulns: Vec<Value> = (0..critical)
        .map(|_| json!({"vulnerabilityID": "CVE-2024-45337", "severity": "CRITICAL",
            "resource": "golang.org/x/crypto", "installedVersion": "v0.30.0",
            "fixedVersion": "0.31.0", "title": "golang.org/x/crypto/ssh: Misuse of ServerConfig.PublicKeyCallback"}))
        .collect();
    let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport",
        "metadata": {"name": format!("replicaset-{service}-7d9f5c6b8-{service}"), "namespace": ns,
            "resourceVersion": "1",
            "labels": {"trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": format!("{service}-7d9f5c6b8"),
                "trivy-operator.container.name": service}},
        "report": {"updateTimestamp": ago(3600), "registry": {"server": "ghcr.io"},
            "artifact": {"repository": format!("controle-digital/{service}"), "tag": tag},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
            "summary": {"criticalCount": critical, "highCount": 1, "mediumCount": 1,
                "lowCount": 0, "unknownCount": 0},
            "vulnerabilities": vulns}});
    serde_json::from_value::<WatchedVulnerabilityReport>(v)
        .unwrap()
        .row
}

/// A release checklist ConfigMap with `ticks` (item, who, seconds ago, note).
pub fn shared(ns: &str, env: &str, release: &str, ticks: &[(&str, &str, i64, &str)]) -> SharedRow {
    let mut data = serde_json::Map::new();
    let mut log = Vec::new();
    for (item, by, secs, note) in ticks {
        let mark = json!({"done": true, "by": by, "at": ago(*secs), "note": note});
        data.insert(format!("item.{item}"), json!(mark.to_string()));
        let mut change = mark.clone();
        change["item"] = json!(item);
        log.push(change.to_string());
    }
    data.insert("log".into(), json!(log.join("\n")));
    let name = format!(
        "rollcall-checklist-{}",
        release.replace(['@', '.'], "-").to_lowercase()
    );
    let v = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "7",
            "labels": {"rollcall.dev/checklist": "true"},
            "annotations": {"rollcall.dev/release": release, "rollcall.dev/environment": env}},
        "data": data});
    serde_json::from_value::<WatchedChecklist>(v).unwrap().row
}

pub fn checklist(state: &mut State, env: usize, update_: ChecklistUpdate) {
    update(
        state,
        Event::Checklist {
            env,
            update: update_,
        },
    );
}

fn listed<T>(rows: Vec<T>, wrap: fn(WatchUpdate<T>) -> ChecklistUpdate) -> Vec<ChecklistUpdate> {
    let mut out = vec![wrap(WatchUpdate::Init)];
    out.extend(rows.into_iter().map(|r| wrap(WatchUpdate::InitApply(r))));
    out.push(wrap(WatchUpdate::InitDone));
    out
}

/// Everything prod's checklist reads: backups (the newest 3 h old), staging's scan of
/// customer-adapter v1.2.0 with one CRITICAL, Grafana answering, and the checklist
/// ConfigMap with five items ticked by two teammates.
pub fn with_checklist_data(state: &mut State) {
    let backups = vec![
        backup(
            "dictamesh-infra",
            "metadata-catalog-db-20261123020000",
            "completed",
            27 * 3600,
            None,
        ),
        backup(
            "dictamesh-infra",
            "metadata-catalog-db-20261124020000",
            "failed",
            51 * 3600,
            Some("can't execute backup: exit status 4"),
        ),
        backup(
            "dictamesh-infra",
            "metadata-catalog-db-20261126110000",
            "completed",
            3 * 3600,
            None,
        ),
    ];
    for u in listed(backups, ChecklistUpdate::Backups) {
        checklist(state, PROD, u);
    }
    for (env, ns) in [
        (0, "dictamesh-dev"),
        (STAGING, "dictamesh-staging"),
        (PROD, "dictamesh-prod"),
    ] {
        let reports = if env == STAGING {
            vec![
                report(ns, "customer-adapter", "v1.2.0", 1),
                report(ns, "graphql-gateway", "v1.2.0", 0),
            ]
        } else {
            Vec::new()
        };
        for u in listed(reports, ChecklistUpdate::Reports) {
            checklist(state, env, u);
        }
        let maps = if env == PROD {
            vec![shared(
                ns,
                "prod",
                "customer-adapter@v1.2.0",
                &[
                    (
                        "ci-tests",
                        "maria.santos@dictamesh.io",
                        5 * 3600,
                        "main pipeline #412 green",
                    ),
                    (
                        "code-review",
                        "maria.santos@dictamesh.io",
                        5 * 3600,
                        "PR #238",
                    ),
                    ("docs", "joao.pereira@dictamesh.io", 4 * 3600, ""),
                    (
                        "rollback-plan",
                        "joao.pereira@dictamesh.io",
                        4 * 3600,
                        "abort the canary",
                    ),
                    ("stakeholders", "maria.santos@dictamesh.io", 3 * 3600, ""),
                ],
            )]
        } else {
            Vec::new()
        };
        for u in listed(maps, ChecklistUpdate::Shared) {
            checklist(state, env, u);
        }
    }
    update(
        state,
        Event::Probe(HttpProbe {
            url: HEALTH_URL.into(),
            at: now(),
            outcome: Ok((200, 42)),
        }),
    );
}
