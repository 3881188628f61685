//! The T+30m comparison's reads: each environment's Prometheus asked for the queries the
//! `metric` checks name, over the last hours, every half minute.

use std::time::Duration;

use jiff::SignedDuration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::prometheus::PrometheusClient;
use crate::domain::checklist::metric::MetricRead;

/// How often the queries are read, how far back, at what resolution.
pub const READ_EVERY: Duration = Duration::from_secs(30);
const LOOK_BACK: SignedDuration = SignedDuration::from_hours(3);
const STEP: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(10);

/// One query's read in one environment.
#[derive(Debug)]
pub struct MetricItem {
    pub env: usize,
    pub query: String,
    pub read: MetricRead,
}

/// Reads each environment's queries (env, Prometheus base URL, queries) now and every
/// `READ_EVERY`.
pub fn spawn_watcher<E: From<MetricItem> + Send + 'static>(
    reads: Vec<(usize, String, Vec<String>)>,
    clock: crate::domain::Clock,
    tx: mpsc::Sender<E>,
) -> Option<JoinHandle<()>> {
    if reads.iter().all(|r| r.2.is_empty()) {
        return None;
    }
    Some(tokio::spawn(async move {
        let clients: Vec<Result<PrometheusClient, String>> = reads
            .iter()
            .map(|(_, url, _)| PrometheusClient::new(url, TIMEOUT).map_err(|e| e.to_string()))
            .collect();
        let mut ticker = tokio::time::interval(READ_EVERY);
        loop {
            ticker.tick().await;
            for ((env, _, queries), client) in reads.iter().zip(&clients) {
                for query in queries {
                    let end = clock();
                    let series = match client {
                        Err(e) => Err(e.clone()),
                        Ok(c) => c
                            .query_range_series(query, end - LOOK_BACK, end, STEP)
                            .await
                            .map_err(|e| e.to_string()),
                    };
                    let item = MetricItem {
                        env: *env,
                        query: query.clone(),
                        read: MetricRead {
                            read_at: end,
                            series,
                        },
                    };
                    if tx.send(item.into()).await.is_err() {
                        return;
                    }
                }
            }
        }
    }))
}
