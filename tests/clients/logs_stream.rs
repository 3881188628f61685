//! Log streams against the simulator, as the logs pane asks for them: the last lines of a
//! pod then new ones as they are written (followed), every pod of a service at once,
//! and the previous container's logs refused with the server's words when there is none.

use std::time::Duration;

use rollcall::app::Event;
use rollcall::clients::logs::{LogRequest, spawn};
use rollcall::domain::logs::LogUpdate;
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::cluster;
use tokio::sync::mpsc;

async fn pods_of(client: &kube::Client, app: &str) -> Vec<String> {
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), "dictamesh-staging");
    let list = api
        .list(&kube::api::ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap();
    list.items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect()
}

async fn next(rx: &mut mpsc::Receiver<Event>) -> (u64, LogUpdate) {
    match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(Event::Log { session, update })) => (session, update),
        other => panic!("expected a log event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_and_services_are_followed_and_previous_is_refused_when_absent() {
    let sim = sim::start(SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let client = cluster::client_for(&sim, None, None).await;
    let pods = pods_of(&client, "customer-adapter").await;
    assert_eq!(pods.len(), 2, "{pods:?}");

    let (tx, mut rx) = mpsc::channel::<Event>(256);
    let request = LogRequest {
        session: 7,
        env: 1,
        namespace: "dictamesh-staging".into(),
        pods: pods.clone(),
        tail: 3,
        previous: false,
    };
    let tasks = spawn(&client, &request, &tx);
    // Three lines per pod first, then new ones as the simulated clock writes them.
    let mut per_pod = std::collections::HashMap::<String, usize>::new();
    while per_pod.values().sum::<usize>() < 10 {
        let (session, update) = next(&mut rx).await;
        assert_eq!(session, 7);
        match update {
            LogUpdate::Line(l) => *per_pod.entry(l.pod).or_default() += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(per_pod.len(), 2, "both pods stream: {per_pod:?}");
    assert!(per_pod.values().all(|n| *n >= 3), "{per_pod:?}");
    for t in tasks {
        t.abort();
    }

    // No previous container to read: the server says so, for that pod.
    let (tx, mut rx) = mpsc::channel::<Event>(16);
    let request = LogRequest {
        session: 8,
        previous: true,
        pods: vec![pods[0].clone()],
        ..request
    };
    let _tasks = spawn(&client, &request, &tx);
    let (_, update) = next(&mut rx).await;
    match update {
        LogUpdate::Failed { pod, message } => {
            assert_eq!(pod, pods[0]);
            assert!(
                message.contains("previous terminated container"),
                "{message}"
            );
        }
        LogUpdate::Ended { .. } | LogUpdate::Line(_) => panic!("{update:?}"),
    }
    sim.shutdown().await;
}
