//! Wiring, the top of the house: connects each environment to its cluster, starts the
//! watchers and the command bus, maps what they send to `app::Event`s, and hands
//! everything to the terminal loop. Shared by `run` and `demo`.

pub mod advise;
pub mod argocd;
pub mod audit;
pub mod checklist;
pub mod demo;
mod feed;
pub mod once;
pub mod status;
pub mod terminal;
pub mod ticks;

use std::collections::HashMap;
use std::path::PathBuf;

use color_eyre::eyre::{Result, WrapErr};
use kube::config::Kubeconfig;
use tokio::sync::mpsc;

use crate::app::Config;
use crate::app::{EnvUpdate, Event, State, Stream};
use crate::bus::{AuditLog, Bus};
use crate::clients::kube::{Connection, KubeActions, connect, connect_with};
use crate::clients::watch::{ListMode, spawn_env_watchers};
use crate::config::{DeployMode, Environment, Policy};
pub use argocd::{ArgocdSource, NoEndpoint, demo_argocd, endpoint_for};

/// Where the clusters come from.
pub enum Source {
    /// The user's kubeconfig (or the one given), with each environment's context.
    Kubeconfig { path: Option<PathBuf> },
    /// One kubeconfig for every environment, e.g. the embedded simulator's.
    Fixed {
        kubeconfig: Box<Kubeconfig>,
        label: String,
    },
}

pub struct RunOptions {
    pub config: Config,
    pub source: Source,
    pub readonly: bool,
    /// Opened by the caller before anything else (its first record written).
    pub audit: AuditLog,
    pub user: String,
    pub clock: crate::domain::Clock,
    /// How much faster than the wall clock `clock` runs.
    pub clock_speed: f64,
    /// A drill to score (`rollcall demo --drill`), and what the simulator measured as
    /// it broke things.
    pub drill: Option<(crate::config::drills::Drill, crate::app::drill::Baseline)>,
    /// Where the environments' Argo CD is.
    pub argocd: ArgocdSource,
    /// Where checklist ticks the cluster does not have yet are kept.
    pub ticks_file: PathBuf,
}

/// Not one environment can use its cluster: the kubeconfig is missing, does not parse,
/// or has none of their contexts. The user's to fix (exit status 2), and said before the
/// terminal opens, on one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// An environment for a cluster given on the command line: no services, no policy
/// beyond the defaults. An empty namespace means all namespaces.
pub fn ad_hoc_environment(context: Option<String>, namespace: String) -> Environment {
    let name = context.clone().unwrap_or_else(|| "cluster".into());
    Environment {
        name,
        context,
        namespace,
        production: false,
        policy: Policy {
            min_replicas: 1,
            deploy_mode: DeployMode::Manual,
            change_windows: Vec::new(),
            backup_max_age: None,
        },
        services: Vec::new(),
        database: None,
        argocd: None,
        backup: None,
        monitoring: Default::default(),
        gitops: None,
        confirm: crate::config::ConfirmPolicy::default_for(false),
        kafka: None,
    }
}

/// Why no environment can connect, naming the first one's error; None when one can.
fn unusable(
    environments: &[Environment],
    by_context: &HashMap<Option<String>, Result<Connection, String>>,
) -> Option<String> {
    if by_context.values().any(Result::is_ok) {
        return None;
    }
    let (env, why) = environments
        .iter()
        .find_map(|e| Some((e, by_context.get(&e.context)?.as_ref().err()?)))?;
    // One line: a YAML error's first line has its line and column, the rest draws them.
    let first_line = |why: &str| why.lines().next().unwrap_or_default().trim().to_owned();
    let same_for_all = by_context
        .values()
        .all(|c| c.as_ref().err().map(|w| first_line(w)) == Some(first_line(why)));
    let why = first_line(why);
    Some(match &env.context {
        // The kubeconfig itself: naming an environment would point at the wrong thing.
        _ if same_for_all => why,
        Some(context) => format!("environment {} (context {context}): {why}", env.name),
        None => format!("environment {}: {why}", env.name),
    })
}

/// Runs `future` on rollcall's own runtime: two workers, as the watchers, the bus and the
/// terminal loop need no more.
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    runtime.block_on(future)
}

/// Watches and acts on the environments until the user quits.
pub fn run(opts: RunOptions) -> Result<()> {
    block_on(run_async(opts))
}

async fn run_async(opts: RunOptions) -> Result<()> {
    let Config {
        environments,
        checklists,
        runbook,
        keys,
        theme,
        ..
    } = opts.config;
    let audit = opts.audit;
    let (tx, rx) = mpsc::channel::<Event>(8192);
    let mut state = State::new(environments.clone(), keys, (opts.clock)());
    state.clock_speed = opts.clock_speed;
    if let Some((d, baseline)) = opts.drill {
        let run = crate::app::drill::DrillRun::new(d, state.now).with_baseline(baseline);
        // The brief is what the on-call engineer is told when paged.
        state.flash = Some((state.now, run.page(), false));
        state.drill = Some(run);
    }
    state.readonly = opts.readonly;
    state.user = opts.user.clone();
    let probe_urls = crate::domain::checklist::walk::probe_urls(&checklists, &environments);
    state.checklist =
        crate::app::panes::checklist::ChecklistState::new(checklists, environments.len());
    state.runbook.runbook = runbook;
    let (unsynced, warning) = ticks::load(&opts.ticks_file);
    state.checklist.unsynced = unsynced;
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
        state.flash = Some((state.now, warning, false));
    }

    // One connection per distinct context; a failure marks only its environments down.
    let mut by_context: HashMap<Option<String>, Result<Connection, String>> = HashMap::new();
    let mut labels = Vec::new();
    for env in &environments {
        if by_context.contains_key(&env.context) {
            continue;
        }
        let conn = match &opts.source {
            Source::Kubeconfig { path } => connect(path.as_deref(), env.context.as_deref()).await,
            Source::Fixed { kubeconfig, .. } => {
                connect_with(Kubeconfig::clone(kubeconfig), None).await
            }
        }
        .map_err(|e| e.to_string());
        if let Ok(c) = &conn {
            labels.push(format!("ctx: {} as {}", c.context, c.user));
        }
        by_context.insert(env.context.clone(), conn);
    }
    // One environment down is the screen's to show; all of them is a kubeconfig that
    // cannot work, and a screen of nothing but errors would hide why.
    if matches!(opts.source, Source::Kubeconfig { .. })
        && let Some(why) = unusable(&environments, &by_context)
    {
        return Err(Unusable(why).into());
    }
    state.source = match &opts.source {
        Source::Fixed { label, .. } => label.clone(),
        Source::Kubeconfig { .. } => {
            labels.dedup();
            labels.join(", ")
        }
    };

    let mut actions = HashMap::new();
    let mut log_clients = HashMap::new();
    let mut watchers = Vec::new();
    // One list-mode probe per connection, shared by all its watchers, with its link
    // probe: the watchers tell it of answers and failures, it wakes them on recovery.
    let mut list_modes: HashMap<Option<String>, ListMode> = HashMap::new();
    for (context, conn) in &by_context {
        let Ok(conn) = conn else { continue };
        let envs = (environments.iter().enumerate())
            .filter(|(_, e)| e.context == *context)
            .map(|(i, _)| i)
            .collect();
        let (probe, link) =
            crate::clients::link::spawn_probe(conn.client.clone(), envs, tx.clone());
        watchers.push(probe);
        list_modes.insert(context.clone(), ListMode::default().linked(link));
    }
    let mut identities: HashMap<Option<String>, Option<String>> = HashMap::new();
    let mut kafka_wakes = terminal::KafkaWakes::new();
    for (index, env) in environments.iter().enumerate() {
        match by_context.get(&env.context) {
            Some(Ok(conn)) => {
                actions.insert(env.name.clone(), KubeActions::new(conn.client.clone()));
                log_clients.insert(index, conn.client.clone());
                let lists = list_modes.entry(env.context.clone()).or_default();
                watchers.extend(spawn_env_watchers(
                    index,
                    conn.client.clone(),
                    &env.namespace,
                    lists,
                    tx.clone(),
                ));
                watchers.extend(crate::clients::rollouts::spawn_rollout_watchers(
                    index,
                    conn.client.clone(),
                    &env.namespace,
                    lists,
                    tx.clone(),
                ));
                watchers.extend(crate::clients::checklist::spawn_watchers(
                    index,
                    conn.client.clone(),
                    env,
                    lists,
                    tx.clone(),
                ));
                // Kafka through the broker pod's own tools (pods/exec).
                if let Some(kafka) = &env.kafka {
                    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
                    kafka_wakes.insert(index, wake.clone());
                    watchers.push(crate::clients::kafka::spawn_watcher(
                        index,
                        crate::clients::kafka::KafkaTools::new(conn.client.clone(), kafka.clone()),
                        opts.clock.clone(),
                        wake,
                        tx.clone(),
                    ));
                }
                // Ticks are signed with who the cluster says the user is.
                match identities.get(&env.context) {
                    Some(Some(who)) => {
                        state.checklist.identity.insert(index, who.clone());
                    }
                    Some(None) => {}
                    None => {
                        let who = crate::clients::kube::whoami(&conn.client)
                            .await
                            .inspect_err(|e| tracing::info!("SelfSubjectReview: {e}"))
                            .ok()
                            .filter(|w| !w.is_empty());
                        if let Some(who) = &who {
                            state.checklist.identity.insert(index, who.clone());
                        }
                        identities.insert(env.context.clone(), who);
                    }
                }
            }
            Some(Err(message)) => {
                let message = message.clone();
                for stream in Stream::ALL {
                    let _ = tx.try_send(Event::Watch {
                        env: index,
                        update: EnvUpdate::WatchError {
                            stream,
                            message: message.clone(),
                            refused: false,
                        },
                    });
                }
            }
            // Every environment's context was connected above.
            None => {}
        }
    }

    // Migration databases (issue 6): a status poller per environment that has one.
    let migration_targets = crate::clients::migrations::targets(&environments);
    for target in migration_targets.values() {
        watchers.push(crate::clients::migrations::spawn(
            target.clone(),
            tx.clone(),
            opts.clock.clone(),
        ));
    }

    // The URLs the checklist's checks GET.
    watchers.extend(crate::clients::checklist::spawn_prober(
        probe_urls,
        opts.clock.clone(),
        tx.clone(),
    ));

    // The Prometheus queries of the runbook's and checklists' metric checks.
    let metric_checks: Vec<crate::config::Check> = state
        .runbook
        .runbook
        .steps()
        .filter_map(|(_, s)| s.done_when.clone())
        .chain(
            state
                .checklist
                .lists
                .lists
                .iter()
                .flat_map(|l| l.items.iter().map(|i| i.check.clone())),
        )
        .collect();
    watchers.extend(crate::clients::metrics::spawn_watcher(
        crate::domain::checklist::metric::queries(metric_checks.iter(), &environments),
        opts.clock.clone(),
        tx.clone(),
    ));

    // The GitOps remotes the runbook's git steps and checks read.
    watchers.extend(crate::clients::git::spawn_watcher(
        crate::clients::git::plan_reads(&environments),
        opts.clock.clone(),
        tx.clone(),
    ));

    // Argo CD (issue 5): one watch per distinct server, apps routed to environments.
    let (argocd_clients, argocd_tasks) = argocd::spawn_argocd(&environments, &opts.argocd, &tx);
    watchers.extend(argocd_tasks);

    let cluster_users: HashMap<String, String> = environments
        .iter()
        .filter_map(|e| Some((e.name.clone(), identities.get(&e.context)?.clone()?)))
        .collect();
    let bus = Bus::new(actions, audit, opts.user, tx.clone())
        .with_identities(cluster_users)
        .with_migrations(migration_targets)
        .with_argocd(argocd_clients)
        .with_clock(opts.clock.clone())
        .readonly(opts.readonly);
    let logs = terminal::LogStreams::new(log_clients, tx.clone());
    drop(tx);
    let result = terminal::run(
        state,
        theme,
        bus.clone(),
        rx,
        opts.clock,
        &opts.ticks_file,
        terminal::Streams {
            logs,
            kafka: kafka_wakes,
        },
    )
    .await;
    for w in watchers {
        w.abort();
    }
    let abandoned = bus.abandon_in_flight();
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "exited with commands in flight; recorded as unknown"
        );
    }
    result
}
