//! rollcall's own pod watcher (`clients::watch::watch_rows` decoding `WatchedPod`, the code
//! the app runs) against the simulator under each fault of the fault plan — dropped watches,
//! forced 410s, a share of 5xx answers, a refused-connections outage, a denied token — keeps
//! going and converges to the same state as a fresh list. Also the admin endpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use rollcall::clients::watch::{ListMode, watch_rows};
use rollcall::domain::{PodRow, WatchUpdate, WatchedPod};
use rollcall_sim::{self as sim, FaultPlan, SimOptions};
use rollcall_testkit::cluster::client_for;

const NS: &str = "dictamesh-staging";

type View = Arc<Mutex<BTreeMap<String, PodRow>>>;

/// Runs the watcher, applying its updates to a map as the app's row store does.
fn spawn_watch(c: Client, lists: ListMode) -> (View, Arc<Mutex<usize>>) {
    let view: View = Arc::default();
    let errors = Arc::new(Mutex::new(0));
    let (v, e) = (view.clone(), errors.clone());
    tokio::spawn(async move {
        let mut s = std::pin::pin!(watch_rows(
            Api::<WatchedPod>::namespaced(c, NS),
            |p: WatchedPod| p.row,
            lists
        ));
        let mut pending: Option<BTreeMap<String, PodRow>> = None;
        while let Some(u) = s.next().await {
            match u {
                Ok(WatchUpdate::Init) => pending = Some(BTreeMap::new()),
                Ok(WatchUpdate::InitApply(r)) => {
                    if let Some(p) = pending.as_mut() {
                        p.insert(r.uid.clone(), r);
                    }
                }
                Ok(WatchUpdate::InitDone) => {
                    if let Some(p) = pending.take() {
                        *v.lock().unwrap() = p;
                    }
                }
                Ok(WatchUpdate::Apply(r)) => {
                    v.lock().unwrap().insert(r.uid.clone(), r);
                }
                Ok(WatchUpdate::Delete(r)) => {
                    v.lock().unwrap().remove(&r.uid);
                }
                Err(_) => *e.lock().unwrap() += 1,
            }
        }
    });
    (view, errors)
}

async fn fresh(c: &Client) -> Option<BTreeMap<String, PodRow>> {
    let l = Api::<WatchedPod>::namespaced(c.clone(), NS)
        .list(&ListParams::default())
        .await
        .ok()?;
    Some(
        l.items
            .into_iter()
            .map(|p| (p.row.uid.clone(), p.row))
            .collect(),
    )
}

/// Waits (bounded) until the watcher's view equals a fresh list.
async fn converges(c: &Client, view: &View, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(f) = fresh(c).await
            && *view.lock().unwrap() == f
            && !f.is_empty()
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "watcher did not converge after {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn restart(c: &Client, deploy: &str, n: u32) {
    let p = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"test/restart": n.to_string()}}}}});
    let api = Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.clone(), NS);
    // Retried: the fault plan may turn a request into a 5xx.
    for _ in 0..20 {
        if api
            .patch(deploy, &PatchParams::default(), &Patch::Strategic(&p))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not patch {deploy}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_list_watcher_survives_every_fault_and_converges() {
    survives_every_fault(ListMode::default(), FaultPlan::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_list_watcher_survives_every_fault_and_converges() {
    survives_every_fault(ListMode::paged(), FaultPlan::default()).await;
}

/// A server with the WatchList feature off refuses the streaming list; the watcher
/// falls back to paged lists and goes on as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_falls_back_to_paged_lists_when_streaming_is_refused() {
    let base = FaultPlan {
        watch_list_off: true,
        ..FaultPlan::default()
    };
    survives_every_fault(ListMode::default(), base).await;
}

/// Every fault in turn, each on top of `base`; the watcher's view must match a fresh
/// list after each.
async fn survives_every_fault(lists: ListMode, base: FaultPlan) {
    let sim = sim::start(SimOptions {
        speed: 20.0,
        faults: base.clone(),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let c = client_for(&sim, None, None).await;
    let (view, errors) = spawn_watch(c.clone(), lists);
    converges(&c, &view, "start").await;
    let faults = [
        (
            "dropped watches",
            FaultPlan {
                drop_watches_every_secs: Some(0.3),
                ..base.clone()
            },
        ),
        (
            "forced 410",
            FaultPlan {
                expire_watches_every_secs: Some(0.4),
                ..base.clone()
            },
        ),
        (
            "5xx share",
            FaultPlan {
                error_rate: 0.5,
                ..base.clone()
            },
        ),
        (
            "latency",
            FaultPlan {
                latency_ms: 150,
                ..base.clone()
            },
        ),
        (
            "outage",
            FaultPlan {
                outage_secs: Some(1.5),
                ..base.clone()
            },
        ),
    ];
    for (i, (what, plan)) in faults.into_iter().enumerate() {
        let outage = plan.outage_secs.is_some();
        sim.set_faults(plan);
        if outage {
            // Nothing gets through while connections are refused; change things after.
            tokio::time::sleep(Duration::from_millis(1600)).await;
        }
        restart(&c, "graphql-gateway", i as u32).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        sim.set_faults(base.clone());
        converges(&c, &view, what).await;
    }
    assert!(
        *errors.lock().unwrap() > 0,
        "the faults were seen by the watcher"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_endpoint_sets_faults_and_denied_tokens_get_their_status() {
    let sim = sim::start(SimOptions {
        scenario: sim::Scenario::Empty,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let admin = client_for(&sim, None, None).await;
    let viewer = client_for(&sim, None, Some(sim.viewer_token())).await;
    let body = serde_json::json!({"denyTokens": {sim.viewer_token(): 403}}).to_string();
    let req = http::Request::post("/_sim/faults")
        .body(body.into_bytes())
        .unwrap();
    let out = admin.request_text(req).await.expect("admin sets the plan");
    assert!(out.contains("denyTokens"), "{out}");
    let ns = Api::<k8s_openapi::api::core::v1::Namespace>::all(viewer.clone());
    match ns.list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403),
        other => panic!("expected 403, got {other:?}"),
    }
    // The viewer may not use the admin API.
    let req = http::Request::get("/_sim/faults").body(Vec::new()).unwrap();
    assert!(viewer.request_text(req).await.is_err());
    let req = http::Request::post("/_sim/faults")
        .body(b"{\"bogus\":1}".to_vec())
        .unwrap();
    assert!(
        admin.request_text(req).await.is_err(),
        "unknown fields are a 400"
    );
    sim.set_faults(FaultPlan::default());
    assert!(ns.list(&ListParams::default()).await.is_ok());
    sim.shutdown().await;
}
