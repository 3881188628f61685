//! rollcall's Prometheus client against the simulator's query API: the four queries of
//! the release comparison (error ratio, P95, P99, restarts) over the last hour answer
//! with the healthy baseline, the steady history before the simulator started included;
//! once the service's running version is marked unhealthy its later error-ratio points
//! rise while the earlier ones stay; a query the simulator does not serve is bad_data.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use rollcall::clients::prometheus::{PromError, PrometheusClient};
use rollcall::domain::metrics::Series;
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::cluster;

const NS: &str = "dictamesh-staging";
const SVC: &str = "metadata-catalog";

fn errors() -> String {
    format!(
        r#"sum(rate(http_requests_total{{namespace="{NS}",service="{SVC}",code=~"5.."}}[5m])) / sum(rate(http_requests_total{{namespace="{NS}",service="{SVC}"}}[5m]))"#
    )
}

fn latency(q: &str) -> String {
    format!(
        r#"histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{namespace="{NS}",service="{SVC}"}}[5m])))"#
    )
}

fn restarts() -> String {
    format!(
        r#"sum(increase(kube_pod_container_status_restarts_total{{namespace="{NS}",pod=~"{SVC}-.*"}}[5m]))"#
    )
}

fn values(s: &Series) -> Vec<f64> {
    s.points.iter().map(|p| p.1).collect()
}

async fn running_tag(client: &kube::Client) -> String {
    let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), NS);
    let d = api.get(SVC).await.unwrap();
    let image = d.spec.template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    image.rsplit_once(':').unwrap().1.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_queries_answer_the_baseline_and_errors_rise_after_a_bad_version() {
    let sim = sim::start(SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let prom = PrometheusClient::new(&sim.monitoring_url(), Duration::from_secs(10)).unwrap();
    let step = Duration::from_secs(15);

    // The last hour: the synthetic baseline, then the first samples.
    let now = sim.now();
    let hour_ago = now - SignedDuration::from_hours(1);
    let cases: [(String, std::ops::RangeInclusive<f64>); 4] = [
        (errors(), 0.0015..=0.0025),
        (latency("0.95"), 0.105..=0.135),
        (latency("0.99"), 0.22..=0.28),
        (restarts(), 0.0..=0.0),
    ];
    for (query, range) in &cases {
        let s = prom
            .query_range_series(query, hour_ago, now, step)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        assert!(s.points.len() >= 240, "{query}: {} points", s.points.len());
        let v = values(&s);
        assert!(v.iter().all(|x| range.contains(x)), "{query}: {v:?}");
        let instant = prom.query(query, None).await.unwrap();
        assert_eq!(instant.len(), 1, "{query}");
        assert!(range.contains(&instant[0].series.points[0].1), "{query}");
    }

    // The running version turns bad: its pods crash-loop, and the errors climb.
    let client = cluster::client_for(&sim, None, None).await;
    let tag = running_tag(&client).await;
    let marked_at = sim.now();
    sim.set_unhealthy_images(vec![tag]);
    let mut last = Vec::new();
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let s = prom
            .query_range_series(&errors(), marked_at, sim.now(), step)
            .await
            .unwrap();
        last = values(&s);
        if last.last().is_some_and(|v| *v > 0.02) {
            break;
        }
    }
    assert!(last.last().is_some_and(|v| *v > 0.02), "{last:?}");
    let earlier = prom
        .query_range_series(
            &errors(),
            hour_ago,
            marked_at - SignedDuration::from_secs(1),
            step,
        )
        .await
        .unwrap();
    assert!(values(&earlier).iter().all(|v| *v <= 0.0025), "{earlier:?}");

    // Not one of the served shapes: Prometheus's bad_data, naming them.
    let e = prom
        .query_range("up", hour_ago, now, step)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PromError::BadData { error } if error.contains("histogram_quantile(Q")),
        "{e}"
    );
    let too_many = prom
        .query_range(
            &errors(),
            Timestamp::UNIX_EPOCH,
            now,
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(too_many.to_string().contains("11,000 points"), "{too_many}");
}
