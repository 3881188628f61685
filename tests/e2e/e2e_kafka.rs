//! End to end: `rollcall demo` in a pseudo-terminal, the Kafka pane from the keyboard.
//! `K`, the stopped consumer's group, `t`, a datetime hours back typed over the
//! prefilled one, Enter: the dialog shows the broker tool's dry run, partition by
//! partition; confirmed (dev takes Enter), the pane shows the planned offsets committed
//! and the lag up by the replayed count the dialog announced (plus what arrived, as the
//! END column shows). Then the live group's `t` is refused with Kafka's reason and no
//! dialog, and the audit log holds the one reset.

use std::collections::BTreeMap;
use std::time::Duration;

use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const WAIT: Duration = Duration::from_secs(40);
const GROUP: &str = "metadata-catalog-consumer";
const TOPIC: &str = "customers.entity_changed";

/// A partition row of the pane: (committed, end, lag).
type Row = (u64, u64, u64);
/// A partition line of the dialog's plan: (current, new, replayed).
type Planned = BTreeMap<u32, (u64, u64, u64)>;

/// The partition rows of `TOPIC` in the Kafka pane (its heavy border: it has the focus).
fn partition_rows(screen: &str) -> BTreeMap<u32, Row> {
    screen
        .lines()
        .flat_map(|l| l.split('┃'))
        .filter_map(|cell| {
            let words: Vec<&str> = cell.split_whitespace().collect();
            if words.first() != Some(&TOPIC) {
                return None;
            }
            let n = |i: usize| words.get(i)?.parse::<u64>().ok();
            Some((n(1)? as u32, (n(2)?, n(3)?, n(4)?)))
        })
        .collect()
}

/// The group's row in the groups table: its total lag.
fn group_lag(screen: &str, group: &str) -> Option<u64> {
    screen.lines().flat_map(|l| l.split('┃')).find_map(|cell| {
        let words: Vec<&str> = cell
            .trim_start_matches(['▶', ' '])
            .split_whitespace()
            .collect();
        (words.first() == Some(&group)).then(|| words.get(3)?.parse().ok())?
    })
}

/// The groups table: its names in order, and which one is selected.
fn groups(screen: &str) -> (Vec<String>, Option<usize>) {
    let mut names = Vec::new();
    let mut selected = None;
    for cell in screen.lines().flat_map(|l| l.split('┃')) {
        let words: Vec<&str> = cell.split_whitespace().collect();
        let (Some(first), Some(state)) = (words.first(), words.get(1)) else {
            continue;
        };
        if ![
            "Empty",
            "Stable",
            "Dead",
            "PreparingRebalance",
            "CompletingRebalance",
        ]
        .contains(state)
        {
            continue;
        }
        let name = first.trim_start_matches('▶');
        if name.len() < first.len() {
            selected = Some(names.len());
        }
        names.push(name.to_owned());
    }
    (names, selected)
}

/// Moves the groups cursor onto `group` with `j`/`k`.
fn select(tui: &mut Tui, group: &str) {
    let (names, selected) = tui.wait_until(&format!("{group} listed"), WAIT, |s| {
        let (names, selected) = groups(s);
        Ok((names.iter().any(|n| n == group) && selected.is_some()).then_some((names, selected)))
    });
    let (at, to) = (
        selected.unwrap_or(0),
        names.iter().position(|n| n == group).unwrap_or(0),
    );
    let keys = if to >= at {
        "j".repeat(to - at)
    } else {
        "k".repeat(at - to)
    };
    tui.send(&keys);
    tui.wait_for(&format!("▶{group}"), WAIT);
}

/// The dialog's plan: per partition (current, new, replayed), and the announced total.
fn plan(screen: &str) -> Option<(Planned, u64)> {
    let total = screen.lines().find_map(|l| {
        let rest = l.split(&format!("{GROUP}: replays ")).nth(1)?;
        rest.split_whitespace().next()?.parse::<u64>().ok()
    })?;
    let rows: Planned = screen
        .lines()
        .filter_map(|l| {
            let rest = l.split(&format!("{TOPIC}[")).nth(1)?;
            let (p, rest) = rest.split_once(']')?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words[..] {
                [current, "→", new, "replays", n, ..] => Some((
                    p.parse().ok()?,
                    (current.parse().ok()?, new.parse().ok()?, n.parse().ok()?),
                )),
                _ => None,
            }
        })
        .collect();
    (rows.len() == 3).then_some((rows, total))
}

/// The datetime the prompt opened with (now − 1 h on the demo's clock), as typed.
fn prefilled(screen: &str) -> Option<String> {
    screen
        .split(|c: char| c.is_whitespace() || c == '│')
        .find(|w| w.len() == 24 && w.ends_with('Z') && w.as_bytes().get(10) == Some(&b'T'))
        .map(str::to_owned)
}

#[test]
fn a_reset_through_the_kafka_pane_commits_the_planned_offsets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.jsonl");
    let mut tui = Tui::demo(BIN, dir.path(), &["--speed", "10"]);
    tui.wait_for("Environments", WAIT);
    tui.send("K");
    select(&mut tui, GROUP);
    let before = tui.wait_until("the stopped consumer's partitions", WAIT, |s| {
        let rows = partition_rows(s);
        Ok((s.contains(&format!("▶{GROUP} Empty")) && rows.len() == 3).then_some(rows))
    });

    // The prompt opens an hour back; five more: before the consumer stopped.
    tui.send("t");
    let screen = tui.wait_for(&format!("reset offsets · {GROUP}"), WAIT);
    let Some(start) = prefilled(&screen) else {
        tui.fail("no prefilled datetime")
    };
    let Ok(start_at) = start.parse::<jiff::Timestamp>() else {
        tui.fail(&format!("the prompt's {start} is not a time"))
    };
    let at = (start_at - jiff::SignedDuration::from_hours(5))
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    tui.send(&"\x7f".repeat(30));
    tui.wait_until("the prefilled datetime cleared", WAIT, |s| {
        Ok((!s.contains(&start)).then_some(()))
    });
    tui.send(&at);
    tui.wait_for(&format!("→ {at} (UTC)"), WAIT);
    tui.send("\r");

    // The dialog: the tool's dry run, partition by partition.
    tui.wait_for("server dry run ✔", WAIT);
    let (planned, replayed) = tui.wait_until("the plan in the dialog", WAIT, |s| Ok(plan(s)));
    assert_eq!(
        planned.values().map(|(_, _, r)| r).sum::<u64>(),
        replayed,
        "{planned:?}"
    );
    assert!(replayed > 0, "{planned:?}");
    for (p, (current, new, n)) in &planned {
        assert_eq!(current - new, *n, "partition {p}");
        assert_eq!(before[p].0, *current, "the pane read {before:?}");
    }
    tui.confirm(GROUP, WAIT);

    // Committed where the plan said; the lag up by what was replayed and what arrived.
    let after = tui.wait_until("the planned offsets committed", WAIT, |s| {
        let rows = partition_rows(s);
        let done = rows.len() == 3 && planned.iter().all(|(p, (_, new, _))| rows[p].0 == *new);
        Ok(done.then_some(rows))
    });
    let lag = |rows: &BTreeMap<u32, Row>| rows.values().map(|r| r.2).sum::<u64>();
    let arrived: u64 = after.iter().map(|(p, r)| r.1 - before[p].1).sum();
    assert_eq!(
        lag(&after),
        lag(&before) + replayed + arrived,
        "{before:?} → {after:?}"
    );
    for (p, (committed, end, lag)) in &after {
        assert_eq!(end - committed, *lag, "partition {p}");
    }
    let screen = tui.wait_for(
        &format!("✔ {GROUP} reset to {at}: replays {replayed} messages"),
        WAIT,
    );
    assert_eq!(group_lag(&screen, GROUP), Some(lag(&after)), "{screen}");

    // The live group: refused at once with Kafka's reason, no dialog.
    select(&mut tui, "graphql-gateway-cache");
    tui.send("t");
    let screen = tui.wait_for(
        "graphql-gateway-cache is Stable with 1 active member(s)",
        WAIT,
    );
    assert!(
        !screen.contains("reset offsets · graphql-gateway-cache"),
        "{screen}"
    );
    assert!(!screen.contains("Enter confirm"), "{screen}");

    // After a refused change key, plain keys are not commands for a moment.
    std::thread::sleep(Duration::from_millis(900));
    tui.quit(Duration::from_secs(10));
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let sent: Vec<(&str, &str, &str)> = records
        .iter()
        .filter(|r| r["record"] != "session")
        .map(|r| {
            (
                r["record"].as_str().unwrap_or(""),
                r["command"].as_str().unwrap_or(""),
                r["group"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("intent", "kafka-reset-offsets", GROUP),
            ("outcome", "kafka-reset-offsets", GROUP)
        ],
        "{records:?}"
    );
}
