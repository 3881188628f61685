//! The record comes first (issue 15), with the real binary: a log that cannot be
//! written stops rollcall before the screen opens; a kill -9 while a restart is in
//! flight leaves its intent recorded and the chain intact; quitting with a command in
//! flight asks, and records its outcome as unknown.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rollcall_testkit::audit::{of_kind, records};
use rollcall_testkit::kubectl::{kubectl_or_skip, sim_admin_post};
use rollcall_testkit::process::start_sim;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);

#[test]
fn an_unwritable_audit_log_stops_rollcall_before_the_screen_opens() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["demo", "--audit-log", "/dev/full"])
        .env("XDG_STATE_HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("rollcall runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the audit log /dev/full cannot be written"),
        "{stderr}"
    );
    // The terminal was never switched to the alternate screen.
    assert!(!out.stdout.windows(8).any(|w| w == b"\x1b[?1049h"));
}

/// Every API request from now on waits `ms` before it is served.
fn slow_api(kubectl: &Path, kc: &Path, dir: &Path, ms: u64) {
    let plan = format!(r#"{{"latencyMs": {ms}}}"#);
    sim_admin_post(kubectl, kc, dir, "/_sim/faults", &plan);
}

/// dev's pods listed, the API slowed down, then `r Enter` on dev's first pod: the
/// restart is in flight once its intent is in the log.
fn restart_in_flight(tui: &mut Tui, kubectl: &Path, kc: &Path, dir: &Path) {
    tui.wait_until("dev's pods listed", WAIT, |s| {
        Ok((s.contains("Pods · dev") && s.contains("Running")).then_some(()))
    });
    slow_api(kubectl, kc, dir, 30_000);
    tui.send("2r");
    tui.wait_for("Enter confirm", WAIT);
    tui.send("\r");
    let audit = dir.join("audit.jsonl");
    let deadline = std::time::Instant::now() + WAIT;
    while of_kind(&audit, "intent").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no intent recorded:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn verify(audit: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify", "--audit-log"])
        .arg(audit)
        .output()
        .expect("rollcall audit verify runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_kill_9_in_flight_leaves_the_intent_recorded_and_the_chain_intact() {
    let Some(kubectl) = kubectl_or_skip("kill -9 during an audited action") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    let mut tui = Tui::run_against(BIN, dir.path(), &kc);
    restart_in_flight(&mut tui, &kubectl, &kc, dir.path());
    let killed = Command::new("kill")
        .args(["-9", &tui.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tui.wait_exit(WAIT);

    let audit = dir.path().join("audit.jsonl");
    let all = records(&audit);
    let kinds: Vec<&str> = all.iter().filter_map(|r| r["record"].as_str()).collect();
    assert_eq!(kinds, ["session", "intent"], "{all:?}");
    assert_eq!(all[1]["command"], "restart-deployment");
    assert_eq!(all[1]["env"], "dev");
    let (code, text) = verify(&audit);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("chain intact, 2 records"), "{text}");
    assert!(
        text.contains("restart-deployment") && text.contains("has no outcome"),
        "{text}"
    );
}

#[test]
fn quitting_with_a_command_in_flight_asks_then_records_the_outcome_unknown() {
    let Some(kubectl) = kubectl_or_skip("quitting with a command in flight") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(BIN, dir.path(), WAIT);
    let mut tui = Tui::run_against(BIN, dir.path(), &kc);
    restart_in_flight(&mut tui, &kubectl, &kc, dir.path());
    tui.send("q");
    tui.wait_for("press q again to quit anyway", WAIT);
    tui.send("q");
    let status = tui.wait_exit(WAIT);
    assert!(status.success(), "{status}");

    let audit = dir.path().join("audit.jsonl");
    let outcomes = of_kind(&audit, "outcome");
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0]["result"], "unknown");
    let message = outcomes[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("outcome unknown: rollcall exited"),
        "{message}"
    );
    let (code, text) = verify(&audit);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("has no outcome"), "{text}");
}
