//! The operation endpoints, in argocd-server's order of checks: sync (revision resolved
//! against the GitOps repo, refused to another revision while auto-sync is on), rollback to
//! a history id (refused while auto-sync is on), terminate, and the resource tree
//! (managed objects, their ReplicaSets and Pods, with parentRefs, health and images).

use serde_json::{Value, json};

use crate::api::table::pod_status;
use crate::argocd::api::{
    ApiResult, ArgoServer, FAILED_PRECONDITION, GrpcError, INVALID_ARGUMENT, Req, json_response,
};
use crate::argocd::controller::auto_sync_enabled;
use crate::argocd::health;
use crate::argocd::repo::is_commit_sha;
use crate::argocd::session::Claims;
use crate::argocd::state::{self, NAMESPACE};
use crate::resources::{PODS, REPLICASETS, ResourceDef, def};

fn project_of(req: &Req, body: &Value) -> Option<String> {
    body["project"]
        .as_str()
        .map(String::from)
        .or_else(|| req.query.get("project").map(String::from))
        .filter(|p| !p.is_empty())
}

fn deleting(app: &Value) -> Result<(), GrpcError> {
    if app["metadata"]["deletionTimestamp"].is_string() {
        return Err(GrpcError::new(
            FAILED_PRECONDITION,
            "application is deleting",
        ));
    }
    Ok(())
}

/// `argo.SetAppOperation`: refuses when one is already set; clears `status.operationState`.
fn set_operation(srv: &ArgoServer, app: &Value, op: Value) -> Result<Value, GrpcError> {
    for _ in 0..5 {
        let Some(e) = srv.shared.store.get(
            def(crate::resources::APPLICATIONS),
            NAMESPACE,
            app["metadata"]["name"].as_str().unwrap_or(""),
        ) else {
            return Err(GrpcError::new(5, "error setting app operation: not found"));
        };
        let stored = e.value();
        if stored.get("operation").is_some_and(Value::is_object) {
            return Err(GrpcError::new(
                FAILED_PRECONDITION,
                "error setting app operation: another operation is already in progress",
            ));
        }
        let mut new = stored.clone();
        new["operation"] = op.clone();
        if let Some(st) = new["status"].as_object_mut() {
            st.remove("operationState");
        }
        match srv.write_app(&stored, new) {
            Ok(v) => return Ok(v),
            Err(e) if e.code == 10 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(GrpcError::new(
        13,
        "error setting app operation: too many conflicts",
    ))
}

/// `POST /api/v1/applications/{name}/sync`.
pub fn sync(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let body = req.json()?;
    let app = srv.get_app(who, "get", name, project_of(req, &body).as_deref())?;
    srv.enforce(who, "sync", &app)?;
    deleting(&app)?;
    let source = &app["spec"]["source"];
    let target = source["targetRevision"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or("HEAD");
    let wanted = body["revision"].as_str().unwrap_or("");
    let dry_run = body["dryRun"] == json!(true);
    if !wanted.is_empty() && wanted != target && auto_sync_enabled(&app) && !dry_run {
        return Err(GrpcError::new(
            FAILED_PRECONDITION,
            format!(
                "Cannot sync to {wanted}: auto-sync currently set to {}",
                source["targetRevision"].as_str().unwrap_or("")
            ),
        ));
    }
    let ambiguous = if wanted.is_empty() { target } else { wanted };
    let (revision, display) = if is_commit_sha(ambiguous) {
        (ambiguous.to_string(), ambiguous.to_string())
    } else {
        let sha = srv.shared.gitops.resolve(ambiguous).ok_or_else(|| {
            GrpcError::new(
                FAILED_PRECONDITION,
                format!("error resolving repo revision: rpc error: code = Unknown desc = unable to resolve '{ambiguous}' to a commit SHA"),
            )
        })?;
        (sha.clone(), format!("{ambiguous} ({sha})"))
    };
    let policy = &app["spec"]["syncPolicy"];
    let mut op_sync = json!({"source": source, "revision": revision,
        "prune": body["prune"] == json!(true), "dryRun": dry_run});
    let options = body["syncOptions"]["items"]
        .as_array()
        .map(|a| json!(a))
        .or_else(|| policy.get("syncOptions").filter(|o| o.is_array()).cloned());
    if let Some(o) = options {
        op_sync["syncOptions"] = o;
    }
    if body["strategy"].is_object() {
        op_sync["syncStrategy"] = body["strategy"].clone();
    }
    if let Some(r) = body["resources"].as_array().filter(|r| !r.is_empty()) {
        op_sync["resources"] = json!(r);
    }
    let mut op = json!({"sync": op_sync, "initiatedBy": {"username": who.sub}});
    if let Some(r) = body
        .get("retryStrategy")
        .filter(|r| r.is_object())
        .or(policy.get("retry").filter(|r| r.is_object()))
    {
        op["retry"] = r.clone();
    }
    if let Some(i) = body["infos"].as_array() {
        op["info"] = json!(i);
    }
    let app = set_operation(srv, &app, op)?;
    srv.event(
        &app,
        "OperationStarted",
        format!("{} initiated sync to {display}", who.sub),
    );
    Ok(json_response(200, &app))
}

/// `POST /api/v1/applications/{name}/rollback` with `{"id", "dryRun", "prune"}`.
pub fn rollback(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let body = req.json()?;
    let id = match &body["id"] {
        Value::Null => 0,
        v => v.as_i64().ok_or_else(|| {
            GrpcError::new(
                INVALID_ARGUMENT,
                format!("json: cannot unmarshal {} into Go struct field ApplicationRollbackRequest.id of type int64", json_kind(v)),
            )
        })?,
    };
    let app = srv.get_app(who, "sync", name, project_of(req, &body).as_deref())?;
    deleting(&app)?;
    if auto_sync_enabled(&app) {
        return Err(GrpcError::new(
            FAILED_PRECONDITION,
            "rollback cannot be initiated when auto-sync is enabled",
        ));
    }
    let entry = app["status"]["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["id"].as_i64() == Some(id)))
        .cloned()
        .ok_or_else(|| {
            GrpcError::new(
                INVALID_ARGUMENT,
                format!("application {NAMESPACE}/{name} does not have deployment with id {id}"),
            )
        })?;
    if !entry["source"].is_object() && !entry["sources"].is_array() {
        return Err(GrpcError::new(
            FAILED_PRECONDITION,
            "cannot rollback to revision deployed with Argo CD v0.11 or lower. sync to revision instead.",
        ));
    }
    let mut op_sync = json!({"revision": entry["revision"], "dryRun": body["dryRun"] == json!(true),
        "prune": body["prune"] == json!(true), "syncStrategy": {"apply": {}}, "source": entry["source"]});
    if let Some(o) = app["spec"]["syncPolicy"]
        .get("syncOptions")
        .filter(|o| o.is_array())
    {
        op_sync["syncOptions"] = o.clone();
    }
    let op = json!({"sync": op_sync, "initiatedBy": {"username": who.sub}});
    let app = set_operation(srv, &app, op)?;
    srv.event(
        &app,
        "OperationStarted",
        format!("{} initiated rollback to {id}", who.sub),
    );
    Ok(json_response(200, &app))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "number",
    }
}

/// `DELETE /api/v1/applications/{name}/operation`.
pub fn terminate(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let project = req.query.get("project").filter(|p| !p.is_empty());
    for _ in 0..10 {
        let app = srv.get_app(who, "sync", name, project)?;
        if !app["operation"].is_object() || !app["status"]["operationState"].is_object() {
            return Err(GrpcError::new(
                INVALID_ARGUMENT,
                "Unable to terminate operation. No operation is in progress",
            ));
        }
        let mut new = app.clone();
        new["status"]["operationState"]["phase"] = json!("Terminating");
        match srv.write_app(&app, new) {
            Ok(v) => {
                srv.event(
                    &v,
                    "ResourceUpdated",
                    format!("{} terminated running operation", who.sub),
                );
                return Ok(json_response(200, &json!({})));
            }
            Err(e) if e.code == 10 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(GrpcError::new(
        13,
        "Failed to terminate app. Too many conflicts",
    ))
}

fn node(d: &ResourceDef, v: &Value) -> Value {
    let md = &v["metadata"];
    let mut n = json!({
        "version": d.version, "kind": d.kind, "namespace": md["namespace"], "name": md["name"],
        "uid": md["uid"], "resourceVersion": md["resourceVersion"], "createdAt": md["creationTimestamp"],
    });
    if !d.group.is_empty() {
        n["group"] = json!(d.group);
    }
    let images: Vec<String> = state::live_images(v).into_iter().map(|(_, i)| i).collect();
    let images = if images.is_empty() {
        v.pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c["image"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        images
    };
    if !images.is_empty() {
        n["images"] = json!(images);
    }
    n
}

fn parent_ref(d: &ResourceDef, v: &Value) -> Value {
    let md = &v["metadata"];
    json!({"group": d.group, "kind": d.kind, "namespace": md["namespace"], "name": md["name"], "uid": md["uid"]})
}

fn owned_by(shared: &crate::Shared, d: &ResourceDef, owner: &Value) -> Vec<Value> {
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or("");
    let uid = &owner["metadata"]["uid"];
    shared
        .store
        .list(d, Some(ns), |_| true)
        .1
        .into_iter()
        .map(|e| e.value())
        .filter(|v| {
            v["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == *uid))
        })
        .collect()
}

fn pod_health(p: &Value) -> (&'static str, String) {
    let (reason, ready, total, _) = pod_status(p);
    match reason.as_str() {
        "Running" if ready == total => ("Healthy", String::new()),
        "Succeeded" | "Completed" => ("Healthy", String::new()),
        "CrashLoopBackOff" | "Error" | "Failed" | "ImagePullBackOff" | "ErrImagePull" => {
            let msg = p
                .pointer("/status/containerStatuses/0/state/waiting/message")
                .and_then(Value::as_str)
                .unwrap_or(&reason)
                .to_string();
            ("Degraded", msg)
        }
        _ => ("Progressing", String::new()),
    }
}

/// `GET /api/v1/applications/{name}/resource-tree`.
pub fn resource_tree(srv: &ArgoServer, who: &Claims, req: &Req, name: &str) -> ApiResult {
    let project = req.query.get("project").filter(|p| !p.is_empty());
    let app = srv.get_app(who, "get", name, project)?;
    let shared = &srv.shared;
    let cmp = state::compare(shared, &shared.gitops, &app);
    let mut nodes = Vec::new();
    for m in &cmp.resources {
        let Some(live) = &m.live else {
            continue;
        };
        let mut n = node(m.def, live);
        if let Some((code, msg)) = health::of(m.def.kind, live) {
            n["health"] = json!({"status": code});
            if !msg.is_empty() {
                n["health"]["message"] = json!(msg);
            }
        }
        if m.def.kind == "Service" {
            n["networkingInfo"] = json!({"targetLabels": live["spec"]["selector"]});
        }
        nodes.push(n);
        if m.target.is_none() {
            continue;
        }
        for rs in owned_by(shared, def(REPLICASETS), live) {
            let a = &rs["metadata"]["annotations"];
            let rev = a["deployment.kubernetes.io/revision"]
                .as_str()
                .or(a["rollout.argoproj.io/revision"].as_str())
                .unwrap_or("");
            let mut n = node(def(REPLICASETS), &rs);
            n["parentRefs"] = json!([parent_ref(m.def, live)]);
            n["info"] = json!([{"name": "Revision", "value": format!("Rev:{rev}")}]);
            let (want, ready) = (
                rs["spec"]["replicas"].as_i64().unwrap_or(0),
                rs["status"]["readyReplicas"].as_i64().unwrap_or(0),
            );
            n["health"] = json!({"status": if ready >= want { "Healthy" } else { "Progressing" }});
            nodes.push(n);
            for pod in owned_by(shared, def(PODS), &rs) {
                let (reason, ready, total, restarts) = pod_status(&pod);
                let mut n = node(def(PODS), &pod);
                n["parentRefs"] = json!([parent_ref(def(REPLICASETS), &rs)]);
                n["info"] = json!([
                    {"name": "Status Reason", "value": reason},
                    {"name": "Node", "value": pod["spec"]["nodeName"].as_str().unwrap_or("")},
                    {"name": "Containers", "value": format!("{ready}/{total}")},
                    {"name": "Restart Count", "value": restarts.to_string()},
                ]);
                n["networkingInfo"] = json!({"labels": pod["metadata"]["labels"]});
                let (code, msg) = pod_health(&pod);
                n["health"] = json!({"status": code});
                if !msg.is_empty() {
                    n["health"]["message"] = json!(msg);
                }
                nodes.push(n);
            }
        }
    }
    Ok(json_response(200, &json!({"nodes": nodes})))
}
