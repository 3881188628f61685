//! The embedded Kubernetes API simulator: an HTTP server on loopback that speaks the real
//! Kubernetes API (discovery, list/watch, Table, patch, Status errors) for namespaces, pods,
//! services, configmaps, events, deployments and replicasets, with Deployment/ReplicaSet
//! controllers and a kubelet running on a simulated clock. kube-rs and kubectl work against
//! it unchanged. `start` builds a scenario, binds, and returns a handle.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod argocd;
pub mod cli;
pub mod clock;
pub mod cnpg;
pub mod controllers;
pub mod kafka;
pub mod keep;
pub mod metrics;
pub mod monitoring;
pub mod objects;
pub mod resources;
pub mod rollouts;
pub mod scenario;
pub mod status;
pub mod store;
pub mod trivy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

pub use api::faults::{FaultPlan, Impostor};
pub use scenario::Scenario;

use clock::SimClock;
use controllers::Controllers;
use store::Store;

/// Changes kept for watch resumption; older resourceVersions get 410 Expired.
const HISTORY: usize = 10_000;
/// Per-watcher fan-out buffer; a watcher further behind is ended with a 410 ERROR.
const FANOUT: usize = 4_096;
/// Controller tick, in real time.
const TICK: Duration = Duration::from_millis(25);

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    pub scenario: Scenario,
    /// Simulated-clock speed factor; 1.0 is real time.
    pub speed: f64,
    /// The bearer token accepted (as admin).
    pub token: String,
    /// The token of the `viewer` user (reads everything, writes nothing in prod).
    pub viewer_token: String,
    /// Serve HTTPS with a self-signed CA (kubectl sends bearer tokens only over TLS).
    /// Plain HTTP accepts credential-less loopback requests as the admin instead.
    pub tls: bool,
    /// Faults injected from the start (changeable at run time: `POST /_sim/faults`).
    pub faults: FaultPlan,
    /// Where the Argo CD API listens (its own port; 0 picks a free one).
    pub argocd_listen: SocketAddr,
    /// Password of the Argo CD `admin` account.
    pub argocd_password: String,
    /// Image tags that run an unhealthy version, besides tags containing `broken`
    /// (changeable at run time: `POST /_sim/unhealthy`).
    pub unhealthy_images: Vec<String>,
    /// Where the demo's GitOps repository is created (`gitops.git`, the remote Argo CD
    /// reads, and `gitops`, a clone to work in), replacing what was there; a temporary
    /// directory when unset.
    pub gitops_dir: Option<std::path::PathBuf>,
    /// Where what must outlive the process is kept: the TLS certificates and key
    /// (`tls/`) and Argo CD's signature key and API keys (`argocd/`), so a restarted
    /// simulator is trusted by, and takes the tokens of, the kubeconfigs and Argo CD
    /// configs written before. Unset, they are made once per process.
    pub state_dir: Option<std::path::PathBuf>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            scenario: Scenario::Dictamesh,
            speed: 1.0,
            token: "rollcall-sim-admin".into(),
            viewer_token: "rollcall-sim-viewer".into(),
            tls: true,
            faults: FaultPlan::default(),
            argocd_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            argocd_password: "rollcall-sim".into(),
            unhealthy_images: Vec::new(),
            gitops_dir: None,
            state_dir: None,
        }
    }
}

/// Internal sizes and intervals; tests shrink them to reach edge cases quickly.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Changes kept for watch resumption.
    pub history: usize,
    /// Per-watcher fan-out buffer.
    pub fanout: usize,
    /// How often watchers that asked for bookmarks get one.
    pub bookmark_interval: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            history: HISTORY,
            fanout: FANOUT,
            bookmark_interval: Duration::from_secs(3),
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(#[source] api::tls::TlsError),
    #[error("cannot keep the simulator's state: {0}")]
    Kept(#[source] api::pki::KeepError),
    #[error("cannot create the demo's GitOps repository: {0}")]
    Gitops(#[source] argocd::repo::GitError),
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// State shared by the HTTP handlers, watchers and controllers.
pub struct Shared {
    pub store: Store,
    pub clock: SimClock,
    pub token: String,
    pub bookmark_interval: Duration,
    pub shutdown: signal::Receiver<bool>,
    /// Bumped to end every open watch with a 410 ERROR (fault injection).
    pub expire: signal::Sender<u64>,
    /// Bearer tokens and their users.
    pub users: Vec<(String, api::auth::User)>,
    /// Whether the server speaks TLS (credential-less requests are refused then).
    pub tls: bool,
    pub faults: Arc<api::faults::Faults>,
    /// The GitOps repository Argo CD syncs from.
    pub gitops: argocd::repo::GitRepo,
    /// The unhealthy-version knob.
    pub unhealthy: controllers::unhealthy::UnhealthyImages,
    /// Bumped when the unhealthy images change, so controllers look at every pod again.
    pub unhealthy_changed: signal::Sender<u64>,
    /// The demo's Kafka cluster (topics, consumer groups), behind the broker pods' exec.
    pub kafka: kafka::Kafka,
    events: AtomicBool,
}

impl Shared {
    pub fn events_enabled(&self) -> bool {
        self.events.load(Ordering::Relaxed)
    }

    pub fn set_events(&self, on: bool) {
        self.events.store(on, Ordering::Relaxed);
    }

    /// A world with no listener, for unit tests that step the controllers themselves.
    /// Keep the returned sender: dropping it signals shutdown.
    #[cfg(test)]
    pub(crate) fn for_tests() -> (Arc<Shared>, signal::Sender<bool>) {
        let (tx, rx) = signal::channel(false);
        let shared = Arc::new(Shared {
            store: Store::new(100_000, 100_000),
            clock: SimClock::new(1.0),
            token: "t".into(),
            bookmark_interval: Duration::from_secs(3),
            shutdown: rx,
            expire: signal::channel(0).0,
            users: Vec::new(),
            tls: false,
            faults: Arc::new(api::faults::Faults::new(api::faults::FaultPlan::default())),
            gitops: Default::default(),
            unhealthy: controllers::unhealthy::UnhealthyImages::new(Vec::new()),
            unhealthy_changed: signal::channel(0).0,
            kafka: kafka::Kafka::default(),
            events: AtomicBool::new(true),
        });
        (shared, tx)
    }
}

/// A running simulator. Dropping it stops it too; `shutdown` waits until it has stopped.
pub struct SimHandle {
    addr: SocketAddr,
    token: String,
    shutdown: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    tls: bool,
    /// The CA clients must trust, when TLS is on.
    ca_pem: Option<String>,
    viewer_token: String,
    argocd: argocd::ArgoCd,
    /// Where the Grafana-style monitoring answers.
    monitoring: SocketAddr,
}

/// Builds the scenario, binds, and spawns the server and the controllers.
pub async fn start(opts: SimOptions) -> Result<SimHandle, SimError> {
    start_with(opts, Tuning::default()).await
}

/// `start` with explicit internal sizes.
pub async fn start_with(opts: SimOptions, tuning: Tuning) -> Result<SimHandle, SimError> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let (tx, rx) = signal::channel(false);
    let shared = Arc::new(Shared {
        store: Store::starting_at(wall_clock_base(), tuning.history, tuning.fanout),
        clock: SimClock::new(opts.speed),
        token: opts.token.clone(),
        bookmark_interval: tuning.bookmark_interval,
        shutdown: rx.clone(),
        expire: signal::channel(0).0,
        users: vec![
            (
                opts.token.clone(),
                api::auth::User::admin("rollcall-sim-admin"),
            ),
            (opts.viewer_token.clone(), api::auth::User::viewer()),
        ],
        tls: opts.tls,
        faults: Arc::new(api::faults::Faults::new(opts.faults.clone())),
        gitops: argocd::repo::GitRepo::default(),
        unhealthy: controllers::unhealthy::UnhealthyImages::new(opts.unhealthy_images.clone()),
        unhealthy_changed: signal::channel(0).0,
        kafka: kafka::Kafka::default(),
        events: AtomicBool::new(true),
    });
    let pki = match (opts.tls, &opts.state_dir) {
        (false, _) => None,
        (true, Some(dir)) => Some(api::pki::kept(dir).map_err(SimError::Kept)?),
        (true, None) => Some(api::pki::pki().map_err(|e| SimError::Tls(e.into()))?),
    };
    // One Prometheus history: the monitoring port serves it, analysis measures from it.
    let history = Arc::new(metrics::History::default());
    let mut ctl = Controllers::new(shared.clone());
    ctl.set_metrics(history.clone());
    scenario::build(&shared, &mut ctl, opts.scenario);
    if opts.scenario == Scenario::Dictamesh {
        scenario::argocd::build(&shared, opts.gitops_dir.as_deref()).map_err(SimError::Gitops)?;
        // The Kafka topics' backup lies next to the GitOps checkout.
        if let Some(root) = shared.gitops.checkout().and_then(std::path::Path::parent) {
            kafka::scenario::write_backup(&shared, root)?;
        }
    }
    let argocd = argocd::start(
        shared.clone(),
        opts.argocd_listen,
        &opts.argocd_password,
        pki.as_deref(),
        opts.state_dir.as_deref(),
        rx.clone(),
    )
    .await?;
    let (monitoring, monitoring_task) = monitoring::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        shared.clone(),
        history.clone(),
        rx.clone(),
    )
    .await?;
    let scale_keys = match opts.scenario {
        Scenario::Scale {
            pods, namespaces, ..
        } => scenario::scale::build(&shared, pods, namespaces),
        _ => Vec::new(),
    };
    let app = axum::Router::new()
        .fallback(api::handle)
        .with_state(shared.clone());
    let mut server_rx = rx.clone();
    let (tls, plain) = if let Some(pki) = &pki {
        let l = api::tls::TlsListener::new(listener, shared.faults.clone(), pki)
            .map_err(SimError::Tls)?;
        (Some(l), None)
    } else {
        (None, Some(listener))
    };
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = server_rx.wait_for(|v| *v).await;
        };
        let result = match (tls, plain) {
            (Some(l), _) => {
                axum::serve(
                    l,
                    app.into_make_service_with_connect_info::<api::tls::Peer>(),
                )
                .with_graceful_shutdown(stop)
                .await
            }
            (None, Some(listener)) => {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<api::tls::Peer>(),
                )
                .with_graceful_shutdown(stop)
                .await
            }
            (None, None) => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!("simulator server stopped: {e}");
        }
    });
    let faults = tokio::spawn(api::admin::run_faults(shared.clone(), rx.clone()));
    let churn = match opts.scenario {
        Scenario::Scale { churn, .. } => churn,
        _ => 0,
    };
    let churner = tokio::spawn(scenario::scale::churn(
        shared.clone(),
        scale_keys,
        churn,
        rx.clone(),
    ));
    let sampler = tokio::spawn(metrics::run(shared.clone(), history, rx.clone()));
    let controllers = tokio::spawn(ctl.run(TICK, rx));
    tracing::info!(%addr, "simulator listening");
    Ok(SimHandle {
        addr,
        token: opts.token,
        shutdown: tx,
        tasks: vec![
            server,
            controllers,
            faults,
            churner,
            monitoring_task,
            sampler,
        ],
        monitoring,
        shared,
        tls: opts.tls,
        ca_pem: pki.map(|p| p.ca_pem.clone()),
        viewer_token: opts.viewer_token,
        argocd,
    })
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the demo's monitoring (Grafana's `/api/health`, and
    /// Prometheus's `/api/v1/query` and `/api/v1/query_range`).
    pub fn monitoring_url(&self) -> String {
        format!("http://{}", self.monitoring)
    }

    /// The demo's GitOps repository: the bare remote Argo CD reads.
    pub fn gitops_remote(&self) -> Option<&std::path::Path> {
        self.shared.gitops.remote()
    }

    /// The working clone of the GitOps repository made at start.
    pub fn gitops_checkout(&self) -> Option<&std::path::Path> {
        self.shared.gitops.checkout()
    }

    /// The demo's backup of its `KafkaTopic`s (`kafka-topics-backup.yaml`, a `kind: List`
    /// as `kubectl get kafkatopics -o yaml` writes it), next to the GitOps checkout.
    pub fn kafka_topics_backup(&self) -> Option<&std::path::Path> {
        self.shared.kafka.backup_path()
    }

    /// `https://127.0.0.1:PORT` (or `http://` when TLS is off).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `viewer` user's token.
    pub fn viewer_token(&self) -> &str {
        &self.viewer_token
    }

    /// The CA certificate (PEM) clients must trust, when TLS is on.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// A kubeconfig for this simulator: cluster `rollcall-sim` (with the CA as
    /// certificate-authority-data over TLS); context `rollcall-sim` (namespace
    /// dictamesh-prod) as user `rollcall-sim-admin`, current; context `rollcall-sim-viewer`
    /// as user `viewer`.
    pub fn kubeconfig_yaml(&self) -> String {
        use base64::Engine;
        let ca = self
            .ca_pem()
            .map(|pem| {
                let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
                format!("    certificate-authority-data: {b64}\n")
            })
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: rollcall-sim\n  cluster:\n    server: {}\n{ca}contexts:\n- name: rollcall-sim\n  context:\n    cluster: rollcall-sim\n    user: rollcall-sim-admin\n    namespace: dictamesh-prod\n- name: rollcall-sim-viewer\n  context:\n    cluster: rollcall-sim\n    user: viewer\n    namespace: dictamesh-prod\ncurrent-context: rollcall-sim\nusers:\n- name: rollcall-sim-admin\n  user:\n    token: {}\n- name: viewer\n  user:\n    token: {}\npreferences: {{}}\n",
            self.base_url(),
            self.token,
            self.viewer_token,
        )
    }

    /// The Argo CD API's base URL: `https://127.0.0.1:PORT` (or `http://` without TLS).
    pub fn argocd_url(&self) -> String {
        let scheme = if self.argocd.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.argocd.addr)
    }

    /// The Argo CD API's address (`argocd --server` takes it without a scheme).
    pub fn argocd_addr(&self) -> SocketAddr {
        self.argocd.addr
    }

    /// A non-expiring Argo CD API key of `admin` (a JWT, as argocd-server issues).
    pub fn argocd_token(&self) -> &str {
        &self.argocd.admin_token
    }

    /// A non-expiring Argo CD API key of the read-only `viewer` account.
    pub fn argocd_viewer_token(&self) -> &str {
        &self.argocd.viewer_token
    }

    /// The CA (PEM) that signs the Argo CD API's certificate (the Kubernetes API's CA), when
    /// TLS is on.
    pub fn argocd_ca_pem(&self) -> Option<String> {
        self.argocd.tls.then(|| self.ca_pem()).flatten()
    }

    /// The argocd CLI's config file for this simulator, logged in as admin.
    pub fn argocd_cli_config(&self) -> String {
        argocd::cli_config(
            &self.argocd.addr.to_string(),
            &self.argocd.admin_token,
            self.argocd.tls,
            self.argocd_ca_pem().as_deref(),
        )
    }

    /// Replaces the fault plan (as `POST /_sim/faults` does).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.faults.set(plan);
    }

    /// Sets `plan` once `delay` has passed (a scripted incident's later fault).
    pub fn set_faults_after(&self, delay: std::time::Duration, plan: FaultPlan) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            shared.faults.set(plan);
        });
    }

    /// Replaces the image tags marked unhealthy (as `POST /_sim/unhealthy` does).
    pub fn set_unhealthy_images(&self, tags: Vec<String>) {
        self.shared.unhealthy.set(tags);
        self.shared.unhealthy_changed.send_modify(|n| *n += 1);
    }

    /// A consumer group that replayed nothing (a drill's start): its committed offsets
    /// on `topic` at the log end, and per partition where a replay from `bad_release`
    /// would start. `None` when the group or topic does not exist.
    pub fn kafka_skip_to_latest(
        &self,
        group: &str,
        topic: &str,
        bad_release: jiff::Timestamp,
    ) -> Option<Vec<(u32, u64)>> {
        self.shared
            .kafka
            .skip_to_latest(&self.shared, group, topic, bad_release.as_millisecond())
    }

    /// Fault injection: compacts the watch history and ends every open watch with an in-stream
    /// 410 Expired ERROR, so clients must relist (as after an etcd compaction).
    pub fn expire_watches(&self) {
        self.shared.store.compact();
        self.shared.expire.send_modify(|n| *n += 1);
    }

    /// The current simulated time.
    pub fn now(&self) -> jiff::Timestamp {
        self.shared.clock.now()
    }

    /// Stops the server and controllers and closes watch streams.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Microseconds since the epoch: a resourceVersion base no earlier run reached,
/// since no run writes faster than once per microsecond.
fn wall_clock_base() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2))
        .unwrap_or(0)
}
