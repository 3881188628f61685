//! The samples kept per (namespace, service): a ring of six hours each, the series of a
//! service gone for as long dropped, so memory stays bounded however long the demo runs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use super::model::{STEP_MS, Sample, SeriesView, seed};
use super::sample::Count;

/// How much history a series keeps.
pub const RETAIN_MS: i64 = 6 * 3_600_000;
/// A bound on samples per series should the clock jump about (twice the nominal).
const MAX_SAMPLES: usize = (2 * RETAIN_MS / STEP_MS) as usize;

type Key = (String, String);

/// The series of one version of a service (its pods with this pod-template hash), kept
/// beside the service's own.
pub fn version_series(service: &str, version: &str) -> String {
    format!("{service}@{version}")
}

/// The series a query reads: the service's, or one version's.
pub fn series_of(service: &str, version: Option<&str>) -> String {
    version.map_or_else(|| service.to_owned(), |v| version_series(service, v))
}

#[derive(Debug, Default)]
struct Ring {
    samples: VecDeque<Sample>,
    /// Seen at the sampler's first look: the synthetic baseline covers before it.
    baseline: bool,
}

#[derive(Debug, Default)]
struct Inner {
    /// The time of the sampler's first look.
    started_ms: Option<i64>,
    series: BTreeMap<Key, Ring>,
}

/// Every series' samples.
#[derive(Debug, Default)]
pub struct History {
    inner: Mutex<Inner>,
}

impl History {
    /// Stores one look at every service; services not in `counts` only age.
    pub fn record(&self, at_ms: i64, counts: BTreeMap<Key, Count>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let first = g.started_ms.is_none();
        g.started_ms.get_or_insert(at_ms);
        for (key, c) in counts {
            let ring = g.series.entry(key).or_insert_with(|| Ring {
                samples: VecDeque::new(),
                baseline: first,
            });
            // The clock only runs forward; a sample out of order would break the search.
            if ring.samples.back().is_some_and(|s| s.at_ms >= at_ms) {
                continue;
            }
            ring.samples.push_back(Sample {
                at_ms,
                pods: c.pods,
                ready: c.ready,
                unhealthy: c.unhealthy,
                restarts: c.restarts,
            });
        }
        let cutoff = at_ms.saturating_sub(RETAIN_MS);
        g.series.retain(|_, ring| {
            while ring.samples.len() > MAX_SAMPLES
                || ring.samples.front().is_some_and(|s| s.at_ms < cutoff)
            {
                ring.samples.pop_front();
            }
            !ring.samples.is_empty()
        });
    }

    /// The samples of one series needed to answer for `[from_ms, to_ms]` (one before
    /// `from_ms` as the restarts' base); `None` for a series never seen.
    pub fn view(
        &self,
        namespace: &str,
        service: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Option<SeriesView> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let ring = g.series.get(&(namespace.to_owned(), service.to_owned()))?;
        let lo = ring.samples.partition_point(|s| s.at_ms < from_ms);
        let hi = ring.samples.partition_point(|s| s.at_ms <= to_ms);
        let start = lo.saturating_sub(1);
        let samples: Vec<Sample> = ring.samples.range(start..hi.max(start)).copied().collect();
        Some(SeriesView {
            samples,
            seed: seed(namespace, service),
            baseline_until_ms: ring.baseline.then_some(g.started_ms).flatten(),
        })
    }
}
