//! Watchers: one kube-rs watcher per kind per environment, decoding straight into
//! slim rows, retrying with backoff, and feeding the app as events.

use std::fmt::Debug;

use futures::{Stream, StreamExt};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::{EnvUpdate, Event, Stream as StreamKind};
use crate::domain::{WatchUpdate, WatchedDeployment, WatchedEvent, WatchedPod, WatchedService};

/// Starts the pod, Deployment, Event and Service watchers of one environment's namespace.
/// They run until the returned handles are aborted or the app's channel closes.
pub fn spawn_env_watchers(
    env: usize,
    client: Client,
    namespace: &str,
    tx: mpsc::Sender<Event>,
) -> Vec<JoinHandle<()>> {
    let pods: Api<WatchedPod> = scoped(client.clone(), namespace);
    let deployments: Api<WatchedDeployment> = scoped(client.clone(), namespace);
    let events: Api<WatchedEvent> = scoped(client.clone(), namespace);
    let services: Api<WatchedService> = scoped(client, namespace);
    vec![
        spawn_one(
            env,
            StreamKind::Pods,
            pods,
            tx.clone(),
            |w: WatchedPod| w.row,
            EnvUpdate::Pods,
        ),
        spawn_one(
            env,
            StreamKind::Deployments,
            deployments,
            tx.clone(),
            |w: WatchedDeployment| w.row,
            EnvUpdate::Deployments,
        ),
        spawn_one(
            env,
            StreamKind::Events,
            events,
            tx.clone(),
            |w: WatchedEvent| w.row,
            EnvUpdate::Events,
        ),
        spawn_one(
            env,
            StreamKind::Services,
            services,
            tx,
            |w: WatchedService| w.row,
            EnvUpdate::Services,
        ),
    ]
}

/// The namespace's objects, or every namespace's when `namespace` is empty.
fn scoped<K>(client: Client, namespace: &str) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    if namespace.is_empty() {
        Api::all(client)
    } else {
        Api::namespaced(client, namespace)
    }
}

fn spawn_one<K, R>(
    env: usize,
    kind: StreamKind,
    api: Api<K>,
    tx: mpsc::Sender<Event>,
    to_row: fn(K) -> R,
    wrap: fn(WatchUpdate<R>) -> EnvUpdate,
) -> JoinHandle<()>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    R: Send + 'static,
{
    tokio::spawn(async move {
        let stream = watch_rows(api, to_row);
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            let update = match item {
                Ok(u) => wrap(u),
                Err(message) => EnvUpdate::WatchError {
                    stream: kind,
                    message,
                },
            };
            if tx.send(Event::Watch { env, update }).await.is_err() {
                return;
            }
        }
    })
}

/// The watcher as a stream of row updates; errors are reported, and the watcher
/// goes on retrying with kube-rs's default backoff.
pub fn watch_rows<K, R>(
    api: Api<K>,
    to_row: fn(K) -> R,
) -> impl Stream<Item = Result<WatchUpdate<R>, String>>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
{
    watcher(api, watcher::Config::default())
        .default_backoff()
        .map(move |item| match item {
            Ok(watcher::Event::Init) => Ok(WatchUpdate::Init),
            Ok(watcher::Event::InitApply(k)) => Ok(WatchUpdate::InitApply(to_row(k))),
            Ok(watcher::Event::InitDone) => Ok(WatchUpdate::InitDone),
            Ok(watcher::Event::Apply(k)) => Ok(WatchUpdate::Apply(to_row(k))),
            Ok(watcher::Event::Delete(k)) => Ok(WatchUpdate::Delete(to_row(k))),
            Err(e) => Err(describe_watch_error(&e)),
        })
}

fn describe_watch_error(e: &watcher::Error) -> String {
    // The innermost cause ("Connection refused") is what an operator can act on.
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}
