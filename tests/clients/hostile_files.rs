//! Files that are not what they seem, where rollcall reads config: a symlink to
//! /dev/zero, a FIFO, a 200 MB file. Each is refused at once with one line that names
//! the file and says what it is; a normal file beside them still loads. (Here rather
//! than in flows: making a FIFO takes the `mkfifo` tool.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use rollcall::app::Action;
use rollcall::clients::argocd::token_for;
use rollcall::clients::kube::read_kubeconfig;
use rollcall::config::{self, LoadOptions};
use tempfile::TempDir;

/// Runs `f` on another thread and fails the test if it has not returned within a few
/// seconds: before the file check, a FIFO blocked the read forever.
fn soon<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("returned instead of blocking on the file")
}

enum Hostile {
    DevZero,
    Fifo,
    Sparse200Mb,
}

fn make(path: &Path, what: &Hostile) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    match what {
        Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
        Hostile::Fifo => {
            let made = Command::new("mkfifo")
                .arg(path)
                .status()
                .expect("mkfifo runs");
            assert!(made.success(), "mkfifo {}", path.display());
        }
        // Sparse: the file system says 200 MB, nothing is written to disk.
        Hostile::Sparse200Mb => std::fs::File::create(path)
            .unwrap()
            .set_len(200_000_000)
            .unwrap(),
    }
}

const EXPECTED: [(Hostile, &str); 3] = [
    (Hostile::DevZero, "not a regular file (a character device)"),
    (Hostile::Fifo, "not a regular file (a FIFO)"),
    (
        Hostile::Sparse200Mb,
        "190.7 MiB is over the 4 MiB limit for a config file",
    ),
];

fn load_error(dir: PathBuf) -> String {
    soon(move || {
        match config::load::<Action>(&LoadOptions {
            dir: Some(&dir),
            theme: None,
        }) {
            Ok(_) => panic!("loaded a hostile config"),
            Err(e) => e.to_string(),
        }
    })
}

#[test]
fn every_config_file_is_refused_when_not_a_regular_file_or_too_large() {
    for relative in [
        "environments.yaml",
        "checklists.yaml",
        "runbooks/production.yaml",
        "keys.yaml",
        "themes/default.yaml",
    ] {
        for (what, reason) in &EXPECTED {
            let dir = TempDir::new().unwrap();
            let path = dir.path().join(relative);
            make(&path, what);
            assert_eq!(
                load_error(dir.path().to_path_buf()),
                format!("{}: {reason}", path.display())
            );
        }
    }
}

#[test]
fn a_runbook_job_manifest_is_checked_like_the_config() {
    let dir = TempDir::new().unwrap();
    let runbook = "title: Production\nphases:\n  - name: T-0\n    title: Go\n    at: 0\n    steps:\n      - id: smoke\n        title: Smoke tests\n        run:\n          kind: job\n          manifest: smoke.yaml\n";
    std::fs::create_dir_all(dir.path().join("runbooks")).unwrap();
    std::fs::write(dir.path().join("runbooks/production.yaml"), runbook).unwrap();
    make(&dir.path().join("runbooks/smoke.yaml"), &Hostile::Fifo);
    let err = load_error(dir.path().to_path_buf());
    assert!(
        err.ends_with("smoke.yaml: not a regular file (a FIFO)"),
        "{err}"
    );
}

#[test]
fn a_normal_config_file_still_loads_through_a_symlink() {
    let dir = TempDir::new().unwrap();
    let real = dir.path().join("real-environments.yaml");
    let builtin = include_str!("../../config/environments.yaml");
    std::fs::write(&real, builtin).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("environments.yaml")).unwrap();
    let path = dir.path().to_path_buf();
    let config = soon(move || {
        config::load::<Action>(&LoadOptions {
            dir: Some(&path),
            theme: None,
        })
    })
    .expect("a normal file loads");
    assert_eq!(config.environments.len(), 3);
    assert_eq!(config.sources, [dir.path().join("environments.yaml")]);
}

#[test]
fn a_kubeconfig_that_is_no_regular_file_is_refused_at_once() {
    for (what, reason) in [
        (Hostile::DevZero, "not a regular file (a character device)"),
        (Hostile::Fifo, "not a regular file (a FIFO)"),
        (
            Hostile::Sparse200Mb,
            "190.7 MiB is over the 16 MiB limit for a kubeconfig",
        ),
    ] {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("config");
        make(&path, &what);
        let given = path.clone();
        let err = soon(move || read_kubeconfig(Some(&given)).unwrap_err().to_string());
        assert_eq!(
            err,
            format!("cannot read kubeconfig {}: {reason}", path.display())
        );
    }
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:6443', certificate-authority: ca.pem}\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let kubeconfig = read_kubeconfig(Some(&path)).expect("a normal kubeconfig reads");
    assert_eq!(kubeconfig.current_context.as_deref(), Some("c"));
    let ca = kubeconfig.clusters[0].cluster.as_ref().unwrap();
    assert_eq!(
        ca.certificate_authority.as_deref(),
        dir.path().join("ca.pem").to_str(),
        "relative paths still resolve against the kubeconfig's directory"
    );
}

#[test]
fn the_argocd_cli_config_and_the_ticks_file_are_checked_too() {
    let dir = TempDir::new().unwrap();
    let cli = dir.path().join("argocd-config");
    make(&cli, &Hostile::Fifo);
    let given = cli.clone();
    let err = soon(move || {
        token_for("https://argocd.example", Some(&given))
            .unwrap_err()
            .to_string()
    });
    assert_eq!(
        err,
        format!("{}: not a regular file (a FIFO)", cli.display())
    );

    let ticks = dir.path().join("ticks.json");
    make(&ticks, &Hostile::DevZero);
    let given = ticks.clone();
    let (loaded, warning) = soon(move || rollcall::wiring::ticks::load(&given));
    assert!(loaded.is_empty());
    assert_eq!(
        warning.as_deref(),
        Some(
            format!(
                "cannot read unsynced ticks {}: not a regular file (a character device)",
                ticks.display()
            )
            .as_str()
        )
    );
}
