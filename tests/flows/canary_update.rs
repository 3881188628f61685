//! `update()` flows of the canary pane: each action offered only when it makes sense,
//! the exact plugin requests in the command, the countdown from the pause condition, the
//! bounded chart history, and restart refusing Rollout-owned pods.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::app::panes::rollouts::{board, selected};
use rollcall::app::state::Mode;
use rollcall::app::{Event, State, update};
use rollcall::bus::Command;
use rollcall::bus::rollouts::RolloutAction;
use rollcall::domain::rollout::RolloutUpdate;
use rollcall::domain::rollout::view::History;
use rollcall::domain::{WatchUpdate, WatchedRollout};
use rollcall_testkit::canary::{PROD, Phase, rollout_json, rs, with_rollout};
use rollcall_testkit::state::*;

fn scene(phase: Phase) -> State {
    let mut s = populated(160, 48);
    press(&mut s, "]]3");
    with_rollout(&mut s, phase, 88);
    s
}

/// (method, subresource, body) of each request.
type Sent = Vec<(String, Option<&'static str>, String)>;

fn confirmed(s: &State) -> Option<(RolloutAction, Sent)> {
    match &s.mode {
        Mode::Confirm(d) => match &d.command {
            Command::Rollout {
                action, requests, ..
            } => Some((
                action.clone(),
                requests
                    .iter()
                    .map(|r| (r.method.to_owned(), r.subresource, r.body.clone()))
                    .collect(),
            )),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn paused_canary_shows_countdown_and_offers_promote_and_abort() {
    let s = scene(Phase::Paused);
    let (_, v) = selected(&s).unwrap();
    assert_eq!(v.step, Some((2, 6)));
    assert_eq!((v.set_weight, v.actual_weight), (20, 20));
    assert_eq!(v.pause, Some(("CanaryPauseStep".into(), Some(300 - 88))));
    assert_eq!(v.next.as_deref(), Some("setWeight 50"));
    assert!(v.can_promote && v.can_abort && !v.can_retry);
    let b = board(&s);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].waiting, Some(Some(212)));
}

#[test]
fn promote_sends_the_plugins_status_patch() {
    let mut s = scene(Phase::Paused);
    press(&mut s, "p");
    let (action, reqs) = confirmed(&s).expect("confirm dialog");
    assert_eq!(action, RolloutAction::Promote { full: false });
    assert_eq!(
        reqs,
        vec![(
            "PATCH".into(),
            Some("status"),
            r#"{"status":{"pauseConditions":null}}"#.into()
        )]
    );
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    press(&mut s, "P");
    let (_, reqs) = confirmed(&s).unwrap();
    assert_eq!(reqs[0].2, r#"{"status":{"promoteFull":true}}"#);
}

/// Abort stops harm: one key confirms it, even in production; promote makes a change
/// and keeps the typed name.
#[test]
fn production_aborts_with_one_key_and_promotes_with_the_typed_name() {
    let mut s = scene(Phase::Paused);
    press(&mut s, "a");
    let (_, reqs) = confirmed(&s).unwrap();
    assert_eq!(
        reqs,
        vec![(
            "PATCH".into(),
            Some("status"),
            r#"{"status":{"abort":true}}"#.into()
        )]
    );
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(effects.len(), 1, "abort takes Enter alone");

    let mut s = scene(Phase::Paused);
    press(&mut s, "p");
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(effects.is_empty(), "no promote without the typed name");
    press(&mut s, "customer-adapter");
    let (effects, _) = update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(effects.len(), 1);
}

#[test]
fn actions_refused_when_they_make_no_sense() {
    let mut s = scene(Phase::Progressing);
    press(&mut s, "p");
    assert!(matches!(s.mode, Mode::Normal), "promote needs a pause");
    assert!(s.flash.as_ref().unwrap().1.contains("not paused"));
    press(&mut s, "y");
    assert!(matches!(s.mode, Mode::Normal), "retry needs an abort");
    let mut s = scene(Phase::Aborted);
    press(&mut s, "a");
    assert!(matches!(s.mode, Mode::Normal), "abort twice");
    press(&mut s, "y");
    let (_, reqs) = confirmed(&s).unwrap();
    assert_eq!(reqs[0].2, r#"{"status":{"abort":false}}"#);
    let mut s = scene(Phase::Healthy);
    press(&mut s, "a");
    assert!(
        matches!(s.mode, Mode::Normal),
        "nothing to abort when fully promoted"
    );
}

#[test]
fn pause_resume_and_undo_to_the_chosen_revision() {
    let mut s = scene(Phase::Paused);
    press(&mut s, "s");
    let (_, reqs) = confirmed(&s).unwrap();
    assert_eq!(
        reqs,
        vec![("PATCH".into(), None, r#"{"spec":{"paused":true}}"#.into())]
    );
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    // Revisions newest first: 3 (canary), 2 (stable), 1; the cursor starts on 2.
    press(&mut s, "u");
    let (action, reqs) = confirmed(&s).unwrap();
    assert_eq!(
        action,
        RolloutAction::Undo {
            revision: 2,
            replica_set: "customer-adapter-7f96774cb9".into()
        }
    );
    assert!(
        reqs[0]
            .2
            .contains(r#""op":"replace","path":"/spec/template""#)
    );
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    press(&mut s, "ju");
    let (action, _) = confirmed(&s).unwrap();
    assert!(matches!(action, RolloutAction::Undo { revision: 1, .. }));
}

#[test]
fn the_undo_cursor_stays_on_its_revision_and_rollout_when_others_arrive() {
    let mut s = scene(Phase::Paused);
    press(&mut s, "j");
    // A new rollout adds revision 4 on top, and a Rollout named before this one arrives.
    let newer = rs("5d8c7b6a9f", 4, "v1.2.1", 0);
    let update_ = RolloutUpdate::ReplicaSets(WatchUpdate::Apply(newer));
    update(
        &mut s,
        Event::Rollouts {
            env: PROD,
            update: update_,
        },
    );
    let mut other = rollout_json(Phase::Healthy, 0);
    other["metadata"]["name"] = "api-gateway".into();
    let row = serde_json::from_value::<WatchedRollout>(other).unwrap().row;
    let update_ = RolloutUpdate::Rollouts(WatchUpdate::Apply(row));
    update(
        &mut s,
        Event::Rollouts {
            env: PROD,
            update: update_,
        },
    );
    assert_eq!(selected(&s).unwrap().0.name, "customer-adapter");
    press(&mut s, "u");
    let (action, _) = confirmed(&s).unwrap();
    assert!(
        matches!(action, RolloutAction::Undo { revision: 1, .. }),
        "{action:?}"
    );
}

/// Until the user picks a revision with j/k, undo targets the one before the current,
/// whatever order the ReplicaSets arrive in: here revision 2 comes last (it went away
/// and came back), and the cursor must not stay on revision 1, which sat at its index
/// meanwhile. (The canary e2e undid to v1.1.3 instead of v1.1.4 this way.)
#[test]
fn the_default_undo_target_is_the_previous_revision_whenever_it_arrives() {
    let mut s = scene(Phase::Paused);
    let stable = rs(rollcall_testkit::canary::STABLE, 2, "v1.1.4", 5);
    for update_ in [
        RolloutUpdate::ReplicaSets(WatchUpdate::Delete(stable.clone())),
        RolloutUpdate::ReplicaSets(WatchUpdate::Apply(stable)),
    ] {
        update(
            &mut s,
            Event::Rollouts {
                env: PROD,
                update: update_,
            },
        );
    }
    press(&mut s, "u");
    let (action, _) = confirmed(&s).unwrap();
    assert!(
        matches!(action, RolloutAction::Undo { revision: 2, .. }),
        "{action:?}"
    );
}

#[test]
fn degraded_canary_alarms_with_restarts_and_reason() {
    let s = scene(Phase::Degraded);
    let (_, v) = selected(&s).unwrap();
    assert!(v.alarm());
    assert_eq!(v.canary_restarts, 4);
    assert_eq!(v.failing.as_deref(), Some("CrashLoopBackOff"));
    assert!(v.message.starts_with("ProgressDeadlineExceeded"));
}

#[test]
fn history_is_sampled_on_ticks_and_bounded() {
    let mut s = scene(Phase::Paused);
    for i in 1..=(History::CAP as i64 + 20) {
        update(
            &mut s,
            Event::Tick(now() + jiff::SignedDuration::from_secs(i * History::EVERY)),
        );
    }
    let h = &s.rollouts.envs[2].history["customer-adapter"];
    assert_eq!(h.0.len(), History::CAP);
    assert!(h.0.iter().all(|x| x.weight == 20 && x.ready == 100));
}

#[test]
fn restart_refuses_rollout_owned_pods() {
    let mut s = scene(Phase::Paused);
    press(&mut s, "2");
    // The first pod in name order is customer-adapter's (a Rollout's).
    press(&mut s, "r");
    assert!(matches!(s.mode, Mode::Normal));
    let (_, msg, ok) = s.flash.clone().unwrap();
    assert!(
        !ok && msg.contains("belongs to Argo Rollout customer-adapter"),
        "{msg}"
    );
}

#[test]
fn set_image_asks_for_the_image_then_confirms_a_put() {
    let mut s = scene(Phase::Healthy);
    press(&mut s, "i");
    assert!(matches!(s.mode, Mode::Prompt(_)), "the prompt opens");
    for _ in 0..60 {
        update(
            &mut s,
            Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        );
    }
    press(
        &mut s,
        "ghcr.io/controle-digital/customer-adapter:v1.2.1-broken",
    );
    update(
        &mut s,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let (action, reqs) = confirmed(&s).expect("confirm dialog");
    assert_eq!(
        action,
        RolloutAction::SetImage {
            container: "customer-adapter".into(),
            image: "ghcr.io/controle-digital/customer-adapter:v1.2.1-broken".into()
        }
    );
    assert_eq!(reqs[0].0, "PUT");
}
