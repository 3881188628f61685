//! The T+30m check: each series of a `metric` check, read from the environment's
//! Prometheus, compared before T-0 and after it (medians; higher is worse, by a factor
//! and past a floor so noise near zero does not fail a release).

use jiff::Timestamp;

use super::{Evaluation, Release, Verdict};
use crate::config::{MetricSeries, MetricUnit};
use crate::domain::metrics::{self, Series, Threshold, Window};

/// One read of a query over the last hours.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRead {
    pub read_at: Timestamp,
    pub series: Result<Series, String>,
}

/// The query of `series` for the release's service in `namespace`.
pub fn query(series: &MetricSeries, namespace: &str, release: &Release) -> String {
    series
        .query
        .replace("{namespace}", namespace)
        .replace("{service}", &release.service)
}

/// Per environment with a Prometheus: its URL and every query the checks name for each
/// of its services.
pub fn queries<'a>(
    checks: impl Iterator<Item = &'a crate::config::Check> + Clone,
    environments: &[crate::config::Environment],
) -> Vec<(usize, String, Vec<String>)> {
    let mut out = Vec::new();
    for (i, e) in environments.iter().enumerate() {
        let Some(url) = &e.monitoring.prometheus_url else {
            continue;
        };
        let mut qs: Vec<String> = Vec::new();
        for check in checks.clone() {
            let crate::config::Check::Metric { series } = check else {
                continue;
            };
            for s in &e.services {
                let release = Release::new(&s.name, "");
                for def in series {
                    let q = query(def, &e.namespace, &release);
                    if !qs.contains(&q) {
                        qs.push(q);
                    }
                }
            }
        }
        if !qs.is_empty() {
            out.push((i, url.clone(), qs));
        }
    }
    out
}

/// `value` as the unit reads.
pub fn show(value: f64, unit: MetricUnit) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    match unit {
        MetricUnit::Ratio => format!("{:.2}%", value * 100.0),
        MetricUnit::Seconds if value < 1.0 => format!("{:.0}ms", value * 1000.0),
        MetricUnit::Seconds => format!("{value:.2}s"),
        MetricUnit::Count => format!("{value:.0}"),
    }
}

/// What the series say: Fail when any is worse after T-0 than before; Pending before
/// T-0 or until each has been read.
pub fn compared(
    defs: &[MetricSeries],
    namespace: &str,
    release: &Release,
    t0: Option<Timestamp>,
    configured: bool,
    read: &dyn Fn(&str) -> Option<MetricRead>,
) -> Evaluation {
    if !configured {
        return Evaluation::new(
            Verdict::CannotTell,
            "no prometheus_url for this environment; look at your dashboards and tick by hand",
            None,
        );
    }
    let Some(t0) = t0 else {
        return Evaluation::new(
            Verdict::Pending,
            "compared once T-0 is reached (the first T-0 step marked)",
            None,
        );
    };
    let mut parts = Vec::new();
    let mut verdict = Verdict::Pass;
    let mut read_at = None;
    for def in defs {
        let Some(r) = read(&query(def, namespace, release)) else {
            return Evaluation::new(Verdict::Pending, format!("reading {}…", def.label), None);
        };
        read_at = Some(r.read_at);
        let series = match r.series {
            Ok(s) => s,
            Err(why) => {
                return Evaluation::new(
                    Verdict::CannotTell,
                    format!("cannot read {}: {why}", def.label),
                    Some(r.read_at),
                );
            }
        };
        let threshold = Threshold {
            factor: def.factor,
            floor: def.floor,
        };
        let c = metrics::compare(&series, t0, Window::default(), threshold);
        let value = |v: Option<f64>| v.map_or("no data".to_owned(), |v| show(v, def.unit));
        let mark = match c.verdict {
            metrics::Verdict::Fine => "✔",
            metrics::Verdict::Worse => {
                verdict = Verdict::Fail;
                "✖ worse"
            }
            metrics::Verdict::NoData => {
                if verdict == Verdict::Pass {
                    verdict = Verdict::Pending;
                }
                "no data yet"
            }
        };
        parts.push(format!(
            "{} {} → {} {mark}",
            def.label,
            value(c.baseline),
            value(c.current)
        ));
    }
    Evaluation::new(
        verdict,
        format!("{} (before → since T-0)", parts.join(" · ")),
        read_at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> MetricSeries {
        MetricSeries {
            label: "error rate".into(),
            query: "q{namespace}/{service}".into(),
            unit: MetricUnit::Ratio,
            factor: 1.5,
            floor: 0.005,
        }
    }

    fn at(min: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
    }

    fn series(before: f64, after: f64) -> Series {
        Series {
            points: (-40..20)
                .map(|m| (at(m), if m < 0 { before } else { after }))
                .collect(),
        }
    }

    #[test]
    fn worse_after_t0_fails_and_noise_passes() {
        let r = Release::new("customer-adapter", "v1.2.0");
        let read = |s: Series| {
            move |q: &str| {
                assert_eq!(q, "qdictamesh-prod/customer-adapter");
                Some(MetricRead {
                    read_at: at(20),
                    series: Ok(s.clone()),
                })
            }
        };
        let fine = compared(
            &[def()],
            "dictamesh-prod",
            &r,
            Some(at(0)),
            true,
            &read(series(0.002, 0.003)),
        );
        assert_eq!(fine.verdict, Verdict::Pass, "{}", fine.evidence);
        assert_eq!(
            fine.evidence,
            "error rate 0.20% → 0.30% ✔ (before → since T-0)"
        );
        let worse = compared(
            &[def()],
            "dictamesh-prod",
            &r,
            Some(at(0)),
            true,
            &read(series(0.002, 0.2)),
        );
        assert_eq!(worse.verdict, Verdict::Fail);
        assert!(
            worse.evidence.contains("0.20% → 20.00% ✖ worse"),
            "{}",
            worse.evidence
        );
        assert_eq!(
            compared(&[def()], "ns", &r, None, true, &|_| None).verdict,
            Verdict::Pending
        );
        assert_eq!(
            compared(&[def()], "ns", &r, Some(at(0)), false, &|_| None).verdict,
            Verdict::CannotTell
        );
        assert_eq!(show(0.1234, MetricUnit::Seconds), "123ms");
    }
}
