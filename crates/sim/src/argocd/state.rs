//! Comparing an Application with the cluster, as the application controller's state manager
//! does: the target state is the app's path at its resolved `targetRevision` in the GitOps
//! repo, the live state is the objects in the destination namespace that carry the app's
//! tracking annotation; per resource Synced/OutOfSync (images) and health; the app's
//! `status.sync`, `status.resources`, `status.health` and `status.summary` from them.

use serde_json::{Value, json};

use crate::Shared;
use crate::argocd::health;
use crate::argocd::repo::{GitRepo, Images, WorkloadKey};
use crate::clock::fmt_time;
use crate::resources::{DEPLOYMENTS, ROLLOUTS, ResourceDef, SERVICES, VIRTUALSERVICES, def};

/// Where Argo CD keeps its Applications.
pub const NAMESPACE: &str = "argocd";
/// Argo CD 3's default resource tracking (annotation).
pub const TRACKING: &str = "argocd.argoproj.io/tracking-id";

/// `<app>:<group>/<kind>:<namespace>/<name>`.
pub fn tracking_id(app: &str, d: &ResourceDef, ns: &str, name: &str) -> String {
    format!("{app}:{}/{}:{ns}/{name}", d.group, d.kind)
}

/// The resource definition of a workload kind the repo sets images for.
pub fn workload_def(kind: &str) -> Option<&'static ResourceDef> {
    match kind {
        "Deployment" => Some(def(DEPLOYMENTS)),
        "Rollout" => Some(def(ROLLOUTS)),
        _ => None,
    }
}

/// Container name → image of a workload's pod template.
pub fn live_images(obj: &Value) -> Images {
    obj.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
                    (s("name"), s("image"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// True when every container the target names runs the target's image.
pub fn images_match(live: &Images, target: &Images) -> bool {
    target
        .iter()
        .all(|(c, i)| live.iter().any(|(lc, li)| lc == c && li == i))
}

/// One managed resource: the live object (if any) and the images git wants (workloads).
pub struct Managed {
    pub def: &'static ResourceDef,
    pub namespace: String,
    pub name: String,
    pub live: Option<Value>,
    pub target: Option<Images>,
}

impl Managed {
    pub fn synced(&self) -> bool {
        match (&self.live, &self.target) {
            (None, _) => false,
            (Some(l), Some(t)) => images_match(&live_images(l), t),
            (Some(_), None) => true,
        }
    }

    pub fn health(&self) -> Option<health::Health> {
        match &self.live {
            None => Some(("Missing", String::new())),
            Some(l) => health::of(self.def.kind, l),
        }
    }
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// The resources an app manages: its path's workloads at `target` plus live objects tracked
/// as the app's, sorted as Argo CD lists them (group, kind, namespace, name).
pub fn managed(shared: &Shared, app: &Value, target: &[(WorkloadKey, Images)]) -> Vec<Managed> {
    let name = str_at(app, "/metadata/name");
    let ns = str_at(app, "/spec/destination/namespace");
    let mut out: Vec<Managed> = Vec::new();
    for (k, images) in target {
        let Some(d) = workload_def(&k.kind) else {
            continue;
        };
        out.push(Managed {
            def: d,
            namespace: k.namespace.clone(),
            name: k.name.clone(),
            live: shared
                .store
                .get(d, &k.namespace, &k.name)
                .map(|e| e.value()),
            target: Some(images.clone()),
        });
    }
    let prefix = format!("{name}:");
    for d in [DEPLOYMENTS, ROLLOUTS, SERVICES, VIRTUALSERVICES].map(def) {
        for e in shared.store.list(d, Some(ns), |_| true).1 {
            if out
                .iter()
                .any(|m| m.def.id == d.id && *m.name == *e.meta.name)
            {
                continue;
            }
            let v = e.value();
            if v["metadata"]["annotations"][TRACKING]
                .as_str()
                .is_some_and(|t| t.starts_with(&prefix))
            {
                out.push(Managed {
                    def: d,
                    namespace: ns.to_string(),
                    name: e.meta.name.to_string(),
                    live: Some(v),
                    target: None,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.def.group, a.def.kind, &a.namespace, &a.name).cmp(&(
            b.def.group,
            b.def.kind,
            &b.namespace,
            &b.name,
        ))
    });
    out
}

/// The result of one comparison.
pub struct Comparison {
    /// The resolved target revision (None when it does not resolve).
    pub revision: Option<String>,
    pub resources: Vec<Managed>,
}

/// Compares an app with the cluster at its resolved target revision.
pub fn compare(shared: &Shared, repo: &GitRepo, app: &Value) -> Comparison {
    let wanted = str_at(app, "/spec/source/targetRevision");
    let path = str_at(app, "/spec/source/path");
    let revision = repo.resolve(wanted);
    let target = revision
        .as_deref()
        .and_then(|r| repo.manifests_at(r, path))
        .unwrap_or_default();
    Comparison {
        revision,
        resources: managed(shared, app, &target),
    }
}

/// Writes `status.sync`, `resources`, `health`, `summary` (and a ComparisonError condition
/// when the target revision does not resolve) from a comparison.
pub fn apply_status(app: &mut Value, cmp: &Comparison, now: jiff::Timestamp) {
    let mut st = app["status"].take();
    if !st.is_object() {
        st = json!({});
    }
    let mut resources = Vec::new();
    let mut app_health = "Healthy";
    let mut all_synced = true;
    let mut images: Vec<String> = Vec::new();
    for m in &cmp.resources {
        let synced = m.synced();
        all_synced &= synced;
        let mut r = json!({
            "version": m.def.version, "kind": m.def.kind,
            "namespace": m.namespace, "name": m.name,
            "status": if synced { "Synced" } else { "OutOfSync" },
        });
        if !m.def.group.is_empty() {
            r["group"] = json!(m.def.group);
        }
        if let Some((code, msg)) = m.health() {
            app_health = health::worst(app_health, code);
            r["health"] = json!({"status": code});
            if !msg.is_empty() {
                r["health"]["message"] = json!(msg);
            }
        }
        if let Some(l) = &m.live {
            images.extend(live_images(l).into_iter().map(|(_, i)| i));
        }
        resources.push(r);
    }
    images.sort();
    images.dedup();
    let source = app["spec"]["source"].clone();
    let destination = app["spec"]["destination"].clone();
    let (sync, conditions) = match &cmp.revision {
        Some(rev) => (
            json!({"status": if all_synced { "Synced" } else { "OutOfSync" },
                   "comparedTo": {"source": source, "destination": destination}, "revision": rev}),
            Value::Null,
        ),
        None => {
            let wanted = source["targetRevision"]
                .as_str()
                .unwrap_or("HEAD")
                .to_string();
            (
                json!({"status": "Unknown", "comparedTo": {"source": source, "destination": destination}}),
                json!([{"type": "ComparisonError", "lastTransitionTime": fmt_time(now),
                    "message": format!("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = unable to resolve '{wanted}' to a commit SHA")}]),
            )
        }
    };
    if st["health"]["status"] != app_health {
        st["health"] = json!({"status": app_health, "lastTransitionTime": fmt_time(now)});
    }
    st["sync"] = sync;
    st["resources"] = json!(resources);
    st["summary"] = json!({"images": images});
    st["sourceType"] = json!("Kustomize");
    st["controllerNamespace"] = json!(NAMESPACE);
    match conditions {
        Value::Null => {
            if let Some(m) = st.as_object_mut() {
                m.remove("conditions");
            }
        }
        c => {
            if st["conditions"]
                .as_array()
                .is_none_or(|a| a.first().map(|x| &x["message"]) != c[0].get("message"))
            {
                st["conditions"] = c;
            }
        }
    }
    app["status"] = st;
}
