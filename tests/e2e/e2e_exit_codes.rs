//! Exit statuses and error lines of the commands a script runs (stderr is a pipe here,
//! never a terminal): 0 clean, 1 attention needed, 2 bad input or could not tell; an
//! error is one plain `rollcall: …` line, without colour-eyre's Location or ANSI codes.
//! A kubeconfig that cannot work at all stops `rollcall run` with status 2 before the
//! terminal is touched.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

/// `rollcall ARGS` with HOME, the XDG directories and TMPDIR in `dir`.
fn rollcall(dir: &Path, args: &[&str]) -> Output {
    std::fs::create_dir_all(dir.join("tmp")).expect("tmp dir");
    Command::new(BIN)
        .args(args)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("TMPDIR", dir.join("tmp"))
        .env_remove("KUBECONFIG")
        .env_remove("ROLLCALL_AUDIT_LOG")
        .env_remove("ROLLCALL_LOG_FILE")
        .env_remove("ROLLCALL_TEST_UNSET_DB_URL")
        .output()
        .expect("rollcall runs")
}

/// One context, `a`, whose server nobody listens on.
const UNREACHABLE_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: a\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: a\n  context:\n    cluster: a\n    user: a\nusers:\n- name: a\n  user:\n    token: t\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run ended with `code`, and said why on exactly one plain line.
fn assert_one_line_error(out: &Output, code: i32, says: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("rollcall: "), "{stderr}");
    assert!(stderr.contains(says), "should say {says:?}:\n{stderr}");
    assert!(!stderr.contains("Location"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "ANSI codes on a pipe: {stderr:?}");
}

/// A config directory with one environment, `dev`, whose database is `database`.
fn config_with_database(dir: &Path, database: &str) -> String {
    let config = dir.join("conf");
    std::fs::create_dir_all(config.join("migrations")).expect("config dir");
    std::fs::write(
        config.join("environments.yaml"),
        format!(
            "environments:\n  - name: dev\n    namespace: dev\n    policy:\n      min_replicas: 1\n      deploy_mode: auto\n    database: {{{database}, migrations: {}}}\n",
            config.join("migrations").display()
        ),
    )
    .expect("environments.yaml");
    config.display().to_string()
}

#[test]
fn migrations_answers_clean_attention_or_could_not_tell() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();

    // The demo's dev is up to date: clean.
    let out = rollcall(dir, &["migrations", "--demo", "--env", "dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Staging is dirty and prod has an unsafe pending migration: attention.
    let out = rollcall(dir, &["migrations", "--demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("DIRTY"), "{}", text(&out.stdout));
    let out = rollcall(
        dir,
        &["migrations", "--demo", "--env", "staging", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    // The built-in environments have no database: nothing could be read.
    let out = rollcall(dir, &["migrations"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("no database configured"));

    // Its URL's variable unset, or its server unreachable: could not tell.
    let unset = config_with_database(dir, "url_env: ROLLCALL_TEST_UNSET_DB_URL");
    let out = rollcall(dir, &["migrations", "--config", &unset]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("ROLLCALL_TEST_UNSET_DB_URL"));
    let unreachable = config_with_database(dir, "url: \"postgres://u:p@127.0.0.1:1/db\"");
    let out = rollcall(dir, &["migrations", "--config", &unreachable]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));

    // A bad --env is bad input, said on one plain line.
    let out = rollcall(dir, &["migrations", "--env", "nope"]);
    assert_one_line_error(&out, 2, "no environment `nope` (known: dev, staging, prod)");
}

#[test]
fn a_kubeconfig_that_cannot_work_stops_run_before_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let check = |args: &[&str], says: &str| {
        let out = rollcall(dir, args);
        assert_one_line_error(&out, 2, says);
        // Nothing drawn: the terminal was never set up.
        assert!(out.stdout.is_empty(), "{:?}", text(&out.stdout));
    };

    let missing = dir.join("no-such-kubeconfig");
    check(
        &["run", "--kubeconfig", &missing.display().to_string()],
        "no-such-kubeconfig",
    );

    let garbage = dir.join("garbage");
    std::fs::write(&garbage, "{{{ this is not a kubeconfig").expect("write");
    check(
        &["run", "--kubeconfig", &garbage.display().to_string()],
        "cannot read kubeconfig: failed to parse kubeconfig YAML",
    );

    let one_context = dir.join("kubeconfig");
    std::fs::write(&one_context, UNREACHABLE_KUBECONFIG).expect("write");
    check(
        &[
            "run",
            "--kubeconfig",
            &one_context.display().to_string(),
            "--context",
            "nope",
        ],
        "no context `nope` in the kubeconfig (it has: a)",
    );
}

#[test]
fn status_and_checklist_say_2_when_the_cluster_cannot_be_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    // A server nobody listens on.
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, UNREACHABLE_KUBECONFIG).expect("write");
    let kubeconfig = kubeconfig.display().to_string();
    let out = rollcall(dir, &["status", "--kubeconfig", &kubeconfig]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("cannot list workloads"));
    let release = "customer-adapter@v1.2.0";
    let args = [
        "checklist",
        "--kubeconfig",
        &kubeconfig,
        "--env",
        "prod",
        "--release",
        release,
    ];
    let out = rollcall(dir, &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
}

#[test]
fn other_errors_are_one_plain_line_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let out = rollcall(
        dir.path(),
        &[
            "sim",
            "--listen",
            &addr,
            "--argocd-listen",
            "127.0.0.1:0",
            "--log-file",
            &dir.path().join("sim.log").display().to_string(),
        ],
    );
    assert_one_line_error(&out, 1, &format!("cannot start the simulator on {addr}"));
}
