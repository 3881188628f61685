//! End to end: `rollcall demo` in a pseudo-terminal, sent SIGINT, SIGQUIT, SIGTERM or
//! SIGHUP with `kill` (not typed: in raw mode Ctrl-C is a key). Each ends rollcall with
//! the terminal given back — the alternate screen left, the cursor shown — and the exit
//! status a shell expects after that signal (128 + its number).

use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const STARTUP: Duration = Duration::from_secs(30);
const EXIT: Duration = Duration::from_secs(10);

/// Runs the demo until its screen shows prod, sends `signal`, and checks the exit.
fn signal_restores_the_terminal(signal: &str, number: u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tui = Tui::demo(BIN, dir.path(), &["--speed", "20"]);
    tui.wait_for("dictamesh-prod", STARTUP);

    tui.signal(signal);
    let status = tui.wait_exit(EXIT);
    tui.assert_terminal_restored();
    assert_eq!(
        status.exit_code(),
        128 + number,
        "after SIG{signal} rollcall exited with {status}"
    );
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores_the_terminal("INT", 2);
}

#[test]
fn sigquit_restores_the_terminal() {
    signal_restores_the_terminal("QUIT", 3);
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal("TERM", 15);
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores_the_terminal("HUP", 1);
}
