//! Argo CD Applications for the release pane tests, as the watch delivers them.

use rollcall::app::panes::argocd::ArgoUpdate;
use rollcall::app::{Event, State, update};
use rollcall::domain::{AppRow, WatchUpdate};
use serde_json::{Value, json};

pub const REV_OLD: &str = "3f9a1c7e5b2d4a6c8e0f1a2b3c4d5e6f7a8b9c0d";
pub const REV_NEW: &str = "9c2e7d41a0b3c5d6e7f8091a2b3c4d5e6f708192";

pub fn app_json(name: &str, automated: bool, revision: &str, tag: &str) -> Value {
    let service = name.rsplit_once('-').map_or(name, |(s, _)| s);
    let mut v = json!({
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "dictamesh", "destination": {"namespace": "dictamesh-prod"},
                 "syncPolicy": {}},
        "status": {
            "sync": {"status": "Synced", "revision": revision},
            "health": {"status": "Healthy"},
            "summary": {"images": [format!("ghcr.io/controle-digital/{service}:{tag}")]},
            "resources": [{"kind": "Deployment", "name": service, "status": "Synced",
                           "health": {"status": "Healthy"}}],
            "history": [
                {"id": 3, "revision": REV_OLD, "deployedAt": "2026-11-19T10:02:00Z",
                 "initiatedBy": {"username": "release-bot"}},
                {"id": 4, "revision": REV_NEW, "deployedAt": "2026-11-25T11:30:00Z",
                 "initiatedBy": {"automated": true}}
            ]
        }
    });
    if automated {
        v["spec"]["syncPolicy"]["automated"] = json!({"prune": true, "selfHeal": true});
    }
    v
}

pub fn app(v: Value) -> AppRow {
    serde_json::from_value(v).unwrap()
}

pub fn argo(state: &mut State, env: usize, update_: ArgoUpdate) {
    update(
        state,
        Event::Argocd {
            env,
            update: update_,
        },
    );
}

/// The DictaMesh apps: dev and staging at the new revision with auto-sync on (dev's
/// policy is auto, staging's manual: drift), prod at the new one with auto-sync on.
pub fn with_apps(state: &mut State) {
    for (env, name, tag) in [
        (0, "dev", "v1.2.0"),
        (1, "staging", "v1.2.0"),
        (2, "prod", "v1.2.0"),
    ] {
        argo(state, env, ArgoUpdate::Apps(WatchUpdate::Init));
        for svc in ["customer-adapter", "graphql-gateway", "metadata-catalog"] {
            let automated = !(name == "prod" && svc != "customer-adapter");
            let v = app_json(&format!("{svc}-{name}"), automated, REV_NEW, tag);
            argo(state, env, ArgoUpdate::Apps(WatchUpdate::InitApply(app(v))));
        }
        argo(state, env, ArgoUpdate::Apps(WatchUpdate::InitDone));
    }
}

/// Environment `env`'s Argo CD lists exactly this one app (as JSON), as a fresh watch would.
pub fn only_app(state: &mut State, env: usize, v: Value) {
    argo(state, env, ArgoUpdate::Apps(WatchUpdate::Init));
    argo(state, env, ArgoUpdate::Apps(WatchUpdate::InitApply(app(v))));
    argo(state, env, ArgoUpdate::Apps(WatchUpdate::InitDone));
}
