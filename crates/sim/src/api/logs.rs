//! Pod logs (`GET .../pods/{name}/log`): simulated application lines, one every few simulated
//! seconds from the container's start (the newest `MAX_LINES` kept, as after log rotation),
//! with `container`, `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `limitBytes`,
//! `previous` and `follow` (a chunked stream that stays open while the container runs).
//! A container running an unhealthy version logs errors.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::Shared;
use crate::api::{ApiRequest, error_response};
use crate::clock::parse_time;
use crate::resources::{PODS, def};
use crate::status::ApiError;

/// Simulated time between two log lines of one container.
const EVERY: SignedDuration = SignedDuration::from_secs(5);
/// Lines kept per container (older ones are "rotated away").
const MAX_LINES: i64 = 5_000;

const OK_LINES: &[&str] = &[
    "INFO  http request method=GET path=/graphql status=200 duration_ms=12",
    "INFO  http request method=POST path=/graphql status=200 duration_ms=31",
    "DEBUG cache hit key=entity:customer ttl_s=240",
    "INFO  http request method=GET path=/health/ready status=200 duration_ms=1",
    "INFO  kafka consumer committed offsets partition=3 lag=0",
    "WARN  slow query table=entities duration_ms=812",
];
const BAD_LINES: &[&str] = &[
    "ERROR readiness check failed: dependency metadata-db unreachable: connection refused",
    "ERROR http request method=GET path=/health/ready status=503 duration_ms=3002",
    "WARN  retrying database connection attempt=5 backoff_ms=3200",
];

/// One log line of `container` in `pod`, number `i` of the container's current run.
fn line(pod: &str, container: &str, i: i64, bad: bool) -> String {
    let h = pod.bytes().chain(container.bytes()).fold(i as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    match i {
        0 => format!("INFO  starting {container} version from image; pid=1"),
        1 => "INFO  config loaded environment from ENVIRONMENT".into(),
        2 => "INFO  listening on 0.0.0.0:8080".into(),
        _ if bad => BAD_LINES[(h % BAD_LINES.len() as u64) as usize].into(),
        _ => OK_LINES[(h % OK_LINES.len() as u64) as usize].into(),
    }
}

struct Target {
    ns: String,
    pod: String,
    container: String,
    started: Timestamp,
    bad: bool,
    uid: String,
}

fn choose(req: &ApiRequest, pod: &Value) -> Result<(String, Value), ApiError> {
    let name = req.name.as_deref().unwrap_or("");
    let cs: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let c = match req.query.get("container").filter(|c| !c.is_empty()) {
        Some(c) if cs.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if cs.len() == 1 => cs[0].to_string(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                cs.join(" ")
            )));
        }
    };
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|s| s["name"] == c.as_str()).cloned());
    match status {
        Some(s) => Ok((c, s)),
        None => Err(ApiError::bad_request(format!(
            "container \"{c}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        ))),
    }
}

/// Serves a log request.
pub fn serve(shared: Arc<Shared>, req: &ApiRequest) -> Response {
    match plan(&shared, req) {
        Ok((body, follow)) => {
            let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
            let timestamps = req.query.flag("timestamps");
            let limit = req
                .query
                .get("limitBytes")
                .and_then(|l| l.parse::<usize>().ok());
            let first = render(&body.0, timestamps, limit);
            tokio::spawn(async move {
                if tx.send(Ok(Bytes::from(first))).await.is_err() {
                    return;
                }
                if let (Some(t), None) = (follow, limit) {
                    stream(shared, t, body.1, timestamps, tx).await;
                }
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from_stream(
                    tokio_stream::wrappers::ReceiverStream::new(rx),
                ))
                .unwrap_or_else(|_| Response::new(Body::empty()))
        }
        Err(e) => error_response(&e),
    }
}

type Lines = Vec<(Timestamp, String)>;

fn render(lines: &[(Timestamp, String)], timestamps: bool, limit: Option<usize>) -> String {
    let mut out = String::new();
    for (t, l) in lines {
        if timestamps {
            out.push_str(&t.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_string());
            out.push(' ');
        }
        out.push_str(l);
        out.push('\n');
    }
    if let Some(n) = limit {
        let mut cut = n.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The lines to send now, and (for `follow`) the running container to keep following.
fn plan(shared: &Shared, req: &ApiRequest) -> Result<((Lines, i64), Option<Target>), ApiError> {
    let name = req.name.as_deref().unwrap_or("");
    let ns = req.ns.as_deref().unwrap_or("");
    let e = shared
        .store
        .get(def(PODS), ns, name)
        .ok_or_else(|| ApiError::not_found(def(PODS), name))?;
    let pod = e.value();
    let (container, status) = choose(req, &pod)?;
    let now = shared.clock.now();
    let bad = shared.unhealthy.pod(&pod);
    let previous = req.query.flag("previous");
    let (started, end) = if previous {
        let last = status.pointer("/lastState/terminated");
        let Some(last) = last.filter(|t| t.is_object()) else {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        };
        let t = |k: &str| last.get(k).and_then(Value::as_str).and_then(parse_time);
        (
            t("startedAt").unwrap_or(now),
            t("finishedAt").unwrap_or(now),
        )
    } else {
        let running = status
            .pointer("/state/running/startedAt")
            .or_else(|| status.pointer("/state/terminated/startedAt"))
            .and_then(Value::as_str)
            .and_then(parse_time);
        match running {
            Some(t) => (t, now),
            None => {
                return Err(ApiError::bad_request(format!(
                    "container \"{container}\" in pod \"{name}\" is waiting to start: {}",
                    status
                        .pointer("/state/waiting/reason")
                        .and_then(Value::as_str)
                        .unwrap_or("ContainerCreating")
                )));
            }
        }
    };
    let count = (end.duration_since(started).as_secs() / EVERY.as_secs()).max(0) + 1;
    let mut from = (count - MAX_LINES).max(0);
    let since = match (req.query.get("sinceSeconds"), req.query.get("sinceTime")) {
        (Some(s), _) => Some(
            s.parse::<i64>()
                .ok()
                .filter(|s| *s > 0)
                .map(|s| now - SignedDuration::from_secs(s))
                .ok_or_else(|| ApiError::bad_request("sinceSeconds must be a positive integer"))?,
        ),
        (None, Some(t)) => {
            Some(parse_time(t).ok_or_else(|| ApiError::bad_request("sinceTime must be RFC 3339"))?)
        }
        _ => None,
    };
    if let Some(since) = since {
        let skip = since.duration_since(started).as_secs().max(0);
        from = from.max((skip + EVERY.as_secs() - 1) / EVERY.as_secs());
    }
    if let Some(tail) = req.query.get("tailLines") {
        let tail = tail
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("tailLines must be an integer"))?;
        if tail >= 0 {
            from = from.max(count - tail);
        }
    }
    let mut lines: Lines = (from..count)
        .map(|i| {
            let t = started + EVERY * i32::try_from(i).unwrap_or(i32::MAX);
            (t, line(name, &container, i, bad))
        })
        .collect();
    if previous && bad {
        lines.push((
            end,
            "FATAL giving up: dependency metadata-db unreachable".into(),
        ));
    }
    let follow = (req.query.flag("follow") && !previous).then(|| Target {
        ns: ns.to_string(),
        pod: name.to_string(),
        container,
        started,
        bad,
        uid: e.meta.uid.to_string(),
    });
    Ok(((lines, count), follow))
}

/// Follows a running container: one line per `EVERY` of simulated time until the pod or
/// its container run ends, the client goes, or the simulator stops.
async fn stream(
    shared: Arc<Shared>,
    t: Target,
    mut next: i64,
    timestamps: bool,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let due = t.started + EVERY * i32::try_from(next).unwrap_or(i32::MAX);
        let wait = shared.clock.now().duration_since(due);
        let real = if wait.is_negative() {
            shared
                .clock
                .real_duration(Duration::try_from(wait.abs()).unwrap_or_default())
        } else {
            Duration::ZERO
        };
        tokio::select! {
            _ = tokio::time::sleep(real) => {}
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
        }
        let alive = shared
            .store
            .get(def(PODS), &t.ns, &t.pod)
            .is_some_and(|e| *e.meta.uid == *t.uid && !e.meta.deleting);
        if !alive {
            return;
        }
        let l = render(
            &[(due, line(&t.pod, &t.container, next, t.bad))],
            timestamps,
            None,
        );
        if tx.send(Ok(Bytes::from(l))).await.is_err() {
            return;
        }
        next += 1;
    }
}
