//! The runbook's steps that rollcall runs itself, each a Kubernetes write planned when
//! the step is previewed and sent through the pipeline like every command: the seed's
//! `kubectl cnpg backup CLUSTER` (a POST of a Backup named `CLUSTER-<UTC time>`) and its
//! `kubectl patch configmap feature-flags -p '{"data":{KEY:VALUE}}'`.

use jiff::Timestamp;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::{Value, json};

use super::Preview;
use super::kube::{EventSpec, Plan, Prepared, Unsendable};
use crate::clients::kube::{Access, KubeActions, PatchBody, Write, WriteOp, resource};

/// What a runbook step sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepAction {
    /// A CloudNativePG Backup of `cluster`, as the kubectl plugin creates it.
    CnpgBackup {
        namespace: String,
        cluster: String,
        /// `<cluster>-<YYYYMMDDHHMMSS>` (UTC), fixed at preview time.
        name: String,
    },
    /// A Job created from its manifest, as `kubectl apply -f` creates a new one.
    CreateJob {
        namespace: String,
        name: String,
        manifest: Value,
    },
    /// One key of a ConfigMap set by a merge patch.
    SetConfigMapKey {
        namespace: String,
        configmap: String,
        key: String,
        value: String,
    },
    /// A tag or an image change in the GitOps repository, with the user's git.
    Git(Box<super::git::GitAction>),
}

impl StepAction {
    /// The backup `kubectl cnpg backup CLUSTER` would create at `now`.
    pub fn cnpg_backup(namespace: &str, cluster: &str, now: Timestamp) -> Self {
        StepAction::CnpgBackup {
            namespace: namespace.to_owned(),
            cluster: cluster.to_owned(),
            name: format!("{cluster}-{}", now.strftime("%Y%m%d%H%M%S")),
        }
    }

    /// The object it acts on, typed to confirm in production.
    pub fn target(&self) -> &str {
        match self {
            StepAction::CnpgBackup { cluster, .. } => cluster,
            StepAction::SetConfigMapKey { configmap, .. } => configmap,
            StepAction::CreateJob { name, .. } => name,
            StepAction::Git(g) => g.target(),
        }
    }

    pub fn summary(&self) -> String {
        match self {
            StepAction::CnpgBackup {
                namespace, cluster, ..
            } => format!("kubectl cnpg backup {cluster} -n {namespace}"),
            StepAction::SetConfigMapKey {
                namespace,
                configmap,
                key,
                value,
            } => format!("set {key}={value} in configmap/{configmap} ({namespace})"),
            StepAction::CreateJob {
                namespace, name, ..
            } => {
                format!("create job/{name} in {namespace}")
            }
            StepAction::Git(g) => g.summary(),
        }
    }

    fn backup_body(namespace: &str, cluster: &str, name: &str) -> Value {
        json!({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Backup",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"cnpg.io/cluster": cluster}},
            "spec": {"cluster": {"name": cluster}},
        })
    }

    fn patch_body(key: &str, value: &str) -> Value {
        json!({"data": {key: value}})
    }

    pub fn preview(&self) -> Preview {
        match self {
            StepAction::CnpgBackup {
                namespace,
                cluster,
                name,
            } => Preview {
                title: format!("Back up {cluster} (CloudNativePG)"),
                method: "POST",
                path: format!("/apis/postgresql.cnpg.io/v1/namespaces/{namespace}/backups"),
                content_type: "application/json",
                body: serde_json::to_string_pretty(&Self::backup_body(namespace, cluster, name))
                    .unwrap_or_default(),
                effect: format!(
                    "The operator takes a base backup of {cluster}'s primary; the step is done \
                     when backup/{name} is completed. A server-side dry run is sent first."
                ),
            },
            StepAction::SetConfigMapKey {
                namespace,
                configmap,
                key,
                value,
            } => Preview {
                title: format!("Set {key}={value}"),
                method: "PATCH",
                path: format!("/api/v1/namespaces/{namespace}/configmaps/{configmap}"),
                content_type: "application/merge-patch+json",
                body: serde_json::to_string_pretty(&Self::patch_body(key, value))
                    .unwrap_or_default(),
                effect: format!(
                    "Only data.{key} changes; the services read it as they read the flag. A \
                     server-side dry run is sent first."
                ),
            },
            StepAction::CreateJob {
                namespace,
                name,
                manifest,
            } => Preview {
                title: format!("Run job/{name}"),
                method: "POST",
                path: format!("/apis/batch/v1/namespaces/{namespace}/jobs"),
                content_type: "application/json",
                body: serde_json::to_string_pretty(&Self::job_body(namespace, manifest))
                    .unwrap_or_default(),
                effect: format!(
                    "The Job runs its pods to completion; the step is done when job/{name} is \
                     complete. If job/{name} is already there nothing is sent (a Job cannot \
                     be changed; delete it to run it again)."
                ),
            },
            StepAction::Git(g) => g.preview(),
        }
    }

    fn job_body(namespace: &str, manifest: &Value) -> Value {
        let mut body = manifest.clone();
        body["metadata"]["namespace"] = json!(namespace);
        body
    }

    /// The RBAC it needs.
    pub fn access(&self) -> Vec<Access> {
        let one = |verb: &'static str,
                   group: &'static str,
                   resource: &'static str,
                   ns: &str,
                   name: &str| Access {
            verb,
            group,
            resource,
            subresource: None,
            namespace: ns.to_owned(),
            name: name.to_owned(),
        };
        match self {
            StepAction::CnpgBackup { namespace, .. } => {
                vec![one(
                    "create",
                    "postgresql.cnpg.io",
                    "backups",
                    namespace,
                    "",
                )]
            }
            StepAction::SetConfigMapKey {
                namespace,
                configmap,
                ..
            } => vec![one("patch", "", "configmaps", namespace, configmap)],
            StepAction::CreateJob { namespace, .. } => {
                vec![one("create", "batch", "jobs", namespace, "")]
            }
            // The remote decides who may push; git asks it (push --dry-run).
            StepAction::Git(_) => Vec::new(),
        }
    }
}

/// The write and its Event; the cluster it goes to must exist (a backup of a Cluster
/// that is not there would wait forever).
pub(super) async fn prepare(
    kube: &KubeActions,
    action: &StepAction,
    user: &str,
) -> Result<Plan, Unsendable> {
    let reference = |r: &kube::api::ApiResource, o: &DynamicObject| {
        k8s_openapi::api::core::v1::ObjectReference {
            api_version: Some(r.api_version.clone()),
            kind: Some(r.kind.clone()),
            name: o.metadata.name.clone(),
            namespace: o.metadata.namespace.clone(),
            uid: o.metadata.uid.clone(),
            ..Default::default()
        }
    };
    let (write, done, event) = match action {
        StepAction::Git(g) => return Err(Unsendable::NotKubernetes(g.summary())),
        StepAction::CnpgBackup {
            namespace,
            cluster,
            name,
        } => {
            let clusters = resource("postgresql.cnpg.io", "v1", "Cluster", "clusters");
            let target = kube.get(&clusters, namespace, cluster).await?;
            let body = StepAction::backup_body(namespace, cluster, name);
            let object: DynamicObject =
                serde_json::from_value(body).map_err(|source| Unsendable::Shape {
                    what: format!("backup/{name}"),
                    source,
                })?;
            (
                Write {
                    resource: resource("postgresql.cnpg.io", "v1", "Backup", "backups"),
                    namespace: namespace.clone(),
                    name: name.clone(),
                    op: WriteOp::Create(Box::new(object)),
                },
                format!("backup/{name} created"),
                EventSpec {
                    target: reference(&clusters, &target),
                    reason: "BackupRequested",
                    action: "Backup".into(),
                    message: format!("{user} requested backup/{name} with rollcall"),
                },
            )
        }
        StepAction::CreateJob {
            namespace,
            name,
            manifest,
        } => {
            let jobs = resource("batch", "v1", "Job", "jobs");
            match kube.get(&jobs, namespace, name).await {
                Ok(_) => {
                    return Ok(Plan::Nothing(format!(
                        "job/{name} is already there; delete it to run it again"
                    )));
                }
                Err(e) if e.code() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
            let object: DynamicObject = serde_json::from_value(StepAction::job_body(
                namespace, manifest,
            ))
            .map_err(|source| Unsendable::Shape {
                what: format!("job/{name}"),
                source,
            })?;
            let target = k8s_openapi::api::core::v1::ObjectReference {
                api_version: Some("batch/v1".into()),
                kind: Some("Job".into()),
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..Default::default()
            };
            (
                Write {
                    resource: jobs,
                    namespace: namespace.clone(),
                    name: name.clone(),
                    op: WriteOp::Create(Box::new(object)),
                },
                format!("job/{name} created"),
                EventSpec {
                    target,
                    reason: "JobRequested",
                    action: "Create".into(),
                    message: format!("{user} started job/{name} with rollcall"),
                },
            )
        }
        StepAction::SetConfigMapKey {
            namespace,
            configmap,
            key,
            value,
        } => {
            let r = resource("", "v1", "ConfigMap", "configmaps");
            let target = kube.get(&r, namespace, configmap).await?;
            (
                Write {
                    resource: r.clone(),
                    namespace: namespace.clone(),
                    name: configmap.clone(),
                    op: WriteOp::Patch {
                        body: PatchBody::Merge(StepAction::patch_body(key, value)),
                        status: false,
                    },
                },
                format!("configmap/{configmap}: {key}={value}"),
                EventSpec {
                    target: reference(&r, &target),
                    reason: "ConfigChanged",
                    action: "Patch".into(),
                    message: format!("{user} set {key}={value} with rollcall"),
                },
            )
        }
    };
    Ok(Plan::Send(Box::new(Prepared {
        writes: vec![write],
        done,
        event,
        retry_on_conflict: false,
    })))
}
