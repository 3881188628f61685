//! The in-process simulator as a cluster for client tests: started at a speed, and a
//! kube-rs client for it (as admin, another context, or another token).

use k8s_openapi::api::core::v1::Pod;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use rollcall_sim::{self as sim, SimHandle, SimOptions, Tuning};

/// The DictaMesh demo with its clock running `speed` times real time.
pub async fn start(speed: f64) -> SimHandle {
    start_tuned(speed, Tuning::default()).await
}

/// As [`start`], with internal sizes and intervals shrunk to reach edge cases.
pub async fn start_tuned(speed: f64, tuning: Tuning) -> SimHandle {
    let opts = SimOptions {
        speed,
        ..SimOptions::default()
    };
    sim::start_with(opts, tuning)
        .await
        .expect("simulator starts")
}

/// A client from the simulator's kubeconfig, as its admin.
pub async fn client(sim: &SimHandle) -> Client {
    client_for(sim, None, None).await
}

/// A client from the simulator's kubeconfig using `context` (its current one if None)
/// and, if given, `token` instead of the context's.
pub async fn client_for(sim: &SimHandle, context: Option<&str>, token: Option<&str>) -> Client {
    let kc = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).expect("kubeconfig parses");
    let opts = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut cfg = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    if let Some(t) = token {
        cfg.auth_info.token = Some(t.to_string().into());
    }
    Client::try_from(cfg).expect("client")
}

/// The pod's Ready condition is True.
pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}
