//! The bad-canary drill from the keyboard: `rollcall demo --drill bad-canary`, the
//! canary crash-loops, the on-call engineer aborts it from the canary pane, and the
//! header shows the score: time to mitigate, keys pressed, nothing unsafe sent.

use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);

#[test]
fn the_bad_canary_drill_is_mitigated_from_the_keyboard_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = Tui::demo(BIN, dir.path(), &["--speed", "4", "--drill", "bad-canary"]);
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
    tui.quit(WAIT);
}

/// The replay drill from the keyboard: `rollcall demo --drill consumer-replayed-nothing`
/// puts prod's metadata-catalog-consumer at latest; the header says when the bad release
/// went out; the on-call engineer resets the group to that time from the Kafka pane, and
/// the drill is scored done once the pane reads the group back there.
#[test]
fn the_replay_drill_is_done_by_resetting_the_group_from_the_kafka_pane() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = Tui::demo(
        BIN,
        dir.path(),
        &["--speed", "4", "--drill", "consumer-replayed-nothing"],
    );
    let bad_release = tui.wait_until("the bad release's time in the header", WAIT, |s| {
        let header = s.lines().next().unwrap_or_default();
        Ok(header
            .split_once("bad release ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .filter(|t| t.len() == 24)
            .map(str::to_owned))
    });
    tui.send("]]K");
    // The groups as read: the cursor goes to the consumer that replayed nothing.
    let screen = tui.wait_until("prod's consumer groups", WAIT, |s| {
        Ok(
            (s.contains("▶graphql-gateway-cache") || s.contains("▶metadata-catalog-consumer"))
                .then(|| s.to_owned()),
        )
    });
    if screen.contains("▶graphql-gateway-cache") {
        tui.send("j");
    }
    tui.wait_for("▶metadata-catalog-consumer", WAIT);
    tui.send("t");
    // The prompt opens at an hour ago: replaced by the bad release's time.
    tui.wait_for("to a datetime", WAIT);
    tui.send(&"\x7f".repeat(30));
    tui.send(&bad_release);
    tui.send("\r");
    // The prompt's footer says `Enter confirm` too: wait for the dialog itself, and its
    // plan from the tool's dry run.
    tui.wait_for("Reset offsets of metadata-catalog-consumer", WAIT);
    tui.wait_for("server dry run ✔ metadata-catalog-consumer: replays", WAIT);
    tui.confirm("metadata-catalog-consumer", WAIT);
    let screen = tui.wait_for("DRILL DONE", WAIT);
    let header = screen.lines().next().unwrap_or_default().to_owned();
    assert!(header.contains("DRILL DONE mitigated in"), "{header}");
    assert!(
        header.contains("· 1 sent · nothing unsafe sent"),
        "{header}"
    );
    tui.quit(WAIT);
}

/// `rollcall drill --list` names every drill, the replay drill too, titles in one column.
#[test]
fn drill_list_names_the_replay_drill_with_the_titles_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["drill", "--list"])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("consumer-replayed-nothing  ")
                && l.ends_with("A consumer group that replayed nothing (prod)")),
        "{text}"
    );
    let columns: Vec<usize> = text
        .lines()
        .map(|l| l.find("  ").unwrap() + l[l.find("  ").unwrap()..].find(|c| c != ' ').unwrap())
        .collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]), "{text}");
}
