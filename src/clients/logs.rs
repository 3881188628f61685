//! Container logs as `kubectl logs` reads them: one stream per pod (`follow`, the last
//! `tail` lines, or the previous container's), line by line into the app. A session id
//! ties the lines to the view that asked, so a closed view's late lines are dropped.

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::domain::logs::{LogLine, LogUpdate};

/// What one logs view asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub session: u64,
    pub env: usize,
    pub namespace: String,
    pub pods: Vec<String>,
    /// The last lines to start with.
    pub tail: i64,
    /// The previous container's logs (a crash-looping pod's last run); not followed.
    pub previous: bool,
}

/// A line (or the end) of one session's streams.
#[derive(Debug)]
pub struct LogItem {
    pub session: u64,
    pub update: LogUpdate,
}

/// Starts one stream per pod.
pub fn spawn<E: From<LogItem> + Send + 'static>(
    client: &Client,
    request: &LogRequest,
    tx: &mpsc::Sender<E>,
) -> Vec<JoinHandle<()>> {
    request
        .pods
        .iter()
        .map(|pod| {
            let api: Api<Pod> = Api::namespaced(client.clone(), &request.namespace);
            let params = LogParams {
                follow: !request.previous,
                tail_lines: Some(request.tail),
                previous: request.previous,
                ..LogParams::default()
            };
            let (pod, session, tx) = (pod.clone(), request.session, tx.clone());
            tokio::spawn(async move {
                let send = |update| tx.send(LogItem { session, update }.into());
                let reader = match api.log_stream(&pod, &params).await {
                    Ok(r) => r,
                    Err(e) => {
                        let message = super::innermost(&e);
                        let _ = send(LogUpdate::Failed { pod, message }).await;
                        return;
                    }
                };
                let mut lines = reader.lines();
                while let Some(line) = lines.next().await {
                    let update = match line {
                        Ok(text) => LogUpdate::Line(LogLine::new(&pod, &text)),
                        Err(e) => LogUpdate::Failed {
                            pod: pod.clone(),
                            message: e.to_string(),
                        },
                    };
                    let failed = matches!(update, LogUpdate::Failed { .. });
                    if send(update).await.is_err() || failed {
                        return;
                    }
                }
                let _ = send(LogUpdate::Ended { pod }).await;
            })
        })
        .collect()
}
