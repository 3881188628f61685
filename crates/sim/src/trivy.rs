//! The Trivy operator in the simulator: a scanner that, a little while after a ReplicaSet
//! with pods appears, writes one `VulnerabilityReport` per container, named, labelled and
//! owned as the operator does (`replicaset-<rs>-<container>`, `trivy-operator.resource.*`
//! labels, an owner reference so the garbage collector removes it with the ReplicaSet).
//! Findings come from a small fixed database keyed by image, so the demo is repeatable:
//! customer-adapter v1.2.0 carries one CRITICAL.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::fmt_time;
use crate::resources::{REPLICASETS, VULNERABILITYREPORTS, def};
use crate::store::{Change, ChangeType, WriteMode};

/// How long a scan job takes after a ReplicaSet shows up.
pub const SCAN_TAKES: SignedDuration = SignedDuration::from_secs(15);
const SCANNER_VERSION: &str = "0.58.1";

type Key = (String, String);

/// ReplicaSets waiting for their scan, with when it finishes.
#[derive(Default)]
pub struct Scanner {
    due: BTreeMap<Key, Timestamp>,
}

impl Scanner {
    pub fn observe(&mut self, shared: &Shared, c: &Change) {
        let m = &c.entry.meta;
        if m.def != REPLICASETS {
            return;
        }
        let key = (m.namespace.to_string(), m.name.to_string());
        if c.ty == ChangeType::Deleted {
            self.due.remove(&key);
        } else {
            self.due
                .entry(key)
                .or_insert_with(|| shared.clock.now() + SCAN_TAKES);
        }
    }

    pub fn resync(&mut self, shared: &Shared) {
        let now = shared.clock.now();
        for e in shared.store.list(def(REPLICASETS), None, |_| true).1 {
            self.due
                .entry((e.meta.namespace.to_string(), e.meta.name.to_string()))
                .or_insert(now);
        }
    }

    pub fn tick(&mut self, shared: &Shared) {
        let now = shared.clock.now();
        let ready: Vec<Key> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            self.due.remove(&key);
            scan(shared, &key.0, &key.1, now);
        }
    }

    pub fn idle(&self) -> bool {
        self.due.is_empty()
    }
}

/// Writes the reports of one ReplicaSet's containers that are missing or out of date.
fn scan(shared: &Shared, ns: &str, rs_name: &str, now: Timestamp) {
    let Some(entry) = shared.store.get(def(REPLICASETS), ns, rs_name) else {
        return;
    };
    let rs = entry.value();
    // The operator scans workloads that run something.
    if rs.pointer("/spec/replicas").and_then(Value::as_i64) == Some(0) {
        return;
    }
    let spec_hash = rs
        .pointer("/metadata/labels/pod-template-hash")
        .or_else(|| rs.pointer("/metadata/labels/rollouts-pod-template-hash"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let containers = rs
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for container in containers {
        let (Some(container_name), Some(image)) =
            (container["name"].as_str(), container["image"].as_str())
        else {
            continue;
        };
        let name = format!("replicaset-{rs_name}-{container_name}");
        if let Some(old) = shared.store.get(def(VULNERABILITYREPORTS), ns, &name)
            && old.meta.label("resource-spec-hash") == Some(spec_hash.as_str())
        {
            continue;
        }
        let mut report = report(&rs, &name, container_name, image, &spec_hash, now);
        let d = def(VULNERABILITYREPORTS);
        match shared.store.get(d, ns, &name) {
            Some(old) => {
                report["metadata"] = old.value()["metadata"].clone();
                let _ = shared
                    .store
                    .write(d, &mut report, WriteMode::Update(Some(old.meta.rv)));
            }
            None => {
                if prepare_create(shared, d, Some(ns), &mut report).is_ok() {
                    let _ = shared.store.write(d, &mut report, WriteMode::Create);
                }
            }
        }
    }
}

fn report(
    rs: &Value,
    name: &str,
    container: &str,
    image: &str,
    spec_hash: &str,
    now: Timestamp,
) -> Value {
    let md = &rs["metadata"];
    let rs_name = md["name"].as_str().unwrap_or("");
    let (registry, repository, tag) = split_image(image);
    let vulnerabilities = findings(&repository, &tag);
    let count = |severity: &str| {
        vulnerabilities
            .iter()
            .filter(|v| v["severity"] == severity)
            .count()
    };
    let mut labels = json!({
        "app.kubernetes.io/managed-by": "trivy-operator",
        "resource-spec-hash": spec_hash,
        "trivy-operator.container.name": container,
        "trivy-operator.resource.kind": "ReplicaSet",
        "trivy-operator.resource.namespace": md["namespace"],
    });
    let mut annotations = json!({});
    // A name that is not a valid label value goes in an annotation, its hash in a label.
    if rs_name.len() <= 63 {
        labels["trivy-operator.resource.name"] = json!(rs_name);
    } else {
        labels["trivy-operator.resource.name-hash"] =
            json!(crate::objects::template_hash(&json!(rs_name), 0));
        annotations["trivy-operator.resource.name"] = json!(rs_name);
    }
    let mut metadata = json!({
        "name": name,
        "labels": labels,
        "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
            "uid": md["uid"], "controller": true, "blockOwnerDeletion": false,
        }],
    });
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        metadata["annotations"] = annotations;
    }
    json!({
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": metadata,
        "report": {
            "updateTimestamp": fmt_time(now),
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": SCANNER_VERSION},
            "registry": {"server": registry},
            "artifact": {"repository": repository, "tag": tag},
            "os": {"family": "debian", "name": "12.8"},
            "summary": {
                "criticalCount": count("CRITICAL"),
                "highCount": count("HIGH"),
                "mediumCount": count("MEDIUM"),
                "lowCount": count("LOW"),
                "unknownCount": count("UNKNOWN"),
                "noneCount": 0,
            },
            "vulnerabilities": vulnerabilities,
        },
    })
}

/// `ghcr.io/controle-digital/customer-adapter:v1.2.0` → (`ghcr.io`,
/// `controle-digital/customer-adapter`, `v1.2.0`); Docker Hub when no registry is named.
pub fn split_image(image: &str) -> (String, String, String) {
    let (path, tag) = match image.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, t),
        _ => (image, "latest"),
    };
    match path.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') => {
            (host.to_owned(), rest.to_owned(), tag.to_owned())
        }
        _ => (
            "index.docker.io".to_owned(),
            path.to_owned(),
            tag.to_owned(),
        ),
    }
}

/// One finding: (id, severity, package, installed, fixed, title, score).
type Finding = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
);

const X_CRYPTO_SSH: Finding = (
    "CVE-2024-45337",
    "CRITICAL",
    "golang.org/x/crypto",
    "v0.30.0",
    "0.31.0",
    "golang.org/x/crypto/ssh: Misuse of ServerConfig.PublicKeyCallback may cause authorization bypass in golang.org/x/crypto",
    9.1,
);
const X_NET_HTML: Finding = (
    "CVE-2024-45338",
    "HIGH",
    "golang.org/x/net",
    "v0.32.0",
    "0.33.0",
    "golang.org/x/net/html: Non-linear parsing of case-insensitive content in golang.org/x/net/html",
    5.3,
);
const X_NET_PROXY: Finding = (
    "CVE-2025-22870",
    "MEDIUM",
    "golang.org/x/net",
    "v0.34.0",
    "0.36.0",
    "golang.org/x/net/proxy: golang.org/x/net/http/httpproxy: HTTP Proxy bypass using IPv6 Zone IDs in golang.org/x/net",
    4.4,
);

/// The fixed vulnerability database: what each demo image carries.
fn findings(repository: &str, tag: &str) -> Vec<Value> {
    let service = repository.rsplit('/').next().unwrap_or(repository);
    let found: &[Finding] = match (service, tag) {
        ("customer-adapter", "v1.2.0") => &[X_CRYPTO_SSH, X_NET_HTML, X_NET_PROXY],
        ("customer-adapter", _) => &[X_NET_HTML],
        ("graphql-gateway" | "metadata-catalog", "v1.2.0") => &[X_NET_PROXY],
        ("graphql-gateway" | "metadata-catalog", _) => &[X_NET_HTML, X_NET_PROXY],
        _ => &[],
    };
    found
        .iter()
        .map(|(id, severity, resource, installed, fixed, title, score)| {
            json!({
                "vulnerabilityID": id,
                "severity": severity,
                "resource": resource,
                "installedVersion": installed,
                "fixedVersion": fixed,
                "title": title,
                "score": score,
                "target": "app/server",
                "class": "lang-pkgs",
                "packageType": "gobinary",
                "primaryLink": format!("https://avd.aquasec.com/nvd/{}", id.to_lowercase()),
                "links": [],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_as_trivy_reports_them() {
        assert_eq!(
            split_image("ghcr.io/controle-digital/customer-adapter:v1.2.0"),
            (
                "ghcr.io".into(),
                "controle-digital/customer-adapter".into(),
                "v1.2.0".into()
            )
        );
        assert_eq!(
            split_image("nginx"),
            ("index.docker.io".into(), "nginx".into(), "latest".into())
        );
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000".into(), "app".into(), "latest".into())
        );
    }

    #[test]
    fn the_release_in_flight_carries_one_critical() {
        let critical = |repo: &str, tag: &str| {
            findings(repo, tag)
                .iter()
                .filter(|v| v["severity"] == "CRITICAL")
                .count()
        };
        assert_eq!(critical("controle-digital/customer-adapter", "v1.2.0"), 1);
        assert_eq!(critical("controle-digital/customer-adapter", "v1.1.4"), 0);
        assert_eq!(critical("controle-digital/graphql-gateway", "v1.2.0"), 0);
    }
}
