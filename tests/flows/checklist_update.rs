//! Ticking the checklist through `update()`: a tick asks for a note, goes out through
//! the pipeline at once signed with the cluster identity, is kept (and saved) until the
//! cluster has it; a refused write stays unsynced and is sent again; the watch showing
//! it in the shared log ends it. Checked items cannot be ticked; read-only refuses.

use crossterm::event::KeyCode;
use jiff::SignedDuration;
use rollcall::app::{Effect, Event, Mode, State, update};
use rollcall::bus::{Command, OpId};
use rollcall::domain::WatchUpdate;
use rollcall::domain::checklist::Mark;
use rollcall::domain::checklist::shared::{Change, SharedChecklist};
use rollcall::domain::feed::ChecklistUpdate;
use rollcall_testkit::checklist::{PROD, checklist, shared, with_checklist_data};
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

fn prod_checklist() -> State {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    s.checklist
        .identity
        .insert(PROD, "alice@dictamesh.io".into());
    // Zoomed, so rows show whole.
    press(&mut s, "]]8z");
    s
}

fn sent(effects: &[Effect]) -> Option<(OpId, Command)> {
    effects.iter().find_map(|e| match e {
        Effect::Send { op, command, .. } => Some((*op, command.clone())),
        _ => None,
    })
}

fn saved(effects: &[Effect]) -> Option<usize> {
    effects.iter().find_map(|e| match e {
        Effect::SaveTicks(t) => Some(t.len()),
        _ => None,
    })
}

#[test]
fn a_tick_goes_out_signed_and_stays_until_the_cluster_has_it() {
    let mut s = prod_checklist();
    // Load testing completed: the tenth item.
    press(&mut s, "jjjjjjjjjx");
    assert!(matches!(s.mode, Mode::Note(_)));
    let effects = press(&mut s, "k6 run 4411\n");
    let (op, command) = sent(&effects).expect("the tick is sent at once");
    let Command::MarkChecklist {
        env,
        namespace,
        release,
        item,
        mark,
        ..
    } = &command
    else {
        panic!("{command:?}");
    };
    assert_eq!(
        (
            env.as_str(),
            namespace.as_str(),
            release.as_str(),
            item.as_str()
        ),
        (
            "prod",
            "dictamesh-prod",
            "customer-adapter@v1.2.0",
            "load-test"
        )
    );
    assert_eq!(
        mark,
        &Mark {
            done: true,
            by: "alice@dictamesh.io".into(),
            at: now(),
            note: "k6 run 4411".into(),
            skipped: false
        }
    );
    assert_eq!(
        saved(&effects),
        Some(1),
        "kept on disk before anything came back"
    );
    assert_eq!(s.checklist.unsynced.len(), 1);

    // The cluster refuses: still unsynced, with why, and saved.
    let (effects, _) = update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Err("configmaps is forbidden".into()),
        },
    );
    assert_eq!(saved(&effects), Some(1));
    assert_eq!(
        s.checklist.unsynced[0].error.as_deref(),
        Some("configmaps is forbidden")
    );
    let text = screen_text(&s);
    assert!(
        text.contains("⇡ not in the cluster yet: configmaps is forbidden"),
        "{text}"
    );

    // Ten seconds later it goes again.
    let (effects, _) = update(&mut s, Event::Tick(now() + SignedDuration::from_secs(5)));
    assert!(sent(&effects).is_none(), "not before the retry delay");
    let (effects, _) = update(&mut s, Event::Tick(now() + SignedDuration::from_secs(11)));
    let (op2, again) = sent(&effects).expect("sent again");
    assert_ne!(op2, op);
    assert_eq!(again, command, "the same change, as first made");

    // Taken: nothing left to save; shown as done until the watch brings it.
    let (effects, _) = update(
        &mut s,
        Event::OpFinished {
            op: op2,
            outcome: Ok("ticked".into()),
        },
    );
    assert_eq!(saved(&effects), Some(0));
    assert!(screen_text(&s).contains("✔ Load testing completed"));

    // The watch shows the ConfigMap with the change logged: the tick is synced.
    let mut map = shared(
        "dictamesh-prod",
        "prod",
        "customer-adapter@v1.2.0",
        &[("ci-tests", "maria.santos@dictamesh.io", 5 * 3600, "")],
    );
    let Command::MarkChecklist { item, mark, .. } = command else {
        unreachable!()
    };
    if let Some(c) = map.checklist.as_mut() {
        c.apply(&Change { item, mark });
    }
    checklist(
        &mut s,
        PROD,
        ChecklistUpdate::Shared(WatchUpdate::Apply(map)),
    );
    assert!(s.checklist.unsynced.is_empty());
    let text = screen_text(&s);
    assert!(text.contains("✔ Load testing completed"), "{text}");
    assert!(text.contains("alice · 11s ago · \"k6 run 4411\""), "{text}");
}

#[test]
fn checked_items_are_not_ticked_and_read_only_refuses() {
    let mut s = prod_checklist();
    // The security scan is checked by rollcall (and failing).
    let effects = press(&mut s, "jx");
    assert!(effects.is_empty());
    assert!(matches!(s.mode, Mode::Normal));
    let flash = s.flash.clone().map(|f| f.1).unwrap_or_default();
    assert!(flash.contains("checked by rollcall, not ticked"), "{flash}");
    assert!(flash.contains("CVE-2024-45337"), "{flash}");

    let mut s = prod_checklist();
    s.readonly = true;
    let effects = press(&mut s, "jjjjjjjjjx");
    assert!(effects.is_empty());
    assert!(matches!(s.mode, Mode::Normal));

    // Esc in the note sends nothing.
    let mut s = prod_checklist();
    press(&mut s, "jjjjjjjjjx");
    let effects = key(&mut s, KeyCode::Esc);
    assert!(effects.is_empty() && s.checklist.unsynced.is_empty());
}

#[test]
fn a_teammates_tick_shows_and_unticking_is_a_change_too() {
    let mut s = prod_checklist();
    let mut map = SharedChecklist::new(
        "dictamesh-prod",
        "prod",
        rollcall::domain::checklist::Release::new("customer-adapter", "v1.2.0"),
    );
    for (item, done, by, secs) in [
        ("ci-tests", true, "maria.santos@dictamesh.io", 3600),
        ("load-test", true, "bob@dictamesh.io", 60),
        ("ci-tests", false, "bob@dictamesh.io", 30),
    ] {
        map.apply(&Change {
            item: item.into(),
            mark: Mark {
                done,
                by: by.into(),
                at: now() - SignedDuration::from_secs(secs),
                note: String::new(),
                skipped: false,
            },
        });
    }
    let base = shared("dictamesh-prod", "prod", "customer-adapter@v1.2.0", &[]);
    let row = rollcall::domain::checklist::shared::SharedRow {
        checklist: Some(map),
        ..base
    };
    checklist(
        &mut s,
        PROD,
        ChecklistUpdate::Shared(WatchUpdate::Apply(row)),
    );
    let text = screen_text(&s);
    assert!(text.contains("☐ Tests passing in CI"), "{text}");
    assert!(text.contains("unticked by bob · 30s ago"), "{text}");
    assert!(text.contains("✔ Load testing completed"), "{text}");
}
