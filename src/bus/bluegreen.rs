//! The two ways back that patch built-in objects: a blue/green cutover (one strategic
//! merge patch of the Service's selector, exactly the seed's `kubectl patch service`) and
//! `kubectl rollout undo --to-revision` (a JSON patch of the Deployment's template and
//! annotations, planned from the ReplicaSet of that revision).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Preview;
use crate::domain::DeploymentRow;
use crate::domain::rollout::ReplicaSetRow;

pub const STRATEGIC: &str = "application/strategic-merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH_LABEL: &str = "pod-template-hash";

/// The selector patch: only the colour key, so the Service's other selector labels stay.
pub fn switch_patch(selector_key: &str, colour: &str) -> Value {
    json!({"spec": {"selector": {selector_key: colour}}})
}

pub fn service_path(namespace: &str, service: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/services/{service}")
}

pub fn deployment_path(namespace: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
}

/// A ReplicaSet's template as kubectl puts it back: without the `pod-template-hash` label.
pub fn template_for_undo(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    t
}

/// kubectl's merged annotations: the Deployment's values of the skipped keys, then the
/// ReplicaSet's other annotations.
pub fn undo_annotations(
    deployment: &BTreeMap<String, String>,
    replica_set: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let skipped = crate::domain::rollout::UNDO_SKIPPED_ANNOTATIONS;
    let mut out: BTreeMap<String, String> = deployment
        .iter()
        .filter(|(k, _)| skipped.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in replica_set {
        if !skipped.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The JSON patch `kubectl rollout undo` sends.
pub fn undo_patch(template: &Value, annotations: &BTreeMap<String, String>) -> Value {
    json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}

/// Why an undo cannot be planned from the watched rows; flashed as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoRefusal {
    #[error("replicaset/{0} is gone")]
    Gone(String),
    #[error("replicaset/{0} has no revision annotation")]
    NoRevision(String),
    #[error(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout \
         resume deployment/{0}' and try again"
    )]
    Paused(String),
    #[error("deployment/{deployment} already runs revision {revision}")]
    AlreadyThere { deployment: String, revision: u64 },
    #[error("replicaset/{0} carries no pod template")]
    NoTemplate(String),
}

/// Plans an undo of `d` to the revision `rs` holds, from the watched rows: the template
/// without its hash label, and the annotations as far as the rows know them (the
/// Deployment's revision annotation; the pipeline re-reads the Deployment's own).
pub fn plan_undo(
    d: &DeploymentRow,
    rs: &ReplicaSetRow,
) -> Result<(u64, Value, BTreeMap<String, String>), UndoRefusal> {
    let revision = rs
        .revision
        .ok_or_else(|| UndoRefusal::NoRevision(rs.name.clone()))?;
    if d.paused {
        return Err(UndoRefusal::Paused(d.name.clone()));
    }
    if d.revision.as_deref() == Some(revision.to_string().as_str()) {
        return Err(UndoRefusal::AlreadyThere {
            deployment: d.name.clone(),
            revision,
        });
    }
    let source = rs
        .undo
        .as_ref()
        .ok_or_else(|| UndoRefusal::NoTemplate(rs.name.clone()))?;
    let mut known = BTreeMap::new();
    if let Some(r) = &d.revision {
        known.insert(REVISION.to_owned(), r.clone());
    }
    Ok((
        revision,
        template_for_undo(&source.template),
        undo_annotations(&known, &source.annotations),
    ))
}

pub fn switch_preview(
    namespace: &str,
    service: &str,
    selector_key: &str,
    to: &str,
    override_reason: Option<&str>,
) -> Preview {
    let mut effect = format!(
        "service/{service} sends traffic to the {to} pods at once (the selector's other \
         labels stay). Switch back the same way. A server-side dry run is sent first."
    );
    if let Some(reason) = override_reason {
        effect.push_str(&format!(
            "\nOVERRIDE: the {to} Deployment is not fully ready. Reason (audited): {reason}"
        ));
    }
    Preview {
        title: format!("Switch service/{service} to {to}"),
        method: "PATCH",
        path: service_path(namespace, service),
        content_type: STRATEGIC,
        // Compact, as kubectl sends it (`-p '{"spec":{"selector":{"version":"green"}}}'`).
        body: switch_patch(selector_key, to).to_string(),
        effect,
    }
}

pub fn undo_preview(
    namespace: &str,
    name: &str,
    to_revision: u64,
    template: &Value,
    annotations: &BTreeMap<String, String>,
) -> Preview {
    Preview {
        title: format!("kubectl rollout undo deployment/{name} --to-revision={to_revision}"),
        method: "PATCH",
        path: deployment_path(namespace, name),
        content_type: JSON_PATCH,
        body: serde_json::to_string_pretty(&undo_patch(template, annotations)).unwrap_or_default(),
        effect: format!(
            "The template of revision {to_revision} becomes a new revision and rolls out under \
             the Deployment's strategy. Sent only if revision {to_revision}'s ReplicaSet still \
             holds this template; the Deployment's own bookkeeping annotations are re-read \
             when sent. A server-side dry run is sent first."
        ),
    }
}
