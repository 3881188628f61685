//! Stopping the cluster under rollcall shows the environment degraded with the data
//! kept; starting it again reconnects without a keypress. Real watchers, real HTTP,
//! the simulator as the cluster, `update()` as the app.

use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use rollcall::app::{Connection, Event, State, update};
use rollcall::clients::kube::connect_with;
use rollcall::clients::link::spawn_probe;
use rollcall::clients::watch::{ListMode, spawn_env_watchers};
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::state::state;
use tokio::sync::mpsc;

async fn pump_until(
    state: &mut State,
    rx: &mut mpsc::Receiver<Event>,
    what: &str,
    done: impl Fn(&State) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(state) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}; connections {:?}; prod pods {:?}",
            state
                .envs
                .iter()
                .map(|e| e.connection())
                .collect::<Vec<_>>(),
            prod_pod_uids(state)
        );
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            update(state, ev);
        }
    }
}

/// Pod UIDs: a restarted simulator may reuse names (its scenario is seeded), but
/// every object it creates has a new UID.
fn prod_pod_uids(state: &State) -> Vec<String> {
    state.envs[2].pods.iter().map(|p| p.uid.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_goes_down_and_comes_back_when_the_cluster_restarts() {
    let first = sim::start(SimOptions {
        // Real time: the demo canary must not move pods while the test compares them.
        speed: 1.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let addr = first.addr();
    let kubeconfig = Kubeconfig::from_yaml(&first.kubeconfig_yaml()).unwrap();
    let conn = connect_with(kubeconfig, None).await.unwrap();

    let mut state = state(160, 48);
    let (tx, mut rx) = mpsc::channel(1024);
    // As the app wires it: the connection's link probe, shared with its watchers.
    let (probe, link) = spawn_probe(conn.client.clone(), vec![0, 1, 2], tx.clone());
    let mut handles = vec![probe];
    let lists = ListMode::default().linked(link);
    for (i, env) in state.envs.iter().enumerate() {
        handles.extend(spawn_env_watchers(
            i,
            conn.client.clone(),
            &env.config.namespace,
            &lists,
            tx.clone(),
        ));
    }
    // Rows show while a list streams in; wait for the complete list (9 Deployment
    // pods plus the demo canary's).
    pump_until(
        &mut state,
        &mut rx,
        "prod live with its full pod list",
        |s| {
            s.envs[2].connection() == Connection::Live
                && s.envs[2].pods.listed()
                && s.envs[2].pods.len() >= 9
        },
    )
    .await;
    let before = prod_pod_uids(&state);

    first.shutdown().await;
    pump_until(&mut state, &mut rx, "prod degraded", |s| {
        matches!(s.envs[2].connection(), Connection::Degraded { .. })
    })
    .await;
    assert_eq!(
        prod_pod_uids(&state),
        before,
        "the last known pods stay on screen"
    );

    let second = sim::start(SimOptions {
        listen: addr,
        // Real time: the demo canary must not move pods while the test compares them.
        speed: 1.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    // The new cluster has new pods (new UIDs): the watcher must relist,
    // not resume silently from the old run's resourceVersion.
    pump_until(
        &mut state,
        &mut rx,
        "prod live again with the new pods",
        |s| {
            let uids = prod_pod_uids(s);
            s.envs.iter().all(|e| e.connection() == Connection::Live)
                && s.envs[2].pods.listed()
                && uids.len() >= 9
                && uids.iter().all(|u| !before.contains(u))
        },
    )
    .await;

    for h in handles {
        h.abort();
    }
    second.shutdown().await;
}
