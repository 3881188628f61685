//! The print-and-exit commands' `--demo` (`migrations`, `status`) seeds databases of its own, in a temporary
//! directory: a running `rollcall demo` reads the ones in the state directory, and
//! seeding replaces the files under it.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

/// Runs `rollcall ARGS` with HOME and the XDG directories in `dir`.
fn rollcall(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("TMPDIR", dir.join("tmp"))
        .output()
        .expect("rollcall runs")
}

#[test]
fn migrations_demo_leaves_the_running_demos_databases_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    // What a running demo has: its databases, as it last left them.
    let demo = dir.path().join("state/rollcall/demo");
    std::fs::create_dir_all(&demo).unwrap();
    let running = b"the running demo's staging database";
    std::fs::write(demo.join("staging.db"), running).unwrap();

    let out = rollcall(dir.path(), &["migrations", "--demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    // 1: the report's answer (staging is dirty), not a failure to report.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Freshly seeded all the same: staging dirty at 4.
    assert!(
        text.contains("version 4 create_entity_relations (DIRTY"),
        "{text}"
    );

    // `rollcall status --demo` likewise (0 or 1 is its answer, 2 that it could not tell).
    let out = rollcall(dir.path(), &["status", "--demo"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(std::fs::read(demo.join("staging.db")).unwrap(), running);
    let names: Vec<_> = std::fs::read_dir(&demo)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["staging.db"], "the demo directory was written to");
    // Its own directory is gone once it is done.
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}
