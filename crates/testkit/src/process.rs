//! `rollcall sim` as a child process for the end-to-end tests, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The running simulator; dropping it kills and reaps the process.
pub struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs `BIN sim --speed 20` (BIN is the test's `CARGO_BIN_EXE_rollcall`) with its
/// kubeconfig and log in `dir`, its GitOps repository under `dir/git` (the remote
/// `dir/git/gitops.git`) and its certificates under `dir/state`; returns once the
/// kubeconfig is written, within `wait`.
pub fn start_sim(bin: &str, dir: &Path, wait: Duration) -> (SimProcess, PathBuf) {
    let kc = dir.join("kubeconfig");
    let child = Command::new(bin)
        .args([
            "sim",
            "--speed",
            "20",
            "--argocd-listen",
            "127.0.0.1:0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--kubeconfig-out")
        .arg(&kc)
        .arg("--log-file")
        .arg(dir.join("sim.log"))
        .arg("--gitops-dir")
        .arg(dir.join("git"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rollcall sim starts");
    let deadline = Instant::now() + wait;
    // Written in one go, but read only once complete.
    let complete = |p: &Path| {
        std::fs::read_to_string(p).is_ok_and(|t| t.contains("current-context") && t.ends_with('\n'))
    };
    while !complete(&kc) {
        assert!(
            Instant::now() < deadline,
            "the simulator wrote no kubeconfig"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (SimProcess(child), kc)
}
