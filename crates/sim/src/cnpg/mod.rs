//! CloudNativePG in the simulator: `Cluster`s whose status says they are healthy, and a
//! backup controller that walks each `Backup` through the phases the operator and its
//! instance manager write (`pending` → `started` → `running` → `completed`, or `failed`
//! with `error`), then records the result on the Cluster (`lastSuccessfulBackup`, the
//! `LastBackupSucceeded` condition). A Cluster annotated `sim.rollcall.dev/fail-backups:
//! "true"` makes its backups fail as a broken object store does, for tests and drills.

pub mod scenario;

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::clock::{fmt_time, parse_time};
use crate::controllers::events::{NewEvent, Recorder, Source};
use crate::resources::{CNPG_BACKUPS, CNPG_CLUSTERS, def};
use crate::store::{Change, ChangeType, WriteMode};

/// The annotation that makes a Cluster's backups fail.
pub const FAIL_BACKUPS: &str = "sim.rollcall.dev/fail-backups";
/// How long a base backup takes on the simulated clock.
pub const BACKUP_TAKES: SignedDuration = SignedDuration::from_secs(20);
/// The phase string of a healthy Cluster (`PhaseHealthy` in cluster_types.go).
pub const PHASE_HEALTHY: &str = "Cluster in healthy state";
/// What barman-cloud says when the object store hangs up (the demo's failed backup).
pub const STORE_FAILURE: &str = "can't execute backup: exit status 4: ERROR: Barman cloud backup exception: Connection was closed before we received a valid response from endpoint URL";

const SOURCE: Source<'static> = Source {
    component: "cloudnative-pg-backup",
    host: None,
};

type Key = (String, String);

/// Backups not in a terminal phase yet.
#[derive(Default)]
pub struct BackupController {
    active: BTreeSet<Key>,
}

impl BackupController {
    pub fn observe(&mut self, shared: &Shared, c: &Change) {
        let m = &c.entry.meta;
        if m.def == CNPG_CLUSTERS && c.ty == ChangeType::Added {
            self.resync(shared);
        }
        if m.def != CNPG_BACKUPS {
            return;
        }
        let key = (m.namespace.to_string(), m.name.to_string());
        if c.ty == ChangeType::Deleted {
            self.active.remove(&key);
        } else {
            self.active.insert(key);
        }
    }

    pub fn resync(&mut self, shared: &Shared) {
        for e in shared.store.list(def(CNPG_BACKUPS), None, |_| true).1 {
            self.active
                .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
        }
    }

    pub fn tick(&mut self, shared: &Shared, rec: &mut Recorder) {
        let keys: Vec<Key> = self.active.iter().cloned().collect();
        for key in keys {
            if sync(shared, rec, &key.0, &key.1) {
                self.active.remove(&key);
            }
        }
    }

    pub fn idle(&self) -> bool {
        self.active.is_empty()
    }
}

fn terminal(phase: &str) -> bool {
    matches!(
        phase,
        "completed" | "failed" | "walArchivingFailing" | "invalid backup definition"
    )
}

/// One step of one Backup. Returns true when it needs no more (terminal, or gone).
fn sync(shared: &Shared, rec: &mut Recorder, ns: &str, name: &str) -> bool {
    let Some(entry) = shared.store.get(def(CNPG_BACKUPS), ns, name) else {
        return true;
    };
    let mut backup = entry.value();
    let now = shared.clock.now();
    let phase = backup
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if terminal(&phase) {
        return true;
    }
    let cluster_name = backup
        .pointer("/spec/cluster/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let cluster = shared.store.get(def(CNPG_CLUSTERS), ns, &cluster_name);
    let mut status = backup.get("status").cloned().unwrap_or(json!({}));
    if !status.is_object() {
        status = json!({});
    }
    let done = match (phase.as_str(), &cluster) {
        (_, None) if cluster_name.is_empty() => {
            status["phase"] = json!("invalid backup definition");
            status["error"] = json!("spec.cluster.name is required");
            true
        }
        // The operator logs "Unknown cluster, will retry" and leaves the Backup alone;
        // the Cluster's creation brings it back (`observe`).
        (_, None) => true,
        ("", Some(_)) => {
            status["phase"] = json!("pending");
            false
        }
        ("pending", Some(c)) => {
            start(&mut status, &backup, &c.value(), now);
            event(
                shared,
                rec,
                &backup,
                "Starting",
                format!("Starting backup for cluster {cluster_name}"),
                false,
            );
            false
        }
        ("started", Some(_)) => {
            status["phase"] = json!("running");
            false
        }
        (_, Some(c)) => {
            let started = status["startedAt"].as_str().and_then(parse_time);
            if started.is_some_and(|s| now.duration_since(s) < BACKUP_TAKES) {
                false
            } else {
                let cluster = c.value();
                if fails(&cluster) {
                    fail(&mut status, now, STORE_FAILURE.to_owned());
                    event(
                        shared,
                        rec,
                        &backup,
                        "Failed",
                        format!("Backup failed: {STORE_FAILURE}"),
                        true,
                    );
                } else {
                    complete(&mut status, now);
                    event(
                        shared,
                        rec,
                        &backup,
                        "Completed",
                        "Backup completed".to_owned(),
                        false,
                    );
                }
                record_on_cluster(shared, &cluster, &status, now);
                true
            }
        }
    };
    if backup.get("status") != Some(&status) {
        backup["status"] = status;
        let _ = shared.store.write(
            def(CNPG_BACKUPS),
            &mut backup,
            WriteMode::Update(Some(entry.meta.rv)),
        );
    }
    done
}

fn fails(cluster: &Value) -> bool {
    cluster
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(FAIL_BACKUPS))
        .and_then(Value::as_str)
        == Some("true")
}

fn start(status: &mut Value, backup: &Value, cluster: &Value, now: Timestamp) {
    let cluster_name = cluster["metadata"]["name"].as_str().unwrap_or("");
    let primary = cluster
        .pointer("/status/currentPrimary")
        .and_then(Value::as_str)
        .map_or_else(|| format!("{cluster_name}-1"), str::to_owned);
    let method = backup
        .pointer("/spec/method")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("barmanObjectStore");
    status["phase"] = json!("started");
    status["method"] = json!(method);
    status["online"] = json!(true);
    status["startedAt"] = json!(fmt_time(now));
    status["backupId"] = json!(now.strftime("%Y%m%dT%H%M%S").to_string());
    status["serverName"] = json!(cluster_name);
    status["destinationPath"] = json!(format!("s3://dictamesh-backups/{cluster_name}"));
    status["instanceID"] = json!({"podName": primary, "ContainerID": format!("containerd://{:064x}", now.as_second())});
    status["majorVersion"] = json!(16);
}

fn complete(status: &mut Value, now: Timestamp) {
    // WAL segment names and LSNs move with time, as on a busy primary.
    let segment = (now.as_second() / 300) as u64;
    status["phase"] = json!("completed");
    status["stoppedAt"] = json!(fmt_time(now));
    status["beginWal"] = json!(format!(
        "00000001{:08X}{:08X}",
        segment >> 8,
        segment & 0xff
    ));
    status["endWal"] = json!(format!(
        "00000001{:08X}{:08X}",
        segment >> 8,
        (segment & 0xff) + 1
    ));
    status["beginLSN"] = json!(format!("{:X}/{:X}", segment >> 8, (segment & 0xff) << 24));
    status["endLSN"] = json!(format!(
        "{:X}/{:X}",
        segment >> 8,
        ((segment & 0xff) << 24) + 0x138
    ));
    status["backupName"] = json!(format!("backup-{}", now.strftime("%Y%m%d%H%M%S")));
}

fn fail(status: &mut Value, now: Timestamp, error: String) {
    status["phase"] = json!("failed");
    status["error"] = json!(error);
    status["stoppedAt"] = json!(fmt_time(now));
}

fn event(
    shared: &Shared,
    rec: &mut Recorder,
    backup: &Value,
    reason: &str,
    message: String,
    warning: bool,
) {
    rec.record(
        shared,
        NewEvent {
            obj: backup,
            field_path: None,
            reason,
            message,
            warning,
            source: SOURCE,
        },
    );
}

/// The operator's bookkeeping on the Cluster after a backup ends.
fn record_on_cluster(shared: &Shared, cluster: &Value, backup_status: &Value, now: Timestamp) {
    let ns = cluster["metadata"]["namespace"].as_str().unwrap_or("");
    let name = cluster["metadata"]["name"].as_str().unwrap_or("");
    let Some(entry) = shared.store.get(def(CNPG_CLUSTERS), ns, name) else {
        return;
    };
    let mut cluster = entry.value();
    let ok = backup_status["phase"] == "completed";
    let mut status = cluster.get("status").cloned().unwrap_or(json!({}));
    if ok {
        status["lastSuccessfulBackup"] = json!(fmt_time(now));
        status["lastSuccessfulBackupByMethod"] = json!({"barmanObjectStore": fmt_time(now)});
        if status.get("firstRecoverabilityPoint").is_none() {
            status["firstRecoverabilityPoint"] = json!(fmt_time(now));
        }
    } else {
        status["lastFailedBackup"] = json!(fmt_time(now));
    }
    let condition = if ok {
        json!({"type": "LastBackupSucceeded", "status": "True", "reason": "LastBackupSucceeded",
               "message": "Backup was successful", "lastTransitionTime": fmt_time(now)})
    } else {
        json!({"type": "LastBackupSucceeded", "status": "False", "reason": "LastBackupFailed",
               "message": backup_status["error"].clone(), "lastTransitionTime": fmt_time(now)})
    };
    let mut conditions: Vec<Value> = status["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["type"] != "LastBackupSucceeded")
        .collect();
    conditions.push(condition);
    status["conditions"] = json!(conditions);
    cluster["status"] = status;
    let _ = shared.store.write(
        def(CNPG_CLUSTERS),
        &mut cluster,
        WriteMode::Update(Some(entry.meta.rv)),
    );
}

/// A healthy Cluster of `instances` as the operator reports it, primary `<name>-1`.
pub fn cluster(name: &str, instances: i64, now: Timestamp) -> Value {
    let pods: Vec<String> = (1..=instances).map(|i| format!("{name}-{i}")).collect();
    let since = fmt_time(now);
    json!({
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "dictamesh"}},
        "spec": {
            "instances": instances,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:16.4",
            "primaryUpdateStrategy": "unsupervised",
            "storage": {"size": "20Gi"},
            "backup": {"barmanObjectStore": {"destinationPath": format!("s3://dictamesh-backups/{name}")},
                       "retentionPolicy": "30d"},
        },
        "status": {
            "instances": instances,
            "readyInstances": instances,
            "phase": PHASE_HEALTHY,
            "currentPrimary": pods.first(),
            "targetPrimary": pods.first(),
            "currentPrimaryTimestamp": since,
            "instanceNames": pods,
            "instancesStatus": {"healthy": pods},
            "timelineID": 1,
            "image": "ghcr.io/cloudnative-pg/postgresql:16.4",
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "ClusterIsReady",
                 "message": "Cluster is Ready", "lastTransitionTime": since},
                {"type": "ContinuousArchiving", "status": "True", "reason": "ContinuousArchivingSuccess",
                 "message": "Continuous archiving is working", "lastTransitionTime": since},
            ],
        },
    })
}

/// A Backup as `kubectl cnpg backup CLUSTER` creates it: `<cluster>-<YYYYMMDDHHMMSS>`.
pub fn backup(cluster: &str, at: Timestamp) -> Value {
    json!({
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": backup_name(cluster, at),
            "labels": {"cnpg.io/cluster": cluster},
        },
        "spec": {"cluster": {"name": cluster}},
    })
}

/// The plugin's default name: the cluster and the UTC time in compact ISO 8601.
pub fn backup_name(cluster: &str, at: Timestamp) -> String {
    format!("{cluster}-{}", at.strftime("%Y%m%d%H%M%S"))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::controllers::Controllers;
    use crate::resources::VULNERABILITYREPORTS;
    use crate::scenario::{self, Scenario};

    fn phases(shared: &Shared, ns: &str) -> Vec<String> {
        let mut backups: Vec<Value> = shared
            .store
            .list(def(CNPG_BACKUPS), Some(ns), |_| true)
            .1
            .iter()
            .map(|e| e.value())
            .collect();
        backups.sort_by_key(|b| b["metadata"]["name"].as_str().unwrap_or("").to_owned());
        backups
            .iter()
            .map(|b| b["status"]["phase"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn the_demo_has_backups_and_scans_and_new_backups_complete_or_fail() {
        let (shared, _stop) = Shared::for_tests();
        let mut ctl = Controllers::new(shared.clone());
        scenario::build(&shared, &mut ctl, Scenario::Dictamesh);
        assert_eq!(
            phases(&shared, "dictamesh-infra"),
            ["completed", "failed", "completed", "completed"]
        );
        assert_eq!(
            phases(&shared, "dictamesh-staging"),
            ["completed", "completed"]
        );
        let cluster = shared
            .store
            .get(
                def(CNPG_CLUSTERS),
                "dictamesh-infra",
                scenario::cnpg_cluster(),
            )
            .map(|e| e.value())
            .unwrap_or_default();
        let last = cluster["status"]["lastSuccessfulBackup"]
            .as_str()
            .and_then(parse_time)
            .unwrap_or_default();
        let age = shared.clock.now().duration_since(last);
        assert!(age > SignedDuration::from_hours(2) && age < SignedDuration::from_hours(4));

        // Every running ReplicaSet got a report; customer-adapter v1.2.0 has a CRITICAL.
        let reports: Vec<Value> = shared
            .store
            .list(def(VULNERABILITYREPORTS), None, |_| true)
            .1
            .iter()
            .map(|e| e.value())
            .collect();
        let critical: Vec<&str> = reports
            .iter()
            .filter(|r| r["report"]["summary"]["criticalCount"] == 1)
            .filter_map(|r| r["report"]["artifact"]["tag"].as_str())
            .collect();
        assert!(!critical.is_empty() && critical.iter().all(|t| *t == "v1.2.0"));
        assert!(reports.iter().any(|r| {
            r["metadata"]["namespace"] == "dictamesh-prod"
                && r["metadata"]["labels"]["trivy-operator.resource.name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("customer-adapter-"))
        }));

        // A new backup runs through the phases and completes on the simulated clock.
        let now = shared.clock.now();
        let mut b = backup(scenario::cnpg_cluster(), now);
        let _ = crate::api::admission::prepare_create(
            &shared,
            def(CNPG_BACKUPS),
            Some("dictamesh-infra"),
            &mut b,
        );
        let _ = shared
            .store
            .write(def(CNPG_BACKUPS), &mut b, WriteMode::Create);
        let name = backup_name(scenario::cnpg_cluster(), now);
        let mut seen = Vec::new();
        for _ in 0..80 {
            ctl.drain();
            ctl.tick();
            let phase = shared
                .store
                .get(def(CNPG_BACKUPS), "dictamesh-infra", &name)
                .map(|e| {
                    e.value()["status"]["phase"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .unwrap_or_default();
            if seen.last() != Some(&phase) {
                seen.push(phase);
            }
            shared.clock.advance(SignedDuration::from_millis(500));
        }
        assert_eq!(seen, ["pending", "started", "running", "completed"]);
    }
}
