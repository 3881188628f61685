//! Watchers: one kube-rs watcher per kind per environment, decoding straight into
//! slim rows, retrying with backoff, and feeding the app as events.
//!
//! The initial list is a streaming list (`sendInitialEvents`, Kubernetes 1.27+) where the
//! server takes it: objects arrive as one stream while they are decoded, instead of pages
//! of 500 fetched one after another, so the first rows show at once and the server's and
//! the client's work overlap. A server that is older or has the WatchList feature off gets
//! the classic paged list and watch.

use std::fmt::Debug;
use std::sync::Arc;

use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, DefaultBackoff, watcher};
use kube::{Api, Client};
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, mpsc};
use tokio::task::JoinHandle;

use super::link::Signals;
use crate::domain::feed::{EnvUpdate, Stream as StreamKind};
use crate::domain::{WatchUpdate, WatchedDeployment, WatchedEvent, WatchedPod, WatchedService};

/// Updates of one environment that were ready together (one, or a list streaming in).
#[derive(Debug)]
pub struct EnvBatch {
    /// Index of the environment in the config.
    pub env: usize,
    pub updates: Vec<EnvUpdate>,
}

/// Starts the pod, Deployment, Event and Service watchers of one environment's namespace.
/// They run until the returned handles are aborted or the app's channel closes.
pub fn spawn_env_watchers<E: From<EnvBatch> + Send + 'static>(
    env: usize,
    client: Client,
    namespace: &str,
    lists: &ListMode,
    tx: mpsc::Sender<E>,
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
            lists.clone(),
            tx.clone(),
            |w: WatchedPod| w.row,
            EnvUpdate::Pods,
        ),
        spawn_one(
            env,
            StreamKind::Deployments,
            deployments,
            lists.clone(),
            tx.clone(),
            |w: WatchedDeployment| w.row,
            EnvUpdate::Deployments,
        ),
        spawn_one(
            env,
            StreamKind::Events,
            events,
            lists.clone(),
            tx.clone(),
            |w: WatchedEvent| w.row,
            EnvUpdate::Events,
        ),
        spawn_one(
            env,
            StreamKind::Services,
            services,
            lists.clone(),
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

/// The most watch updates sent to the app as one event.
const MAX_BATCH: usize = 256;

fn spawn_one<K, R, E>(
    env: usize,
    kind: StreamKind,
    api: Api<K>,
    lists: ListMode,
    tx: mpsc::Sender<E>,
    to_row: fn(K) -> R,
    wrap: fn(WatchUpdate<R>) -> EnvUpdate,
) -> JoinHandle<()>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    R: Send + 'static,
    E: From<EnvBatch> + Send + 'static,
{
    tokio::spawn(async move {
        let stream = watch_rows(api, to_row, lists);
        futures::pin_mut!(stream);
        let to_update = |item: Result<WatchUpdate<R>, WatchFailure>| match item {
            Ok(u) => wrap(u),
            Err(WatchFailure { message, refused }) => EnvUpdate::WatchError {
                stream: kind,
                message,
                refused,
            },
        };
        while let Some(item) = stream.next().await {
            // Whatever else is ready now goes with it (never waiting for more), so a
            // list streaming in reaches the app in batches.
            let mut updates = vec![to_update(item)];
            while updates.len() < MAX_BATCH {
                match stream.next().now_or_never() {
                    Some(Some(item)) => updates.push(to_update(item)),
                    _ => break,
                }
            }
            if tx.send(EnvBatch { env, updates }.into()).await.is_err() {
                return;
            }
        }
    })
}

/// How a cluster's watchers take their initial list, and what they tell its link probe.
/// One per connection, shared by its watchers, so the server is asked its version once.
#[derive(Debug, Clone, Default)]
pub struct ListMode {
    streaming: Arc<OnceCell<bool>>,
    /// The connection's probe (`clients::link`): told of answers and failures, it wakes
    /// watchers backing off when the server answers again.
    link: Option<Signals>,
}

impl ListMode {
    /// Paged lists only, never asking the server (tests of the classic path).
    pub fn paged() -> Self {
        ListMode {
            streaming: Arc::new(OnceCell::new_with(Some(false))),
            link: None,
        }
    }

    /// Watchers sharing this mode report to, and are woken by, the link probe of `link`.
    pub fn linked(mut self, link: Signals) -> Self {
        self.link = Some(link);
        self
    }

    /// Whether to try a streaming list: the server says it is 1.27 or newer. A server that
    /// predates the feature would ignore the parameter and never end the initial events,
    /// so it is not asked; one that has it switched off refuses, and the watcher falls back.
    async fn streaming(&self, client: &Client) -> bool {
        *self
            .streaming
            .get_or_init(|| async {
                match client.apiserver_version().await {
                    Ok(info) => takes_streaming_lists(&info.major, &info.minor),
                    Err(e) => {
                        tracing::debug!("server version unknown ({e}); using paged lists");
                        false
                    }
                }
            })
            .await
    }

    fn answered(&self) {
        if let Some(link) = &self.link {
            link.answered();
        }
    }

    fn failed(&self) {
        if let Some(link) = &self.link {
            link.failed();
        }
    }

    /// Sleeps `pause`, or less if the server answers again meanwhile.
    async fn back_off(&mut self, pause: Duration) {
        match &mut self.link {
            Some(link) => link.back_off(pause).await,
            None => tokio::time::sleep(pause).await,
        }
    }
}

/// 1.27 or newer. Managed clusters report minors like `"27+"`.
fn takes_streaming_lists(major: &str, minor: &str) -> bool {
    let number = |s: &str| -> Option<u32> {
        s.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    };
    match (number(major), number(minor)) {
        (Some(major), Some(minor)) => major > 1 || (major == 1 && minor >= 27),
        _ => false,
    }
}

/// The server refused the streaming list's parameters (WatchList off: 422 Invalid).
fn refuses_streaming_list(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchStartFailed(kube::Error::Api(s)) if s.code == 422 || s.code == 400)
}

/// Why a watch failed, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchFailure {
    pub message: String,
    /// The server answered and refused (401, 403, 404, …): the link is up, this watch
    /// is not. Otherwise the server did not answer, or failed (5xx, 429).
    pub refused: bool,
}

impl std::fmt::Display for WatchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The watcher as a stream of row updates; failures are reported, and the watcher goes
/// on retrying with kube-rs's default backoff (cut short when the connection's probe
/// sees the server answer again). A 410 Expired is not reported: the watcher re-lists
/// at once, which is routine, not a failure.
pub fn watch_rows<K, R>(
    api: Api<K>,
    to_row: fn(K) -> R,
    lists: ListMode,
) -> impl Stream<Item = Result<WatchUpdate<R>, WatchFailure>>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    R: Send + 'static,
{
    watch_selected(api, to_row, lists, None)
}

/// `watch_rows` of the objects carrying `labels` (a label selector) only.
pub fn watch_selected<K, R>(
    api: Api<K>,
    to_row: fn(K) -> R,
    lists: ListMode,
    labels: Option<&'static str>,
) -> impl Stream<Item = Result<WatchUpdate<R>, WatchFailure>>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    R: Send + 'static,
{
    let select = move |config: watcher::Config| match labels {
        Some(labels) => config.labels(labels),
        None => config,
    };
    struct Current<K: 'static> {
        stream: futures::stream::BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>,
        /// Set while streaming, to fall back to paged lists if the server refuses.
        fallback: Option<Api<K>>,
        lists: ListMode,
        backoff: DefaultBackoff,
        /// How long to wait before asking again, after a failure.
        pause: Option<Duration>,
    }
    let start = async move {
        let streaming = lists.streaming(&api.clone().into_client()).await;
        let config = select(if streaming {
            watcher::Config::default().streaming_lists()
        } else {
            watcher::Config::default()
        });
        Current {
            stream: watcher(api.clone(), config).boxed(),
            fallback: streaming.then_some(api),
            lists,
            backoff: DefaultBackoff::default(),
            pause: None,
        }
    };
    futures::stream::once(start)
        .flat_map(move |first| {
            futures::stream::unfold(first, move |mut current| async move {
                loop {
                    if let Some(pause) = current.pause.take() {
                        current.lists.back_off(pause).await;
                    }
                    match current.stream.next().await? {
                        Err(e) if refuses_streaming_list(&e) && current.fallback.is_some() => {
                            let api = current.fallback.take()?;
                            tracing::info!("streaming list refused ({e}); using paged lists");
                            current.stream =
                                watcher(api, select(watcher::Config::default())).boxed();
                        }
                        Err(e) if expired(&e) => {
                            tracing::debug!("watch expired ({e}); re-listing");
                        }
                        Err(e) => {
                            let failure = describe_watch_error(&e);
                            match failure.refused {
                                true => current.lists.answered(),
                                false => current.lists.failed(),
                            }
                            current.pause = current.backoff.next();
                            return Some((Err(failure), current));
                        }
                        Ok(event) => {
                            // A request was just answered: a streaming list's watch has
                            // opened (Init comes after it), or a paged list's last page
                            // came (its Init came before asking). Objects of a streaming
                            // list may have been on the wire since before a failure.
                            let streaming = current.fallback.is_some();
                            match &event {
                                watcher::Event::Init if streaming => current.lists.answered(),
                                watcher::Event::InitDone if !streaming => current.lists.answered(),
                                _ => {}
                            }
                            // Not on Init: a paged list says it before asking, so a
                            // failing list would never back off further.
                            if !matches!(event, watcher::Event::Init) {
                                current.backoff.reset();
                            }
                            return Some((Ok(event), current));
                        }
                    }
                }
            })
        })
        .map(move |item| match item {
            Ok(watcher::Event::Init) => Ok(WatchUpdate::Init),
            Ok(watcher::Event::InitApply(k)) => Ok(WatchUpdate::InitApply(to_row(k))),
            Ok(watcher::Event::InitDone) => Ok(WatchUpdate::InitDone),
            Ok(watcher::Event::Apply(k)) => Ok(WatchUpdate::Apply(to_row(k))),
            Ok(watcher::Event::Delete(k)) => Ok(WatchUpdate::Delete(to_row(k))),
            Err(e) => Err(e),
        })
}

/// The watch's resourceVersion is too old (410 Gone / Expired, in the stream or as the
/// answer): the watcher re-lists by itself.
fn expired(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::WatchError(s) => s.code == 410,
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 410,
        _ => false,
    }
}

fn describe_watch_error(e: &watcher::Error) -> WatchFailure {
    let status = match e {
        watcher::Error::WatchError(s) => Some(s.code),
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        _ => None,
    };
    // The Status's own words, as a command's error shows them (its Display adds ": ").
    let message = match e {
        watcher::Error::WatchError(s)
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => super::kube::describe_status(s),
        _ => super::innermost(e),
    };
    WatchFailure {
        message,
        refused: status.is_some_and(super::link::refusal),
    }
}

#[cfg(test)]
mod tests {
    use super::takes_streaming_lists;

    #[test]
    fn streaming_lists_from_1_27() {
        assert!(takes_streaming_lists("1", "27"));
        assert!(takes_streaming_lists("1", "33+"));
        assert!(takes_streaming_lists("2", "0"));
        assert!(!takes_streaming_lists("1", "26"));
        assert!(!takes_streaming_lists("1", ""));
        assert!(!takes_streaming_lists("", "30"));
    }
}
