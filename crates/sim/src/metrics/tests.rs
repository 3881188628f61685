//! The query API over a small world written straight into the store: Prometheus's
//! response shapes and errors, and a version turned unhealthy showing in later points
//! while earlier ones keep their values. One test goes through the HTTP port.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::History;
use super::http::{instant, range};
use super::sample::observe;
use crate::Shared;
use crate::resources::{DEPLOYMENTS, PODS, def};
use crate::store::WriteMode;

const NS: &str = "shop";
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn errors_q(svc: &str) -> String {
    format!(
        r#"sum(rate(http_requests_total{{namespace="{NS}",service="{svc}",code=~"5.."}}[5m])) / sum(rate(http_requests_total{{namespace="{NS}",service="{svc}"}}[5m]))"#
    )
}

fn latency_q(q: f64) -> String {
    format!(
        r#"histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{namespace="{NS}",service="web"}}[5m])))"#
    )
}

const RESTARTS_Q: &str = r#"sum(increase(kube_pod_container_status_restarts_total{namespace="shop",pod=~"web-.*"}[5m]))"#;

fn pod(i: u32, ready: bool, restarts: i64, tag: &str) -> Value {
    let r = if ready { "True" } else { "False" };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("web-abc-{i}"), "namespace": NS, "uid": format!("u{i}"),
            "labels": {"app": "web", "pod-template-hash": "abc"}},
        "spec": {"containers": [{"name": "web", "image": format!("ghcr.io/x/web:{tag}")}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": r}],
            "containerStatuses": [{"name": "web", "restartCount": restarts}]}})
}

/// A Deployment `web` (label app=web) with three ready pods of v1.
fn world() -> (Arc<Shared>, tokio::sync::watch::Sender<bool>) {
    let (shared, tx) = Shared::for_tests();
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}}});
    shared
        .store
        .write(def(DEPLOYMENTS), &mut d, WriteMode::Create)
        .unwrap();
    for i in 0..3 {
        shared
            .store
            .write(def(PODS), &mut pod(i, true, 0, "v1"), WriteMode::Create)
            .unwrap();
    }
    (shared, tx)
}

fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Samples every 15 s from `from` for `n` samples.
fn sample_for(shared: &Shared, history: &History, from: i64, n: i64) {
    for k in 0..n {
        history.record(from + k * 15_000, observe(shared));
    }
}

fn points(data: &Value) -> Vec<(f64, f64)> {
    data["result"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_f64().unwrap(),
                p[1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn secs(ms: i64) -> String {
    (ms / 1000).to_string()
}

#[test]
fn instant_and_range_answers_have_prometheus_shapes() {
    let (shared, _tx) = world();
    let history = History::default();
    sample_for(&shared, &history, T0, 40);
    let now = T0 + 39 * 15_000;

    let v = instant(
        &history,
        &params(&[("query", &errors_q("web")), ("time", "")]),
        now,
    )
    .unwrap();
    assert_eq!(v["resultType"], "vector");
    assert_eq!(v["result"][0]["metric"], json!({}));
    assert_eq!(v["result"][0]["value"][0], json!(now / 1000));
    let e: f64 = v["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0015..=0.0025).contains(&e), "{e}");

    // A time with milliseconds is written with them, as Prometheus does.
    let at = params(&[("query", RESTARTS_Q), ("time", "1767225900.5")]);
    let v = instant(&history, &at, now).unwrap();
    assert_eq!(v["result"][0]["value"], json!([1_767_225_900.5, "0"]));

    // An hour back from the last sample: the baseline before the first, then samples.
    let q = latency_q(0.95);
    let p = params(&[
        ("query", &q),
        ("start", &secs(now - 3_600_000)),
        ("end", "2026-01-01T00:09:45Z"),
        ("step", "15s"),
    ]);
    let m = range(&history, &p).unwrap();
    assert_eq!(m["resultType"], "matrix");
    assert_eq!(m["result"].as_array().unwrap().len(), 1);
    let pts = points(&m);
    assert_eq!(pts.len(), 241);
    assert!(
        pts.iter().all(|(_, v)| (0.105..=0.135).contains(v)),
        "{pts:?}"
    );
    assert!(pts.windows(2).all(|w| w[1].0 - w[0].0 == 15.0));

    // Another service, never seen: no series, as Prometheus answers an empty selection.
    let none = params(&[
        ("query", &errors_q("nope")),
        ("start", "0"),
        ("end", "60"),
        ("step", "1m"),
    ]);
    assert_eq!(
        range(&history, &none).unwrap(),
        json!({"resultType": "matrix", "result": []})
    );
    // Out-of-range quantiles as histogram_quantile answers them.
    let q = latency_q(1.5);
    let v = instant(&history, &params(&[("query", &q)]), now).unwrap();
    assert_eq!(v["result"][0]["value"][1], "+Inf");
}

#[test]
fn refusals_are_bad_data_with_prometheus_words() {
    let history = History::default();
    let err = |pairs: &[(&str, &str)]| range(&history, &params(pairs)).unwrap_err().0;
    let q = errors_q("web");
    let e = err(&[
        ("query", "up"),
        ("start", "0"),
        ("end", "60"),
        ("step", "15"),
    ]);
    assert!(
        e.starts_with("invalid parameter \"query\": the simulator does not implement PromQL"),
        "{e}"
    );
    assert!(e.contains(r#"pod=~"SVC-.*""#), "{e}");
    let e = err(&[
        ("query", &q),
        ("start", "yesterday"),
        ("end", "60"),
        ("step", "15"),
    ]);
    assert_eq!(
        e,
        r#"invalid parameter "start": cannot parse "yesterday" to a valid timestamp"#
    );
    let e = err(&[("query", &q), ("start", "60"), ("end", "0"), ("step", "15")]);
    assert_eq!(
        e,
        r#"invalid parameter "end": end timestamp must not be before start time"#
    );
    let e = err(&[
        ("query", &q),
        ("start", "0"),
        ("end", "60"),
        ("step", "abc"),
    ]);
    assert_eq!(
        e,
        r#"invalid parameter "step": cannot parse "abc" to a valid duration"#
    );
    let e = err(&[("query", &q), ("start", "0"), ("end", "60"), ("step", "0")]);
    assert!(
        e.contains("zero or negative query resolution step widths"),
        "{e}"
    );
    let e = err(&[
        ("query", &q),
        ("start", "0"),
        ("end", "11001"),
        ("step", "1s"),
    ]);
    assert_eq!(
        e,
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
    );
    // 11,001 points is still one too few to refuse, as in Prometheus.
    assert!(
        range(
            &history,
            &params(&[
                ("query", &q),
                ("start", "0"),
                ("end", "11000"),
                ("step", "1")
            ])
        )
        .is_ok()
    );
    let e = instant(&history, &params(&[("query", &q), ("time", "NaN")]), T0)
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        r#"invalid parameter "time": cannot parse "NaN" to a valid timestamp"#
    );
}

#[test]
fn an_unhealthy_version_raises_later_points_and_leaves_earlier_ones() {
    let (shared, _tx) = world();
    let history = History::default();
    sample_for(&shared, &history, T0, 40); // ten healthy minutes
    let q_err = errors_q("web");
    let q_p99 = latency_q(0.99);
    let span = |q: &str, end_ms: i64| {
        params(&[
            ("query", q),
            ("start", &secs(T0)),
            ("end", &secs(end_ms)),
            ("step", "15s"),
        ])
    };
    let healthy_end = T0 + 39 * 15_000;
    let before_err = range(&history, &span(&q_err, healthy_end)).unwrap();
    let before_p99 = range(&history, &span(&q_p99, healthy_end)).unwrap();

    // v2 rolls out unhealthy: one pod replaced, crash-looping and unready.
    shared.unhealthy.set(vec!["v2".into()]);
    shared
        .store
        .write(
            def(PODS),
            &mut pod(2, false, 3, "v2"),
            WriteMode::Update(None),
        )
        .unwrap();
    sample_for(&shared, &history, healthy_end + 15_000, 40);
    let end = healthy_end + 40 * 15_000;

    let after_err = range(&history, &span(&q_err, end)).unwrap();
    let after_p99 = range(&history, &span(&q_p99, end)).unwrap();
    let (e0, e1) = (points(&before_err), points(&after_err));
    let (l0, l1) = (points(&before_p99), points(&after_p99));
    assert_eq!(
        e1[..e0.len()],
        e0[..],
        "earlier error points keep their values"
    );
    assert_eq!(
        l1[..l0.len()],
        l0[..],
        "earlier latency points keep their values"
    );
    let last_err = e1.last().unwrap().1;
    assert!((0.05..=0.3).contains(&last_err), "{last_err}");
    let last_p99 = l1.last().unwrap().1;
    assert!(last_p99 > 0.4, "{last_p99}");
    assert!(e0.iter().all(|(_, v)| *v < 0.003));

    // Restarts: the v2 pod came in with 3; it restarts twice more.
    shared
        .store
        .write(
            def(PODS),
            &mut pod(2, false, 5, "v2"),
            WriteMode::Update(None),
        )
        .unwrap();
    history.record(end + 15_000, observe(&shared));
    let r = instant(&history, &params(&[("query", RESTARTS_Q)]), end + 15_000).unwrap();
    assert_eq!(r["result"][0]["value"][1], "2");
}

#[tokio::test]
async fn served_on_the_monitoring_port_by_get_and_post() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (shared, tx) = world();
    let history = Arc::new(History::default());
    super::sample_now(&shared, &history);
    let (addr, task) = crate::monitoring::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        shared.clone(),
        history,
        tx.subscribe(),
    )
    .await
    .unwrap();
    let call = move |req: String| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        (
            head.lines().next().unwrap().to_owned(),
            serde_json::from_str::<Value>(body).unwrap(),
        )
    };
    let q: String = form_urlencoded::byte_serialize(errors_q("web").as_bytes()).collect();
    let (status, body) = call(format!(
        "GET /api/v1/query?query={q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["resultType"], "vector");
    let now = shared.clock.now().as_second();
    let form = format!("query={q}&start={}&end={now}&step=60", now - 3600);
    let (status, body) = call(format!(
        "POST /api/v1/query_range HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    ))
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        body["data"]["result"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        61
    );
    let (status, body) =
        call("GET /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into())
            .await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], "bad_data");
    let _ = tx.send(true);
    let _ = task.await;
}
