//! The bad-canary drill from the keyboard: `rollcall demo --drill bad-canary`, the
//! canary crash-loops, the on-call engineer aborts it from the canary pane, and the
//! header shows the score: time to mitigate, keys pressed, nothing unsafe sent.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);

#[test]
fn the_bad_canary_drill_is_mitigated_from_the_keyboard_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<OsString> = vec![
        "demo".into(),
        "--speed".into(),
        "4".into(),
        "--drill".into(),
        "bad-canary".into(),
        "--audit-log".into(),
        dir.path().join("audit.jsonl").into(),
        "--log-file".into(),
        dir.path().join("rollcall.log").into(),
    ];
    let home: OsString = dir.path().into();
    let state = dir.path().join("state");
    let env: Vec<(&str, &OsStr)> = vec![
        ("HOME", &home),
        ("XDG_CONFIG_HOME", &home),
        ("XDG_STATE_HOME", state.as_os_str()),
    ];
    let mut tui = Tui::spawn(BIN, &args, &env);
    tui.wait_for("DRILL bad-canary", WAIT);
    tui.send("]]3");
    tui.wait_for("Canary · customer-adapter · prod", WAIT);
    // The canary's pods crash-loop: the pane says so before anyone acts.
    tui.wait_until("the canary failing", WAIT, |s| {
        Ok(s.contains("CrashLoopBackOff").then_some(()))
    });
    tui.send("a");
    tui.confirm("customer-adapter", WAIT);
    let screen = tui.wait_for("DRILL DONE", WAIT);
    let header = screen.lines().next().unwrap_or_default().to_owned();
    assert!(header.contains("DRILL DONE mitigated in"), "{header}");
    assert!(header.contains("within par 2m"), "{header}");
    assert!(
        header.contains("· 1 sent · nothing unsafe sent"),
        "{header}"
    );
    tui.send("q");
    tui.wait_exit(WAIT);
}
