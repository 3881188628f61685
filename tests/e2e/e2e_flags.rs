//! The numeric flags of every subcommand are checked when the command line is parsed:
//! a value out of range is refused with exit status 2 and a message giving the range,
//! before anything starts (`demo --speed inf` used to panic, `--speed NaN` to freeze the
//! clock, `sim --fault errors=2` to be taken as 1).

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");

fn rollcall(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(BIN)
        .args(args)
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env_remove("ROLLCALL_AUDIT_LOG")
        .env_remove("ROLLCALL_LOG_FILE")
        .output()
        .expect("rollcall runs")
}

fn assert_refused(args: &[&str], message: &str) {
    let out = rollcall(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "rollcall {args:?}: {stderr}");
    assert!(
        stderr.contains(message),
        "rollcall {args:?} should say {message:?}, said:\n{stderr}"
    );
}

#[test]
fn speeds_that_are_not_a_clock_are_refused() {
    const RANGE: &str = "--speed must be a finite number between 0.01 and 1000";
    for command in ["demo", "sim"] {
        for bad in ["inf", "NaN", "1e18", "0", "-1", "0.001", "1001", "fast"] {
            assert_refused(&[command, "--speed", bad], RANGE);
        }
    }
}

#[test]
fn sim_flags_out_of_range_are_refused_with_the_range() {
    assert_refused(
        &["sim", "--fault", "errors=2"],
        "fault errors: \"2\" is not a number between 0 and 1",
    );
    assert_refused(
        &["sim", "--fault", "latency-ms=1e12"],
        "fault latency-ms: \"1e12\" is not a number between 0 and 60000",
    );
    assert_refused(
        &["sim", "--fault", "drop-watches=0"],
        "fault drop-watches: \"0\" is not a number between 0.05 and 86400",
    );
    assert_refused(&["sim", "--fault", "outage=NaN"], "between 0 and 86400");
    assert_refused(
        &["sim", "--fault", "impostor=teapot"],
        "is not empty-404, html or login-page",
    );
    assert_refused(&["sim", "--pods", "0"], "0 is not in 1..=200000");
    assert_refused(&["sim", "--namespaces", "0"], "0 is not in 1..=10000");
    assert_refused(
        &["sim", "--churn", "1000000"],
        "1000000 is not in 0..=10000",
    );
}
