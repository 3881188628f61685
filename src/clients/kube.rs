//! Kubernetes connections (from a kubeconfig, the user's or the simulator's) and the
//! mutations rollcall sends.

use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event as KubeEvent, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use crate::bus::Command;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    #[error("cannot build a client for context {context}: {source}")]
    Client {
        context: String,
        #[source]
        source: kube::Error,
    },
}

/// A live connection to one cluster context.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The context name, for the header.
    pub context: String,
    /// The kubeconfig user name, for the header and audit.
    pub user: String,
}

/// Connects to `context` (or the current context) of the kubeconfig at `path`
/// (or the default locations, `$KUBECONFIG` first).
pub async fn connect(
    path: Option<&Path>,
    context: Option<&str>,
) -> Result<Connection, ConnectError> {
    let kubeconfig = match path {
        Some(p) => Kubeconfig::read_from(p)?,
        None => Kubeconfig::read()?,
    };
    connect_with(kubeconfig, context).await
}

pub async fn connect_with(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> Result<Connection, ConnectError> {
    let context_name = context
        .map(str::to_owned)
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let user = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .unwrap_or_default();
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?;
    let client = Client::try_from(config).map_err(|source| ConnectError::Client {
        context: context_name.clone(),
        source,
    })?;
    Ok(Connection {
        client,
        context: context_name,
        user,
    })
}

/// The mutations the bus executes against one cluster.
#[derive(Clone)]
pub struct KubeActions {
    client: Client,
}

impl KubeActions {
    pub fn new(client: Client) -> Self {
        KubeActions { client }
    }

    /// The connection, for clients of other kinds (Argo Rollouts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `kubectl rollout restart deployment/NAME`: refuses a paused Deployment as
    /// kubectl does, dry-runs on the server, then sends the same strategic patch.
    pub async fn restart_deployment(
        &self,
        namespace: &str,
        name: &str,
        restarted_at: &str,
        user: &str,
    ) -> Result<String, String> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let current = api.get(name).await.map_err(describe)?;
        if current.spec.paused == Some(true) {
            return Err(format!(
                "deployment/{name} is paused: resume it first (kubectl rollout resume)"
            ));
        }
        let patch = Patch::Strategic(Command::restart_patch(restarted_at));
        let dry = PatchParams {
            dry_run: true,
            field_manager: Some("rollcall".into()),
            ..Default::default()
        };
        api.patch(name, &dry, &patch)
            .await
            .map_err(|e| format!("server-side dry run refused: {}", describe(e)))?;
        let real = PatchParams {
            field_manager: Some("rollcall".into()),
            ..Default::default()
        };
        let patched = api.patch(name, &real, &patch).await.map_err(describe)?;
        let note = record_event(
            &self.client,
            AuditEvent {
                warning: false,
                target: ObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: Some("Deployment".into()),
                    name: Some(name.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    uid: patched.metadata.uid.clone(),
                    ..Default::default()
                },
                reason: "RolloutRestart",
                action: "Restart",
                message: format!("{user} restarted deployment/{name} with rollcall"),
                user,
            },
        )
        .await
        .err()
        .map(|e| format!(" (could not record a Kubernetes Event: {e})"))
        .unwrap_or_default();
        Ok(format!("deployment/{name} restarted{note}"))
    }
}

/// What a rollcall action leaves in the cluster's own history: an Event on the target
/// naming who acted (Normal, or Warning for an action that failed after sending).
pub struct AuditEvent<'a> {
    pub warning: bool,
    pub target: ObjectReference,
    pub reason: &'a str,
    pub action: &'a str,
    pub message: String,
    pub user: &'a str,
}

/// Creates `event` in the target's namespace.
pub async fn record_event(client: &Client, event: AuditEvent<'_>) -> Result<(), String> {
    let namespace = event.target.namespace.clone().unwrap_or_default();
    let name = event.target.name.clone().unwrap_or_default();
    let now = jiff::Timestamp::now();
    let object = KubeEvent {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}.rollcall.")),
            namespace: Some(namespace.clone()),
            ..Default::default()
        },
        involved_object: event.target,
        reason: Some(event.reason.into()),
        message: Some(event.message),
        type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
        source: Some(EventSource {
            component: Some("rollcall".into()),
            host: None,
        }),
        reporting_component: Some("rollcall".into()),
        reporting_instance: Some(event.user.to_owned()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        action: Some(event.action.into()),
        count: Some(1),
        ..Default::default()
    };
    let api: Api<KubeEvent> = Api::namespaced(client.clone(), &namespace);
    api.create(&PostParams::default(), &object)
        .await
        .map(|_| ())
        .map_err(describe)
}

/// A kube error in the words an on-call engineer needs: the server's message.
pub fn describe(e: kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", status.reason)
            };
            format!("{}{}", status.message, reason)
        }
        other => other.to_string(),
    }
}

/// Asks the API server whether the current user may do `access`
/// (a SelfSubjectAccessReview, as `kubectl auth can-i` sends): `Ok(None)` when allowed,
/// `Ok(Some(why))` when denied, `Err` when the review itself failed.
pub async fn can_i(
    client: &Client,
    access: &crate::bus::access::Access,
) -> Result<Option<String>, String> {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.to_string()),
                group: Some(access.group.to_string()),
                resource: Some(access.resource.to_string()),
                subresource: access.subresource.map(str::to_string),
                namespace: Some(access.namespace.clone()),
                name: Some(access.name.clone()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(describe)?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        return Ok(None);
    }
    let why = [status.reason, status.evaluation_error]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Some(why))
}

/// The revision (from the `annotation`, e.g. `deployment.kubernetes.io/revision`) of a
/// ReplicaSet whose controller is the object with `owner_uid`; None for any other.
/// `kubectl rollout undo --to-revision` and the Rollouts plugin pick revisions this way.
pub fn controlled_revision(meta: &ObjectMeta, owner_uid: &str, annotation: &str) -> Option<u64> {
    let controlled = meta
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == owner_uid);
    if !controlled {
        return None;
    }
    meta.annotations.as_ref()?.get(annotation)?.parse().ok()
}
