//! Prometheus's query API over the sampled history: `/api/v1/query` and
//! `/api/v1/query_range`, GET or POST form-encoded, with Prometheus's JSON envelope,
//! parameter parsing (RFC 3339 or unix seconds; durations or float seconds), its
//! 11,000-points limit and its `bad_data` errors word for word where it has them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::history::{History, series_of};
use super::model::evaluate;
use super::promql::{self, Query};
use crate::Shared;

/// Prometheus's cap on the points of one series in a range query.
const MAX_POINTS: i128 = 11_000;

/// What the handlers read: the clock (the default `time`) and the samples.
#[derive(Clone)]
pub struct MetricsApi {
    pub shared: Arc<Shared>,
    pub history: Arc<History>,
}

/// A refusal, answered as `{"status":"error","errorType":"bad_data",…}` with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadData(pub String);

fn invalid(param: &str, why: impl std::fmt::Display) -> BadData {
    BadData(format!("invalid parameter {param:?}: {why}"))
}

pub fn router(api: MetricsApi) -> Router {
    Router::new()
        .route("/api/v1/query", get(query).post(query))
        .route("/api/v1/query_range", get(query_range).post(query_range))
        .with_state(api)
}

/// The request's parameters as Go's `FormValue` reads them: a form body's first
/// value of each name, else the URL's.
pub fn form(raw_query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let form_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let body_pairs = form_body.then(|| form_urlencoded::parse(body));
    let url_pairs = raw_query.map(|q| form_urlencoded::parse(q.as_bytes()));
    for (k, v) in body_pairs
        .into_iter()
        .flatten()
        .chain(url_pairs.into_iter().flatten())
    {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn respond(result: Result<Value, BadData>) -> Response {
    match result {
        Ok(data) => Json(json!({"status": "success", "data": data})).into_response(),
        Err(BadData(error)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "error", "errorType": "bad_data", "error": error})),
        )
            .into_response(),
    }
}

async fn query(
    State(api): State<MetricsApi>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form(raw.as_deref(), &headers, &body);
    let now = api.shared.clock.now().as_millisecond();
    respond(instant(&api.history, &params, now))
}

async fn query_range(
    State(api): State<MetricsApi>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form(raw.as_deref(), &headers, &body);
    respond(range(&api.history, &params))
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params.get(name).map_or("", String::as_str)
}

/// Prometheus's `parseTime`: unix seconds (fractions to the millisecond) or RFC 3339,
/// as milliseconds since the epoch.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {s:?} to a valid timestamp");
    if let Ok(secs) = s.parse::<f64>() {
        let ms = (secs * 1000.0).round();
        // jiff's range, so every time answered is one a client can read back.
        let (min, max) = (
            jiff::Timestamp::MIN.as_millisecond() as f64,
            jiff::Timestamp::MAX.as_millisecond() as f64,
        );
        return if ms.is_finite() && (min..=max).contains(&ms) {
            Ok(ms as i64)
        } else {
            Err(bad())
        };
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| bad())
}

/// Prometheus's `parseDuration`: float seconds or its duration syntax, in nanoseconds.
pub fn parse_duration_ns(s: &str) -> Result<i128, String> {
    if let Ok(secs) = s.parse::<f64>() {
        let ns = secs * 1e9;
        if !ns.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i128);
    }
    promql::model_duration_ms(s)
        .map(|ms| i128::from(ms) * 1_000_000)
        .ok_or_else(|| format!("cannot parse {s:?} to a valid duration"))
}

/// Seconds as Prometheus writes a sample's time: a number, whole or with milliseconds.
fn time_json(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// A value as Prometheus writes it: Go's shortest decimal form, `NaN`, `+Inf`, `-Inf`.
pub fn value_string(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn parse_query(params: &HashMap<String, String>) -> Result<Query, BadData> {
    promql::parse(param(params, "query")).map_err(|e| invalid("query", e))
}

/// `/api/v1/query`: the value at `time` (default now) as a vector of one sample, or none.
pub fn instant(
    history: &History,
    params: &HashMap<String, String>,
    now_ms: i64,
) -> Result<Value, BadData> {
    // As Prometheus's parseTimeParam: absent or empty is now.
    let t = match params.get("time").filter(|s| !s.is_empty()) {
        Some(s) => parse_time(s).map_err(|e| invalid("time", e))?,
        None => now_ms,
    };
    let q = parse_query(params)?;
    let result: Vec<Value> = history
        .view(
            &q.namespace,
            &series_of(&q.service, q.version.as_deref()),
            t.saturating_sub(q.range_ms),
            t,
        )
        .and_then(|view| evaluate(q.kind, q.range_ms, &view, t))
        .map(|v| json!({"metric": {}, "value": [time_json(t), value_string(v)]}))
        .into_iter()
        .collect();
    Ok(json!({"resultType": "vector", "result": result}))
}

/// `/api/v1/query_range`: a matrix of one series, its points from `start` to `end`
/// every `step` (those with samples in range), or no series.
pub fn range(history: &History, params: &HashMap<String, String>) -> Result<Value, BadData> {
    let start = parse_time(param(params, "start")).map_err(|e| invalid("start", e))?;
    let end = parse_time(param(params, "end")).map_err(|e| invalid("end", e))?;
    if end < start {
        return Err(invalid(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration_ns(param(params, "step")).map_err(|e| invalid("step", e))?;
    if step_ns <= 0 {
        return Err(invalid(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (i128::from(end) - i128::from(start)) * 1_000_000 / step_ns > MAX_POINTS {
        return Err(BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        ));
    }
    let q = parse_query(params)?;
    // Prometheus evaluates on whole milliseconds.
    let step_ms = i64::try_from(step_ns / 1_000_000)
        .unwrap_or(i64::MAX)
        .max(1);
    let view = history.view(
        &q.namespace,
        &series_of(&q.service, q.version.as_deref()),
        start.saturating_sub(q.range_ms),
        end,
    );
    let values: Vec<Value> = view
        .map(|view| {
            (0..)
                .map_while(|k: i64| {
                    let t = start.checked_add(k.checked_mul(step_ms)?)?;
                    (t <= end).then_some(t)
                })
                .filter_map(|t| {
                    evaluate(q.kind, q.range_ms, &view, t)
                        .map(|v| json!([time_json(t), value_string(v)]))
                })
                .collect()
        })
        .unwrap_or_default();
    let result: Vec<Value> = if values.is_empty() {
        Vec::new()
    } else {
        vec![json!({"metric": {}, "values": values})]
    };
    Ok(json!({"resultType": "matrix", "result": result}))
}
