//! Argo Rollouts against a cluster: the Rollout and ReplicaSet watchers of an environment.
//! (Its actions are planned and sent by the bus, `bus::kube`, through `clients::kube`.)

use futures::StreamExt;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch::{ListMode, watch_rows};
use crate::domain::rollout::RolloutUpdate;
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
    ]
}
