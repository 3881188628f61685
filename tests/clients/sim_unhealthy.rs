//! The unhealthy-version switch: an image tag named at start (`--unhealthy-image`, here
//! `SimOptions::unhealthy_images`) or at run time (`POST /_sim/unhealthy`) never gets ready,
//! crash-loops with climbing restarts and logs errors (its 503 health answers are covered
//! by the proxy tests; kube-rs retries 503s, which made this test slow); clearing the switch lets the pods recover.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::cluster::{client_for, pod_ready};
use serde_json::json;

fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum())
}

async fn pods(c: &Client, app: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(c.clone(), "dictamesh-staging")
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

async fn until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn set_images(c: &Client, images: &[&str]) -> String {
    let req = http::Request::post("/_sim/unhealthy")
        .body(json!({ "images": images }).to_string().into_bytes())
        .unwrap();
    c.request_text(req).await.expect("admin sets the images")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marked_versions_crash_loop_and_recover_when_cleared() {
    let sim = sim::start(SimOptions {
        speed: 20.0,
        unhealthy_images: vec!["v9.9.9".into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let c = client_for(&sim, None, None).await;

    // Staging, whose Argo CD apps sync by hand: dev's self-heal would put the image back.
    // A tag marked at start: the new version's pod never gets ready and restarts climb.
    let deploys = Api::<Deployment>::namespaced(c.clone(), "dictamesh-staging");
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "metadata-catalog", "image": "ghcr.io/controle-digital/metadata-catalog:v9.9.9"}]}}}});
    deploys
        .patch(
            "metadata-catalog",
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .unwrap();
    until("the v9.9.9 pod to restart twice", async || {
        pods(&c, "metadata-catalog").await.iter().any(|p| {
            p.spec.as_ref().unwrap().containers[0]
                .image
                .as_deref()
                .unwrap()
                .ends_with(":v9.9.9")
                && restarts(p) >= 2
                && !pod_ready(p)
        })
    })
    .await;
    let bad = pods(&c, "metadata-catalog")
        .await
        .into_iter()
        .find(|p| restarts(p) >= 2)
        .unwrap();
    let logs = Api::<Pod>::namespaced(c.clone(), "dictamesh-staging")
        .logs(
            &bad.name_any(),
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    assert!(logs.contains("FATAL giving up"), "{logs}");
    // The old version keeps serving (maxUnavailable 0).
    assert!(pods(&c, "metadata-catalog").await.iter().any(pod_ready));

    // At run time: mark the version dev runs now; its ready pods go down.
    assert_eq!(
        set_images(&c, &["v1.2.0"]).await,
        "{\"images\":[\"v1.2.0\"]}"
    );
    let get = http::Request::get("/_sim/unhealthy")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        c.request_text(get).await.unwrap(),
        "{\"images\":[\"v1.2.0\"]}"
    );
    until("graphql-gateway to crash", async || {
        pods(&c, "graphql-gateway")
            .await
            .iter()
            .all(|p| !pod_ready(p) && restarts(p) >= 1)
    })
    .await;
    // Only the admin may flip it.
    let viewer = client_for(&sim, Some("rollcall-sim-viewer"), None).await;
    let req = http::Request::post("/_sim/unhealthy")
        .body(b"{\"images\":[]}".to_vec())
        .unwrap();
    assert!(viewer.request_text(req).await.is_err());
    // Cleared: the pods come back.
    set_images(&c, &[]).await;
    until("graphql-gateway to recover", async || {
        let ps = pods(&c, "graphql-gateway").await;
        !ps.is_empty() && ps.iter().all(pod_ready)
    })
    .await;
    sim.shutdown().await;
}
