//! The simulator as a separate process, and a kube-rs client to it for what the
//! harness does to the cluster: counting pods and planting visible markers.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::json;

pub struct Sim {
    child: Child,
    pub kubeconfig: PathBuf,
    pub client: Client,
    _dir: tempfile::TempDir,
}

impl Sim {
    /// Starts `rollcall sim --scenario scale` and waits until it serves all `pods`.
    pub async fn start(bin: &str, pods: u32, namespaces: u32, churn: u32) -> Result<Sim, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let kubeconfig = dir.path().join("kubeconfig");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new(bin)
            .args([
                "sim",
                "--scenario",
                "scale",
                "--argocd-listen",
                "127.0.0.1:0",
            ])
            .args(["--pods", &pods.to_string()])
            .args(["--namespaces", &namespaces.to_string()])
            .args(["--churn", &churn.to_string()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {bin} sim: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !kubeconfig.exists() {
            if Instant::now() > deadline {
                return Err("the simulator never wrote its kubeconfig".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The file may be seen before it is fully written.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let kc = Kubeconfig::read_from(&kubeconfig).map_err(|e| e.to_string())?;
        let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let client = Client::try_from(config).map_err(|e| e.to_string())?;
        let sim = Sim {
            child,
            kubeconfig,
            client,
            _dir: dir,
        };
        loop {
            let listed = Api::<Pod>::all(sim.client.clone())
                .list_metadata(&ListParams::default())
                .await
                .map(|l| l.items.len());
            if listed.as_ref().is_ok_and(|n| *n >= pods as usize) {
                return Ok(sim);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the simulator never served {pods} pods: {listed:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The pod shown first in an all-namespaces list sorted by (namespace, name).
    pub async fn first_pod(&self) -> Result<(String, String), String> {
        let mut namespaces: Vec<String> = Api::<Namespace>::all(self.client.clone())
            .list_metadata(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        namespaces.sort();
        for ns in namespaces {
            let mut names: Vec<String> = Api::<Pod>::namespaced(self.client.clone(), &ns)
                .list_metadata(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?
                .items
                .into_iter()
                .filter_map(|p| p.metadata.name)
                .collect();
            names.sort();
            if let Some(first) = names.into_iter().next() {
                return Ok((ns, first));
            }
        }
        Err("no pods".into())
    }

    /// Sets the pod's restart count to `marker`: a change every watcher sees and
    /// rollcall shows in its RESTARTS column. Returns when the PATCH was sent, the
    /// start of the change→screen latency.
    pub async fn mark(&self, ns: &str, name: &str, marker: u32) -> Result<Instant, String> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let pod = api.get_status(name).await.map_err(|e| e.to_string())?;
        let mut statuses = pod
            .status
            .and_then(|s| s.container_statuses)
            .ok_or("pod has no container statuses")?;
        for s in &mut statuses {
            s.restart_count = marker as i32;
        }
        let patch = json!({"status": {"containerStatuses": statuses}});
        let sent = Instant::now();
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(|_| sent)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
