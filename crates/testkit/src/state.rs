//! Builders for app-level tests: a state from the embedded config at a fixed time,
//! rows decoded from realistic JSON the way the watchers decode them, keys, and the
//! screen as the app draws it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::app::{Effect, EnvUpdate, Event, Pane, State, update};
use rollcall::config::{self, LoadOptions, Theme};
use rollcall::domain::{
    DeploymentRow, PodRow, ServiceRow, WatchUpdate, WatchedDeployment, WatchedPod, WatchedService,
};
use serde_json::json;

pub const NOW: &str = "2026-11-26T14:02:11Z";

/// The two sizes every pane is snapshotted at: one pane with a tab bar, and split.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// The screen as the app would draw it, at the state's size.
pub fn draw(state: &State) -> Terminal<TestBackend> {
    let (w, h) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| rollcall::ui::render(f, state, &Theme::default()))
        .unwrap();
    terminal
}

/// The screen's rows as text.
pub fn screen_rows(state: &State) -> Vec<String> {
    let t = draw(state);
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// The screen as one text, a line per row.
pub fn screen_text(state: &State) -> String {
    screen_rows(state).join("\n")
}

/// One key without modifiers; returns what the app asked the runner to do.
pub fn key(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Event::Key(KeyEvent::new(code, KeyModifiers::NONE))).0
}

/// Types `text`, a key per character (`\n` is Enter); returns every key's effects.
pub fn press(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            key(state, code)
        })
        .collect()
}

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

pub fn ago(secs: i64) -> String {
    now()
        .checked_sub(jiff::SignedDuration::from_secs(secs))
        .unwrap()
        .to_string()
}

/// A state from the embedded DictaMesh config, at `NOW`, sized `w`×`h`.
pub fn state(w: u16, h: u16) -> State {
    let cfg = config::load(&LoadOptions {
        dir: None,
        theme: None,
    })
    .unwrap();
    let envs = cfg.environments.len();
    let mut s = State::new(cfg.environments, cfg.keys, now());
    s.checklist = rollcall::app::panes::checklist::ChecklistState::new(cfg.checklists, envs);
    s.runbook.runbook = cfg.runbook;
    s.size = (w, h);
    s.user = "oncall".into();
    s.source = "ctx: k3s-dictamesh as oncall".into();
    s
}

pub struct PodSpec<'a> {
    pub ns: &'a str,
    pub deploy: &'a str,
    pub hash: &'a str,
    pub suffix: &'a str,
    pub ready: bool,
    pub restarts: u32,
    pub age_secs: i64,
    pub node: &'a str,
}

pub fn pod(p: PodSpec) -> PodRow {
    let name = format!("{}-{}-{}", p.deploy, p.hash, p.suffix);
    let v = json!({
        "metadata": {
            "name": name, "namespace": p.ns, "uid": format!("uid-{name}"),
            "resourceVersion": "1", "creationTimestamp": ago(p.age_secs),
            "labels": {"app": p.deploy, "pod-template-hash": p.hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("{}-{}", p.deploy, p.hash), "uid": "rs", "controller": true}]
        },
        "spec": {"nodeName": p.node, "containers": [{"name": p.deploy,
            "image": format!("ghcr.io/controle-digital/{}:v1.1.4", p.deploy),
            "readinessProbe": {"initialDelaySeconds": 10}}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": if p.ready {"True"} else {"False"},
                "lastTransitionTime": ago(p.age_secs)}],
            "containerStatuses": [{"name": p.deploy, "ready": p.ready,
                "restartCount": p.restarts,
                "state": {"running": {"startedAt": ago(p.age_secs.min(4))}}}]}
    });
    serde_json::from_value::<WatchedPod>(v).unwrap().row
}

pub fn deployment(ns: &str, name: &str, desired: u32, ready: u32, tag: &str) -> DeploymentRow {
    let v = json!({
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"),
            "resourceVersion": "1", "generation": 2,
            "annotations": {"deployment.kubernetes.io/revision": "2"}},
        "spec": {"replicas": desired, "template": {"spec": {"containers": [
            {"name": name, "image": format!("ghcr.io/controle-digital/{name}:{tag}")}]}}},
        "status": {"observedGeneration": 2, "replicas": desired, "updatedReplicas": desired,
            "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [{"type": "Progressing", "status": "True",
                "reason": "NewReplicaSetAvailable"}]}
    });
    serde_json::from_value::<WatchedDeployment>(v).unwrap().row
}

/// A Service selecting `app: NAME`, plus `version: COLOUR` for a blue/green one.
pub fn service(ns: &str, name: &str, colour: Option<&str>) -> ServiceRow {
    let mut selector = json!({"app": name});
    if let Some(c) = colour {
        selector["version"] = json!(c);
    }
    let v = json!({
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-svc-{name}"),
            "resourceVersion": "1"},
        "spec": {"type": "ClusterIP", "selector": selector,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}]}
    });
    serde_json::from_value::<WatchedService>(v).unwrap().row
}

pub fn feed(state: &mut State, env: usize, update_: EnvUpdate) {
    update(
        state,
        Event::Watch {
            env,
            update: update_,
        },
    );
}

pub const SERVICES: [&str; 3] = ["customer-adapter", "graphql-gateway", "metadata-catalog"];
pub const NODES: [&str; 3] = ["k3s-node-1", "k3s-node-2", "k3s-node-3"];

/// The DictaMesh scenario as the watchers would deliver it: 1/2/3 replicas, all ready.
pub fn populated(w: u16, h: u16) -> State {
    let mut s = state(w, h);
    for (env, (ns, replicas, tag)) in [
        ("dictamesh-dev", 1, "v1.2.0"),
        ("dictamesh-staging", 2, "v1.2.0"),
        ("dictamesh-prod", 3, "v1.1.4"),
    ]
    .into_iter()
    .enumerate()
    {
        for u in [
            EnvUpdate::Pods(WatchUpdate::Init),
            EnvUpdate::Deployments(WatchUpdate::Init),
            EnvUpdate::Services(WatchUpdate::Init),
        ] {
            feed(&mut s, env, u);
        }
        for (si, svc) in SERVICES.iter().enumerate() {
            // prod's graphql-gateway is the blue/green pair (config/environments.yaml).
            let pair = env == 2 && *svc == "graphql-gateway";
            let deployments = if pair {
                vec![
                    deployment(ns, "graphql-gateway-blue", replicas, replicas, tag),
                    deployment(ns, "graphql-gateway-green", replicas, replicas, "v1.2.0"),
                ]
            } else {
                vec![deployment(ns, svc, replicas, replicas, tag)]
            };
            for d in deployments {
                feed(
                    &mut s,
                    env,
                    EnvUpdate::Deployments(WatchUpdate::InitApply(d)),
                );
            }
            let colour = pair.then_some("blue");
            feed(
                &mut s,
                env,
                EnvUpdate::Services(WatchUpdate::InitApply(service(ns, svc, colour))),
            );
            for i in 0..replicas {
                let suffix = ["x2kq9", "9wztb", "m4n7c"][i as usize];
                feed(
                    &mut s,
                    env,
                    EnvUpdate::Pods(WatchUpdate::InitApply(pod(PodSpec {
                        ns,
                        deploy: svc,
                        hash: "7d9f5c6b8",
                        suffix,
                        ready: true,
                        restarts: 0,
                        age_secs: 3 * 86400 + 3600 * si as i64,
                        node: NODES[(i as usize + si) % 3],
                    }))),
                );
            }
        }
        for u in [
            EnvUpdate::Pods(WatchUpdate::InitDone),
            EnvUpdate::Deployments(WatchUpdate::InitDone),
            EnvUpdate::Services(WatchUpdate::InitDone),
            EnvUpdate::Events(WatchUpdate::Init),
            EnvUpdate::Events(WatchUpdate::InitDone),
        ] {
            feed(&mut s, env, u);
        }
    }
    s
}

/// Pod `i` of Deployment `svc` in prod, named so that by-name order is by `i`.
pub fn numbered_pod(i: usize, restarts: u32, age_secs: i64) -> PodRow {
    pod(PodSpec {
        ns: "dictamesh-prod",
        deploy: "svc",
        hash: "5d8f7c9b4",
        suffix: &format!("{i:05}"),
        ready: true,
        restarts,
        age_secs,
        node: "k3s-node-1",
    })
}

/// A 160×48 state on prod's pods pane holding exactly `pods`, listed in one batch as
/// the watcher sends a list that streams in.
pub fn prod_pods(pods: impl IntoIterator<Item = PodRow>) -> State {
    let mut s = state(160, 48);
    s.selected_env = 2;
    s.focus = Pane::Pods;
    let mut updates = vec![EnvUpdate::Pods(WatchUpdate::Init)];
    updates.extend(
        pods.into_iter()
            .map(|p| EnvUpdate::Pods(WatchUpdate::InitApply(p))),
    );
    let n = updates.len() - 1;
    updates.push(EnvUpdate::Pods(WatchUpdate::InitDone));
    let (_, changed) = update(&mut s, Event::WatchBatch { env: 2, updates });
    assert!(changed);
    assert_eq!(s.envs[2].pods.len(), n);
    s
}

/// Applies a changed pod to `env`; returns whether the app asked for a frame.
pub fn apply_pod(state: &mut State, env: usize, row: PodRow) -> bool {
    update(
        state,
        Event::Watch {
            env,
            update: EnvUpdate::Pods(WatchUpdate::Apply(row)),
        },
    )
    .1
}

/// A ReplicaSet of Deployment `deploy` in prod's namespace as the API server has it:
/// its `revision`, image `tag`, `replicas` and age in seconds.
pub fn deployment_rs(
    deploy: &str,
    hash: &str,
    revision: u64,
    tag: &str,
    replicas: u32,
    age: i64,
) -> rollcall::domain::ReplicaSetRow {
    let ns = "dictamesh-prod";
    let v = json!({
        "metadata": {"name": format!("{deploy}-{hash}"), "namespace": ns, "resourceVersion": "4",
            "creationTimestamp": ago(age),
            "labels": {"app": deploy, "pod-template-hash": hash},
            "annotations": {"deployment.kubernetes.io/revision": revision.to_string(),
                "deployment.kubernetes.io/desired-replicas": "3",
                "deployment.kubernetes.io/max-replicas": "4",
                "team": "catalog"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy,
                "uid": format!("uid-{deploy}"), "controller": true}]},
        "spec": {"replicas": replicas, "template": {
            "metadata": {"labels": {"app": deploy, "pod-template-hash": hash}},
            "spec": {"containers": [{"name": deploy,
                "image": format!("ghcr.io/controle-digital/{deploy}:{tag}")}]}}},
        "status": {"replicas": replicas, "readyReplicas": replicas},
    });
    serde_json::from_value::<rollcall::domain::WatchedReplicaSet>(v)
        .unwrap()
        .row
}

/// Feeds a ReplicaSet to environment `env`, as the Rollouts feed delivers them.
pub fn feed_rs(state: &mut State, env: usize, row: rollcall::domain::ReplicaSetRow) {
    update(
        state,
        Event::Rollouts {
            env,
            update: rollcall::domain::rollout::RolloutUpdate::ReplicaSets(
                rollcall::domain::WatchUpdate::Apply(row),
            ),
        },
    );
}
