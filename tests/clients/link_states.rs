//! What the header says of the link while the simulator's fault plan breaks it (issue
//! 14): rollcall's real client, watchers and probe over HTTPS, `update()` as the app, the
//! wall clock as its ticks. Refused connections and 5xx answers show as degraded with the
//! error, never live, and live again within seconds of the fault's end, with data
//! flowing; routine 410 expiries never leave live.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use kube::config::Kubeconfig;
use rollcall::app::{Connection, Event, State, update};
use rollcall::clients::kube::connect_with;
use rollcall::clients::link::spawn_probe;
use rollcall::clients::watch::{ListMode, spawn_env_watchers};
use rollcall_sim::{self as sim, FaultPlan, SimOptions};
use rollcall_testkit::state::state;
use tokio::sync::mpsc;

const PROD: usize = 2;

/// The app fed by real watchers, and what its header said over time.
struct App {
    state: State,
    rx: mpsc::Receiver<Event>,
    start: Instant,
    /// (seconds since start, every environment's connection) at each change.
    seen: Vec<(f64, Vec<Connection>)>,
}

impl App {
    fn connections(&self) -> Vec<Connection> {
        self.state.envs.iter().map(|e| e.connection()).collect()
    }

    /// Applies what arrives until `until`, recording each change of the connections.
    async fn pump_until(&mut self, until: Instant) {
        while Instant::now() < until {
            let wait = until.saturating_duration_since(Instant::now());
            let event = tokio::time::timeout(wait.min(Duration::from_millis(100)), self.rx.recv());
            let event = event.await.ok().flatten();
            update(&mut self.state, Event::Tick(jiff::Timestamp::now()));
            if let Some(event) = event {
                update(&mut self.state, event);
            }
            let now = self.connections();
            if self.seen.last().is_none_or(|(_, last)| *last != now) {
                self.seen.push((self.start.elapsed().as_secs_f64(), now));
            }
        }
    }

    /// Pumps until `done` holds; how long that took. Fails after `bound`.
    async fn wait_for(&mut self, what: &str, bound: Duration, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + bound;
        while !done(&self.state) {
            assert!(
                Instant::now() < deadline,
                "not within {bound:?}: {what}; header over time: {:#?}",
                self.seen
            );
            self.pump_until(Instant::now() + Duration::from_millis(50))
                .await;
        }
    }

    /// The states env `env` was in since record `from`, with when (seconds since start).
    fn since(&self, from: usize, env: usize) -> Vec<(f64, Connection)> {
        let states = self.seen[from..].iter().map(|(t, c)| (*t, c[env].clone()));
        let mut out: Vec<(f64, Connection)> = Vec::new();
        for (t, c) in states {
            if out.last().is_none_or(|(_, last)| *last != c) {
                out.push((t, c));
            }
        }
        out
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

fn all_live(s: &State) -> bool {
    s.envs.iter().all(|e| e.connection() == Connection::Live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_tells_the_truth_through_an_outage_5xx_and_410_expiries() {
    let sim = sim::start(SimOptions::default())
        .await
        .expect("simulator starts");
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).expect("kubeconfig");
    let conn = connect_with(kubeconfig, None).await.expect("connects");
    let (tx, rx) = mpsc::channel(4096);
    let mut app = App {
        state: state(160, 48),
        rx,
        start: Instant::now(),
        seen: Vec::new(),
    };
    let (probe, link) = spawn_probe(conn.client.clone(), vec![0, 1, 2], tx.clone());
    let lists = ListMode::default().linked(link);
    let mut tasks = vec![probe];
    for (i, env) in app.state.envs.iter().enumerate() {
        tasks.extend(spawn_env_watchers(
            i,
            conn.client.clone(),
            &env.config.namespace,
            &lists,
            tx.clone(),
        ));
    }
    app.wait_for("live at start", Duration::from_secs(20), |s| {
        all_live(s) && s.envs[PROD].pods.listed() && s.envs[PROD].pods.len() >= 9
    })
    .await;

    // Refused connections for 5 s: degraded with the error within a second or two,
    // then never live, never down; live again within seconds of the end, and changes
    // flow again.
    let (from, began) = (app.seen.len(), app.elapsed());
    sim.set_faults(FaultPlan {
        outage_secs: Some(5.0),
        ..FaultPlan::default()
    });
    let ends = Instant::now() + Duration::from_secs(5);
    app.pump_until(ends - Duration::from_millis(300)).await;
    let during = app.since(from, PROD);
    let degraded =
        |c: &Connection| matches!(c, Connection::Degraded { message, .. } if !message.is_empty());
    let noticed = during.iter().position(|(_, c)| degraded(c));
    assert!(
        noticed.is_some_and(|i| during[i].0 - began < 2.5),
        "degraded with the error soon after the outage began at {began:.1}: {during:#?}"
    );
    assert!(
        during[noticed.unwrap_or(0)..]
            .iter()
            .all(|(_, c)| degraded(c)),
        "then degraded until the end of the outage: {during:#?}"
    );
    app.pump_until(ends).await;
    app.wait_for("live after the outage", Duration::from_secs(4), all_live)
        .await;
    let (name, uid) = app.state.envs[PROD]
        .pods
        .iter()
        .next()
        .map(|p| (p.name.clone(), p.uid.clone()))
        .expect("prod has pods");
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), "dictamesh-prod");
    pods.delete(&name, &DeleteParams::default().grace_period(0))
        .await
        .expect("delete answered");
    app.wait_for(
        "the deleted pod gone from the screen",
        Duration::from_secs(5),
        |s| s.envs[PROD].pods.iter().all(|p| p.uid != uid),
    )
    .await;

    // Every request answered 5xx for 8 s while the open watches stay up.
    let from = app.seen.len();
    sim.set_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    app.pump_until(Instant::now() + Duration::from_secs(8))
        .await;
    let during = app.since(from, PROD);
    assert!(
        during
            .iter()
            .any(|(_, c)| matches!(c, Connection::Degraded { message, .. }
            if message.contains("unable to handle") || message.contains("injected fault"))),
        "degraded with the server's error: {during:#?}"
    );
    assert!(
        !during
            .iter()
            .any(|(_, c)| matches!(c, Connection::Down { .. })),
        "not down: {during:#?}"
    );
    sim.set_faults(FaultPlan::default());
    app.wait_for(
        "live after the errors stop",
        Duration::from_secs(4),
        all_live,
    )
    .await;

    // Watches expired every half second for 6 s: each re-lists, and nothing says so.
    let from = app.seen.len();
    sim.set_faults(FaultPlan {
        expire_watches_every_secs: Some(0.5),
        ..FaultPlan::default()
    });
    app.pump_until(Instant::now() + Duration::from_secs(6))
        .await;
    sim.set_faults(FaultPlan::default());
    for env in 0..3 {
        let during = app.since(from, env);
        assert!(
            during.iter().all(|(_, c)| *c == Connection::Live),
            "env {env} stayed live through the expiries: {during:#?}"
        );
    }

    for t in tasks {
        t.abort();
    }
    sim.shutdown().await;
}
