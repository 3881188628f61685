//! What the simulated services would report to Prometheus, derived from what the cluster
//! shows: each sample (one per service every 15 simulated seconds) gives an error ratio
//! and a latency curve, a point averages the samples in its range, restarts are the
//! climb of the pods' restart counts. Noise is a hash of the series and the time, so the
//! same question always gets the same answer; before the simulator started, a steady
//! baseline stands in for the history it never saw.

use super::promql::Kind;

/// How often the sampler looks, and the spacing of the synthetic baseline's samples.
pub const STEP_MS: i64 = 15_000;

/// What one look at a service's pods found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: i64,
    /// Pods not terminating.
    pub pods: u32,
    pub ready: u32,
    /// Pods with a container running an unhealthy image.
    pub unhealthy: u32,
    /// Sum of the pods' containers' restartCount.
    pub restarts: u64,
}

/// The samples around a query's time span, and how to fill in before the first one.
#[derive(Debug, Clone, Default)]
pub struct SeriesView {
    /// Sorted by time.
    pub samples: Vec<Sample>,
    /// Seeds the noise: a hash of namespace and service.
    pub seed: u64,
    /// When the sampler first saw this series at its start, the synthetic baseline
    /// covers the times before it.
    pub baseline_until_ms: Option<i64>,
}

/// FNV-1a of the series' name, to seed its noise.
pub fn seed(namespace: &str, service: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in namespace.bytes().chain([0]).chain(service.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Deterministic noise in [-1, 1] for a series, a second and a purpose (splitmix64).
fn noise(seed: u64, at_ms: i64, salt: u64) -> f64 {
    let mut z = seed ^ (at_ms.div_euclid(1000) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// How badly a sample's service does, 0 (all ready, nothing unhealthy) to 1; `None`
/// when it has no pods (so no traffic).
fn degraded(s: &Sample) -> Option<f64> {
    if s.pods == 0 {
        return None;
    }
    let pods = f64::from(s.pods);
    let unready = f64::from(s.pods.saturating_sub(s.ready)) / pods;
    let unhealthy = f64::from(s.unhealthy.min(s.pods)) / pods;
    Some(unready.max(unhealthy))
}

/// 5xx over all requests: ~0.002 when healthy; 0.05 and up to 0.3 as more of the
/// service is unready or runs an unhealthy version. NaN without pods (0/0, as
/// Prometheus answers for a service with no traffic).
pub fn error_ratio(seed: u64, s: &Sample) -> f64 {
    let Some(d) = degraded(s) else {
        return f64::NAN;
    };
    let base = 0.002 * (1.0 + 0.25 * noise(seed, s.at_ms, 1));
    let bump = if d > 0.0 {
        (0.05 + 0.25 * d) * (1.0 + 0.05 * noise(seed, s.at_ms, 2))
    } else {
        0.0
    };
    (base + bump).min(0.3)
}

/// The healthy latency curve: quantile → seconds, linear between these points
/// (P50 45 ms, P95 120 ms, P99 250 ms).
const CURVE: [(f64, f64); 6] = [
    (0.0, 0.0),
    (0.5, 0.045),
    (0.9, 0.09),
    (0.95, 0.12),
    (0.99, 0.25),
    (1.0, 0.5),
];

/// `histogram_quantile(q, …)` in seconds: the curve with ±8 % noise, up to 4× slower
/// as the service degrades. Out-of-range quantiles answer as Prometheus does
/// (q < 0 → -Inf, q > 1 → +Inf, NaN → NaN).
pub fn latency(seed: u64, s: &Sample, q: f64) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let Some(d) = degraded(s) else {
        return f64::NAN;
    };
    let healthy = CURVE
        .windows(2)
        .find(|w| q <= w[1].0)
        .map_or(CURVE[5].1, |w| {
            let (q0, v0) = w[0];
            let (q1, v1) = w[1];
            v0 + (v1 - v0) * (q - q0) / (q1 - q0)
        });
    healthy * (1.0 + 0.08 * noise(seed, s.at_ms, 3)) * (1.0 + 3.0 * d)
}

/// A steady, healthy sample at a time before the sampler ran.
fn synthetic(at_ms: i64, restarts: u64) -> Sample {
    Sample {
        at_ms,
        pods: 1,
        ready: 1,
        unhealthy: 0,
        restarts,
    }
}

/// The query's value at `t_ms`, from the samples in `(t - range, t]`; `None` when the
/// range holds no sample (before the series existed, or longer ago than it is kept).
pub fn evaluate(kind: Kind, range_ms: i64, view: &SeriesView, t_ms: i64) -> Option<f64> {
    let from = t_ms.saturating_sub(range_ms);
    let lo = view.samples.partition_point(|s| s.at_ms <= from);
    let hi = view.samples.partition_point(|s| s.at_ms <= t_ms);
    let real = view.samples.get(lo..hi).unwrap_or_default();
    // The baseline's restart count is the first real one's, so the boundary adds none.
    let first_restarts = view.samples.first().map_or(0, |s| s.restarts);
    let synthetic_samples = view.baseline_until_ms.into_iter().flat_map(move |until| {
        let first = from
            .div_euclid(STEP_MS)
            .saturating_add(1)
            .saturating_mul(STEP_MS);
        let last = t_ms.min(until.saturating_sub(1));
        (0..)
            .map(move |k: i64| first.saturating_add(k.saturating_mul(STEP_MS)))
            .take_while(move |g| *g <= last)
            .map(move |g| synthetic(g, first_restarts))
    });
    let window = synthetic_samples.chain(real.iter().copied());
    match kind {
        Kind::Restarts => {
            let base = lo.checked_sub(1).and_then(|i| view.samples.get(i));
            let mut seen = false;
            let mut prev = base.map(|s| s.restarts);
            let mut total = 0u64;
            for s in window {
                seen = true;
                if let Some(p) = prev {
                    // A decrease is a pod gone, not a counter reset to count again.
                    total = total.saturating_add(s.restarts.saturating_sub(p));
                }
                prev = Some(s.restarts);
            }
            seen.then_some(total as f64)
        }
        Kind::ErrorRatio | Kind::SuccessRatio | Kind::Latency(_) => {
            let (mut n, mut with_traffic, mut sum) = (0u32, 0u32, 0.0);
            for s in window {
                n += 1;
                let v = match kind {
                    Kind::Latency(q) => latency(view.seed, &s, q),
                    Kind::SuccessRatio => 1.0 - error_ratio(view.seed, &s),
                    _ => error_ratio(view.seed, &s),
                };
                if s.pods > 0 {
                    with_traffic += 1;
                    sum += v;
                }
            }
            match (n, with_traffic) {
                (0, _) => None,
                (_, 0) => Some(f64::NAN),
                (_, k) => Some(sum / f64::from(k)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: i64, pods: u32, ready: u32, unhealthy: u32, restarts: u64) -> Sample {
        Sample {
            at_ms: at_s * 1000,
            pods,
            ready,
            unhealthy,
            restarts,
        }
    }

    #[test]
    fn healthy_values_sit_at_the_baseline_and_degrade_with_the_service() {
        let seed = seed("ns", "svc");
        for t in 0..200 {
            let ok = sample(t * 15, 3, 3, 0, 0);
            let e = error_ratio(seed, &ok);
            assert!((0.0015..=0.0025).contains(&e), "{e}");
            let p95 = latency(seed, &ok, 0.95);
            assert!((0.11..=0.13).contains(&p95), "{p95}");
            let p99 = latency(seed, &ok, 0.99);
            assert!((0.22..=0.28).contains(&p99), "{p99}");
            let bad = sample(t * 15, 3, 2, 1, 4);
            let e = error_ratio(seed, &bad);
            assert!((0.05..=0.3).contains(&e), "{e}");
            assert!(latency(seed, &bad, 0.95) > 0.2);
        }
        let down = sample(0, 3, 0, 3, 0);
        assert!((0.28..=0.3).contains(&error_ratio(seed, &down)));
        assert!(error_ratio(seed, &sample(0, 0, 0, 0, 0)).is_nan());
        assert_eq!(latency(seed, &sample(0, 1, 1, 0, 0), 1.5), f64::INFINITY);
        assert_eq!(
            latency(seed, &sample(0, 1, 1, 0, 0), -0.5),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn points_average_their_range_and_restarts_count_the_climb() {
        let view = SeriesView {
            samples: (0..40)
                .map(|i| {
                    sample(
                        1000 + i * 15,
                        2,
                        2,
                        0,
                        if i < 30 { 1 } else { 3 + i as u64 },
                    )
                })
                .collect(),
            seed: 7,
            baseline_until_ms: Some(1_000_000),
        };
        let at = |s: i64| s * 1000;
        // Before the first sample: the baseline, restarts flat.
        let e = evaluate(Kind::ErrorRatio, 300_000, &view, at(900)).unwrap();
        assert!((0.0015..=0.0025).contains(&e), "{e}");
        assert_eq!(evaluate(Kind::Restarts, 300_000, &view, at(900)), Some(0.0));
        // Across the boundary: still no jump.
        assert_eq!(
            evaluate(Kind::Restarts, 300_000, &view, at(1100)),
            Some(0.0)
        );
        // Samples 30..=39 climb from 1 to 42 within the last five minutes.
        assert_eq!(
            evaluate(Kind::Restarts, 300_000, &view, at(1000 + 39 * 15)),
            Some(41.0)
        );
        // Long after the last sample: nothing to say.
        assert_eq!(evaluate(Kind::ErrorRatio, 300_000, &view, at(5000)), None);
        let no_baseline = SeriesView {
            baseline_until_ms: None,
            ..view.clone()
        };
        assert_eq!(
            evaluate(Kind::ErrorRatio, 300_000, &no_baseline, at(900)),
            None
        );
        // Repeated questions agree.
        assert_eq!(
            evaluate(Kind::Latency(0.99), 300_000, &view, at(700)),
            evaluate(Kind::Latency(0.99), 300_000, &view, at(700))
        );
    }
}
