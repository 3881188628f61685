//! Argo Rollouts against a cluster: the Rollout and ReplicaSet watchers of an environment,
//! and the actions, sent as the kubectl-argo-rollouts plugin sends them (reference 02 §6):
//! merge patches on `/status` (falling back to the main resource on 404), a JSON patch of
//! `/spec/template` for undo, GET + PUT with conflict retries for set image. Every request
//! is first sent as a server-side dry run.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{
    ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::kube::{AuditEvent, controlled_revision, describe};
use super::watch::{ListMode, watch_rows};
use crate::bus::rollout::{JSON_PATCH, RolloutAction, WireRequest};
use crate::domain::rollout::{HASH_LABEL, REVISION, RolloutUpdate};
use crate::domain::{WatchedReplicaSet, WatchedRollout};

/// Rollouts or their ReplicaSets changed in one environment.
#[derive(Debug)]
pub struct RolloutItem {
    /// Index of the environment in the config.
    pub env: usize,
    pub update: RolloutUpdate,
}

/// Starts the Rollout and ReplicaSet watchers of one environment's namespace.
pub fn spawn_rollout_watchers<E: From<RolloutItem> + Send + 'static>(
    env: usize,
    client: Client,
    namespace: &str,
    lists: &ListMode,
    tx: mpsc::Sender<E>,
) -> Vec<JoinHandle<()>> {
    // An empty namespace means every namespace (an ad-hoc environment).
    let (rollouts, replicasets): (Api<WatchedRollout>, Api<WatchedReplicaSet>) =
        if namespace.is_empty() {
            (Api::all(client.clone()), Api::all(client))
        } else {
            (
                Api::namespaced(client.clone(), namespace),
                Api::namespaced(client, namespace),
            )
        };
    let tx2 = tx.clone();
    let lists2 = lists.clone();
    let lists = lists.clone();
    vec![
        tokio::spawn(async move {
            let s = watch_rows(rollouts, |w: WatchedRollout| w.row, lists);
            futures::pin_mut!(s);
            while let Some(item) = s.next().await {
                let update = item.map_or_else(RolloutUpdate::Error, RolloutUpdate::Rollouts);
                if tx.send(RolloutItem { env, update }.into()).await.is_err() {
                    return;
                }
            }
        }),
        tokio::spawn(async move {
            let s = watch_rows(replicasets, |w: WatchedReplicaSet| w.row, lists2);
            futures::pin_mut!(s);
            while let Some(item) = s.next().await {
                let update = item.map_or_else(RolloutUpdate::Error, RolloutUpdate::ReplicaSets);
                if tx2.send(RolloutItem { env, update }.into()).await.is_err() {
                    return;
                }
            }
        }),
    ]
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    )
}

fn params(dry_run: bool) -> PatchParams {
    PatchParams {
        dry_run,
        field_manager: Some("rollcall".into()),
        ..Default::default()
    }
}

/// Runs one action: re-plans it from a fresh GET where the plugin GETs, refuses when the
/// plan no longer matches what the user confirmed, dry-runs, sends, and leaves an Event.
pub async fn execute(
    client: &Client,
    namespace: &str,
    name: &str,
    action: &RolloutAction,
    confirmed: &[WireRequest],
    user: &str,
) -> Result<String, String> {
    let slim: Api<WatchedRollout> = Api::namespaced(client.clone(), namespace);
    if matches!(action, RolloutAction::Promote { .. }) {
        let now = slim.get(name).await.map_err(describe)?;
        let fresh = action.requests(&now.row);
        if fresh != confirmed {
            return Err(format!(
                "rollout/{name} changed since the preview; nothing was sent — look again and retry"
            ));
        }
    }
    let dynamic: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource());
    let done = match action {
        RolloutAction::Undo { revision, .. } => {
            undo(client, &dynamic, namespace, name, *revision).await?
        }
        RolloutAction::SetImage { container, image } => {
            set_image(&dynamic, name, container, image).await?
        }
        _ => {
            for dry in [true, false] {
                for r in confirmed {
                    send_merge(&dynamic, name, r, dry).await.map_err(|e| {
                        if dry {
                            format!("server-side dry run refused: {e}")
                        } else {
                            e
                        }
                    })?;
                }
            }
            match action {
                RolloutAction::Promote { full: true } => format!("rollout '{name}' fully promoted"),
                RolloutAction::Promote { .. } => format!("rollout '{name}' promoted"),
                RolloutAction::Abort => format!("rollout '{name}' aborted"),
                RolloutAction::Retry => format!("rollout '{name}' retried"),
                RolloutAction::Pause => format!("rollout '{name}' paused"),
                _ => format!("rollout '{name}' resumed"),
            }
        }
    };
    let note = record_event(client, namespace, name, action, user)
        .await
        .err()
        .map(|e| format!(" (could not record a Kubernetes Event: {e})"))
        .unwrap_or_default();
    Ok(format!("{done}{note}"))
}

/// A merge patch on the main resource or `/status`; a 404 on `/status` (no status
/// subresource) is repeated on the main resource, as the plugin does.
async fn send_merge(
    api: &Api<DynamicObject>,
    name: &str,
    r: &WireRequest,
    dry: bool,
) -> Result<(), String> {
    let body: Value = serde_json::from_str(&r.body).map_err(|e| e.to_string())?;
    let patch = Patch::Merge(&body);
    let result = if r.subresource == Some("status") {
        match api.patch_status(name, &params(dry), &patch).await {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                api.patch(name, &params(dry), &patch).await
            }
            other => other,
        }
    } else {
        api.patch(name, &params(dry), &patch).await
    };
    result.map(|_| ()).map_err(describe)
}

fn without_hash(mut template: Value) -> Value {
    if let Some(l) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove(HASH_LABEL);
    }
    if let Some(md) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("creationTimestamp");
    }
    template
}

/// `undo --to-revision N`: the ReplicaSets matching the Rollout's selector and controlled by
/// it, the one of revision N, its template without the hash label as a JSON patch.
async fn undo(
    client: &Client,
    api: &Api<DynamicObject>,
    namespace: &str,
    name: &str,
    revision: u64,
) -> Result<String, String> {
    let ro = api.get(name).await.map_err(describe)?;
    let uid = ro.metadata.uid.clone().unwrap_or_default();
    let selector = ro.data["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let list = rss
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(describe)?;
    let rs = list
        .items
        .into_iter()
        .find(|rs| controlled_revision(&rs.metadata, &uid, REVISION) == Some(revision))
        .ok_or_else(|| format!("unable to find specified revision {revision} in history"))?;
    let template = serde_json::to_value(rs.spec.template).map_err(|e| e.to_string())?;
    let template = without_hash(template);
    if without_hash(ro.data["spec"]["template"].clone()) == template {
        return Ok(format!(
            "skipped rollback (current template already matches revision {revision})"
        ));
    }
    let ops = json!([{"op": "replace", "path": "/spec/template", "value": template}]);
    let patch: json_patch::Patch = serde_json::from_value(ops).map_err(|e| e.to_string())?;
    debug_assert_eq!(JSON_PATCH, "application/json-patch+json");
    for dry in [true, false] {
        api.patch(name, &params(dry), &Patch::<()>::Json(patch.clone()))
            .await
            .map_err(describe)?;
    }
    Ok(format!("rollout '{name}' undo"))
}

/// `set image`: GET, edit the named container (`*` = all) in every container list, PUT;
/// a 409 Conflict is retried with a fresh GET up to 5 times.
async fn set_image(
    api: &Api<DynamicObject>,
    name: &str,
    container: &str,
    image: &str,
) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..5 {
        let mut ro = api.get(name).await.map_err(describe)?;
        let mut found = false;
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let ptr = format!("/spec/template/spec/{list}");
            for c in ro
                .data
                .pointer_mut(&ptr)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if container == "*" || c["name"].as_str() == Some(container) {
                    c["image"] = json!(image);
                    found = true;
                }
            }
        }
        if !found {
            return Err(format!("unable to find container named \"{container}\""));
        }
        let dry = PostParams {
            dry_run: true,
            field_manager: Some("rollcall".into()),
        };
        api.replace(name, &dry, &ro)
            .await
            .map_err(|e| format!("server-side dry run refused: {}", describe(e)))?;
        match api.replace(name, &PostParams::default(), &ro).await {
            Ok(_) => return Ok(format!("rollout \"{name}\" image updated")),
            Err(kube::Error::Api(s)) if s.code == 409 => last = s.message,
            Err(e) => return Err(describe(e)),
        }
    }
    Err(format!("gave up after 5 conflicts: {last}"))
}

/// A Kubernetes Event on the Rollout, so the cluster's history shows who acted.
async fn record_event(
    client: &Client,
    namespace: &str,
    name: &str,
    action: &RolloutAction,
    user: &str,
) -> Result<(), String> {
    let verb = action.verb();
    crate::clients::kube::record_event(
        client,
        AuditEvent {
            warning: false,
            target: ObjectReference {
                api_version: Some("argoproj.io/v1alpha1".into()),
                kind: Some("Rollout".into()),
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..Default::default()
            },
            reason: "RollcallAction",
            action: &verb,
            message: format!("{user} ran `{verb}` on rollout/{name} with rollcall"),
            user,
        },
    )
    .await
}
