//! Kubernetes connections (from a kubeconfig, the user's or the simulator's) and the
//! transport the command bus sends mutations through: read, write (optionally as a
//! server-side dry run), ask RBAC, leave an Event. What to send, and in which order, is
//! the bus's; this module only carries it.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Event as KubeEvent, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{
    ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::Value;

/// Why a context cannot be connected. Each message already ends with its cause, so
/// none is a `source` (a report of the chain would say it twice).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(kube::config::KubeconfigError),
    /// A kubeconfig path that is not a regular file, or is too large, to read.
    #[error("cannot read kubeconfig {0}")]
    KubeconfigFile(rollcall_files::ReadError),
    #[error("no context `{context}` in the kubeconfig (it has: {known})")]
    NoSuchContext { context: String, known: String },
    #[error("cannot build a client for context {context}: {error}")]
    Client { context: String, error: kube::Error },
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
    let kubeconfig = read_kubeconfig(path)?;
    connect_with(kubeconfig, context).await
}

/// The kubeconfig at `path`, or the default one, once every file it is read from has
/// passed the file check. kube reads the files itself (it resolves relative certificate
/// paths against each file's directory), so the check comes just before.
pub fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, ConnectError> {
    for file in kubeconfig_files(path) {
        match rollcall_files::check(&file, rollcall_files::Kind::Kubeconfig) {
            // kube says which file is missing in its own words.
            Err(error) if !error.is_not_found() => {
                return Err(ConnectError::KubeconfigFile(error));
            }
            _ => {}
        }
    }
    match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(ConnectError::Kubeconfig)
}

/// The context `context` names (else the current one) and its user, for the header and
/// the audit; empty when the kubeconfig has none.
pub fn context_and_user(kubeconfig: &Kubeconfig, context: Option<&str>) -> (String, String) {
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
    (context_name, user)
}

/// The files `Kubeconfig::read` reads: each of `$KUBECONFIG`'s, else ~/.kube/config.
fn kubeconfig_files(path: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = path {
        return vec![path.to_path_buf()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        let files: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !files.is_empty() {
            return files;
        }
    }
    std::env::home_dir()
        .map(|home| home.join(".kube").join("config"))
        .into_iter()
        .collect()
}

pub async fn connect_with(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> Result<Connection, ConnectError> {
    let (context_name, user) = context_and_user(&kubeconfig, context);
    if let Some(context) = context
        && !kubeconfig.contexts.iter().any(|c| c.name == context)
    {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ConnectError::NoSuchContext {
            context: context.to_owned(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(ConnectError::Kubeconfig)?;
    // kube retries 429/503/504 up to 15 times over nearly three minutes, silently: the
    // header would say live through an outage, and a watcher would sit in that sleep long
    // after the server is back. The watchers back off by themselves and are woken when
    // the link's probe sees the server again; a command that meets a 503 says so.
    config.default_retry = false;
    let client = client_for(config).map_err(|error| ConnectError::Client {
        context: context_name.clone(),
        error,
    })?;
    Ok(Connection {
        client,
        context: context_name,
        user,
    })
}

/// A client for `config` whose errors say so when what answered is not the API server
/// (an empty body, an HTML page: see `clients::answer`).
pub fn client_for(config: kube::Config) -> Result<Client, kube::Error> {
    let explain = super::answer::ExplainLayer::new(&config.cluster_url);
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&explain)
        .build())
}

/// A request the API server refused or that did not reach it, in the words an on-call
/// engineer needs: the server's message.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe_ref(.0))]
pub struct KubeError(#[from] pub kube::Error);

impl KubeError {
    /// The HTTP status the server answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        match &self.0 {
            kube::Error::Api(status) => Some(status.code),
            _ => None,
        }
    }
}

/// A resource type as the bus names it: group, version, kind, plural.
pub fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// One write to one object, exactly as it goes over the wire.
#[derive(Debug, Clone)]
pub struct Write {
    pub resource: ApiResource,
    pub namespace: String,
    pub name: String,
    pub op: WriteOp,
}

#[derive(Debug, Clone)]
pub enum WriteOp {
    /// A patch. `status` sends it to the status subresource, and again to the object on
    /// a 404 (a kind served without one), as the Argo Rollouts plugin does.
    Patch { body: PatchBody, status: bool },
    /// A PUT of the whole object as read (its resourceVersion kept: a 409 means someone
    /// wrote in between).
    Replace(Box<DynamicObject>),
    /// A POST of a new object (409 AlreadyExists when someone created it meanwhile).
    Create(Box<DynamicObject>),
}

#[derive(Debug, Clone)]
pub enum PatchBody {
    Strategic(Value),
    Merge(Value),
    Json(json_patch::Patch),
}

impl PatchBody {
    fn patch(&self) -> Patch<&Value> {
        match self {
            PatchBody::Strategic(v) => Patch::Strategic(v),
            PatchBody::Merge(v) => Patch::Merge(v),
            PatchBody::Json(p) => Patch::Json(p.clone()),
        }
    }
}

fn patch_params(dry_run: bool) -> PatchParams {
    PatchParams {
        dry_run,
        field_manager: Some("rollcall".into()),
        ..Default::default()
    }
}

/// One `kubectl auth can-i VERB GROUP/RESOURCE[/SUBRESOURCE] NAME -n NAMESPACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub namespace: String,
    pub name: String,
}

impl Access {
    /// As `kubectl auth can-i` would be asked, for messages.
    pub fn describe(&self) -> String {
        let resource = match (self.group, self.subresource) {
            ("", None) => self.resource.to_string(),
            ("", Some(sub)) => format!("{}/{sub}", self.resource),
            (g, None) => format!("{}.{g}", self.resource),
            (g, Some(sub)) => format!("{}.{g}/{sub}", self.resource),
        };
        format!(
            "{} {resource} {} -n {}",
            self.verb, self.name, self.namespace
        )
    }
}

/// One cluster's transport for the bus.
#[derive(Clone)]
pub struct KubeActions {
    client: Client,
}

impl KubeActions {
    pub fn new(client: Client) -> Self {
        KubeActions { client }
    }

    /// The connection, for clients of other kinds (Argo Rollouts watchers).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn api(&self, r: &ApiResource, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, r)
    }

    pub async fn get(
        &self,
        r: &ApiResource,
        namespace: &str,
        name: &str,
    ) -> Result<DynamicObject, KubeError> {
        Ok(self.api(r, namespace).get(name).await?)
    }

    /// The objects matching a label selector (`k=v,…`).
    pub async fn list(
        &self,
        r: &ApiResource,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<DynamicObject>, KubeError> {
        let list = self
            .api(r, namespace)
            .list(&ListParams::default().labels(selector))
            .await?;
        Ok(list.items)
    }

    /// Sends `w`, as a server-side dry run (`dryRun=All`) when asked.
    pub async fn write(&self, w: &Write, dry_run: bool) -> Result<DynamicObject, KubeError> {
        let api = self.api(&w.resource, &w.namespace);
        let params = patch_params(dry_run);
        let result = match &w.op {
            WriteOp::Patch {
                body,
                status: false,
            } => api.patch(&w.name, &params, &body.patch()).await,
            WriteOp::Patch { body, status: true } => {
                match api.patch_status(&w.name, &params, &body.patch()).await {
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        api.patch(&w.name, &params, &body.patch()).await
                    }
                    other => other,
                }
            }
            WriteOp::Replace(object) => {
                let post = PostParams {
                    dry_run,
                    field_manager: Some("rollcall".into()),
                };
                api.replace(&w.name, &post, object).await
            }
            WriteOp::Create(object) => {
                let post = PostParams {
                    dry_run,
                    field_manager: Some("rollcall".into()),
                };
                api.create(&post, object).await
            }
        };
        Ok(result?)
    }

    /// Asks the API server whether the current user may do `access`
    /// (a SelfSubjectAccessReview, as `kubectl auth can-i` sends): `Ok(None)` when allowed,
    /// `Ok(Some(why))` when denied, `Err` when the review itself failed.
    pub async fn can_i(&self, access: &Access) -> Result<Option<String>, KubeError> {
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
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api.create(&PostParams::default(), &review).await?;
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

    /// Creates `event` in the target's namespace.
    pub async fn record_event(&self, event: AuditEvent) -> Result<(), KubeError> {
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
            reason: Some(event.reason),
            message: Some(event.message),
            type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
            source: Some(EventSource {
                component: Some("rollcall".into()),
                host: None,
            }),
            reporting_component: Some("rollcall".into()),
            reporting_instance: Some(event.user),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            action: Some(event.action),
            count: Some(1),
            ..Default::default()
        };
        let api: Api<KubeEvent> = Api::namespaced(self.client.clone(), &namespace);
        api.create(&PostParams::default(), &object).await?;
        Ok(())
    }
}

/// What a rollcall action leaves in the cluster's own history: an Event on the target
/// naming who acted (Normal, or Warning for an action that failed after sending).
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub warning: bool,
    pub target: ObjectReference,
    pub reason: String,
    pub action: String,
    pub message: String,
    pub user: String,
}

/// A kube error in the words an on-call engineer needs: the server's message.
pub fn describe(e: kube::Error) -> String {
    describe_ref(&e)
}

fn describe_ref(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => describe_status(status),
        other => other.to_string(),
    }
}

/// A kube error for a one-line report: the server's words when it answered, else the
/// innermost cause ("Connection refused"), which is what an operator can act on.
pub fn explain(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => describe_status(status),
        other => super::innermost(other),
    }
}

/// A Status the server answered with: its message, and its reason when it has one.
pub fn describe_status(status: &kube::core::Status) -> String {
    if status.reason.is_empty() {
        status.message.clone()
    } else {
        format!("{} ({})", status.message, status.reason)
    }
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

/// Who the cluster says the current user is: a SelfSubjectReview, as `kubectl auth
/// whoami` sends it (Kubernetes 1.28+). Ticks on a shared checklist are signed with it.
pub async fn whoami(client: &Client) -> Result<String, KubeError> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    Ok(review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .unwrap_or_default())
}
