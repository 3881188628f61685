//! Prometheus for the simulated cluster: a sampler looks at every service's pods every
//! 15 simulated seconds (`sample`), keeps six hours of it (`history`), derives what a
//! service's own metrics would say (`model`), and answers the few queries rollcall's
//! release comparison sends (`promql`) through Prometheus's HTTP API (`http`), on the
//! monitoring port.

pub mod history;
pub mod http;
pub mod model;
pub mod promql;
pub mod sample;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use history::History;

use crate::Shared;

/// Sampling interval in simulated time.
const EVERY: Duration = Duration::from_millis(model::STEP_MS as u64);
/// At high clock speeds, still no busier than this in real time.
const MIN_REAL: Duration = Duration::from_millis(50);

/// Takes one sample of every service now.
pub fn sample_now(shared: &Shared, history: &History) {
    let at = shared.clock.now().as_millisecond();
    history.record(at, sample::observe(shared));
}

/// Samples until shutdown.
pub async fn run(shared: Arc<Shared>, history: Arc<History>, mut shutdown: watch::Receiver<bool>) {
    loop {
        sample_now(&shared, &history);
        let wait = shared.clock.real_duration(EVERY).clamp(MIN_REAL, EVERY);
        tokio::select! {
            _ = shutdown.wait_for(|v| *v) => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
