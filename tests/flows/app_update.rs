//! `update()` as a pure function: key flows, watch data, results (the link: link_state.rs).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::app::{Effect, EnvUpdate, Event, Mode, Pane, State, update};
use rollcall::bus::{Command, OpId};
use rollcall::domain::WatchUpdate;
use rollcall_testkit::state::*;

/// prod, pods pane, first metadata-catalog pod selected.
fn at_prod_metadata_catalog(state: &mut State) {
    press(state, "]]2jjjjjj");
    assert_eq!(state.selected_env, 2);
    assert_eq!(state.focus, Pane::Pods);
    let pod = state.selected_pod().unwrap();
    assert_eq!(pod.deployment(), Some("metadata-catalog"));
}

#[test]
fn restart_in_production_needs_the_typed_name_and_sends_the_kubectl_patch() {
    let mut s = populated(160, 48);
    at_prod_metadata_catalog(&mut s);
    // The dialog opens and asks the server's dry run of exactly what it would send.
    let effects = press(&mut s, "r");
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::DryRun(Command::RestartDeployment { .. })]
        ),
        "{effects:?}"
    );
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("expected the confirm dialog, got {:?}", s.mode)
    };
    assert_eq!(dialog.typed.as_ref().unwrap().0, "metadata-catalog");
    assert_eq!(
        dialog.preview.path,
        "/apis/apps/v1/namespaces/dictamesh-prod/deployments/metadata-catalog"
    );

    // Enter before typing the name sends nothing and says why.
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let Mode::Confirm(dialog) = &s.mode else {
        panic!()
    };
    assert!(
        dialog
            .error
            .as_deref()
            .unwrap()
            .contains("metadata-catalog")
    );

    // A wrong name is refused too.
    press(&mut s, "metadata-catalo");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    press(&mut s, "g");
    let effects = key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Send {
            op: OpId(1),
            command: Command::RestartDeployment {
                env: "prod".into(),
                namespace: "dictamesh-prod".into(),
                name: "metadata-catalog".into(),
                restarted_at: NOW.into(),
            },
            reason: None,
        }]
    );
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.ops[&OpId(1)].outcome.is_none());

    update(
        &mut s,
        Event::OpFinished {
            op: OpId(1),
            outcome: Ok("deployment/metadata-catalog restarted".into()),
        },
    );
    assert!(s.ops[&OpId(1)].outcome.as_ref().unwrap().is_ok());
    assert!(s.flash.as_ref().unwrap().1.contains("restarted"));
}

#[test]
fn outside_production_enter_confirms_at_once_and_esc_cancels() {
    let mut s = populated(160, 48);
    press(&mut s, "2");
    key(&mut s, KeyCode::Char('r'));
    let Mode::Confirm(dialog) = &s.mode else {
        panic!()
    };
    assert!(dialog.typed.is_none(), "dev is not production");
    key(&mut s, KeyCode::Esc);
    assert!(matches!(s.mode, Mode::Normal));

    key(&mut s, KeyCode::Char('r'));
    let effects = key(&mut s, KeyCode::Enter);
    assert!(matches!(
        &effects[..],
        [Effect::Send { command: Command::RestartDeployment { env, name, .. }, .. }]
            if env == "dev" && name == "customer-adapter"
    ));
}

#[test]
fn readonly_refuses_mutations_without_a_dialog() {
    let mut s = populated(160, 48);
    s.readonly = true;
    at_prod_metadata_catalog(&mut s);
    assert!(press(&mut s, "r").is_empty());
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("read-only"));
}

#[test]
fn restart_from_the_environments_pane_explains_what_to_do() {
    let mut s = populated(160, 48);
    press(&mut s, "r");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("pods pane"));
}

#[test]
fn filter_narrows_pods_and_esc_clears_it() {
    let mut s = populated(160, 48);
    press(&mut s, "]]");
    assert_eq!(s.visible_pods().count(), 9);
    press(&mut s, "/graph");
    assert!(matches!(s.mode, Mode::Filter));
    assert_eq!(s.visible_pods().count(), 3);
    key(&mut s, KeyCode::Enter);
    assert!(matches!(s.mode, Mode::Normal));
    assert_eq!(s.visible_pods().count(), 3, "Enter keeps the filter");
    // Filtering by node works too.
    press(&mut s, "/");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.visible_pods().count(), 9);
    press(&mut s, "/k3s-node-2");
    assert_eq!(s.visible_pods().count(), 3);
}

#[test]
fn pod_cursor_stays_in_range_when_pods_disappear() {
    let mut s = populated(160, 48);
    press(&mut s, "]]2G");
    assert_eq!(s.pod_cursor.selected, 8);
    let last = s.selected_pod().unwrap().clone();
    feed(&mut s, 2, EnvUpdate::Pods(WatchUpdate::Delete(last)));
    assert_eq!(s.pod_cursor.selected, 7);
    assert!(s.selected_pod().is_some());
}

#[test]
fn paging_moves_by_the_visible_rows() {
    let mut s = populated(80, 24);
    press(&mut s, "]]2");
    let page = rollcall::app::layout::table_rows(&s, Pane::Pods);
    assert!(page > 1 && page < 24, "page {page}");
    key(&mut s, KeyCode::PageDown);
    assert_eq!(s.pod_cursor.selected, page.min(8));
    key(&mut s, KeyCode::Home);
    assert_eq!(s.pod_cursor.selected, 0);
}

#[test]
fn help_opens_and_any_key_closes_it_and_q_quits() {
    let mut s = populated(160, 48);
    press(&mut s, "?");
    assert!(matches!(s.mode, Mode::Help));
    press(&mut s, "x");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(!s.should_quit);
    press(&mut s, "q");
    assert!(s.should_quit);
}

#[test]
fn ctrl_c_quits_from_any_mode() {
    let mut s = populated(160, 48);
    press(&mut s, "/");
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(s.should_quit);
}

/// Switching environments while another pane is zoomed must not leave the
/// environments table scrolled so that only the last one shows (`4 z [ ] z`).
#[test]
fn environments_stay_all_visible_after_switching_while_zoomed() {
    let mut s = populated(160, 48);
    press(&mut s, "4z]]z");
    let text = screen_text(&s);
    for env in ["dictamesh-dev", "dictamesh-staging", "dictamesh-prod"] {
        assert!(text.contains(env), "{env} hidden:\n{text}");
    }
}

/// At 80×24 the help does not fit: it scrolls to its last key instead of being cut.
#[test]
fn help_scrolls_at_80x24_to_its_last_entry() {
    let mut s = populated(80, 24);
    press(&mut s, "?");
    let first = screen_text(&s);
    assert!(first.contains("scroll · any other key closes"), "{first}");
    assert!(!first.contains("Enter accepts, Esc cancels"), "{first}");
    press(&mut s, "G");
    assert!(matches!(s.mode, Mode::Help));
    let last = screen_text(&s);
    assert!(last.contains("Enter accepts, Esc cancels"), "{last}");
    press(&mut s, "x");
    assert!(matches!(s.mode, Mode::Normal));
}

/// A pod arriving above the selected one (a surge pod of another Deployment) must not
/// slide a different pod under the cursor: `r` restarts what the user chose.
#[test]
fn the_pods_cursor_stays_on_its_pod_when_one_arrives_above_it() {
    let mut s = populated(160, 48);
    at_prod_metadata_catalog(&mut s);
    let chosen = s.selected_pod().unwrap().name.clone();
    apply_pod(
        &mut s,
        2,
        pod(PodSpec {
            ns: "dictamesh-prod",
            deploy: "customer-adapter",
            hash: "0aaaaaaaa",
            suffix: "new01",
            ready: false,
            restarts: 0,
            age_secs: 1,
            node: "node-1",
        }),
    );
    assert_eq!(s.selected_pod().unwrap().name, chosen);
    press(&mut s, "r");
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(dialog.command.target_name(), "metadata-catalog");
}

/// A command's outcome stays in the status line for 15 s of the user's time, however
/// fast the demo's clock runs (at ×10 it was gone after 1.5 s, before it could be read).
#[test]
fn an_outcome_stays_readable_when_the_clock_runs_fast() {
    let mut s = populated(160, 48);
    s.clock_speed = 10.0;
    let start = s.now;
    let later = |secs: i64| {
        start
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    update(
        &mut s,
        Event::OpFinished {
            op: OpId(1),
            outcome: Ok("metadata-catalog-consumer reset".into()),
        },
    );
    // 3 s of the user's time: 30 s on the clock.
    update(&mut s, Event::Tick(later(30)));
    assert!(s.flash.is_some(), "gone after 3 s of wall time");
    update(&mut s, Event::Tick(later(140)));
    assert!(s.flash.is_some(), "gone after 14 s of wall time");
    update(&mut s, Event::Tick(later(160)));
    assert!(s.flash.is_none(), "still there after 16 s of wall time");
    // At real speed, as before: 15 s.
    s.clock_speed = 1.0;
    update(
        &mut s,
        Event::OpFinished {
            op: OpId(2),
            outcome: Err("refused".into()),
        },
    );
    update(&mut s, Event::Tick(later(160 + 14)));
    assert!(s.flash.is_some());
    update(&mut s, Event::Tick(later(160 + 16)));
    assert!(s.flash.is_none());
}
