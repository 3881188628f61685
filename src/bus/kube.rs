//! The Kubernetes-API family of the pipeline: restart, blue/green switch, Deployment undo
//! and the Argo Rollouts actions, each exactly as kubectl (or the Rollouts plugin) sends
//! it. For each command: the RBAC it needs, and `prepare`, which reads the objects fresh,
//! re-checks the plan the user confirmed, and returns the writes and what the Event on
//! the target will say. The pipeline dry-runs the writes, sends them, and leaves the Event.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{ApiResource, DynamicObject};
use serde_json::{Value, json};

use super::Command;
use super::bluegreen::{REVISION, switch_patch, template_for_undo, undo_annotations, undo_patch};
use super::rollouts::{RolloutAction, WireRequest};
use crate::clients::kube::{Access, KubeActions, KubeError, PatchBody, Write, WriteOp, resource};
use crate::domain::WatchedRollout;
use crate::domain::rollout::{HASH_LABEL, REVISION as ROLLOUT_REVISION};

/// Why a command was not sent after all: what the fresh reads found.
#[derive(Debug, thiserror::Error)]
pub enum Unsendable {
    #[error(transparent)]
    Read(#[from] KubeError),
    #[error("deployment/{0} is paused: resume it first (kubectl rollout resume)")]
    PausedRestart(String),
    #[error(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout \
         resume' and try again"
    )]
    PausedUndo,
    #[error(
        "deployment/{deployment} has {ready}/{desired} ready now; nothing was sent (switch \
         with an override reason to send traffic anyway)"
    )]
    NotReady {
        deployment: String,
        ready: u64,
        desired: u64,
    },
    #[error("unable to find specified revision {0} in history")]
    NoRevision(u64),
    #[error(
        "revision {revision} of deployment/{name} changed since the preview; nothing was \
         sent — look again and retry"
    )]
    RevisionChanged { revision: u64, name: String },
    #[error("rollout/{0} changed since the preview; nothing was sent — look again and retry")]
    RolloutChanged(String),
    #[error("unable to find container named \"{0}\"")]
    NoContainer(String),
    /// An object or a planned body that does not decode as expected.
    #[error("{what}: {source}")]
    Shape {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0} does not go to the Kubernetes API")]
    NotKubernetes(String),
    /// What the command names is not usable (a bad release, a foreign ConfigMap).
    #[error("{0}")]
    Invalid(String),
}

fn shape(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Unsendable {
    let what = what.into();
    move |source| Unsendable::Shape { what, source }
}

/// What `prepare` found: writes to send, or a reason why nothing needs sending.
pub(super) enum Plan {
    Send(Box<Prepared>),
    /// The cluster already is as asked; said as the outcome, nothing is sent.
    Nothing(String),
}

pub(super) struct Prepared {
    /// Sent in order, first all as a dry run, then for real.
    pub writes: Vec<Write>,
    /// The outcome, in words, once sent.
    pub done: String,
    pub event: EventSpec,
    /// A GET-edit-PUT: a 409 Conflict on the real write means prepare again.
    pub retry_on_conflict: bool,
}

/// The Event the command leaves on its target.
pub(super) struct EventSpec {
    pub target: ObjectReference,
    pub reason: &'static str,
    pub action: String,
    pub message: String,
}

fn deployments() -> ApiResource {
    resource("apps", "v1", "Deployment", "deployments")
}

fn replicasets() -> ApiResource {
    resource("apps", "v1", "ReplicaSet", "replicasets")
}

fn services() -> ApiResource {
    resource("", "v1", "Service", "services")
}

fn rollouts() -> ApiResource {
    resource("argoproj.io", "v1alpha1", "Rollout", "rollouts")
}

fn write(r: ApiResource, namespace: &str, name: &str, body: PatchBody, status: bool) -> Write {
    Write {
        resource: r,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        op: WriteOp::Patch { body, status },
    }
}

fn reference(r: &ApiResource, object: &DynamicObject) -> ObjectReference {
    ObjectReference {
        api_version: Some(r.api_version.clone()),
        kind: Some(r.kind.clone()),
        name: object.metadata.name.clone(),
        namespace: object.metadata.namespace.clone(),
        uid: object.metadata.uid.clone(),
        ..Default::default()
    }
}

fn count(v: &Value, ptr: &str) -> u64 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0)
}

fn paused(object: &DynamicObject) -> bool {
    object.data.pointer("/spec/paused").and_then(Value::as_bool) == Some(true)
}

/// `k=v,…` from the object's `spec.selector.matchLabels`.
fn label_selector(object: &DynamicObject) -> String {
    object
        .data
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The ReplicaSet of `revision` (read from `annotation`) controlled by `owner`.
async fn replicaset_of(
    kube: &KubeActions,
    owner: &DynamicObject,
    annotation: &str,
    revision: u64,
) -> Result<DynamicObject, Unsendable> {
    let namespace = owner.metadata.namespace.clone().unwrap_or_default();
    let uid = owner.metadata.uid.clone().unwrap_or_default();
    kube.list(&replicasets(), &namespace, &label_selector(owner))
        .await?
        .into_iter()
        .find(|rs| {
            crate::clients::kube::controlled_revision(&rs.metadata, &uid, annotation)
                == Some(revision)
        })
        .ok_or(Unsendable::NoRevision(revision))
}

/// Reads one object, in the words the user reads when it fails.
async fn fetch(
    kube: &KubeActions,
    r: &ApiResource,
    namespace: &str,
    name: &str,
) -> Result<DynamicObject, Unsendable> {
    Ok(kube.get(r, namespace, name).await?)
}

/// A plan of writes sent once (no GET-edit-PUT to retry).
fn send(writes: Vec<Write>, done: String, event: EventSpec) -> Result<Plan, Unsendable> {
    Ok(Plan::Send(Box::new(Prepared {
        writes,
        done,
        event,
        retry_on_conflict: false,
    })))
}

/// The Kubernetes permissions the command needs; empty for commands that do not go to
/// the Kubernetes API (migrations, Argo CD).
pub fn access(command: &Command) -> Vec<Access> {
    let one = |verb, group, resource, namespace: &String, name: &String| Access {
        verb,
        group,
        resource,
        subresource: None,
        namespace: namespace.clone(),
        name: name.clone(),
    };
    match command {
        Command::RestartDeployment {
            namespace, name, ..
        }
        | Command::UndoDeployment {
            namespace, name, ..
        } => vec![one("patch", "apps", "deployments", namespace, name)],
        Command::SwitchBlueGreen {
            namespace, service, ..
        } => vec![one("patch", "", "services", namespace, service)],
        Command::Rollout {
            namespace,
            name,
            requests,
            ..
        } => {
            let mut needed: Vec<Access> = Vec::new();
            for r in requests {
                let access = Access {
                    verb: verb(r.method),
                    subresource: r.subresource,
                    ..one("", "argoproj.io", "rollouts", namespace, name)
                };
                if !needed.contains(&access) {
                    needed.push(access);
                }
            }
            needed
        }
        Command::MarkChecklist { namespace, .. } => {
            let any = String::new();
            vec![
                one("get", "", "configmaps", namespace, &any),
                one("update", "", "configmaps", namespace, &any),
            ]
        }
        Command::RunbookStep { action, .. } => action.access(),
        Command::KafkaResetOffsets { broker, .. } => vec![super::kafka::exec_access(broker)],
        Command::KafkaTopicRestore {
            namespace, name, ..
        } => super::kafka::topic_access(namespace, name),
        Command::Migrate { .. }
        | Command::ArgocdRollback { .. }
        | Command::ArgocdSync { .. }
        | Command::ArgocdDisableAutoSync { .. }
        | Command::ArgocdTerminateOperation { .. }
        | Command::ArgocdRefresh { .. } => Vec::new(),
    }
}

fn verb(method: &str) -> &'static str {
    match method {
        "GET" => "get",
        "PUT" => "update",
        "POST" => "create",
        "DELETE" => "delete",
        _ => "patch",
    }
}

/// Reads what the command acts on and plans its writes, refusing when the cluster no
/// longer matches what the user confirmed.
pub(super) async fn prepare(
    kube: &KubeActions,
    command: &Command,
    user: &str,
) -> Result<Plan, Unsendable> {
    match command {
        Command::RestartDeployment {
            namespace,
            name,
            restarted_at,
            ..
        } => {
            let r = deployments();
            let d = fetch(kube, &r, namespace, name).await?;
            if paused(&d) {
                return Err(Unsendable::PausedRestart(name.clone()));
            }
            let body = PatchBody::Strategic(Command::restart_patch(restarted_at));
            send(
                vec![write(r.clone(), namespace, name, body, false)],
                format!("deployment/{name} restarted"),
                EventSpec {
                    target: reference(&r, &d),
                    reason: "RolloutRestart",
                    action: "Restart".into(),
                    message: format!("{user} restarted deployment/{name} with rollcall"),
                },
            )
        }
        Command::SwitchBlueGreen {
            namespace,
            service,
            to_colour,
            selector_key,
            target_deployment,
            override_reason,
            ..
        } => {
            let r = services();
            let svc = fetch(kube, &r, namespace, service).await?;
            if override_reason.is_none() {
                let d = fetch(kube, &deployments(), namespace, target_deployment).await?;
                let desired = d
                    .data
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let ready = count(&d.data, "/status/readyReplicas");
                if desired == 0 || ready < desired {
                    return Err(Unsendable::NotReady {
                        deployment: target_deployment.clone(),
                        ready,
                        desired,
                    });
                }
            }
            let body = PatchBody::Strategic(switch_patch(selector_key, to_colour.as_str()));
            let why = override_reason
                .as_deref()
                .map(|r| format!(" (override: {r})"))
                .unwrap_or_default();
            send(
                vec![write(r.clone(), namespace, service, body, false)],
                format!("service/{service} now selects {selector_key}={to_colour}"),
                EventSpec {
                    target: reference(&r, &svc),
                    reason: "BlueGreenSwitch",
                    action: "Switch".into(),
                    message: format!(
                        "{user} switched service/{service} to {to_colour} with rollcall{why}"
                    ),
                },
            )
        }
        Command::UndoDeployment {
            namespace,
            name,
            to_revision,
            template: confirmed,
            ..
        } => {
            let r = deployments();
            let d = fetch(kube, &r, namespace, name).await?;
            if paused(&d) {
                return Err(Unsendable::PausedUndo);
            }
            let rs = replicaset_of(kube, &d, REVISION, *to_revision).await?;
            let template = template_for_undo(&rs.data["spec"]["template"]);
            if template != *confirmed {
                return Err(Unsendable::RevisionChanged {
                    revision: *to_revision,
                    name: name.clone(),
                });
            }
            if template_for_undo(&d.data["spec"]["template"]) == template {
                return Ok(Plan::Nothing(format!(
                    "skipped rollback (current template already matches revision {to_revision})"
                )));
            }
            let annotations =
                |o: &DynamicObject| o.metadata.annotations.clone().unwrap_or_default();
            let merged = undo_annotations(&annotations(&d), &annotations(&rs));
            let patch = serde_json::from_value(undo_patch(&template, &merged))
                .map_err(shape("the undo patch"))?;
            send(
                vec![write(
                    r.clone(),
                    namespace,
                    name,
                    PatchBody::Json(patch),
                    false,
                )],
                format!("deployment.apps/{name} rolled back"),
                EventSpec {
                    target: reference(&r, &d),
                    reason: "DeploymentRollback",
                    action: "Undo".into(),
                    message: format!(
                        "{user} rolled deployment/{name} back to revision {to_revision} with \
                         rollcall"
                    ),
                },
            )
        }
        Command::Rollout {
            namespace,
            name,
            action,
            requests,
            ..
        } => prepare_rollout(kube, namespace, name, action, requests, user).await,
        Command::MarkChecklist {
            env,
            namespace,
            release,
            item,
            title,
            mark,
        } => super::checklist::prepare(kube, env, namespace, release, item, title, mark).await,
        Command::RunbookStep { action, .. } => super::runbook::prepare(kube, action, user).await,
        Command::KafkaTopicRestore {
            namespace,
            name,
            backup,
            patch,
            left_out,
            ..
        } => {
            super::kafka::prepare_topic(kube, namespace, name, backup, patch, left_out, user).await
        }
        Command::Migrate { .. }
        | Command::KafkaResetOffsets { .. }
        | Command::ArgocdRollback { .. }
        | Command::ArgocdSync { .. }
        | Command::ArgocdDisableAutoSync { .. }
        | Command::ArgocdTerminateOperation { .. }
        | Command::ArgocdRefresh { .. } => Err(Unsendable::NotKubernetes(command.summary())),
    }
}

/// An Argo Rollouts action as the kubectl-argo-rollouts plugin sends it (reference 02
/// §6): merge patches on `/status` (the object on 404), a JSON patch of `/spec/template`
/// for undo, GET + PUT with conflict retries for set image.
async fn prepare_rollout(
    kube: &KubeActions,
    namespace: &str,
    name: &str,
    action: &RolloutAction,
    confirmed: &[WireRequest],
    user: &str,
) -> Result<Plan, Unsendable> {
    let r = rollouts();
    let ro = fetch(kube, &r, namespace, name).await?;
    let verb = action.verb();
    let event = EventSpec {
        // As the plugin's own Events, without the uid.
        target: ObjectReference {
            uid: None,
            ..reference(&r, &ro)
        },
        reason: "RollcallAction",
        action: verb.clone(),
        message: format!("{user} ran `{verb}` on rollout/{name} with rollcall"),
    };
    let prepared = |writes: Vec<Write>, done: String, retry_on_conflict: bool| {
        Ok(Plan::Send(Box::new(Prepared {
            writes,
            done,
            event,
            retry_on_conflict,
        })))
    };
    match action {
        RolloutAction::Undo { revision, .. } => {
            let rs = replicaset_of(kube, &ro, ROLLOUT_REVISION, *revision).await?;
            let template = without_hash(rs.data["spec"]["template"].clone());
            if without_hash(ro.data["spec"]["template"].clone()) == template {
                return Ok(Plan::Nothing(format!(
                    "skipped rollback (current template already matches revision {revision})"
                )));
            }
            let ops = json!([{"op": "replace", "path": "/spec/template", "value": template}]);
            let patch = serde_json::from_value(ops).map_err(shape("the undo patch"))?;
            let w = write(r, namespace, name, PatchBody::Json(patch), false);
            prepared(vec![w], format!("rollout '{name}' undo"), false)
        }
        RolloutAction::SetImage { container, image } => {
            let mut edited = ro;
            let mut found = false;
            for list in ["initContainers", "containers", "ephemeralContainers"] {
                let ptr = format!("/spec/template/spec/{list}");
                for c in edited
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
                return Err(Unsendable::NoContainer(container.clone()));
            }
            let w = Write {
                resource: r,
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                op: WriteOp::Replace(Box::new(edited)),
            };
            prepared(vec![w], format!("rollout \"{name}\" image updated"), true)
        }
        _ => {
            if matches!(action, RolloutAction::Promote { .. }) {
                // The plugin plans promote from a fresh GET; so does the check here.
                let value = serde_json::to_value(&ro).map_err(shape(format!("rollout/{name}")))?;
                let now: WatchedRollout =
                    serde_json::from_value(value).map_err(shape(format!("rollout/{name}")))?;
                if action.requests(&now.row) != confirmed {
                    return Err(Unsendable::RolloutChanged(name.to_owned()));
                }
            }
            let mut writes = Vec::new();
            for req in confirmed {
                let body: Value =
                    serde_json::from_str(&req.body).map_err(shape("the confirmed patch"))?;
                let status = req.subresource == Some("status");
                writes.push(write(
                    r.clone(),
                    namespace,
                    name,
                    PatchBody::Merge(body),
                    status,
                ));
            }
            let done = match action {
                RolloutAction::Promote { full: true } => format!("rollout '{name}' fully promoted"),
                RolloutAction::Promote { .. } => format!("rollout '{name}' promoted"),
                RolloutAction::Abort => format!("rollout '{name}' aborted"),
                RolloutAction::Retry => format!("rollout '{name}' retried"),
                RolloutAction::Pause => format!("rollout '{name}' paused"),
                _ => format!("rollout '{name}' resumed"),
            };
            prepared(writes, done, false)
        }
    }
}

/// A template as the plugin compares and puts it back: without the pod-template-hash
/// label and the creation timestamp.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_needs_patch_on_the_deployment() {
        let c = Command::RestartDeployment {
            env: "prod".into(),
            namespace: "dictamesh-prod".into(),
            name: "metadata-catalog".into(),
            restarted_at: "2026-11-26T10:00:00Z".into(),
        };
        let needed = access(&c);
        assert_eq!(needed.len(), 1);
        assert_eq!(
            needed[0].describe(),
            "patch deployments.apps metadata-catalog -n dictamesh-prod"
        );
    }
}
