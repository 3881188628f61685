//! When something other than the API answers (the simulator's `impostor` fault: an
//! empty 404, a proxy's HTML error page, an SSO sign-in page), the Kubernetes client and
//! the Argo CD client say which URL answered what and what was expected, instead of
//! "Failed to parse error data" or the raw `<!DOCTYPE HTML>`.

use std::time::Duration;

use kube::config::Kubeconfig;
use rollcall::clients::argocd::{ArgoClient, Endpoint, Timeouts, Token};
use rollcall::clients::kube::{KubeActions, connect_with, resource};
use rollcall_sim::{FaultPlan, Impostor, SimHandle};
use rollcall_testkit::cluster;

const ROLLOUT: &str =
    "/apis/argoproj.io/v1alpha1/namespaces/dictamesh-prod/rollouts/customer-adapter";

fn impostor(sim: &SimHandle, impostor: Impostor) {
    sim.set_faults(FaultPlan {
        impostor: Some(impostor),
        ..FaultPlan::default()
    });
}

/// A GET of prod's customer-adapter Rollout through rollcall's connection: its error
/// as the screen shows it, and its status code.
async fn rollout_error(sim: &SimHandle) -> (String, Option<u16>) {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).expect("kubeconfig");
    let conn = connect_with(kubeconfig, None).await.expect("connects");
    let rollouts = resource("argoproj.io", "v1alpha1", "Rollout", "rollouts");
    let err = KubeActions::new(conn.client)
        .get(&rollouts, "dictamesh-prod", "customer-adapter")
        .await
        .expect_err("the impostor answers");
    (err.to_string(), err.code())
}

fn argocd(sim: &SimHandle) -> ArgoClient {
    let endpoint = Endpoint {
        server: sim.argocd_url(),
        insecure: false,
        ca_pem: sim.argocd_ca_pem(),
        token: Some(Token::new(sim.argocd_token())),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(10),
        stream_idle: Duration::from_secs(10),
    };
    ArgoClient::new(&endpoint, timeouts).expect("client builds")
}

fn assert_not_raw(message: &str) {
    for raw in [
        "Failed to parse error data",
        "<!DOCTYPE",
        "<html",
        "expected value at line",
    ] {
        assert!(!message.contains(raw), "{raw:?} shown: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_errors_say_what_answered_and_what_was_expected() {
    let sim = cluster::start(1.0).await;
    let url = format!("{}{ROLLOUT}", sim.base_url().trim_end_matches('/'));

    impostor(&sim, Impostor::Empty404);
    let (message, code) = rollout_error(&sim).await;
    assert_eq!(
        message,
        format!(
            "{url} answered 404 with an empty body: is this a Kubernetes API server (and is Argo Rollouts installed)?"
        )
    );
    // Still a 404: what is not there is not there.
    assert_eq!(code, Some(404));

    impostor(&sim, Impostor::Html);
    let (message, code) = rollout_error(&sim).await;
    assert_eq!(
        message,
        format!(
            "{url} answered 404 with an HTML page (text/html), not the Kubernetes API: a proxy or login page?"
        )
    );
    // From something in between, never from an API server: not a refusal of the request.
    assert_eq!(code, Some(502));

    impostor(&sim, Impostor::LoginPage);
    let (message, _) = rollout_error(&sim).await;
    assert_not_raw(&message);
    assert!(
        message.ends_with(
            "answered 200 with an HTML page (text/html; charset=utf-8), not the Kubernetes API: a proxy or login page?"
        ),
        "{message}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_errors_say_what_answered_and_what_was_expected() {
    let sim = cluster::start(1.0).await;
    let c = argocd(&sim);
    let url = format!(
        "{}/api/v1/applications",
        sim.argocd_url().trim_end_matches('/')
    );

    impostor(&sim, Impostor::Empty404);
    let message = c.list().await.expect_err("empty 404").to_string();
    assert_eq!(
        message,
        format!(
            "Argo CD: not found: {url} answered 404 with an empty body: is this Argo CD's API server?"
        )
    );

    impostor(&sim, Impostor::Html);
    let message = c.list().await.expect_err("HTML 404").to_string();
    assert_not_raw(&message);
    assert_eq!(
        message,
        format!(
            "Argo CD: not found: {url} answered 404 with an HTML page (text/html), not Argo CD's API: a proxy or login page?"
        )
    );

    impostor(&sim, Impostor::LoginPage);
    let message = c.list().await.expect_err("sign-in page").to_string();
    assert_not_raw(&message);
    assert!(
        message.ends_with(
            "answered 200 with an HTML page (text/html; charset=utf-8), not Argo CD's API: a proxy or login page?"
        ),
        "{message}"
    );
    let message = c
        .open_stream()
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("not Argo CD's API: a proxy or login page?"),
        "{message}"
    );
    sim.shutdown().await;
}
