//! The blue/green cutover and Deployment undo against a cluster, each as kubectl sends
//! it: the readiness (or override) and the plan are checked again on fresh objects, a
//! server-side dry run goes first, then the patch, then a Kubernetes Event on the target.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;

use super::kube::{AuditEvent, controlled_revision, describe, record_event};
use crate::bus::bluegreen::{REVISION, switch_patch, template_for_undo, undo_annotations};
use crate::config::Colour;

fn params(dry_run: bool) -> PatchParams {
    PatchParams {
        dry_run,
        field_manager: Some("rollcall".into()),
        ..Default::default()
    }
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn api(client: &Client, namespace: &str, r: &ApiResource) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, r)
}

fn count(v: &Value, ptr: &str) -> u64 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0)
}

fn note(result: Result<(), String>) -> String {
    result
        .err()
        .map(|e| format!(" (could not record a Kubernetes Event: {e})"))
        .unwrap_or_default()
}

/// What a switch needs.
pub struct Switch<'a> {
    pub namespace: &'a str,
    pub service: &'a str,
    pub selector_key: &'a str,
    pub target_deployment: &'a str,
    pub to: Colour,
    pub override_reason: Option<&'a str>,
    pub user: &'a str,
}

/// Flips the Service's selector to `to` with the seed's strategic merge patch, unless the
/// target Deployment lost readiness since the preview and no override reason was given.
pub async fn switch(client: &Client, s: Switch<'_>) -> Result<String, String> {
    let deployments = api(
        client,
        s.namespace,
        &resource("apps", "v1", "Deployment", "deployments"),
    );
    let services = api(
        client,
        s.namespace,
        &resource("", "v1", "Service", "services"),
    );
    let svc = services.get(s.service).await.map_err(describe)?;
    if s.override_reason.is_none() {
        let d = deployments
            .get(s.target_deployment)
            .await
            .map_err(describe)?;
        let desired = d
            .data
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let ready = count(&d.data, "/status/readyReplicas");
        if desired == 0 || ready < desired {
            return Err(format!(
                "deployment/{} has {ready}/{desired} ready now; nothing was sent (switch with an \
                 override reason to send traffic anyway)",
                s.target_deployment
            ));
        }
    }
    let patch = Patch::Strategic(switch_patch(s.selector_key, s.to.as_str()));
    services
        .patch(s.service, &params(true), &patch)
        .await
        .map_err(|e| format!("server-side dry run refused: {}", describe(e)))?;
    services
        .patch(s.service, &params(false), &patch)
        .await
        .map_err(describe)?;
    let why = s
        .override_reason
        .map(|r| format!(" (override: {r})"))
        .unwrap_or_default();
    let event = record_event(
        client,
        AuditEvent {
            warning: false,
            target: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Service".into()),
                name: Some(s.service.to_owned()),
                namespace: Some(s.namespace.to_owned()),
                uid: svc.metadata.uid.clone(),
                ..Default::default()
            },
            reason: "BlueGreenSwitch",
            action: "Switch",
            message: format!(
                "{} switched service/{} to {} with rollcall{why}",
                s.user, s.service, s.to
            ),
            user: s.user,
        },
    )
    .await;
    Ok(format!(
        "service/{} now selects {}={}{}",
        s.service,
        s.selector_key,
        s.to,
        note(event)
    ))
}

fn label_selector(d: &Value) -> String {
    d.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn annotations(meta: &kube::api::ObjectMeta) -> std::collections::BTreeMap<String, String> {
    meta.annotations.clone().unwrap_or_default()
}

/// `kubectl rollout undo deployment/NAME --to-revision=N`: GET the Deployment, LIST the
/// ReplicaSets it controls, take revision N's template; refuse when it is no longer the
/// template the user confirmed; skip when it is already running; else dry-run and send
/// kubectl's JSON patch.
pub async fn undo(
    client: &Client,
    namespace: &str,
    name: &str,
    revision: u64,
    confirmed_template: &Value,
    user: &str,
) -> Result<String, String> {
    let deployments = api(
        client,
        namespace,
        &resource("apps", "v1", "Deployment", "deployments"),
    );
    let replicasets = api(
        client,
        namespace,
        &resource("apps", "v1", "ReplicaSet", "replicasets"),
    );
    let d = deployments.get(name).await.map_err(describe)?;
    if d.data.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Err(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout \
             resume' and try again"
                .into(),
        );
    }
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let list = replicasets
        .list(&ListParams::default().labels(&label_selector(&d.data)))
        .await
        .map_err(describe)?;
    let rs = list
        .items
        .into_iter()
        .find(|rs| controlled_revision(&rs.metadata, &uid, REVISION) == Some(revision))
        .ok_or_else(|| format!("unable to find specified revision {revision} in history"))?;
    let template = template_for_undo(&rs.data["spec"]["template"]);
    if template != *confirmed_template {
        return Err(format!(
            "revision {revision} of deployment/{name} changed since the preview; nothing was \
             sent — look again and retry"
        ));
    }
    if template_for_undo(&d.data["spec"]["template"]) == template {
        return Ok(format!(
            "skipped rollback (current template already matches revision {revision})"
        ));
    }
    let merged = undo_annotations(&annotations(&d.metadata), &annotations(&rs.metadata));
    let ops = crate::bus::bluegreen::undo_patch(&template, &merged);
    let patch: json_patch::Patch = serde_json::from_value(ops).map_err(|e| e.to_string())?;
    deployments
        .patch(name, &params(true), &Patch::<()>::Json(patch.clone()))
        .await
        .map_err(|e| format!("server-side dry run refused: {}", describe(e)))?;
    deployments
        .patch(name, &params(false), &Patch::<()>::Json(patch))
        .await
        .map_err(describe)?;
    let event = record_event(
        client,
        AuditEvent {
            warning: false,
            target: ObjectReference {
                api_version: Some("apps/v1".into()),
                kind: Some("Deployment".into()),
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                uid: Some(uid),
                ..Default::default()
            },
            reason: "DeploymentRollback",
            action: "Undo",
            message: format!(
                "{user} rolled deployment/{name} back to revision {revision} with rollcall"
            ),
            user,
        },
    )
    .await;
    Ok(format!("deployment.apps/{name} rolled back{}", note(event)))
}
