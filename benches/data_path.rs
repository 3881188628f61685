//! The data path at scale: decoding a pod list into slim rows, `update()` on a
//! burst of watch events, and rendering the pods pane, at 1k / 10k / 50k pods.
//! Figures from here back the README's performance section (never timed tests).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::app::{EnvUpdate, Event, Pane, State, update};
use rollcall::config::{self, LoadOptions, Theme};
use rollcall::domain::{WatchUpdate, WatchedPod};
use serde_json::{Value, json};

const SIZES: [usize; 3] = [1_000, 10_000, 50_000];

/// A pod as a real API server sends it, managedFields included (~6 KB of JSON).
fn realistic_pod(i: usize) -> Value {
    let name = format!("svc-{}-7d9f5c6b8-{:05}", i % 40, i);
    let managed: Vec<Value> = (0..3)
        .map(|k| {
            json!({"manager": format!("kubelet-{k}"), "operation": "Update",
                "apiVersion": "v1", "time": "2026-11-23T10:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:conditions": {
                    "k:{\"type\":\"ContainersReady\"}": {".": {}, "f:lastProbeTime": {},
                        "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
                    "k:{\"type\":\"Initialized\"}": {".": {}, "f:lastProbeTime": {},
                        "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
                    "k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {},
                        "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
                    "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {},
                    "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.42.0.9\"}": {}},
                    "f:startTime": {}}}})
        })
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": format!("ns-{}", i % 20),
            "uid": format!("3cf9325e-f617-11e8-a057-{i:012}"), "resourceVersion": (1000 + i).to_string(),
            "creationTimestamp": "2026-11-23T10:00:00Z",
            "labels": {"app": format!("svc-{}", i % 40), "pod-template-hash": "7d9f5c6b8",
                "app.kubernetes.io/part-of": "bench"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-23T09:59:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("svc-{}-7d9f5c6b8", i % 40), "uid": "rs-uid",
                "controller": true, "blockOwnerDeletion": true}],
            "managedFields": managed},
        "spec": {"nodeName": format!("node-{}", i % 50), "restartPolicy": "Always",
            "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
            "containers": [{"name": "app", "image": "ghcr.io/controle-digital/svc:v1.2.0",
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "512Mi"}},
                "livenessProbe": {"httpGet": {"path": "/health/live", "port": 8080},
                    "initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
                "readinessProbe": {"httpGet": {"path": "/health/ready", "port": 8080},
                    "initialDelaySeconds": 10, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3},
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    "name": "kube-api-access", "readOnly": true}]}],
            "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
                "operator": "Exists", "tolerationSeconds": 300}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.4", "podIP": "10.42.0.9",
            "podIPs": [{"ip": "10.42.0.9"}], "startTime": "2026-11-23T10:00:00Z", "qosClass": "Burstable",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-23T10:00:00Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-23T10:00:12Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-11-23T10:00:12Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-23T10:00:00Z"}],
            "containerStatuses": [{"name": "app", "ready": true, "started": true, "restartCount": 0,
                "image": "ghcr.io/controle-digital/svc:v1.2.0",
                "imageID": "ghcr.io/controle-digital/svc@sha256:621c2f39f8133acb8e64023a94dbdf0d5ca81896102b9e57c0dc184cadaf5528",
                "containerID": "containerd://977dcb5c66325385f6df86276a3bcc2419e6aecc0b6682ab90853bd30f21fa51",
                "state": {"running": {"startedAt": "2026-11-23T10:00:01Z"}},
                "lastState": {}}]}
    })
}

fn pod_list(n: usize) -> String {
    let items: Vec<Value> = (0..n).map(realistic_pod).collect();
    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "99"},
        "items": items})
    .to_string()
}

#[derive(serde::Deserialize)]
struct List {
    items: Vec<WatchedPod>,
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_pod_list");
    group.sample_size(10);
    for n in [1_000, 10_000] {
        let body = pod_list(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter(|| {
                let list: List = serde_json::from_str(black_box(body)).unwrap();
                black_box(list.items.len())
            })
        });
    }
    group.finish();
}

/// A state whose first environment holds `n` pods (all in its namespace).
fn state_with(n: usize) -> State {
    let cfg = config::load(&LoadOptions::default()).unwrap();
    let mut state = State::new(cfg.environments, cfg.keys, Timestamp::now());
    state.size = (200, 50);
    state.focus = Pane::Pods;
    let ns = state.envs[0].config.namespace.clone();
    update(&mut state, watch(EnvUpdate::Pods(WatchUpdate::Init)));
    for i in 0..n {
        let mut w: WatchedPod = serde_json::from_value(realistic_pod(i)).unwrap();
        w.row.namespace = ns.clone();
        update(
            &mut state,
            watch(EnvUpdate::Pods(WatchUpdate::InitApply(w.row))),
        );
    }
    update(&mut state, watch(EnvUpdate::Pods(WatchUpdate::InitDone)));
    state
}

fn watch(update: EnvUpdate) -> Event {
    Event::Watch { env: 0, update }
}

fn update_burst(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_1000_pod_events");
    group.sample_size(10);
    for n in SIZES {
        let mut state = state_with(n);
        let rows: Vec<_> = state.envs[0].pods.iter().take(1000).cloned().collect();
        group.throughput(Throughput::Elements(rows.len() as u64));
        let mut flip = 0u32;
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                flip += 1;
                for row in &rows {
                    let mut row = row.clone();
                    row.restarts = flip;
                    update(&mut state, watch(EnvUpdate::Pods(WatchUpdate::Apply(row))));
                }
            })
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_pods_200x50");
    let theme = Theme::default();
    for n in SIZES {
        let state = state_with(n);
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| rollcall::ui::render(f, &state, &theme))
                    .unwrap();
            })
        });
    }
    group.finish();
}

/// The same state with a filter that matches about a tenth of the pods: the count in
/// the title and the visible window come from the incremental filter index.
fn filtered(n: usize) -> State {
    let mut state = state_with(n);
    state.filter.insert_str("7");
    state.sync_pod_filter();
    state
}

fn filtered_update_and_render(c: &mut Criterion) {
    let mut group = c.benchmark_group("filtered_1000_events_then_render_200x50");
    group.sample_size(10);
    let theme = Theme::default();
    for n in SIZES {
        let mut state = filtered(n);
        let rows: Vec<_> = state.envs[0].pods.iter().take(1000).cloned().collect();
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
        let mut flip = 0u32;
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                flip += 1;
                for row in &rows {
                    let mut row = row.clone();
                    row.restarts = flip;
                    update(&mut state, watch(EnvUpdate::Pods(WatchUpdate::Apply(row))));
                }
                terminal
                    .draw(|f| rollcall::ui::render(f, &state, &theme))
                    .unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    decode,
    update_burst,
    render,
    filtered_update_and_render
);
criterion_main!(benches);
