//! `rollcall --context C --all-namespaces`: one ad-hoc environment that watches
//! every namespace, so rollcall works on any cluster without an environments file.

use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::app::{Pane, State, update};
use rollcall::clients::kube::connect_with;
use rollcall::clients::watch::{ListMode, spawn_env_watchers};
use rollcall::config::Theme;
use rollcall::wiring::ad_hoc_environment;
use rollcall_sim::{self as sim, SimOptions};
use rollcall_testkit::state::{now, state};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_namespaces_lists_every_pod_with_its_namespace() {
    let sim = sim::start(SimOptions::default()).await.unwrap();
    let conn = connect_with(Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap(), None)
        .await
        .unwrap();
    let env = ad_hoc_environment(Some(conn.context.clone()), String::new());
    assert_eq!(env.name, "rollcall-sim");
    let base = state(160, 48);
    let mut state = State::new(vec![env], base.keys.clone(), now());
    state.size = (160, 48);
    state.focus = Pane::Pods;

    let (tx, mut rx) = mpsc::channel(1024);
    let handles = spawn_env_watchers(0, conn.client.clone(), "", &ListMode::default(), tx);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(state.envs[0].pods.listed() && state.envs[0].pods.len() >= 18) {
        assert!(
            Instant::now() < deadline,
            "pods of all namespaces never arrived"
        );
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            update(&mut state, ev);
        }
    }
    let namespaces: std::collections::BTreeSet<&str> = state.envs[0]
        .pods
        .iter()
        .map(|p| p.namespace.as_str())
        .collect();
    assert!(namespaces.contains("dictamesh-dev"));
    assert!(namespaces.contains("dictamesh-prod"));

    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| rollcall::ui::render(f, &state, &Theme::default()))
        .unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("all namespaces"), "{screen}");
    assert!(screen.contains("NAMESPACE"), "{screen}");
    assert!(screen.contains("dictamesh-dev"), "{screen}");

    for h in handles {
        h.abort();
    }
    sim.shutdown().await;
}
