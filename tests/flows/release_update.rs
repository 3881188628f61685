//! The release pane's `update()`: the rollback flow (auto-sync on → offer to turn it
//! off → rollback → wait for Healthy), the wait's timeout, and that keys are answered
//! without any I/O while Argo CD is down or slow.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use rollcall::app::panes::argocd::{ArgoLink, ArgoUpdate};
use rollcall::app::{Effect, Event, Mode, State, update};
use rollcall::bus::{Command, OpId};
use rollcall::domain::WatchUpdate;
use rollcall_testkit::release::*;
use rollcall_testkit::state::*;
use serde_json::json;

fn dialog_command(state: &State) -> &Command {
    match &state.mode {
        Mode::Confirm(d) => &d.command,
        other => panic!("expected a confirm dialog, got {other:?}"),
    }
}

/// Types the target's name and confirms; returns the sent (op, command).
fn confirm_typed(state: &mut State, name: &str) -> (OpId, Command) {
    press(state, name);
    let effects = key(state, KeyCode::Enter);
    match effects.as_slice() {
        [Effect::Send { op, command, .. }] => (*op, command.clone()),
        other => panic!("expected one command, got {other:?}"),
    }
}

fn prod_history(w: u16, h: u16) -> State {
    let mut s = populated(w, h);
    with_apps(&mut s);
    press(&mut s, "5]]");
    key(&mut s, KeyCode::Enter);
    s
}

#[test]
fn rollback_with_auto_sync_on_goes_through_disable_then_rollback_then_wait() {
    let mut s = prod_history(160, 48);
    let h = s.argocd.history.clone().unwrap();
    assert_eq!(h.app, "customer-adapter-prod");
    // The current entry (id 4) cannot be the target.
    press(&mut s, "R");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("runs now"));

    press(&mut s, "jR");
    assert_eq!(
        *dialog_command(&s),
        Command::ArgocdDisableAutoSync {
            env: "prod".into(),
            app: "customer-adapter-prod".into(),
            then_rollback: Some(3),
        }
    );
    let Mode::Confirm(d) = &s.mode else {
        unreachable!()
    };
    assert!(
        d.preview
            .effect
            .contains("rollback cannot be initiated when auto-sync is enabled")
    );
    assert_eq!(d.preview.method, "PATCH");
    assert_eq!(d.preview.path, "/api/v1/applications/customer-adapter-prod");
    // Production: Enter without the typed name refuses.
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let (op1, _) = confirm_typed(&mut s, "customer-adapter-prod");

    // Auto-sync off succeeded: the rollback is offered next, with its exact call.
    update(
        &mut s,
        Event::OpFinished {
            op: op1,
            outcome: Ok("auto-sync off".into()),
        },
    );
    assert_eq!(
        *dialog_command(&s),
        Command::ArgocdRollback {
            env: "prod".into(),
            app: "customer-adapter-prod".into(),
            id: 3,
            revision: Some(REV_OLD.into()),
        }
    );
    let Mode::Confirm(d) = &s.mode else {
        unreachable!()
    };
    assert_eq!(
        d.preview.path,
        "/api/v1/applications/customer-adapter-prod/rollback"
    );
    let body: serde_json::Value = serde_json::from_str(&d.preview.body).unwrap();
    assert_eq!(
        body,
        json!({"name": "customer-adapter-prod", "id": 3, "dryRun": false, "prune": false})
    );
    let (op2, _) = confirm_typed(&mut s, "customer-adapter-prod");

    update(
        &mut s,
        Event::OpFinished {
            op: op2,
            outcome: Ok("rollback started".into()),
        },
    );
    assert_eq!(s.argocd.waits.len(), 1);
    assert!(s.argocd.waits[0].outcome.is_none());

    // The controller runs it: Running, then Succeeded at the old revision, Healthy.
    let mut running = app_json("customer-adapter-prod", false, REV_NEW, "v1.2.0");
    running["status"]["operationState"] = json!({"phase": "Running",
        "operation": {"sync": {"revision": REV_OLD}}, "startedAt": NOW});
    running["status"]["health"]["status"] = json!("Progressing");
    argo(
        &mut s,
        2,
        ArgoUpdate::Apps(WatchUpdate::Apply(app(running))),
    );
    assert!(s.argocd.waits[0].outcome.is_none());
    assert!(s.argocd.waits[0].seen_running);

    let mut done = app_json("customer-adapter-prod", false, REV_NEW, "v1.1.4");
    done["status"]["sync"]["status"] = json!("OutOfSync");
    done["status"]["operationState"] = json!({"phase": "Succeeded",
        "operation": {"sync": {"revision": REV_OLD}}, "syncResult": {"revision": REV_OLD},
        "startedAt": NOW, "finishedAt": NOW});
    done["status"]["history"].as_array_mut().unwrap().push(
        json!({"id": 5, "revision": REV_OLD, "deployedAt": NOW, "initiatedBy": {"username": "oncall"}}),
    );
    let (effects, _) = update(
        &mut s,
        Event::Argocd {
            env: 2,
            update: ArgoUpdate::Apps(WatchUpdate::Apply(app(done))),
        },
    );
    let outcome = s.argocd.waits[0].outcome.clone().unwrap();
    assert!(
        outcome.as_ref().unwrap().contains("rolled back at 3f9a1c7"),
        "{outcome:?}"
    );
    // How it settled goes to the audit log, under the rollback's op.
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Settled { op, outcome: Ok(m) }] if *op == op2 && m.contains("Healthy")
        ),
        "{effects:?}"
    );
    assert!(s.flash.as_ref().unwrap().1.contains("Healthy"));
}

#[test]
fn rollback_without_auto_sync_is_offered_directly_and_refused_on_failure() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    // graphql-gateway-prod has auto-sync off.
    press(&mut s, "5]]j");
    key(&mut s, KeyCode::Enter);
    press(&mut s, "jR");
    assert!(matches!(
        dialog_command(&s),
        Command::ArgocdRollback { id: 3, .. }
    ));
    let (op, _) = confirm_typed(&mut s, "graphql-gateway-prod");
    // Argo CD refused (e.g. auto-sync was turned on meanwhile): no wait starts.
    update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Err(
                "Argo CD refused: rollback cannot be initiated when auto-sync is enabled".into(),
            ),
        },
    );
    assert!(s.argocd.waits.is_empty());
    assert!(s.flash.as_ref().unwrap().1.contains("auto-sync is enabled"));
}

#[test]
fn wait_times_out_at_600_seconds_counting_on_the_clock() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    press(&mut s, "5");
    // dev's customer-adapter: sync.
    press(&mut s, "Y");
    // The revision Argo CD resolved the target to: the record says what was synced.
    assert!(
        matches!(
            dialog_command(&s),
            Command::ArgocdSync { revision: Some(r), .. } if !r.is_empty()
        ),
        "{:?}",
        dialog_command(&s)
    );
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Send { op, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    update(
        &mut s,
        Event::OpFinished {
            op: *op,
            outcome: Ok("sync started".into()),
        },
    );
    let later = |secs| {
        now()
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    update(&mut s, Event::Tick(later(599)));
    assert!(s.argocd.waits[0].outcome.is_none());
    assert_eq!(s.argocd.waits[0].elapsed(s.now), 599);
    update(&mut s, Event::Tick(later(600)));
    let err = s.argocd.waits[0].outcome.clone().unwrap().unwrap_err();
    assert!(err.contains("timed out after 600s"), "{err}");
}

#[test]
fn keys_are_answered_without_io_while_argo_cd_is_down() {
    let mut s = populated(160, 48);
    for env in 0..3 {
        argo(
            &mut s,
            env,
            ArgoUpdate::Down("Argo CD did not answer within 15s".into()),
        );
    }
    assert!(matches!(s.argocd.envs[2].link, ArgoLink::Down { .. }));
    // update() is pure and synchronous: no key waits on the network, however slow it is.
    let started = Instant::now();
    for _ in 0..500 {
        press(&mut s, "5jk]");
        key(&mut s, KeyCode::Enter);
        key(&mut s, KeyCode::Esc);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Acting on an app Argo CD cannot be asked about says why.
    press(&mut s, "Y");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash.as_ref().unwrap().1.contains("down"),
        "{:?}",
        s.flash
    );
}

#[test]
fn readonly_refuses_argo_cd_commands() {
    let mut s = prod_history(160, 48);
    s.readonly = true;
    press(&mut s, "jR");
    assert!(matches!(s.mode, Mode::Normal));
    press(&mut s, "YA");
    assert!(matches!(s.mode, Mode::Normal));
}

#[test]
fn terminate_is_offered_only_while_an_operation_runs() {
    let mut s = prod_history(160, 48);
    // No operation: refused on screen, no dialog.
    press(&mut s, "T");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .1
            .contains("customer-adapter-prod: no operation is running; nothing to terminate"),
        "{:?}",
        s.flash
    );

    // A rollback running: T opens the exact DELETE, typed in production.
    let mut v = app_json("customer-adapter-prod", false, REV_NEW, "v1.2.0");
    let op = json!({"sync": {"revision": REV_OLD}, "initiatedBy": {"username": "admin"}});
    v["operation"] = op.clone();
    v["status"]["operationState"] =
        json!({"operation": op, "phase": "Running", "startedAt": "2026-11-26T10:00:00Z"});
    argo(
        &mut s,
        2,
        ArgoUpdate::Apps(WatchUpdate::Apply(app(v.clone()))),
    );
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("T terminate op"), "{screen}");
    press(&mut s, "T");
    assert_eq!(
        *dialog_command(&s),
        Command::ArgocdTerminateOperation {
            env: "prod".into(),
            app: "customer-adapter-prod".into(),
        }
    );
    let Mode::Confirm(d) = &s.mode else {
        unreachable!()
    };
    assert_eq!(d.preview.method, "DELETE");
    assert_eq!(
        d.preview.path,
        "/api/v1/applications/customer-adapter-prod/operation"
    );
    assert_eq!(d.preview.content_type, "application/json");
    assert!(d.preview.effect.contains("Operation terminated"));
    // Terminate stops an operation: one key confirms it, even in production.
    let effects = key(&mut s, KeyCode::Enter);
    let [Effect::Send { command, .. }] = effects.as_slice() else {
        panic!("terminate is sent on Enter: {effects:?}")
    };
    assert!(matches!(command, Command::ArgocdTerminateOperation { .. }));

    // Already terminating: refused, no second request.
    v["status"]["operationState"]["phase"] = json!("Terminating");
    argo(&mut s, 2, ArgoUpdate::Apps(WatchUpdate::Apply(app(v))));
    press(&mut s, "T");
    assert!(matches!(s.mode, Mode::Normal));
    assert!(s.flash.as_ref().unwrap().1.contains("already terminating"));

    // Read-only: refused like every other Argo CD command.
    s.readonly = true;
    press(&mut s, "T");
    assert!(matches!(s.mode, Mode::Normal));
}

/// After a rollback Argo CD adds a history entry at the top: the cursor stays on the
/// entry it was on, so a second `R` means the same revision, not the one that slid
/// under it.
#[test]
fn the_history_cursor_stays_on_its_entry_when_one_is_added() {
    let mut s = prod_history(160, 48);
    press(&mut s, "j");
    let mut v = app_json("customer-adapter-prod", false, REV_NEW, "v1.2.0");
    v["status"]["history"].as_array_mut().unwrap().push(
        json!({"id": 5, "revision": REV_NEW, "deployedAt": "2026-11-26T13:00:00Z",
                     "initiatedBy": {"username": "oncall"}}),
    );
    argo(&mut s, 2, ArgoUpdate::Apps(WatchUpdate::Apply(app(v))));
    press(&mut s, "R");
    assert_eq!(
        *dialog_command(&s),
        Command::ArgocdRollback {
            env: "prod".into(),
            app: "customer-adapter-prod".into(),
            id: 3,
            revision: Some(REV_OLD.into()),
        }
    );
}

/// A terminate dialog left open when the operation ends closes itself and says why,
/// rather than send a DELETE Argo CD would refuse ("No operation is in progress").
#[test]
fn a_terminate_dialog_closes_when_the_operation_ends_under_it() {
    let mut s = prod_history(160, 48);
    let mut v = app_json("customer-adapter-prod", false, REV_NEW, "v1.2.0");
    let op = json!({"sync": {"revision": REV_OLD}, "initiatedBy": {"username": "admin"}});
    v["operation"] = op.clone();
    v["status"]["operationState"] =
        json!({"operation": op, "phase": "Running", "startedAt": "2026-11-26T10:00:00Z"});
    argo(
        &mut s,
        2,
        ArgoUpdate::Apps(WatchUpdate::Apply(app(v.clone()))),
    );
    press(&mut s, "T");
    assert!(matches!(s.mode, Mode::Confirm(_)));
    v.as_object_mut().unwrap().remove("operation");
    v["status"]["operationState"]["phase"] = json!("Succeeded");
    argo(&mut s, 2, ArgoUpdate::Apps(WatchUpdate::Apply(app(v))));
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .1
            .contains("the operation ended; nothing to terminate"),
        "{:?}",
        s.flash
    );
}
