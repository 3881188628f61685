//! The real kubectl against a simulator: finding it (a failure under CI=true, a loud
//! skip otherwise), running it with its own kubeconfig and cache dir, and the test
//! manifest.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rollcall_sim::SimHandle;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

/// kubectl on PATH, or None after saying loudly that `what` did not run.
pub fn kubectl_or_skip(what: &str) -> Option<PathBuf> {
    crate::tools::or_skip("kubectl", what)
}

/// kubectl talking to one simulator; its files live in a temp dir dropped with it.
pub struct K {
    bin: PathBuf,
    dir: tempfile::TempDir,
    timeout: Duration,
}

impl K {
    pub fn new(bin: PathBuf, sim: &SimHandle) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("kubeconfig"), sim.kubeconfig_yaml()).expect("kubeconfig");
        K {
            bin,
            dir,
            timeout: Duration::from_secs(30),
        }
    }

    /// How long one run may take before the test fails (30 s unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        let cache = self.dir.path().join("cache");
        c.arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .env("KUBECACHEDIR", &cache)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = timeout(self.timeout, self.cmd(args).output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
            .expect("kubectl runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub async fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args).await;
        assert_eq!(code, 0, "kubectl {args:?}\nstdout: {out}\nstderr: {err}");
        out
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("manifest");
        p.to_string_lossy().into_owned()
    }

    /// Spawns a streaming kubectl and returns its first `n` stdout lines.
    pub async fn lines(
        &self,
        args: &[&str],
        n: usize,
        during: impl std::future::Future,
    ) -> Vec<String> {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut got = Vec::new();
        let first = timeout(Duration::from_secs(20), out.next_line()).await;
        if let Ok(Ok(Some(l))) = first {
            got.push(l);
        }
        during.await;
        while got.len() < n {
            match timeout(Duration::from_secs(20), out.next_line()).await {
                Ok(Ok(Some(l))) => got.push(l),
                _ => break,
            }
        }
        let _ = child.kill().await;
        got
    }
}

pub fn cols(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

pub const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: dictamesh-dev
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/example/web:IMAGE
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /health/ready, port: 8080}
          initialDelaySeconds: 2
";

/// POSTs `body` (JSON) to the simulator's admin path `path` (`/_sim/faults`,
/// `/_sim/unhealthy`) with the real kubectl, as an operator would script it; the body is
/// written to a file in `dir`. Fails the test when kubectl does.
pub fn sim_admin_post(
    kubectl: &std::path::Path,
    kubeconfig: &std::path::Path,
    dir: &std::path::Path,
    path: &str,
    body: &str,
) {
    let file = dir.join(format!(
        "{}.json",
        path.trim_start_matches('/').replace('/', "-")
    ));
    std::fs::write(&file, body).expect("write the admin request body");
    let out = std::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["create", "--raw", path, "-f"])
        .arg(&file)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl create --raw {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
