//! Metrics from a Prometheus-compatible query API, for the release's T+30m check: the
//! answers decoded (vector, matrix, scalar; values as Prometheus writes them, `NaN` and
//! `±Inf` included; its error envelope as a typed error), a series' value before T-0
//! against its value now with a verdict, and sparkline heights. Pure: the client in
//! `clients::prometheus` does the asking.
//!
//! Decoding is lenient the way the rest of `domain` is: extra fields are ignored, a
//! sample that cannot be read is skipped, not the whole answer; nothing here panics on
//! what a server sends.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::Value;

/// Points in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub points: Vec<(Timestamp, f64)>,
}

/// One series of an answer with its labels (`metric` on the wire; empty after `sum`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledSeries {
    pub labels: BTreeMap<String, String>,
    pub series: Series,
}

/// Prometheus's `resultType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Vector,
    Matrix,
    Scalar,
    String,
}

/// A decoded answer: a vector's samples and a scalar are series of one point each; a
/// string result has none.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub result_type: ResultType,
    pub series: Vec<LabelledSeries>,
    /// Warnings the server sent along with the data.
    pub warnings: Vec<String>,
}

/// Why an answer is not data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// `{"status":"error","errorType":…,"error":…}`: the server's own refusal.
    #[error("{error_type}: {error}")]
    Api { error_type: String, error: String },
    /// Not Prometheus's envelope, or a `resultType` it does not document.
    #[error("{0}")]
    Malformed(String),
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Envelope {
    status: Option<String>,
    data: Value,
    error_type: Option<String>,
    error: Option<String>,
    warnings: Value,
}

/// Decodes a query or query_range answer body.
pub fn decode(body: &[u8]) -> Result<QueryResult, DecodeError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("not Prometheus's JSON envelope: {e}")))?;
    match env.status.as_deref() {
        Some("success") => {}
        Some("error") => {
            return Err(DecodeError::Api {
                error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
                error: env.error.unwrap_or_default(),
            });
        }
        other => {
            return Err(DecodeError::Malformed(format!(
                "status {other:?}, expected \"success\" or \"error\""
            )));
        }
    }
    let warnings = env
        .warnings
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let result = &env.data["result"];
    let (result_type, series) = match env.data["resultType"].as_str() {
        Some("vector") => (
            ResultType::Vector,
            list(result, "value", |v| sample(v).into_iter().collect()),
        ),
        Some("matrix") => (
            ResultType::Matrix,
            list(result, "values", |v| {
                let mut points: Vec<_> = v
                    .as_array()
                    .map(|a| a.iter().filter_map(sample).collect())
                    .unwrap_or_default();
                points.sort_by_key(|(t, _)| *t);
                points
            }),
        ),
        Some("scalar") => {
            let points = sample(result).into_iter().collect();
            let one = LabelledSeries {
                labels: BTreeMap::new(),
                series: Series { points },
            };
            (ResultType::Scalar, vec![one])
        }
        Some("string") => (ResultType::String, Vec::new()),
        other => {
            return Err(DecodeError::Malformed(format!(
                "resultType {other:?} is none of vector, matrix, scalar, string"
            )));
        }
    };
    Ok(QueryResult {
        result_type,
        series,
        warnings,
    })
}

/// A vector's or matrix's entries: labels from `metric`, points from `field`.
fn list(
    result: &Value,
    field: &str,
    points: impl Fn(&Value) -> Vec<(Timestamp, f64)>,
) -> Vec<LabelledSeries> {
    let Some(entries) = result.as_array() else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| LabelledSeries {
            labels: e["metric"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
            series: Series {
                points: points(&e[field]),
            },
        })
        .collect()
}

/// `[<unix seconds>, "<value>"]`; `None` when it is not one.
fn sample(v: &Value) -> Option<(Timestamp, f64)> {
    let pair = v.as_array().filter(|a| a.len() == 2)?;
    let secs = match &pair[0] {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let ms = (secs * 1000.0).round();
    if !ms.is_finite() || ms.abs() > 1e17 {
        return None;
    }
    let at = Timestamp::from_millisecond(ms as i64).ok()?;
    let value = match &pair[1] {
        Value::String(s) => parse_value(s)?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some((at, value))
}

/// A sample value as Prometheus writes it (Go's float formatting): `NaN`, `+Inf`, `-Inf`
/// or a decimal.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.trim().parse().ok(),
    }
}

/// Where the before and after values come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The baseline: points in `[T-0 - before, T-0)`.
    pub before: SignedDuration,
    /// The current value: the last this many points at or after T-0.
    pub recent_points: usize,
}

impl Default for Window {
    /// Half an hour before the release against the last five points (with a 1m step,
    /// the last five minutes).
    fn default() -> Self {
        Window {
            before: SignedDuration::from_mins(30),
            recent_points: 5,
        }
    }
}

/// When a metric where higher is worse counts as worse: the current value above
/// `factor` × the baseline *and* more than `floor` above it, so noise at small values
/// (0.001 → 0.002 errors) is not a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub factor: f64,
    pub floor: f64,
}

impl Threshold {
    /// Error ratio: half a percentage point at least.
    pub const ERROR_RATIO: Threshold = Threshold {
        factor: 1.5,
        floor: 0.005,
    };
    /// Latency in seconds: 50 ms at least.
    pub const LATENCY: Threshold = Threshold {
        factor: 1.5,
        floor: 0.05,
    };
    /// Restarts within the range: more than one.
    pub const RESTARTS: Threshold = Threshold {
        factor: 1.5,
        floor: 1.0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    Worse,
    /// No point before T-0 or none after it (NaN points, no traffic, do not count).
    NoData,
}

/// A metric before the release and now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Median of the points before T-0.
    pub baseline: Option<f64>,
    /// Median of the last points after T-0.
    pub current: Option<f64>,
    pub verdict: Verdict,
}

/// Medians, not means: one scrape's spike neither hides nor makes a regression.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        let (a, b) = (values[mid - 1], values[mid]);
        // Halves first: no overflow to Inf for large finite values.
        a / 2.0 + b / 2.0
    })
}

/// The series before T-0 against its last points, for a metric where higher is worse.
pub fn compare(series: &Series, t0: Timestamp, window: Window, threshold: Threshold) -> Comparison {
    let from = t0.checked_sub(window.before).unwrap_or(Timestamp::MIN);
    let before = series
        .points
        .iter()
        .filter(|(t, _)| *t >= from && *t < t0)
        .map(|(_, v)| *v)
        .collect();
    let after: Vec<f64> = series
        .points
        .iter()
        .filter(|(t, v)| *t >= t0 && !v.is_nan())
        .map(|(_, v)| *v)
        .collect();
    let recent = after[after.len().saturating_sub(window.recent_points)..].to_vec();
    let baseline = median(before);
    let current = median(recent);
    let verdict = match (baseline, current) {
        (Some(b), Some(c)) if c > b * threshold.factor && c - b > threshold.floor => Verdict::Worse,
        (Some(_), Some(_)) => Verdict::Fine,
        _ => Verdict::NoData,
    };
    Comparison {
        baseline,
        current,
        verdict,
    }
}

/// The height sparkline bars are scaled to.
pub const SPARK_MAX: u64 = 1000;

/// Bar heights for ratatui's `Sparkline`: each point scaled to 0..=`SPARK_MAX` against
/// the series' largest finite value, so small ratios keep their shape as integers. A NaN
/// point (no traffic) is 0, an empty bar, since `u64` has no gap; negative values and
/// -Inf are 0 too; +Inf is full height.
pub fn sparkline(series: &Series) -> Vec<u64> {
    let max = series
        .points
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    series
        .points
        .iter()
        .map(|(_, v)| match *v {
            v if v == f64::INFINITY => SPARK_MAX,
            v if v.is_finite() && v > 0.0 && max > 0.0 => {
                ((v / max) * SPARK_MAX as f64).round() as u64
            }
            _ => 0,
        })
        .collect()
}

#[cfg(test)]
mod tests;
