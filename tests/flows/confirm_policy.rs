//! The policy every confirm dialog passes (issue 14, "no key lands on the wrong
//! target"): a closed change window asks a reason that goes with the command; an unsafe
//! migration is typed in any environment; a second command on a target in flight is
//! refused; keys typed just after a change key opened no dialog are not commands; a
//! dialog that does not fit is confirmed only once all of it was shown.

use std::path::Path;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::app::{Effect, Event, Mode, State, update};
use rollcall::bus::Command;
use rollcall::domain::migrations::{MigrationUpdate, SourceSnapshot};
use rollcall_migrate::store::Recorded;
use rollcall_migrate::{DbStatus, Source};
use rollcall_testkit::state::*;

/// prod's pods pane on the first metadata-catalog pod.
fn at_prod_metadata_catalog(state: &mut State) {
    press(state, "]]2jjjjjj");
    assert_eq!(
        state.selected_pod().unwrap().deployment(),
        Some("metadata-catalog")
    );
}

fn dialog(state: &State) -> &rollcall::app::state::ConfirmDialog {
    match &state.mode {
        Mode::Confirm(d) => d,
        other => panic!("expected a confirm dialog, got {other:?}"),
    }
}

#[test]
fn a_closed_change_window_asks_a_reason_that_goes_with_the_command() {
    let mut s = populated(160, 48);
    // Saturday: prod's window (tue–thu 10:00–16:00 UTC) is closed.
    update(&mut s, Event::Tick("2026-11-28T03:00:00Z".parse().unwrap()));
    at_prod_metadata_catalog(&mut s);
    press(&mut s, "r");
    let d = dialog(&s);
    assert!(d.notes[0].contains("prod's change window is closed; it opens Tue 10:00 UTC"));
    assert!(d.reason.is_some() && d.reason_focused);
    assert!(screen_text(&s).contains("CHANGE WINDOW CLOSED"));
    // The name alone is not enough.
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(dialog(&s).error.as_deref().unwrap().contains("reason"));
    press(&mut s, "db lock storm, INC-4411");
    key(&mut s, KeyCode::Tab);
    press(&mut s, "metadata-catalog");
    let effects = key(&mut s, KeyCode::Enter);
    let [
        Effect::Send {
            reason, command, ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(reason.as_deref(), Some("db lock storm, INC-4411"));
    assert!(matches!(command, Command::RestartDeployment { .. }));
}

#[test]
fn de_escalating_actions_need_no_reason_outside_the_window() {
    let mut s = populated(160, 48);
    update(&mut s, Event::Tick("2026-11-28T03:00:00Z".parse().unwrap()));
    press(&mut s, "]]3");
    rollcall_testkit::canary::with_rollout(&mut s, rollcall_testkit::canary::Phase::Paused, 30);
    press(&mut s, "a");
    let d = dialog(&s);
    assert!(d.reason.is_none() && d.typed.is_none(), "abort: one key");
    assert_eq!(key(&mut s, KeyCode::Enter).len(), 1);
}

fn with_dev_behind(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    let source = Source::from_files(
        Path::new("migrations"),
        rollcall_migrate::demo::FILES.iter().copied(),
    );
    let snap = Arc::new(SourceSnapshot::new(source));
    s.envs[0].migrations.database = Some("sqlite:///tmp/dev.db".into());
    let status = DbStatus {
        database: "sqlite:///tmp/dev.db".into(),
        recorded: Some(Recorded {
            version: 2,
            dirty: false,
        }),
        lock_key: None,
        locked_by: None,
        last_change: None,
        last_change_source: None,
    };
    for update_ in [
        MigrationUpdate::Source(snap),
        MigrationUpdate::Status {
            at: now(),
            status: Ok(status),
        },
    ] {
        update(
            &mut s,
            Event::Migrations {
                env: 0,
                update: update_,
            },
        );
    }
    s
}

#[test]
fn an_unsafe_migration_is_typed_with_its_lint_shown_even_in_dev() {
    let mut s = with_dev_behind(160, 48);
    press(&mut s, "4+");
    let d = dialog(&s);
    assert_eq!(d.typed_because, "UNSAFE MIGRATION");
    assert_eq!(d.typed.as_ref().unwrap().0, "dev");
    assert!(
        d.notes[0].starts_with("unsafe migration: "),
        "{:?}",
        d.notes
    );
    assert!(d.notes[0].contains("lint ⚠"), "{:?}", d.notes);
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    press(&mut s, "dev");
    assert_eq!(key(&mut s, KeyCode::Enter).len(), 1);
}

#[test]
fn a_second_command_on_a_target_in_flight_is_refused() {
    let mut s = populated(160, 48);
    press(&mut s, "2r");
    assert_eq!(key(&mut s, KeyCode::Enter).len(), 1);
    press(&mut s, "r");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("still in flight"));
}

fn key_at(s: &mut State, c: char, at: &str) -> Vec<Effect> {
    update(
        s,
        Event::KeyAt {
            key: KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            at: at.parse().unwrap(),
        },
    )
    .0
}

#[test]
fn keys_typed_right_after_a_refused_change_key_are_not_commands() {
    let mut s = populated(160, 48);
    press(&mut s, "2r");
    key(&mut s, KeyCode::Enter);
    // r again is refused (in flight): the name the user goes on typing is not keys.
    key_at(&mut s, 'r', "2026-11-26T14:02:11.100Z");
    assert!(matches!(s.mode, Mode::Normal));
    key_at(&mut s, 'u', "2026-11-26T14:02:11.300Z");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("ignored \"u\""));
    // After the guard, keys are keys again.
    key_at(&mut s, '?', "2026-11-26T14:02:13Z");
    assert!(matches!(s.mode, Mode::Help));
}

/// The guard is human time: at the demo's ×10 clock, keys 3 clock-seconds (0.3 s of the
/// user's time) after the refusal are still guarded.
#[test]
fn the_key_guard_is_wall_time_when_the_clock_runs_fast() {
    let mut s = populated(160, 48);
    s.clock_speed = 10.0;
    press(&mut s, "2r");
    key(&mut s, KeyCode::Enter);
    key_at(&mut s, 'r', "2026-11-26T14:02:11Z");
    key_at(&mut s, 'u', "2026-11-26T14:02:14Z");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("ignored \"u\""));
    key_at(&mut s, '?', "2026-11-26T14:02:20Z");
    assert!(matches!(s.mode, Mode::Help));
}

#[test]
fn a_dialog_that_does_not_fit_is_confirmed_only_once_all_of_it_was_shown() {
    let mut s = populated(40, 10);
    press(&mut s, "2r");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(
        dialog(&s)
            .error
            .as_deref()
            .unwrap()
            .contains("does not fit")
    );
    for _ in 0..40 {
        key(&mut s, KeyCode::Down);
    }
    assert_eq!(key(&mut s, KeyCode::Enter).len(), 1);
}

/// The version under the migrations cursor.
fn migration_under_cursor(s: &State) -> u64 {
    s.envs[0].migrations.rows()[s.migration_cursor.selected].version
}

#[test]
fn the_migrations_cursor_stays_on_its_version_when_files_arrive_or_leave() {
    let mut s = with_dev_behind(160, 48);
    press(&mut s, "4j");
    let chosen = migration_under_cursor(&s);
    assert_eq!(chosen, 3);
    // A pull drops migration 1's files: every row above the cursor moves up one.
    let fewer = Source::from_files(
        Path::new("migrations"),
        rollcall_migrate::demo::FILES
            .iter()
            .copied()
            .filter(|(name, _)| !name.starts_with("000001_")),
    );
    let update_ = MigrationUpdate::Source(Arc::new(SourceSnapshot::new(fewer)));
    update(
        &mut s,
        Event::Migrations {
            env: 0,
            update: update_,
        },
    );
    assert_eq!(migration_under_cursor(&s), chosen);
    // `=` goes to the version the user chose, not to the one that slid under the cursor.
    press(&mut s, "=");
    let text = screen_text(&s);
    assert!(text.contains("goto 3"), "{text}");
}

#[test]
fn quitting_with_a_command_in_flight_asks_first() {
    let mut s = populated(160, 48);
    press(&mut s, "2r");
    assert_eq!(key(&mut s, KeyCode::Enter).len(), 1);
    press(&mut s, "q");
    assert!(!s.should_quit);
    let flash = &s.flash.as_ref().unwrap().1;
    assert!(
        flash.starts_with("press q again to quit anyway: #1 restart"),
        "{flash}"
    );
    press(&mut s, "q");
    assert!(s.should_quit);
}
