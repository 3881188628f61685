//! End to end: `rollcall demo` in a pseudo-terminal shows the migrations of the
//! seeded SQLite databases — prod behind staging, staging DIRTY, the unsafe pending
//! migration flagged — and forcing staging clean from the keyboard works: the
//! confirm dialog previews it, the database row changes, the pane and the audit log
//! say so.

// Not every helper of the shared pty driver is used here.
use std::time::Duration;

use rollcall_migrate::DbUrl;
use rollcall_migrate::store::Recorded;
use rollcall_testkit::pty::Tui;

const BIN: &str = env!("CARGO_BIN_EXE_rollcall");
const STARTUP: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(10);

#[test]
fn demo_shows_migrations_and_forces_staging_clean() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let audit = dir.path().join("audit.jsonl");
    let mut tui = Tui::demo(BIN, dir.path(), &[]);

    // The summary line: dev up to date, staging dirty, prod behind with the unsafe
    // migration flagged.
    let screen = tui.wait_for("staging 4 DIRTY ✖", STARTUP);
    assert!(screen.contains("dev 5 ✔"), "{screen}");
    let screen = tui.wait_for("prod 2 (3 pending, 1 unsafe ⚠)", STEP);
    assert!(screen.contains("Migrations · dev"), "{screen}");

    // Look at prod: the unsafe pending migration and why.
    tui.send("4");
    tui.send("]]");
    // Read once the frame is whole: the title can arrive before the rows under it.
    let row = tui.wait_until("prod's 000005 row", STEP, |screen| {
        Ok(screen
            .contains("Migrations · prod")
            .then(|| {
                screen
                    .lines()
                    .find(|l| l.contains("000005") && l.contains("drop_legacy_ref"))
                    .filter(|l| l.contains("pending"))
                    .map(str::to_owned)
            })
            .flatten())
    });
    assert!(
        row.contains("pending") && row.contains("⚠ DROP COLUMN"),
        "{row}"
    );

    // Staging: the selection starts on the dirty version 4; force it.
    tui.send("[");
    let screen = tui.wait_for("Migrations · staging", STEP);
    assert!(screen.contains("DIRTY at 4"), "{screen}");
    tui.wait_for("000004 create_entity_relations · up SQL", STEP);
    tui.send("F");
    let screen = tui.wait_for("migrate force 4 on staging", STEP);
    assert!(screen.contains("no migration SQL runs"), "{screen}");
    assert!(
        screen.contains("INSERT INTO schema_migrations (version, dirty) VALUES (4, false);"),
        "{screen}"
    );
    tui.send("\r");
    let screen = tui.wait_for("staging 4 (1 pending, 1 unsafe ⚠)", STEP);
    assert!(!screen.contains("DIRTY"), "{screen}");
    tui.wait_for("forced version 4", STEP);

    assert!(tui.quit(Duration::from_secs(5)).success());

    let url = format!(
        "sqlite://{}",
        state.join("rollcall/demo/staging.db").display()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt
        .block_on(rollcall_migrate::status::read_url(
            &DbUrl::parse(&url).unwrap(),
        ))
        .unwrap();
    assert_eq!(
        status.recorded,
        Some(Recorded {
            version: 4,
            dirty: false
        })
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    let entries = rollcall_testkit::audit::outcomes(&audit);
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["command"], "migrate");
    assert_eq!(entries[0]["env"], "staging");
    assert_eq!(entries[0]["plan"]["request"]["kind"], "force");
    assert_eq!(entries[0]["result"], "ok");
}
