//! A simulator restarted on its state directory keeps its CA and server key, so a client
//! built from the kubeconfig written before reconnects (issue 14): in process, and as
//! `rollcall sim` run twice on one port, the real case, where the Argo CD client built
//! from the argocd config written before (its token) reconnects too. The keys and the
//! files holding tokens are the user's only (0600).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;
use rollcall::clients::argocd::{ArgoClient, Endpoint, Timeouts, cli_current};
use rollcall::clients::kube::{connect, connect_with};
use rollcall_sim::{self as sim, Scenario, SimOptions};
use rollcall_testkit::process::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
}

/// Lists namespaces until it works, within `bound`; the last error otherwise.
async fn answers(client: &kube::Client, bound: Duration) -> Result<(), String> {
    let deadline = Instant::now() + bound;
    loop {
        let err = match Api::<Namespace>::all(client.clone())
            .list(&ListParams::default())
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => rollcall::clients::innermost(&e),
        };
        if Instant::now() > deadline {
            return Err(err);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_simulator_restarted_on_its_state_dir_is_trusted_by_the_old_kubeconfig() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SimOptions {
        scenario: Scenario::Empty,
        state_dir: Some(dir.path().to_owned()),
        ..SimOptions::default()
    };
    let first = sim::start(opts.clone()).await.expect("simulator starts");
    let kubeconfig = Kubeconfig::from_yaml(&first.kubeconfig_yaml()).expect("kubeconfig");
    let client = connect_with(kubeconfig, None).await.expect("client").client;
    answers(&client, Duration::from_secs(5))
        .await
        .expect("the first simulator answers");
    let ca = first.ca_pem();
    let addr = first.addr();
    first.shutdown().await;
    assert_eq!(mode(&dir.path().join("tls/server.key")), 0o600);

    let second = sim::start(SimOptions {
        listen: addr,
        ..opts
    })
    .await
    .expect("simulator starts again");
    assert_eq!(second.ca_pem(), ca, "the same CA");
    answers(&client, Duration::from_secs(10))
        .await
        .expect("the old client reconnects to the restarted simulator");
    second.shutdown().await;
}

/// `rollcall sim` on `ports` (Kubernetes, Argo CD) and `state`, writing its kubeconfig
/// to `out.kubeconfig` and its argocd config to `out.argocd`.
fn rollcall_sim(ports: (u16, u16), state: &Path, dir: &Path, run: &str) -> Child {
    Command::new(BIN)
        .args(["sim", "--scenario", "empty"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", ports.0))
        .arg("--argocd-listen")
        .arg(format!("127.0.0.1:{}", ports.1))
        .arg("--state-dir")
        .arg(state)
        .arg("--argocd-config-out")
        .arg(dir.join(format!("{run}.argocd")))
        .arg("--kubeconfig-out")
        .arg(dir.join(format!("{run}.kubeconfig")))
        .arg("--log-file")
        .arg(dir.join(format!("{run}.log")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rollcall sim starts")
}

fn wait_for_kubeconfig(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let complete = |p: &Path| {
        std::fs::read_to_string(p).is_ok_and(|t| t.contains("current-context") && t.ends_with('\n'))
    };
    while !complete(path) {
        assert!(
            Instant::now() < deadline,
            "rollcall sim wrote no kubeconfig"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollcall_sim_run_again_on_its_state_dir_is_trusted_by_the_old_configs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (state, ports) = (dir.path().join("state"), (free_port(), free_port()));
    let mut first = rollcall_sim(ports, &state, dir.path(), "first");
    let (kubeconfig, argocd) = (
        dir.path().join("first.kubeconfig"),
        dir.path().join("first.argocd"),
    );
    wait_for_kubeconfig(&kubeconfig);
    for private in [
        &kubeconfig,
        &argocd,
        &state.join("tls/server.key"),
        &state.join("argocd/server.secretkey"),
    ] {
        assert_eq!(mode(private), 0o600, "{}", private.display());
    }
    let client = connect(Some(&kubeconfig), None)
        .await
        .expect("client")
        .client;
    let cli = cli_current(Some(&argocd))
        .expect("argocd config")
        .expect("a server");
    let argo = ArgoClient::new(
        &Endpoint {
            server: cli.url,
            insecure: false,
            ca_pem: std::fs::read_to_string(state.join("tls/ca.crt")).ok(),
            token: cli.token,
        },
        Timeouts::default(),
    )
    .expect("argo client");
    let first_answer = answers(&client, Duration::from_secs(10)).await;
    let first_argo = argo.list().await;
    let _ = first.kill();
    let _ = first.wait();
    first_answer.expect("the first simulator answers");
    first_argo.expect("the first Argo CD answers");

    // A new process writing its configs elsewhere: the old clients must not need them.
    let mut second = rollcall_sim(ports, &state, dir.path(), "second");
    wait_for_kubeconfig(&dir.path().join("second.kubeconfig"));
    let second_answer = answers(&client, Duration::from_secs(15)).await;
    let second_argo = argo.list().await;
    let _ = second.kill();
    let _ = second.wait();
    second_answer.expect("the old client reconnects to the restarted simulator");
    second_argo.expect("the old Argo CD client, with its old token, is answered");
}
