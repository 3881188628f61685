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

/// `rollcall advise` against the simulator's demo world: prod's customer-adapter is a
/// canary paused mid-way, so aborting it ranks first; the Argo CD rollback follows, with
/// auto-sync off first (the demo's app has it on). Bad input exits 2.
#[test]
fn advise_ranks_the_canary_abort_first_in_the_demo() {
    let (dir, doc, text) = advise_json("customer-adapter");
    let plans = doc["plans"].as_array().unwrap();
    assert_eq!(
        plans[0]["steps"][0]["action"]["kind"], "abort-canary",
        "{text}"
    );
    let sends = &plans[0]["steps"][0]["sends"];
    assert_eq!(sends["method"], "PATCH");
    assert!(
        sends["path"]
            .as_str()
            .unwrap()
            .ends_with("/rollouts/customer-adapter/status")
    );
    let kinds: Vec<&str> = plans[1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["disable-auto-sync", "argocd-rollback", "wait-healthy"]
    );

    let out = rollcall(
        dir.path(),
        &["advise", "--env", "prod", "--service", "nope", "--demo"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no service `nope` in prod"));
}

/// `rollcall advise` for prod's metadata-catalog, whose config names its consumer group:
/// every way back ends by replaying the group from when the running release went out
/// (the demo's Argo CD history: 75 hours ago), as the Kafka pane's reset would send it,
/// with the group's lag read from the simulator's broker pod.
#[test]
fn advise_replays_the_catalog_consumer_from_the_running_release_in_the_demo() {
    let (_dir, doc, _) = advise_json("metadata-catalog");
    let at: jiff::Timestamp = doc["at"].as_str().unwrap().parse().unwrap();
    for plan in doc["plans"].as_array().unwrap() {
        let last = plan["steps"].as_array().unwrap().last().unwrap();
        assert_eq!(last["action"]["kind"], "reset-consumer-group", "{plan}");
        assert_eq!(last["action"]["group"], "metadata-catalog-consumer");
        assert!(last["blocker"].is_null(), "the demo's consumer is stopped");
        let to: jiff::Timestamp = last["action"]["to"].as_str().unwrap().parse().unwrap();
        let hours = at.duration_since(to).as_hours();
        assert!((74..=76).contains(&hours), "{to} is {hours}h before {at}");
        assert!(
            last["sends"]["body"]
                .as_str()
                .unwrap()
                .contains("--reset-offsets --group metadata-catalog-consumer"),
            "{last}"
        );
        let risks = plan["risks"].to_string();
        assert!(
            risks.contains("message(s) behind on customers.entity_changed (read"),
            "{risks}"
        );
    }
}

/// The demo's prod graphql-gateway: blue serves v1.1.4, green holds v1.2.0 waiting for
/// its switch. Switching to green is a release, not a way back: the advisor offers the
/// Argo CD rollback and no switch.
#[test]
fn advise_never_offers_a_switch_to_the_newer_colour_in_the_demo() {
    let (_dir, doc, text) = advise_json("graphql-gateway");
    let kinds: Vec<&str> = doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["steps"].as_array().unwrap())
        .map(|s| s["action"]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"argocd-rollback"), "{text}");
    assert!(!kinds.contains(&"switch-blue-green"), "{text}");
}

/// `rollcall advise --env prod --service SERVICE --demo -o json`, which must exit 0: its
/// working directory (kept for more runs), the document, and the text for messages.
fn advise_json(service: &str) -> (tempfile::TempDir, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    let args = [
        "advise",
        "--env",
        "prod",
        "--service",
        service,
        "--demo",
        "-o",
        "json",
    ];
    let out = rollcall(dir.path(), &args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = serde_json::from_str(&text).expect("JSON");
    (dir, doc, text)
}
