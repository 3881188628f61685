//! The Argo CD API handlers and the application controller on the demo world, stepped on the
//! simulated clock (no listener).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use jiff::SignedDuration;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use crate::api::faults::FaultPlan;
use crate::argocd::api::{self, ArgoServer};
use crate::argocd::session::Sessions;
use crate::argocd::state::NAMESPACE;
use crate::controllers::Controllers;
use crate::resources::{APPLICATIONS, DEPLOYMENTS, ROLLOUTS, def};
use crate::store::WriteMode;
use crate::{Scenario, Shared, scenario};

struct World {
    shared: Arc<Shared>,
    ctl: Controllers,
    srv: Arc<ArgoServer>,
    token: String,
    viewer: String,
    _stop: signal::Sender<bool>,
}

fn world() -> World {
    let (shared, stop) = Shared::for_tests();
    let mut ctl = Controllers::new(shared.clone());
    scenario::build(&shared, &mut ctl, Scenario::Dictamesh);
    crate::scenario::argocd::build(&shared, None).unwrap();
    let sessions = Sessions::new("pw");
    let now = jiff::Timestamp::now();
    let (token, viewer) = (
        sessions.api_key("admin", now),
        sessions.api_key("viewer", now),
    );
    let srv = Arc::new(ArgoServer {
        shared: shared.clone(),
        sessions,
        tls: false,
        recorder: Default::default(),
    });
    World {
        shared,
        ctl,
        srv,
        token,
        viewer,
        _stop: stop,
    }
}

impl World {
    /// Runs the controllers for `secs` of simulated time.
    fn run(&mut self, secs: i64) {
        for _ in 0..secs * 4 {
            self.ctl.drain();
            self.ctl.tick();
            self.ctl.drain();
            self.shared.clock.advance(SignedDuration::from_millis(250));
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut h = HeaderMap::new();
        if let Some(t) = token {
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        if body.is_some() {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let b = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let r = api::handle(
            State(self.srv.clone()),
            method,
            path.parse::<Uri>().unwrap(),
            h,
            b,
        )
        .await;
        let code = r.status().as_u16();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            code,
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
        )
    }

    fn app(&self, name: &str) -> Value {
        self.shared
            .store
            .get(def(APPLICATIONS), NAMESPACE, name)
            .unwrap()
            .value()
    }
}

const APP: &str = "/api/v1/applications/customer-adapter-prod";

#[tokio::test]
async fn demo_apps_match_the_cluster() {
    let w = world();
    let (code, list) = w
        .call(
            Method::GET,
            "/api/v1/applications?fields=items.metadata.name",
            Some(&w.token),
            None,
        )
        .await;
    assert_eq!(code, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9);
    assert!(
        list["items"][0].get("spec").is_none(),
        "fields keeps only names"
    );
    let ca = w.app("customer-adapter-prod");
    let h = ca["status"]["history"].as_array().unwrap();
    assert_eq!(h.len(), 3, "v1.1.3, v1.1.4, v1.2.0: {h:?}");
    assert_eq!(
        h.iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(ca["status"]["sync"]["status"], "Synced");
    assert_eq!(ca["status"]["sync"]["revision"], h[2]["revision"]);
    // The canary is paused at its first step: Argo CD calls that Suspended.
    assert_eq!(ca["status"]["health"]["status"], "Suspended");
    let images = &ca["status"]["summary"]["images"];
    assert_eq!(
        images,
        &json!(["ghcr.io/controle-digital/customer-adapter:v1.2.0"])
    );
    // Every history revision resolves in the GitOps repo to the image that ran then.
    let tags: Vec<String> = h
        .iter()
        .map(|e| {
            let m = w
                .shared
                .gitops
                .manifests_at(
                    e["revision"].as_str().unwrap(),
                    "infrastructure/k8s/overlays/prod/customer-adapter",
                )
                .unwrap();
            m[0].1[0].1.rsplit(':').next().unwrap().to_string()
        })
        .collect();
    assert_eq!(tags, ["v1.1.3", "v1.1.4", "v1.2.0"]);
    let dev = w.app("graphql-gateway-dev");
    assert_eq!(dev["status"]["health"]["status"], "Healthy");
    assert_eq!(dev["spec"]["destination"]["namespace"], "dictamesh-dev");
    let d = w
        .shared
        .store
        .get(def(DEPLOYMENTS), "dictamesh-dev", "graphql-gateway")
        .unwrap()
        .value();
    assert_eq!(
        d["metadata"]["annotations"][crate::argocd::state::TRACKING],
        "graphql-gateway-dev:apps/Deployment:dictamesh-dev/graphql-gateway"
    );
}

#[tokio::test]
async fn errors_have_argocd_shape() {
    let w = world();
    let (code, v) = w
        .call(Method::GET, "/api/v1/applications", None, None)
        .await;
    assert_eq!(
        (code, v["error"].as_str()),
        (401, Some("no session information"))
    );
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    let r = api::handle(
        State(w.srv.clone()),
        Method::POST,
        format!("{APP}/sync").parse().unwrap(),
        h,
        Bytes::from("{}"),
    )
    .await;
    assert_eq!(r.status().as_u16(), 415);
    let (code, v) = w
        .call(
            Method::POST,
            &format!("{APP}/rollback"),
            Some(&w.token),
            Some(json!({"id": 1})),
        )
        .await;
    assert_eq!((code, v["code"].as_u64()), (400, Some(9)));
    assert_eq!(
        v["message"],
        "rollback cannot be initiated when auto-sync is enabled"
    );
    let (code, v) = w
        .call(
            Method::POST,
            &format!("{APP}/rollback"),
            Some(&w.token),
            Some(json!({"id": "1"})),
        )
        .await;
    assert_eq!((code, v["code"].as_u64()), (400, Some(3)));
    let (code, _) = w
        .call(
            Method::GET,
            "/api/v1/applications/x?project=dictamesh",
            Some(&w.token),
            None,
        )
        .await;
    assert_eq!(code, 404);
    let (code, v) = w
        .call(
            Method::PUT,
            &format!("{APP}/spec"),
            Some(&w.viewer),
            Some(json!({})),
        )
        .await;
    assert_eq!((code, v["code"].as_u64()), (403, Some(7)));
    let (code, v) = w
        .call(
            Method::GET,
            "/api/v1/session/userinfo",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(
        (code, &v),
        (
            200,
            &json!({"loggedIn": true, "username": "viewer", "iss": "argocd"})
        )
    );
    let (code, v) = w
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"username": "admin", "password": "x"})),
        )
        .await;
    assert_eq!(
        (code, v["error"].as_str()),
        (401, Some("Invalid username or password"))
    );
    let (code, v) = w
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"username": "admin", "password": "pw"})),
        )
        .await;
    assert_eq!(code, 200);
    let login = v["token"].as_str().unwrap().to_string();
    let (code, _) = w.call(Method::GET, APP, Some(&login), None).await;
    assert_eq!(code, 200);
    w.shared.faults.set(FaultPlan {
        argocd_down_secs: Some(30.0),
        ..FaultPlan::default()
    });
    let (code, _) = w.call(Method::GET, APP, Some(&login), None).await;
    assert_eq!(code, 503);
}

#[tokio::test]
async fn rollback_moves_the_rollout_back_and_appends_history() {
    let mut w = world();
    // Automated sync off with UpdateSpec (what `argocd app set --sync-policy none` sends).
    let mut spec = w.app("customer-adapter-prod")["spec"].clone();
    spec["syncPolicy"]
        .as_object_mut()
        .unwrap()
        .remove("automated");
    let (code, v) = w
        .call(
            Method::PUT,
            &format!("{APP}/spec"),
            Some(&w.token),
            Some(spec),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert!(v["syncPolicy"].get("automated").is_none());
    let (code, v) = w
        .call(
            Method::POST,
            &format!("{APP}/rollback"),
            Some(&w.token),
            Some(json!({"id": 1})),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    w.run(1);
    assert_eq!(
        w.app("customer-adapter-prod")["status"]["operationState"]["phase"],
        "Running"
    );
    w.run(30);
    let app = w.app("customer-adapter-prod");
    let st = &app["status"];
    assert_eq!(
        st["operationState"]["phase"], "Succeeded",
        "{}",
        st["operationState"]
    );
    assert_eq!(
        st["operationState"]["message"],
        "successfully synced (all tasks run)"
    );
    let h = st["history"].as_array().unwrap();
    assert_eq!(h.last().unwrap()["id"], 3);
    assert_eq!(h.last().unwrap()["revision"], h[1]["revision"]);
    assert_eq!(
        h.last().unwrap()["initiatedBy"],
        json!({"username": "admin"})
    );
    assert_eq!(st["sync"]["status"], "OutOfSync");
    assert_eq!(st["health"]["status"], "Healthy", "{}", st["resources"]);
    let ro = w
        .shared
        .store
        .get(def(ROLLOUTS), "dictamesh-prod", "customer-adapter")
        .unwrap()
        .value();
    assert_eq!(
        ro["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/controle-digital/customer-adapter:v1.1.4"
    );
    // Fast rollback to the stable ReplicaSet: no canary steps again.
    assert_eq!(ro["status"]["phase"], "Healthy");
    assert_eq!(ro["status"]["stableRS"], ro["status"]["currentPodHash"]);
    assert!(app.get("operation").is_none());

    // Sync back to HEAD, terminated before it applies.
    let (code, _) = w
        .call(
            Method::POST,
            &format!("{APP}/sync"),
            Some(&w.token),
            Some(json!({"revision": "HEAD"})),
        )
        .await;
    assert_eq!(code, 200);
    w.run(0);
    w.ctl.drain();
    w.ctl.tick();
    let (code, v) = w
        .call(
            Method::DELETE,
            &format!("{APP}/operation"),
            Some(&w.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    w.run(3);
    let app = w.app("customer-adapter-prod");
    assert_eq!(app["status"]["operationState"]["phase"], "Failed");
    assert_eq!(
        app["status"]["operationState"]["message"],
        "Operation terminated"
    );
    assert_eq!(app["status"]["history"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn self_heal_reverts_drift_and_manual_apps_stay_out_of_sync() {
    let mut w = world();
    let set_image = |w: &World, ns: &str, tag: &str| {
        let e = w
            .shared
            .store
            .get(def(DEPLOYMENTS), ns, "metadata-catalog")
            .unwrap();
        let old = e.value();
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!(format!("ghcr.io/controle-digital/metadata-catalog:{tag}"));
        let mut new =
            crate::api::admission::finish_update(def(DEPLOYMENTS), None, &old, new).unwrap();
        w.shared
            .store
            .write(
                def(DEPLOYMENTS),
                &mut new,
                WriteMode::Update(Some(e.meta.rv)),
            )
            .unwrap();
    };
    set_image(&w, "dictamesh-dev", "hotfix");
    set_image(&w, "dictamesh-staging", "hotfix");
    w.ctl.drain();
    w.ctl.tick();
    // HEAD moved on since dev's last sync (prod's release), so the auto-sync starts at once.
    let dev = w.app("metadata-catalog-dev");
    assert_eq!(dev["status"]["sync"]["status"], "OutOfSync");
    assert_eq!(dev["operation"]["initiatedBy"], json!({"automated": true}));
    w.run(20);
    let img = |w: &World, ns: &str| {
        w.shared
            .store
            .get(def(DEPLOYMENTS), ns, "metadata-catalog")
            .unwrap()
            .value()["spec"]["template"]["spec"]["containers"][0]["image"]
            .clone()
    };
    assert_eq!(
        img(&w, "dictamesh-dev"),
        "ghcr.io/controle-digital/metadata-catalog:v1.2.0"
    );
    let dev = w.app("metadata-catalog-dev");
    assert_eq!(dev["status"]["sync"]["status"], "Synced");
    assert_eq!(
        dev["status"]["history"].as_array().unwrap().last().unwrap()["initiatedBy"],
        json!({"automated": true})
    );
    // Staging syncs by hand: the drift stays, reported.
    assert_eq!(
        img(&w, "dictamesh-staging"),
        "ghcr.io/controle-digital/metadata-catalog:hotfix"
    );
    assert_eq!(
        w.app("metadata-catalog-staging")["status"]["sync"]["status"],
        "OutOfSync"
    );
}
