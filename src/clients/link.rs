//! The link to one cluster: whether requests succeed *now*, reported to every
//! environment on the connection. Open watches may go on delivering while every new
//! request fails, and stay quiet for minutes while all is well, so their events say
//! neither; the probe asks (`GET /version`, as `kubectl version` does) every few seconds,
//! and at once when a watcher's request fails. A watcher's answered request (a list, a
//! watch opened) counts as the probe's. When the server answers again after failing,
//! the connection's watchers stop waiting out their backoff.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::feed::LinkProbe;

/// A probe's outcome for one environment (index into the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkItem {
    pub env: usize,
    pub probe: LinkProbe,
}

/// How often the server is asked while it answers: the longest a failure goes unseen
/// when nothing else asks.
const EVERY: Duration = Duration::from_secs(5);
/// How often while it does not: how soon a recovery is seen.
const RETRY: Duration = Duration::from_secs(1);
/// A probe unanswered this long failed (a hung server, a black-holed route).
const TIMEOUT: Duration = Duration::from_secs(5);

/// What a connection's watchers and its probe tell each other (through `ListMode`).
#[derive(Debug, Clone)]
pub struct Signals {
    /// Bumped by a watcher whose request was answered.
    answered: Arc<watch::Sender<u64>>,
    /// Bumped by a watcher whose request failed: the probe asks now.
    failed: Arc<watch::Sender<u64>>,
    /// Bumped by the probe when the server answers again after failing.
    recovered: watch::Receiver<u64>,
}

impl Signals {
    pub fn answered(&self) {
        self.answered.send_modify(|n| *n += 1);
    }

    pub fn failed(&self) {
        self.failed.send_modify(|n| *n += 1);
    }

    /// Sleeps `pause`, or less if the server answers again meanwhile.
    pub async fn back_off(&mut self, pause: Duration) {
        self.recovered.borrow_and_update();
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            Ok(()) = self.recovered.changed() => {}
        }
    }
}

/// Probes `client`'s server until the app's channel closes, reporting to `envs`; the
/// signals go to the connection's `ListMode`.
pub fn spawn_probe<E: From<LinkItem> + Send + 'static>(
    client: Client,
    envs: Vec<usize>,
    tx: mpsc::Sender<E>,
) -> (JoinHandle<()>, Signals) {
    let (answered, mut answers) = watch::channel(0u64);
    let (failed, mut failures) = watch::channel(0u64);
    let (recovered, recoveries) = watch::channel(0u64);
    let signals = Signals {
        answered: Arc::new(answered),
        failed: Arc::new(failed),
        recovered: recoveries,
    };
    let task = tokio::spawn(async move {
        let mut failing = false;
        let mut ask = true;
        loop {
            let outcome = match ask {
                true => probe(&client).await,
                false => LinkProbe::Answered,
            };
            let answered = outcome == LinkProbe::Answered;
            if answered && failing {
                recovered.send_modify(|n| *n += 1);
            }
            failing = !answered;
            for &env in &envs {
                let item = LinkItem {
                    env,
                    probe: outcome.clone(),
                };
                if tx.send(item.into()).await.is_err() {
                    return;
                }
            }
            // Only what watchers say from now on counts.
            answers.borrow_and_update();
            failures.borrow_and_update();
            ask = tokio::select! {
                _ = tokio::time::sleep(if failing { RETRY } else { EVERY }) => true,
                Ok(()) = answers.changed(), if failing => false,
                Ok(()) = failures.changed(), if !failing => true,
            };
        }
    });
    (task, signals)
}

async fn probe(client: &Client) -> LinkProbe {
    match tokio::time::timeout(TIMEOUT, client.apiserver_version()).await {
        Err(_) => LinkProbe::Failed(format!("no answer in {} s", TIMEOUT.as_secs())),
        Ok(Ok(_)) => LinkProbe::Answered,
        Ok(Err(kube::Error::Api(s))) if refusal(s.code) => LinkProbe::Answered,
        Ok(Err(e @ kube::Error::Api(_))) => {
            LinkProbe::Failed(super::kube::KubeError(e).to_string())
        }
        Ok(Err(e)) => LinkProbe::Failed(super::innermost(&e)),
    }
}

/// A status by which the server refuses a request it could serve: it is up, the request
/// (or its credentials) is not welcome. 408 and 429 are the server struggling, and 410
/// is a watch to re-list, not a refusal.
pub fn refusal(code: u16) -> bool {
    (400..500).contains(&code) && !matches!(code, 408 | 410 | 429)
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn refusals_are_client_errors_but_timeouts_throttling_and_expiry() {
        for code in [400, 401, 403, 404, 422] {
            assert!(refusal(code), "{code}");
        }
        for code in [200, 408, 410, 429, 500, 503, 504] {
            assert!(!refusal(code), "{code}");
        }
    }
}
