//! Argo Rollouts against a cluster: the Rollout, ReplicaSet, AnalysisRun and Experiment
//! watchers of an environment.
//! (Its actions are planned and sent by the bus, `bus::kube`, through `clients::kube`.)

use futures::StreamExt;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch::{ListMode, WatchFailure, watch_rows};
use crate::domain::analysis::{WatchedAnalysisRun, WatchedExperiment};
use crate::domain::rollout::RolloutUpdate;
use crate::domain::{WatchUpdate, WatchedReplicaSet, WatchedRollout};

/// Rollouts or their ReplicaSets changed in one environment.
#[derive(Debug)]
pub struct RolloutItem {
    /// Index of the environment in the config.
    pub env: usize,
    pub update: RolloutUpdate,
}

/// Starts the Rollout, ReplicaSet, AnalysisRun and Experiment watchers of one
/// environment's namespace.
pub fn spawn_rollout_watchers<E: From<RolloutItem> + Send + 'static>(
    env: usize,
    client: Client,
    namespace: &str,
    lists: &ListMode,
    tx: mpsc::Sender<E>,
) -> Vec<JoinHandle<()>> {
    let analysis = analysis_watchers(env, &client, namespace, lists, &tx);
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
    let mut tasks = vec![
        tokio::spawn(async move {
            let s = watch_rows(rollouts, |w: WatchedRollout| w.row, lists);
            futures::pin_mut!(s);
            while let Some(item) = s.next().await {
                let update =
                    item.map_or_else(|f| RolloutUpdate::Error(f.message), RolloutUpdate::Rollouts);
                if tx.send(RolloutItem { env, update }.into()).await.is_err() {
                    return;
                }
            }
        }),
        tokio::spawn(async move {
            let s = watch_rows(replicasets, |w: WatchedReplicaSet| w.row, lists2);
            futures::pin_mut!(s);
            while let Some(item) = s.next().await {
                let update = item.map_or_else(
                    |f| RolloutUpdate::Error(f.message),
                    RolloutUpdate::ReplicaSets,
                );
                if tx2.send(RolloutItem { env, update }.into()).await.is_err() {
                    return;
                }
            }
        }),
    ];
    tasks.extend(analysis);
    tasks
}

/// The AnalysisRun and Experiment watchers; their failures are `AnalysisError`, so a
/// cluster without those CRDs still shows its Rollouts.
fn analysis_watchers<E: From<RolloutItem> + Send + 'static>(
    env: usize,
    client: &Client,
    namespace: &str,
    lists: &ListMode,
    tx: &mpsc::Sender<E>,
) -> Vec<JoinHandle<()>> {
    let (runs, experiments): (Api<WatchedAnalysisRun>, Api<WatchedExperiment>) =
        if namespace.is_empty() {
            (Api::all(client.clone()), Api::all(client.clone()))
        } else {
            (
                Api::namespaced(client.clone(), namespace),
                Api::namespaced(client.clone(), namespace),
            )
        };
    vec![
        tokio::spawn(forward(
            env,
            watch_rows(runs, |w: WatchedAnalysisRun| w.row, lists.clone()),
            RolloutUpdate::AnalysisRuns,
            tx.clone(),
        )),
        tokio::spawn(forward(
            env,
            watch_rows(experiments, |w: WatchedExperiment| w.row, lists.clone()),
            RolloutUpdate::Experiments,
            tx.clone(),
        )),
    ]
}

/// Sends one analysis watcher's updates until the receiver is gone.
async fn forward<R, E: From<RolloutItem>>(
    env: usize,
    stream: impl futures::Stream<Item = Result<WatchUpdate<R>, WatchFailure>>,
    wrap: fn(WatchUpdate<R>) -> RolloutUpdate,
    tx: mpsc::Sender<E>,
) {
    futures::pin_mut!(stream);
    while let Some(item) = stream.next().await {
        let update = item.map_or_else(|f| RolloutUpdate::AnalysisError(f.message), wrap);
        if tx.send(RolloutItem { env, update }.into()).await.is_err() {
            return;
        }
    }
}
