//! What the Argo Rollouts controller does to the mesh: rewrites the weights of the
//! stable/canary destinations in the named Istio VirtualService HTTP routes, and pins the
//! canary/stable (or preview/active) Services to a ReplicaSet by adding the
//! `rollouts-pod-template-hash` selector.

use serde_json::{Value, json};

use crate::Shared;
use crate::resources::{SERVICES, VIRTUALSERVICES, def};
use crate::rollouts::replicasets::HASH;
use crate::store::WriteMode;

/// Sets `weight` on the canary destinations (and `100 - weight` on the stable ones) of the
/// Rollout's VirtualServices.
pub fn route(shared: &Shared, ro: &Value, weight: i64) {
    let ns = ro["metadata"]["namespace"].as_str().unwrap_or("");
    let canary = &ro["spec"]["strategy"]["canary"];
    let (Some(canary_svc), Some(stable_svc)) = (
        canary["canaryService"].as_str(),
        canary["stableService"].as_str(),
    ) else {
        return;
    };
    let istio = &canary["trafficRouting"]["istio"];
    let mut refs: Vec<&Value> = istio["virtualServices"]
        .as_array()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    if istio["virtualService"].is_object() {
        refs.push(&istio["virtualService"]);
    }
    for r in refs {
        let Some(name) = r["name"].as_str() else {
            continue;
        };
        let only: Vec<&str> = r["routes"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(e) = shared.store.get(def(VIRTUALSERVICES), ns, name) else {
            continue;
        };
        let mut vs = e.value();
        let before = vs.clone();
        if let Some(http) = vs.pointer_mut("/spec/http").and_then(Value::as_array_mut) {
            for h in http {
                let named = h["name"].as_str().unwrap_or("");
                if !only.is_empty() && !only.contains(&named) {
                    continue;
                }
                for d in h["route"].as_array_mut().into_iter().flatten() {
                    let host = d["destination"]["host"].as_str().unwrap_or("");
                    let short = host.split('.').next().unwrap_or("");
                    if short == canary_svc {
                        d["weight"] = json!(weight);
                    } else if short == stable_svc {
                        d["weight"] = json!(100 - weight);
                    }
                }
            }
        }
        if vs != before {
            let _ = shared.store.write(
                def(VIRTUALSERVICES),
                &mut vs,
                WriteMode::Update(Some(e.meta.rv)),
            );
        }
    }
}

/// Pins the Service named by `spec.strategy.<strategy>.<field>` to pods of `hash`.
pub fn select(shared: &Shared, ro: &Value, field: &str, hash: &str) {
    let ns = ro["metadata"]["namespace"].as_str().unwrap_or("");
    let strategy = &ro["spec"]["strategy"];
    let Some(name) = strategy["canary"][field]
        .as_str()
        .or_else(|| strategy["blueGreen"][field].as_str())
    else {
        return;
    };
    let Some(e) = shared.store.get(def(SERVICES), ns, name) else {
        return;
    };
    let mut svc = e.value();
    if svc["spec"]["selector"][HASH] == json!(hash) || hash.is_empty() {
        return;
    }
    svc["spec"]["selector"][HASH] = json!(hash);
    svc["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] =
        ro["metadata"]["name"].clone();
    let _ = shared
        .store
        .write(def(SERVICES), &mut svc, WriteMode::Update(Some(e.meta.rv)));
}
