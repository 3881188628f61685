//! End to end: `rollcall demo` in a pseudo-terminal, against the embedded simulator's
//! Argo CD API. Roll customer-adapter-prod back to the previous history id as the seed's
//! `argocd app rollback` does: Argo CD refuses while auto-sync is on, so rollcall offers to
//! turn it off first (its own audited command), then sends the rollback (dry run first),
//! then waits for Healthy. The release matrix ends on the old revision, Healthy.

// Not every helper of the shared pty driver is used here.
use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const STARTUP: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(20);
const APP: &str = "customer-adapter-prod";

#[test]
fn demo_rolls_customer_adapter_prod_back_through_argo_cd() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut tui = Tui::demo(BIN, dir.path(), &["--speed", "20"]);
    tui.wait_for("Environments", STARTUP);

    // The matrix comes from the simulator's Argo CD: prod's auto-sync is policy drift.
    tui.send("5");
    tui.wait_for("Releases · Argo CD", STEP);
    tui.wait_for(&format!("{APP}: auto-sync on, policy manual+window"), STEP);

    // Prod's history: id 2 (v1.2.0) runs now; id 1 is the previous one.
    tui.send("]]\r");
    let screen = tui.wait_for(&format!("History · {APP} · prod"), STEP);
    assert!(screen.contains("auto-sync ON"), "{screen}");
    let current = history_row(&screen, "2").unwrap_or_else(|| panic!("no id 2:\n{screen}"));
    assert!(current.contains("v1.2.0"), "{current}");

    // R on id 1: Argo CD would refuse, so the dialog offers auto-sync off first.
    tui.send("jR");
    let screen = tui.wait_for(&format!("Disable auto-sync of {APP} (prod)"), STEP);
    assert!(
        screen.contains(&format!("PATCH /api/v1/applications/{APP}")),
        "{screen}"
    );
    assert!(
        screen.contains("rollback cannot be initiated when auto-sync"),
        "{screen}"
    );
    // Production: Enter without the typed name does nothing.
    tui.send("\r");
    tui.wait_for(&format!("Disable auto-sync of {APP} (prod)"), STEP);
    tui.confirm(APP, STEP);

    // Then the rollback itself, with its exact body.
    let screen = tui.wait_for(&format!("POST /api/v1/applications/{APP}/rollback"), STEP);
    assert!(screen.contains("\"id\": 1,"), "{screen}");
    tui.confirm(APP, STEP);

    // Argo CD runs it: a new history id 3 at id 1's revision, v1.1.4, Healthy, and
    // the app OutOfSync against HEAD (as the real controller leaves a rollback).
    let screen = tui.wait_until("the rollback to finish Healthy", STARTUP, |s| {
        let done = history_row(s, "3").is_some_and(|r| r.contains("v1.1.4"))
            && s.contains("✔ Healthy")
            && s.contains("auto-sync off");
        Ok(done.then(|| s.to_string()))
    });
    let rolled = history_row(&screen, "3").unwrap_or_default();
    let previous = history_row(&screen, "1").unwrap_or_default();
    let revision = |row: &str| {
        row.split_whitespace()
            .find(|w| w.len() == 7)
            .map(str::to_owned)
    };
    assert_eq!(revision(&rolled), revision(&previous), "{screen}");
    assert!(screen.contains("OutOfSync"), "{screen}");

    // The matrix (Esc back to it) shows prod's customer-adapter at the old image.
    tui.send("\x1b");
    tui.wait_until("the matrix at v1.1.4", STEP, |s| {
        let row = s
            .lines()
            .find(|l| l.contains("customer-adapter  ") && l.contains("┃"));
        Ok(row.is_some_and(|r| r.contains("v1.1.4 ○✔")).then_some(()))
    });

    // Two audited commands: auto-sync off, then the rollback.
    let log = std::fs::read_to_string(&audit).expect("audit log written");
    let lines = rollcall_testkit::audit::outcomes(&audit);
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["command"], "argocd-disable-auto-sync", "{log}");
    assert_eq!(lines[1]["command"], "argocd-rollback", "{log}");
    assert_eq!(lines[1]["id"], 1, "{log}");
    assert!(lines.iter().all(|l| l["result"] == "ok"), "{log}");

    tui.quit(STEP);
}

/// The history line whose ID column is `id`.
fn history_row(screen: &str, id: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.rsplit('┃').nth(1).unwrap_or(""))
        .find(|l| {
            let cols: Vec<&str> = l
                .trim_start_matches(['▶', '●', ' '])
                .split_whitespace()
                .collect();
            cols.first() == Some(&id) && cols.get(1).is_some_and(|r| r.len() == 7)
        })
        .map(str::to_owned)
}
