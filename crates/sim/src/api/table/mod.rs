//! `meta.k8s.io/v1` Table rendering with the API server's column sets, so `kubectl get`
//! prints its usual columns (Pods, Deployments, ReplicaSets, Services, …).

pub mod columns;
pub mod kinds;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::table::columns::column_definitions;
use crate::clock::{human_duration, parse_time};
use crate::resources::{ResourceDef, TableKind};
use crate::store::selector::LabelSelector;

/// What each row carries in `object` (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn age(now: Timestamp, ts: &str) -> String {
    parse_time(ts)
        .map(|t| human_duration(now.duration_since(t)))
        .unwrap_or_else(|| "<unknown>".into())
}

pub(super) fn none_if_empty(x: &str) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x.into()
    }
}

pub(super) fn containers(v: &Value, ptr: &str) -> (String, String) {
    let cs = v
        .pointer(ptr)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

pub(super) fn selector_string(v: Option<&Value>) -> String {
    v.and_then(|x| LabelSelector::from_object(x).ok())
        .map(|x| x.to_string())
        .filter(|x| !x.is_empty())
        .unwrap_or_else(|| "<none>".into())
}

/// The status column of `kubectl get pods` (printPod in the API server).
pub fn pod_status(p: &Value) -> (String, i64, i64, i64) {
    let total = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as i64;
    let mut reason = s(p, "/status/phase").to_string();
    if !s(p, "/status/reason").is_empty() {
        reason = s(p, "/status/reason").to_string();
    }
    let (mut ready, mut restarts) = (0, 0);
    let statuses = p
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in statuses.iter().rev() {
        restarts += i(c, "/restartCount");
        let w = s(c, "/state/waiting/reason");
        let t = s(c, "/state/terminated/reason");
        if !w.is_empty() {
            reason = w.to_string();
        } else if !t.is_empty() {
            reason = t.to_string();
        } else if c.pointer("/state/running").is_some() && c["ready"] == true {
            ready += 1;
        }
    }
    if p.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        reason = if s(p, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    (reason, ready, total, restarts)
}

fn cells(kind: TableKind, o: &Value, now: Timestamp) -> Vec<Value> {
    let name = s(o, "/metadata/name");
    let created = age(now, s(o, "/metadata/creationTimestamp"));
    match kind {
        TableKind::Pod => {
            let (status, ready, total, restarts) = pod_status(o);
            let gates = o
                .pointer("/spec/readinessGates")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let gates = if gates == 0 {
                "<none>".to_string()
            } else {
                format!("0/{gates}")
            };
            vec![
                json!(name),
                json!(format!("{ready}/{total}")),
                json!(status),
                json!(restarts.to_string()),
                json!(created),
                json!(none_if_empty(s(o, "/status/podIP"))),
                json!(none_if_empty(s(o, "/spec/nodeName"))),
                json!(none_if_empty(s(o, "/status/nominatedNodeName"))),
                json!(gates),
            ]
        }
        TableKind::Deployment => {
            let (c, im) = containers(o, "/spec/template/spec/containers");
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    i(o, "/status/readyReplicas"),
                    i(o, "/spec/replicas")
                )),
                json!(i(o, "/status/updatedReplicas")),
                json!(i(o, "/status/availableReplicas")),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(o.pointer("/spec/selector"))),
            ]
        }
        TableKind::ReplicaSet => {
            let (c, im) = containers(o, "/spec/template/spec/containers");
            vec![
                json!(name),
                json!(i(o, "/spec/replicas")),
                json!(i(o, "/status/replicas")),
                json!(i(o, "/status/readyReplicas")),
                json!(created),
                json!(c),
                json!(im),
                json!(selector_string(o.pointer("/spec/selector"))),
            ]
        }
        TableKind::Service => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| format!("{}/{}", i(p, "/port"), s(p, "/protocol")))
                        .collect()
                })
                .unwrap_or_default();
            let sel: Vec<String> = o
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                json!(name),
                json!(s(o, "/spec/type")),
                json!(none_if_empty(s(o, "/spec/clusterIP"))),
                json!("<none>"),
                json!(if ports.is_empty() {
                    "<none>".into()
                } else {
                    ports.join(",")
                }),
                json!(created),
                json!(none_if_empty(&sel.join(","))),
            ]
        }
        TableKind::Namespace => vec![json!(name), json!(s(o, "/status/phase")), json!(created)],
        TableKind::ConfigMap => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
                + o.get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
            vec![json!(name), json!(n), json!(created)]
        }
        TableKind::Event => {
            let last = s(o, "/lastTimestamp");
            let last = if last.is_empty() {
                s(o, "/eventTime")
            } else {
                last
            };
            let first = s(o, "/firstTimestamp");
            let first = if first.is_empty() { last } else { first };
            vec![
                json!(age(now, last)),
                json!(s(o, "/type")),
                json!(s(o, "/reason")),
                json!(format!(
                    "{}/{}",
                    s(o, "/involvedObject/kind").to_lowercase(),
                    s(o, "/involvedObject/name")
                )),
                json!(s(o, "/involvedObject/fieldPath")),
                json!(
                    format!("{}, {}", s(o, "/source/component"), s(o, "/source/host"))
                        .trim_end_matches(", ")
                        .to_string()
                ),
                json!(s(o, "/message")),
                json!(age(now, first)),
                json!(i(o, "/count")),
                json!(name),
            ]
        }
        TableKind::Rollout => vec![
            json!(name),
            json!(i(o, "/spec/replicas")),
            json!(i(o, "/status/replicas")),
            json!(i(o, "/status/updatedReplicas")),
            json!(i(o, "/status/availableReplicas")),
            json!(created),
        ],
        TableKind::Application => vec![
            json!(name),
            json!(s(o, "/status/sync/status")),
            json!(s(o, "/status/health/status")),
            json!(s(o, "/status/sync/revision")),
            json!(s(o, "/spec/project")),
        ],
        TableKind::Secret
        | TableKind::ServiceAccount
        | TableKind::Node
        | TableKind::Job
        | TableKind::CnpgCluster
        | TableKind::CnpgBackup
        | TableKind::VulnerabilityReport
        | TableKind::KafkaTopic => crate::api::table::kinds::cells(kind, o, now),
        TableKind::AnalysisRun => vec![json!(name), json!(s(o, "/status/phase")), json!(created)],
        TableKind::Default => vec![json!(name), json!(created)],
    }
}

fn row_object(o: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(o.clone()),
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": o.get("metadata").cloned().unwrap_or(json!({})),
        })),
    }
}

/// Renders objects as a Table; `headers` false leaves out column definitions (watch events
/// after the first).
pub fn to_table(
    def: &ResourceDef,
    objects: &[Value],
    rv: u64,
    now: Timestamp,
    headers: bool,
    include: IncludeObject,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut r = json!({"cells": cells(def.table, o, now)});
            if let Some(obj) = row_object(o, include) {
                r["object"] = obj;
            }
            r
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": if headers { Value::Array(column_definitions(def.table)) } else { Value::Array(vec![]) },
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS, def};

    #[test]
    fn pod_and_deployment_rows() {
        let now: Timestamp = "2026-01-04T00:00:00Z".parse().unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "n", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c"}], "nodeName": "k3s-node-1"},
            "status": {"phase": "Running", "podIP": "10.42.0.5", "containerStatuses": [{"name": "c", "ready": true, "restartCount": 2, "state": {"running": {}}}]}});
        let t = to_table(
            def(PODS),
            std::slice::from_ref(&pod),
            7,
            now,
            true,
            IncludeObject::Metadata,
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "p",
                "1/1",
                "Running",
                "2",
                "3d",
                "10.42.0.5",
                "k3s-node-1",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "n");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);
        let mut term = pod;
        term["metadata"]["deletionTimestamp"] = json!("2026-01-04T00:00:00Z");
        assert_eq!(pod_status(&term).0, "Terminating");
        let d = json!({"metadata": {"name": "d", "creationTimestamp": "2026-01-03T23:59:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "d"}}, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
            "status": {"readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3}});
        let t = to_table(def(DEPLOYMENTS), &[d], 7, now, false, IncludeObject::None);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["d", "3/3", 3, 3, "60s", "c", "i:1", "app=d"])
        );
        assert!(t["rows"][0].get("object").is_none());
    }
}
