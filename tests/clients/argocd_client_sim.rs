//! The Argo CD client against the simulator's Argo CD API (its own HTTPS listener, its
//! CA verified): the DictaMesh apps listed, a refused rollback surfacing Argo CD's
//! message, a bad token, the server down, and a slow server cut off by the deadline.

use std::time::{Duration, Instant};

use rollcall::clients::argocd::{ArgoClient, ArgoError, Endpoint, Permission, Timeouts, Token};
use rollcall_sim::{FaultPlan, SimHandle};
use rollcall_testkit::cluster;

fn client(sim: &SimHandle, token: &str, request: Duration) -> ArgoClient {
    let endpoint = Endpoint {
        server: sim.argocd_url(),
        insecure: false,
        ca_pem: sim.argocd_ca_pem(),
        token: Some(Token::new(token)),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        request,
        stream_idle: Duration::from_secs(10),
    };
    ArgoClient::new(&endpoint, timeouts).expect("client builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_the_demo_apps_and_surfaces_the_refused_rollback() {
    let sim = cluster::start(1.0).await;
    let c = client(&sim, sim.argocd_token(), Duration::from_secs(10));
    let list = c.list().await.expect("list");
    let names: Vec<&str> = list.items.iter().map(|a| a.name.as_str()).collect();
    for env in ["dev", "staging", "prod"] {
        for svc in ["customer-adapter", "graphql-gateway", "metadata-catalog"] {
            let name = format!("{svc}-{env}");
            assert!(names.contains(&name.as_str()), "{name} missing: {names:?}");
        }
    }
    let app = c.get("customer-adapter-prod").await.expect("get");
    assert!(app.automated.as_ref().is_some_and(|a| a.self_heal));
    assert!(app.history.len() >= 2, "{:?}", app.history);
    let previous = app.history[app.history.len() - 2].id;
    match c
        .rollback("customer-adapter-prod", previous, false, true)
        .await
    {
        Err(ArgoError::FailedPrecondition { message }) => assert_eq!(
            message,
            "rollback cannot be initiated when auto-sync is enabled"
        ),
        other => panic!("expected Argo CD's refusal, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_unauthorized_with_argo_cds_message() {
    let sim = cluster::start(1.0).await;
    // Shaped like a JWT, signed by nobody the server knows.
    let forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
    let c = client(&sim, forged, Duration::from_secs(10));
    match c.list().await {
        Err(ArgoError::Unauthorized { message }) => {
            assert!(message.starts_with("invalid session"), "{message}")
        }
        other => panic!("expected 401, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_is_an_error_not_a_hang() {
    let sim = cluster::start(1.0).await;
    sim.set_faults(FaultPlan {
        argocd_down_secs: Some(60.0),
        ..FaultPlan::default()
    });
    let c = client(&sim, sim.argocd_token(), Duration::from_secs(10));
    let started = Instant::now();
    let err = c.list().await.expect_err("Argo CD is down");
    assert!(
        matches!(
            err,
            ArgoError::Unreachable { .. } | ArgoError::Api { status: 503, .. }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{err:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_cut_off_at_the_deadline() {
    let sim = cluster::start(1.0).await;
    sim.set_faults(FaultPlan {
        latency_ms: 3_000,
        ..FaultPlan::default()
    });
    let c = client(&sim, sim.argocd_token(), Duration::from_millis(300));
    let started = Instant::now();
    match c.list().await {
        Err(ArgoError::Timeout { after }) => assert_eq!(after, Duration::from_millis(300)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_i_answers_per_token() {
    let sim = cluster::start(1.0).await;
    let admin = client(&sim, sim.argocd_token(), Duration::from_secs(10));
    let viewer = client(&sim, sim.argocd_viewer_token(), Duration::from_secs(10));
    let app = viewer
        .get("customer-adapter-prod")
        .await
        .expect("viewer may get");
    for action in ["sync", "update", "delete"] {
        let p = Permission::on_app(action, &app.project, &app.name);
        assert_eq!(admin.can_i(&p).await, Ok(true), "admin {action}");
        assert_eq!(viewer.can_i(&p).await, Ok(false), "viewer {action}");
    }
    let get = Permission::on_app("get", &app.project, &app.name);
    assert_eq!(viewer.can_i(&get).await, Ok(true));
    let bad = Permission {
        action: "deploy",
        ..get
    };
    assert!(matches!(
        admin.can_i(&bad).await,
        Err(ArgoError::InvalidArgument { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_give_the_images_of_an_old_revision() {
    let sim = cluster::start(1.0).await;
    let c = client(&sim, sim.argocd_viewer_token(), Duration::from_secs(10));
    let app = c.get("customer-adapter-prod").await.expect("get");
    let oldest = &app.history[0].revision;
    let m = c
        .manifests("customer-adapter-prod", oldest)
        .await
        .expect("manifests");
    assert_eq!(
        m.images(),
        ["ghcr.io/controle-digital/customer-adapter:v1.1.3"]
    );
    match c.manifests("customer-adapter-prod", "nope-nope").await {
        Err(ArgoError::Api {
            status: 500,
            message,
            ..
        }) => assert!(
            message.contains("unable to resolve 'nope-nope'"),
            "{message}"
        ),
        other => panic!("expected the repo server's error, got {other:?}"),
    }
    sim.shutdown().await;
}
