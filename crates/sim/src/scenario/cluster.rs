//! The parts of the simulated cluster beyond the DictaMesh workloads: the k3s Nodes pods are
//! scheduled onto (every scenario), and for the demo the database Secrets of each
//! environment and a `smoke-test` Job in dictamesh-staging that runs to completion.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Shared;
use crate::api::admission::prepare_create;
use crate::clock::fmt_time;
use crate::controllers::Controllers;
use crate::controllers::kubelet::NODES;
use crate::objects::new_uid;
use crate::resources::{JOBS, NODES as NODE_KIND, ResourceDef, SECRETS, def};
use crate::scenario::Scenario;
use crate::store::WriteMode;

/// What every simulated node reports (k3s on Ubuntu).
pub const KUBELET_VERSION: &str = "v1.32.4+k3s1";

fn create(shared: &Shared, d: &ResourceDef, ns: Option<&str>, mut obj: Value, at: Timestamp) {
    if prepare_create(shared, d, ns, &mut obj).is_ok() {
        obj["metadata"]["creationTimestamp"] = json!(fmt_time(at));
        let _ = shared.store.write(d, &mut obj, WriteMode::Create);
    }
}

/// One k3s node; the first is the server (control plane).
pub fn node(i: usize, name: &str, ready_since: &str) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
    });
    if i == 0 {
        labels["node-role.kubernetes.io/control-plane"] = json!("true");
        labels["node-role.kubernetes.io/master"] = json!("true");
    }
    let cond = |ty: &str, status: &str, reason: &str, msg: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": msg,
            "lastHeartbeatTime": ready_since, "lastTransitionTime": ready_since})
    };
    let resources = json!({"cpu": "4", "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16365856Ki", "pods": "110"});
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": {"podCIDR": format!("10.42.{i}.0/24"), "podCIDRs": [format!("10.42.{i}.0/24")],
            "providerID": format!("k3s://{name}")},
        "status": {
            "addresses": [{"type": "InternalIP", "address": format!("192.168.10.{}", 11 + i)},
                {"type": "Hostname", "address": name}],
            "allocatable": resources, "capacity": resources,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": new_uid(),
                "containerRuntimeVersion": "containerd://1.7.27-k3s1",
                "kernelVersion": "6.8.0-60-generic", "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION, "machineID": new_uid().replace('-', ""),
                "operatingSystem": "linux", "osImage": "Ubuntu 24.04.2 LTS", "systemUUID": new_uid()},
        },
    })
}

/// The smoke test run against staging after its last deploy.
pub fn smoke_test_job() -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "smoke-test", "labels": {"app.kubernetes.io/name": "smoke-test",
            "app.kubernetes.io/part-of": "dictamesh"}},
        "spec": {"backoffLimit": 2, "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "smoke-test"}},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "smoke",
                "image": "ghcr.io/controle-digital/dictamesh-smoke:v1.2.0",
                "command": ["sh", "-c", "curl -fsS http://graphql-gateway:8080/health/ready && curl -fsS http://metadata-catalog:8080/health/ready && sleep 8"],
            }]},
        }},
    })
}

fn secrets(shared: &Shared, ns: &str, env: &str, at: Timestamp) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let db = format!("metadata_catalog_{env}");
    create(
        shared,
        def(SECRETS),
        Some(ns),
        json!({"metadata": {"name": "metadata-catalog-db", "labels": {"app": "metadata-catalog",
                "app.kubernetes.io/part-of": "dictamesh"}},
            "type": "Opaque",
            "data": {"username": b64("catalog"), "password": b64(&format!("sim-{}", new_uid())),
                "database": b64(&db)}}),
        at,
    );
    let auth = b64("rollcall-sim:not-a-real-token");
    let docker = format!("{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{auth}\"}}}}}}");
    create(
        shared,
        def(SECRETS),
        Some(ns),
        json!({"metadata": {"name": "ghcr-pull"}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64(&docker)}}),
        at,
    );
}

/// Builds the nodes (and the demo's extras), called once by `scenario::build` at the end.
pub fn build(shared: &Shared, ctl: &mut Controllers, scenario: Scenario, now: Timestamp) {
    let born = now - SignedDuration::from_hours(24 * 30);
    let since = fmt_time(born);
    for (i, name) in NODES.iter().enumerate() {
        create(shared, def(NODE_KIND), None, node(i, name, &since), born);
    }
    if scenario != Scenario::Dictamesh {
        return;
    }
    for (env, hours) in [("prod", 76), ("staging", 26), ("dev", 5)] {
        let ns = format!("dictamesh-{env}");
        secrets(
            shared,
            &ns,
            env,
            now - SignedDuration::from_hours(hours + 1),
        );
    }
    let mut job = smoke_test_job();
    if prepare_create(shared, def(JOBS), Some("dictamesh-staging"), &mut job).is_ok() {
        let _ = shared.store.write(def(JOBS), &mut job, WriteMode::Create);
    }
    for _ in 0..200 {
        ctl.drain();
        ctl.tick();
        ctl.drain();
        let done = shared
            .store
            .get(def(JOBS), "dictamesh-staging", "smoke-test")
            .is_none_or(|e| e.value()["status"]["completionTime"].is_string());
        if done {
            break;
        }
        shared.clock.advance(SignedDuration::from_millis(500));
    }
}
