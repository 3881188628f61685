//! Table cells of the kinds added after the first few (Secrets, ServiceAccounts, Nodes,
//! Jobs, and the CloudNativePG and Trivy custom resources), as the API server fills them.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::table::{age, containers, none_if_empty, selector_string};
use crate::clock::{human_duration, parse_time};
use crate::resources::TableKind;

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn len_of(v: &Value, ptr: &str) -> usize {
    match v.pointer(ptr) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

/// STATUS of `kubectl get nodes`: the Ready condition, plus SchedulingDisabled when cordoned.
fn node_status(o: &Value) -> String {
    let ready = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| match c["status"].as_str() {
            Some("True") => "Ready",
            _ => "NotReady",
        })
        .unwrap_or("Unknown");
    if o.pointer("/spec/unschedulable") == Some(&json!(true)) {
        format!("{ready},SchedulingDisabled")
    } else {
        ready.to_string()
    }
}

/// ROLES: `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`, sorted.
fn node_roles(o: &Value) -> String {
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                        Some(r.to_string())
                    } else if k == "kubernetes.io/role" {
                        v.as_str().map(String::from)
                    } else {
                        None
                    }
                })
                .filter(|r| !r.is_empty())
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

fn node_address(o: &Value, ty: &str) -> String {
    o.pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| x["type"] == ty))
        .and_then(|x| x["address"].as_str())
        .map_or_else(|| "<none>".into(), String::from)
}

fn has_condition(o: &Value, ty: &str) -> bool {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == ty && c["status"] == "True"))
}

/// STATUS of `kubectl get jobs` (printJob).
pub fn job_status(o: &Value) -> &'static str {
    if has_condition(o, "Complete") {
        "Complete"
    } else if has_condition(o, "Failed") {
        "Failed"
    } else if o
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        "Terminating"
    } else if has_condition(o, "Suspended") {
        "Suspended"
    } else if has_condition(o, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(o, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

fn job_duration(o: &Value, now: Timestamp) -> String {
    let Some(start) = parse_time(s(o, "/status/startTime")) else {
        return String::new();
    };
    let end = parse_time(s(o, "/status/completionTime")).unwrap_or(now);
    human_duration(end.duration_since(start))
}

pub fn cells(kind: TableKind, o: &Value, now: Timestamp) -> Vec<Value> {
    let name = s(o, "/metadata/name");
    let created = age(now, s(o, "/metadata/creationTimestamp"));
    match kind {
        TableKind::Secret => vec![
            json!(name),
            json!(s(o, "/type")),
            json!(len_of(o, "/data")),
            json!(created),
        ],
        TableKind::ServiceAccount => {
            vec![json!(name), json!(len_of(o, "/secrets")), json!(created)]
        }
        TableKind::Node => vec![
            json!(name),
            json!(node_status(o)),
            json!(node_roles(o)),
            json!(created),
            json!(s(o, "/status/nodeInfo/kubeletVersion")),
            json!(node_address(o, "InternalIP")),
            json!(node_address(o, "ExternalIP")),
            json!(none_if_empty(s(o, "/status/nodeInfo/osImage"))),
            json!(none_if_empty(s(o, "/status/nodeInfo/kernelVersion"))),
            json!(none_if_empty(s(
                o,
                "/status/nodeInfo/containerRuntimeVersion"
            ))),
        ],
        TableKind::Job => {
            let (c, im) = containers(o, "/spec/template/spec/containers");
            let succeeded = o
                .pointer("/status/succeeded")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(n) => format!("{succeeded}/{n}"),
                None => format!(
                    "{succeeded}/1 of {}",
                    o.pointer("/spec/parallelism")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                ),
            };
            vec![
                json!(name),
                json!(job_status(o)),
                json!(completions),
                json!(job_duration(o, now)),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(o.pointer("/spec/selector"))),
            ]
        }
        TableKind::CnpgCluster => vec![
            json!(name),
            json!(created),
            column(o, "/status/instances"),
            column(o, "/status/readyInstances"),
            column(o, "/status/phase"),
            column(o, "/status/currentPrimary"),
        ],
        TableKind::CnpgBackup => vec![
            json!(name),
            json!(created),
            column(o, "/spec/cluster/name"),
            column(o, "/spec/method"),
            column(o, "/status/phase"),
            column(o, "/status/error"),
        ],
        TableKind::KafkaTopic => vec![
            json!(name),
            column(o, "/metadata/labels/strimzi.io~1cluster"),
            column(o, "/spec/partitions"),
            column(o, "/spec/replicas"),
            json!(ready_status(o)),
        ],
        TableKind::VulnerabilityReport => vec![
            json!(name),
            column(o, "/report/artifact/repository"),
            column(o, "/report/artifact/tag"),
            column(o, "/report/scanner/name"),
            json!(created),
            column(o, "/report/summary/criticalCount"),
            column(o, "/report/summary/highCount"),
            column(o, "/report/summary/mediumCount"),
            column(o, "/report/summary/lowCount"),
            column(o, "/report/summary/unknownCount"),
        ],
        _ => vec![json!(name), json!(created)],
    }
}

/// A CRD printer column: the value at its JSONPath, or null when the object has none
/// (as the API server's CRD table converter leaves it).
fn column(o: &Value, ptr: &str) -> Value {
    o.pointer(ptr).cloned().unwrap_or(Value::Null)
}

/// The `Ready` condition's status (`.status.conditions[?(@.type=="Ready")].status`).
fn ready_status(o: &Value) -> Value {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map_or(Value::Null, |c| c["status"].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_and_job_cells() {
        let now: Timestamp = "2026-01-04T00:00:00Z".parse().unwrap();
        let node = json!({"metadata": {"name": "k3s-node-1", "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"node-role.kubernetes.io/master": "true", "node-role.kubernetes.io/control-plane": "true"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.4+k3s1"},
                "addresses": [{"type": "InternalIP", "address": "192.168.10.11"}]}});
        let c = cells(TableKind::Node, &node, now);
        assert_eq!(
            c[..5],
            [
                json!("k3s-node-1"),
                json!("Ready"),
                json!("control-plane,master"),
                json!("3d"),
                json!("v1.32.4+k3s1")
            ]
        );
        assert_eq!(c[5], "192.168.10.11");
        assert_eq!(c[6], "<none>");
        let job = json!({"metadata": {"name": "smoke-test", "creationTimestamp": "2026-01-03T23:59:00Z"},
            "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "smoke", "image": "i:1"}]}}},
            "status": {"succeeded": 1, "startTime": "2026-01-03T23:59:00Z", "completionTime": "2026-01-03T23:59:12Z",
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}});
        let c = cells(TableKind::Job, &job, now);
        assert_eq!(
            c[..5],
            [
                json!("smoke-test"),
                json!("Complete"),
                json!("1/1"),
                json!("12s"),
                json!("60s")
            ]
        );
    }
}
