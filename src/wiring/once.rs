//! What the print-and-exit commands share: the clusters (or the embedded simulator's
//! demo world) connected once, and one-shot reads of the kinds they summarise.

use std::collections::HashMap;
use std::path::Path;

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::config::Kubeconfig;
use kube::{Api, Client};

use super::{ArgocdSource, demo_argocd};
use crate::app::Config;
use crate::clients::kube::{connect, connect_with};
use crate::config::Environment;
use crate::domain::{
    DeploymentRow, PodRow, RowStore, WatchUpdate, WatchedDeployment, WatchedPod, WatchedRollout,
    WatchedService,
};

/// A print-and-exit command's report and the exit status it deserves.
pub struct Outcome {
    pub text: String,
    pub status: u8,
}

/// The connected world: a client per kube context, where Argo CD is, and the simulator
/// when it is the demo's.
pub struct World {
    pub clients: HashMap<Option<String>, Client>,
    pub argocd: ArgocdSource,
    sim: Option<rollcall_sim::SimHandle>,
}

impl World {
    pub async fn close(self) {
        if let Some(handle) = self.sim {
            handle.shutdown().await;
        }
    }
}

/// Connects every environment's context; with `demo`, starts the simulator first and
/// points the config at it (the demo's databases under `demo`, its monitoring).
pub async fn open(
    config: &mut Config,
    kubeconfig_path: Option<&Path>,
    demo: Option<&Path>,
) -> Result<World> {
    let (kubeconfig, argocd, sim) = match demo {
        Some(dir) => {
            crate::headless::migrations::use_demo_databases(&mut config.environments, dir)
                .await
                .map_err(|e| eyre!("demo databases: {e}"))?;
            let handle = rollcall_sim::start(rollcall_sim::SimOptions::default())
                .await
                .wrap_err("cannot start the embedded simulator")?;
            point_at_sim(&mut config.environments, &handle);
            let kc = Kubeconfig::from_yaml(&handle.kubeconfig_yaml())
                .wrap_err("the simulator wrote an unreadable kubeconfig")?;
            (Some(kc), demo_argocd(&handle), Some(handle))
        }
        None => (None, ArgocdSource::FromConfig { cli_config: None }, None),
    };
    let mut clients: HashMap<Option<String>, Client> = HashMap::new();
    for e in &config.environments {
        if clients.contains_key(&e.context) {
            continue;
        }
        let conn = match &kubeconfig {
            Some(kc) => connect_with(kc.clone(), None).await,
            None => connect(kubeconfig_path, e.context.as_deref()).await,
        }
        .wrap_err_with(|| format!("cannot reach the cluster of {}", e.name))?;
        clients.insert(e.context.clone(), conn.client);
    }
    Ok(World {
        clients,
        argocd,
        sim,
    })
}

pub fn client_of<'a>(
    clients: &'a HashMap<Option<String>, Client>,
    e: &Environment,
) -> Option<&'a Client> {
    clients.get(&e.context)
}

/// Objects of a kind in a namespace, listed once, or why not.
pub async fn list<K>(client: &Client, namespace: &str) -> std::result::Result<Vec<K>, String>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    api.list(&Default::default())
        .await
        .map(|l| l.items)
        .map_err(|e| crate::clients::kube::explain(&e))
}

/// The environment's pods, for the crash loops a workload's counts hide; best effort
/// (none when they cannot be listed: the workloads still say what they can).
pub async fn pods(client: &Client, env: &Environment) -> RowStore<PodRow> {
    let mut store = RowStore::default();
    store.apply(WatchUpdate::Init);
    for p in list::<WatchedPod>(client, &env.namespace)
        .await
        .unwrap_or_default()
    {
        store.apply(WatchUpdate::InitApply(p.row));
    }
    store.apply(WatchUpdate::InitDone);
    store
}

/// The environment's Deployments and Rollouts, as the environments pane counts them (a
/// blue/green pair as the colour its Service selects).
pub async fn workloads(
    client: &Client,
    env: &Environment,
) -> std::result::Result<RowStore<DeploymentRow>, String> {
    let namespace = env.namespace.as_str();
    let mut store = RowStore::default();
    store.apply(WatchUpdate::Init);
    for d in list::<WatchedDeployment>(client, namespace).await? {
        store.apply(WatchUpdate::InitApply(d.row));
    }
    if env.services.iter().any(|s| s.blue_green.is_some()) {
        let mut services = RowStore::default();
        services.apply(WatchUpdate::Init);
        for s in list::<WatchedService>(client, namespace).await? {
            services.apply(WatchUpdate::InitApply(s.row));
        }
        services.apply(WatchUpdate::InitDone);
        for row in crate::domain::bluegreen::serving_rows(env, &services, &store) {
            store.apply(WatchUpdate::InitApply(row));
        }
    }
    // A cluster without Argo Rollouts simply has none.
    let rollouts = list::<WatchedRollout>(client, namespace)
        .await
        .unwrap_or_default();
    // An aborted Rollout runs its stable ReplicaSet's image, not the spec's.
    let replicasets: Vec<_> = if rollouts.iter().any(|r| r.row.abort) {
        list::<crate::domain::WatchedReplicaSet>(client, namespace)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.row)
            .collect()
    } else {
        Vec::new()
    };
    for r in rollouts {
        let stable = r.row.stable_image(&replicasets);
        store.apply(WatchUpdate::InitApply(r.row.as_workload(stable)));
    }
    store.apply(WatchUpdate::InitDone);
    Ok(store)
}

/// Points what the config reads beside the cluster at the simulator: the checks'
/// Grafana-style health endpoint, its Prometheus query API and the GitOps clone it made.
/// The file name of the demo's `KafkaTopic` backup.
const DEMO_TOPICS_BACKUP: &str = "kafka-topics-backup.yaml";

pub fn point_at_sim(
    environments: &mut [crate::config::Environment],
    handle: &rollcall_sim::SimHandle,
) {
    for e in environments {
        if e.monitoring.health_url.is_some() {
            e.monitoring.health_url = Some(format!("{}/api/health", handle.monitoring_url()));
        }
        if e.monitoring.prometheus_url.is_some() {
            e.monitoring.prometheus_url = Some(handle.monitoring_url());
        }
        if let (Some(g), Some(checkout)) = (&mut e.gitops, handle.gitops_checkout()) {
            g.checkout = checkout.to_path_buf();
        }
        // The simulator writes its topics backup next to the GitOps checkout.
        if let (Some(k), Some(checkout)) = (&mut e.kafka, handle.gitops_checkout())
            && k.topics_backup.is_some()
        {
            let beside = checkout.parent().unwrap_or(checkout);
            k.topics_backup = [beside, checkout]
                .iter()
                .map(|dir| dir.join(DEMO_TOPICS_BACKUP))
                .find(|p| p.exists())
                .or_else(|| Some(beside.join(DEMO_TOPICS_BACKUP)));
        }
    }
}
