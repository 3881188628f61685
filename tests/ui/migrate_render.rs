//! Render snapshots of the migrations pane at 80×24 (alone, under the tab bar) and
//! 160×48 (right column), from a fixed scenario: dev up to date, staging dirty at 4,
//! prod at 2 with the unsafe migration pending and selected, and the confirm dialog
//! of a force.

use std::path::Path;
use std::sync::Arc;

use rollcall::app::{Event, Mode, State, update};
use rollcall::domain::migrations::{MigrationUpdate, SourceSnapshot};
use rollcall_migrate::store::Recorded;
use rollcall_migrate::{DbStatus, Source};
use rollcall_testkit::state::*;

fn with_migrations(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    let source = Source::from_files(
        Path::new("migrations"),
        rollcall_migrate::demo::FILES.iter().copied(),
    );
    let snap = Arc::new(SourceSnapshot::new(source));
    let seeded = [(5, false), (4, true), (2, false)];
    for (env, (version, dirty)) in seeded.into_iter().enumerate() {
        if let Some(e) = s.envs.get_mut(env) {
            e.migrations.database = Some(format!("sqlite:///var/lib/rollcall/demo/{env}.db"));
        }
        let status = DbStatus {
            database: format!("sqlite:///var/lib/rollcall/demo/{env}.db"),
            recorded: Some(Recorded { version, dirty }),
            lock_key: None,
            locked_by: None,
            last_change: Some(now() - jiff::SignedDuration::from_mins(42)),
            last_change_source: Some("file written"),
        };
        for update_ in [
            MigrationUpdate::Source(snap.clone()),
            MigrationUpdate::Status {
                at: now(),
                status: Ok(status),
            },
        ] {
            update(
                &mut s,
                Event::Migrations {
                    env,
                    update: update_,
                },
            );
        }
    }
    s
}

#[test]
fn migrations_pane_prod_with_the_unsafe_migration_selected() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = with_migrations(w, h);
        press(&mut s, "4]]GG");
        press(&mut s, "jjjj");
        insta::assert_snapshot!(format!("migrations_prod_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn migrations_pane_staging_dirty_and_force_dialog() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = with_migrations(w, h);
        // No cursor keys: the selection starts on the dirty version, so `F` forces 4
        // (forcing the first row, version 1, would be the wrong fix at 3 a.m.).
        press(&mut s, "4]");
        insta::assert_snapshot!(format!("migrations_staging_{w}x{h}"), draw(&s).backend());
        press(&mut s, "F");
        let Mode::Confirm(dialog) = &s.mode else {
            panic!("no confirm dialog after F");
        };
        assert!(
            dialog.preview.title.contains("force 4"),
            "{}",
            dialog.preview.title
        );
        insta::assert_snapshot!(format!("migrations_force_{w}x{h}"), draw(&s).backend());
    }
}
