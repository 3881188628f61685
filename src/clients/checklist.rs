//! What the checklist reads from a cluster and the network: per environment, the
//! CloudNativePG Backups of its backup namespace, the Trivy reports and the release
//! checklists (ConfigMaps labelled `rollcall.dev/checklist`) and Jobs of its namespace; and one
//! prober that GETs the URLs the checks name, every few seconds.

use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch::{ListMode, watch_selected};
use crate::config::Environment;
use crate::domain::WatchUpdate;
use crate::domain::checklist::checks::HttpProbe;
use crate::domain::checklist::shared::{LABEL, WatchedChecklist};
use crate::domain::cnpg::WatchedBackup;
use crate::domain::feed::{ChecklistStream, ChecklistUpdate, ProbeUpdate};
use crate::domain::job::WatchedJob;
use crate::domain::vulnerability::WatchedVulnerabilityReport;

/// Checklist data of one environment.
#[derive(Debug)]
pub struct ChecklistItem {
    /// Index of the environment in the config.
    pub env: usize,
    pub update: ChecklistUpdate,
}

/// How often each URL is probed, and how long one GET may take.
pub const PROBE_EVERY: Duration = Duration::from_secs(15);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One watch of the checklist: what it lists, how, and how its rows are fed.
struct Feed<K, R> {
    stream: ChecklistStream,
    api: Api<K>,
    labels: Option<&'static str>,
    to_row: fn(K) -> R,
    wrap: fn(WatchUpdate<R>) -> ChecklistUpdate,
}

fn spawn_stream<K, R, E>(
    env: usize,
    feed: Feed<K, R>,
    lists: ListMode,
    tx: mpsc::Sender<E>,
) -> JoinHandle<()>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    R: Send + 'static,
    E: From<ChecklistItem> + Send + 'static,
{
    let Feed {
        stream,
        api,
        labels,
        to_row,
        wrap,
    } = feed;
    tokio::spawn(async move {
        let s = watch_selected(api, to_row, lists, labels);
        futures::pin_mut!(s);
        while let Some(item) = s.next().await {
            let update = match item {
                Ok(u) => wrap(u),
                Err(f) => ChecklistUpdate::WatchError {
                    stream,
                    message: f.message,
                },
            };
            if tx.send(ChecklistItem { env, update }.into()).await.is_err() {
                return;
            }
        }
    })
}

/// Starts the checklist's watchers of one environment.
pub fn spawn_watchers<E: From<ChecklistItem> + Send + 'static>(
    env: usize,
    client: Client,
    config: &Environment,
    lists: &ListMode,
    tx: mpsc::Sender<E>,
) -> Vec<JoinHandle<()>> {
    let namespace = config.namespace.clone();
    let mut tasks = vec![
        spawn_stream(
            env,
            Feed {
                stream: ChecklistStream::Reports,
                api: Api::<WatchedVulnerabilityReport>::namespaced(client.clone(), &namespace),
                labels: None,
                to_row: |w: WatchedVulnerabilityReport| w.row,
                wrap: ChecklistUpdate::Reports,
            },
            lists.clone(),
            tx.clone(),
        ),
        spawn_stream(
            env,
            Feed {
                stream: ChecklistStream::Shared,
                api: Api::<WatchedChecklist>::namespaced(client.clone(), &namespace),
                labels: Some(LABEL),
                to_row: |w: WatchedChecklist| w.row,
                wrap: ChecklistUpdate::Shared,
            },
            lists.clone(),
            tx.clone(),
        ),
    ];
    tasks.push(spawn_stream(
        env,
        Feed {
            stream: ChecklistStream::Jobs,
            api: Api::<WatchedJob>::namespaced(client.clone(), &namespace),
            labels: None,
            to_row: |w: WatchedJob| w.row,
            wrap: ChecklistUpdate::Jobs,
        },
        lists.clone(),
        tx.clone(),
    ));
    if let Some(backup) = &config.backup {
        tasks.push(spawn_stream(
            env,
            Feed {
                stream: ChecklistStream::Backups,
                api: Api::<WatchedBackup>::namespaced(client, &backup.namespace),
                labels: None,
                to_row: |w: WatchedBackup| w.row,
                wrap: ChecklistUpdate::Backups,
            },
            lists.clone(),
            tx,
        ));
    }
    tasks
}

/// GETs each URL now and every `PROBE_EVERY`, reporting each answer.
pub fn spawn_prober<E: From<ProbeUpdate> + Send + 'static>(
    urls: Vec<String>,
    clock: crate::domain::Clock,
    tx: mpsc::Sender<E>,
) -> Option<JoinHandle<()>> {
    if urls.is_empty() {
        return None;
    }
    // reqwest without its own crypto provider: ring, as the rest of rollcall.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .user_agent(concat!("rollcall/", env!("CARGO_PKG_VERSION")))
        .build();
    Some(tokio::spawn(async move {
        let http = match http {
            Ok(h) => h,
            Err(e) => {
                for url in urls {
                    let probe = HttpProbe {
                        url,
                        at: clock(),
                        outcome: Err(format!("no HTTP client: {e}")),
                    };
                    let _ = tx.send(ProbeUpdate(probe).into()).await;
                }
                return;
            }
        };
        let mut ticker = tokio::time::interval(PROBE_EVERY);
        loop {
            ticker.tick().await;
            for url in &urls {
                let probe = probe(&http, url, clock()).await;
                if tx.send(ProbeUpdate(probe).into()).await.is_err() {
                    return;
                }
            }
        }
    }))
}

/// One GET: the status and how long it took, or why there was no answer.
pub async fn probe(http: &reqwest::Client, url: &str, at: Timestamp) -> HttpProbe {
    let started = std::time::Instant::now();
    let outcome = match http.get(url).send().await {
        Ok(response) => Ok((
            response.status().as_u16(),
            started.elapsed().as_millis() as u64,
        )),
        Err(e) => Err(super::innermost(&e)),
    };
    HttpProbe {
        url: url.to_owned(),
        at,
        outcome,
    }
}
