//! The production runbook through `update()`: steps in order, the current one marked
//! done once its check passes, a failing check keeps it open with its evidence, a skip
//! needs a reason, and from T-0 on a step needs a reason while the production checklist
//! is incomplete. Marks go out through the pipeline like checklist ticks.

use rollcall::app::{Effect, Mode, State};
use rollcall::bus::Command;
use rollcall::domain::WatchUpdate;
use rollcall::domain::checklist::shared::Change;
use rollcall::domain::feed::ChecklistUpdate;
use rollcall_testkit::checklist::{PROD, backup, checklist, shared, with_checklist_data};
use rollcall_testkit::release::with_apps;
use rollcall_testkit::state::*;

fn prod_runbook() -> State {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    s.checklist
        .identity
        .insert(PROD, "alice@dictamesh.io".into());
    press(&mut s, "]]0z");
    s
}

fn sent(effects: &[Effect]) -> Option<Command> {
    sent_op(effects).map(|(_, c)| c)
}

fn sent_op(effects: &[Effect]) -> Option<(rollcall::bus::OpId, Command)> {
    effects.iter().find_map(|e| match e {
        Effect::Send { op, command, .. } => Some((*op, command.clone())),
        _ => None,
    })
}

/// Lets the watch bring back what was sent, as the cluster would.
fn echo(s: &mut State, command: Command) {
    echo_at(s, PROD, command);
}

#[test]
fn steps_are_walked_in_order_with_their_checks() {
    let mut s = prod_runbook();
    let text = screen_text(&s);
    assert!(text.contains("▶▸ Verify the staging deployment"), "{text}");
    assert!(
        text.contains("$ argocd app get customer-adapter-staging --hard-refresh"),
        "{text}"
    );
    assert!(
        text.contains("⚠ checklist 10/17: T-0 steps need a reason"),
        "{text}"
    );

    // Staging is healthy: the step can be marked done.
    let effects = press(&mut s, "x");
    assert!(matches!(s.mode, Mode::Note(_)));
    let effects = [effects, press(&mut s, "looked at it\n")].concat();
    let command = sent(&effects).expect("the mark is sent");
    let Command::MarkChecklist { item, mark, .. } = &command else {
        panic!()
    };
    assert_eq!(item, "rb.check-staging");
    assert!(mark.done && !mark.skipped);
    echo(&mut s, command);

    // The backup step's check fails (the newest is 3 h old, it wants 1 h): not done.
    press(&mut s, "j");
    let effects = press(&mut s, "x");
    assert!(effects.is_empty() && matches!(s.mode, Mode::Normal));
    let flash = s.flash.clone().unwrap().1;
    assert!(flash.contains("completed 3h0m ago (limit 60m)"), "{flash}");
    assert!(screen_text(&s).contains("✖ Create a production backup"));

    // A fresh backup arrives: now it can be marked.
    checklist(
        &mut s,
        PROD,
        ChecklistUpdate::Backups(WatchUpdate::Apply(backup(
            "dictamesh-infra",
            "metadata-catalog-db-20261126140000",
            "completed",
            60,
            None,
        ))),
    );
    let effects = [press(&mut s, "x"), press(&mut s, "\n")].concat();
    echo(&mut s, sent(&effects).expect("marked"));

    // Skipping the tag needs a reason.
    press(&mut s, "j");
    press(&mut s, "X");
    let effects = press(&mut s, "\n");
    assert!(sent(&effects).is_none(), "no reason, nothing sent");
    assert!(matches!(s.mode, Mode::Note(_)));
    let effects = press(&mut s, "tagged by CI\n");
    let command = sent(&effects).unwrap();
    let Command::MarkChecklist { mark, .. } = &command else {
        panic!()
    };
    assert!(mark.skipped && mark.note == "tagged by CI");
    echo(&mut s, command);
    let text = screen_text(&s);
    assert!(text.contains("↷ Tag the release"), "{text}");
    assert!(text.contains("T-0 not reached"), "{text}");

    // T-0: the checklist is incomplete, so the step needs a reason too.
    press(&mut s, "j");
    press(&mut s, "x");
    let effects = press(&mut s, "\n");
    assert!(sent(&effects).is_none());
    let effects = press(&mut s, "CAB approved, ticket CHG-1042\n");
    let command = sent(&effects).unwrap();
    echo(&mut s, command);
    let text = screen_text(&s);
    assert!(text.contains("T-0 14:02 UTC, now T+0s"), "{text}");
    assert!(text.contains("✔ Enable maintenance mode"), "{text}");

    // Pending steps wait their turn.
    press(&mut s, "jjj");
    let effects = press(&mut s, "x");
    assert!(effects.is_empty());
    let flash = s.flash.clone().unwrap().1;
    assert!(flash.contains("the steps before it come first"), "{flash}");
}

#[test]
fn steps_rollcall_runs_go_through_the_confirm_dialog_and_mark_themselves() {
    use rollcall::bus::runbook::StepAction;

    let mut s = prod_runbook();
    let effects = [press(&mut s, "x"), press(&mut s, "\n")].concat();
    echo(&mut s, sent(&effects).unwrap());

    // The backup step: Enter shows the plugin's POST, typed in production.
    press(&mut s, "j");
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    // Nothing sent yet; the dialog asks the server's dry run of the backup's POST.
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::DryRun(Command::RunbookStep { .. })]
        ),
        "{effects:?}"
    );
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("a confirm dialog")
    };
    assert_eq!(dialog.preview.method, "POST");
    assert_eq!(
        dialog.preview.path,
        "/apis/postgresql.cnpg.io/v1/namespaces/dictamesh-infra/backups"
    );
    assert!(
        dialog
            .preview
            .body
            .contains("\"metadata-catalog-db-20261126140211\"")
    );
    let effects = press(&mut s, "metadata-catalog-db\n");
    let (op, command) = sent_op(&effects).expect("sent");
    assert!(matches!(
        command,
        Command::RunbookStep {
            action: StepAction::CnpgBackup { .. },
            ..
        }
    ));
    let (effects, _) = rollcall::app::update(
        &mut s,
        rollcall::app::Event::OpFinished {
            op,
            outcome: Ok("backup/metadata-catalog-db-20261126140211 created".into()),
        },
    );
    // Its check decides when it is done, not the run: nothing marked yet; the run is
    // recorded with the release's marks (a restart or a teammate sees it).
    let recorded = sent(&effects).expect("the run is recorded");
    let Command::MarkChecklist { item, mark, .. } = &recorded else {
        panic!("{recorded:?}")
    };
    assert_eq!(item, "rb.backup.run");
    assert!(!mark.done);
    assert_eq!(
        mark.note,
        "ok: backup/metadata-catalog-db-20261126140211 created"
    );
    echo(&mut s, recorded);
    // What the ConfigMap holds is what shows after a restart.
    s.runbook.last_run.clear();
    assert!(
        screen_text(&s)
            .contains("last run 0s ago: ✔ backup/metadata-catalog-db-20261126140211 created")
    );
    // The run is waited for (its check still sees only the old backup)...
    let text = screen_text(&s);
    assert!(text.contains("◐ Create a production backup"), "{text}");
    assert!(
        text.contains("waiting 0s of 10m: metadata-catalog-db-"),
        "{text}"
    );
    // ...until its timeout, when the step says it timed out.
    rollcall::app::update(
        &mut s,
        rollcall::app::Event::Tick(now() + jiff::SignedDuration::from_mins(11)),
    );
    let text = screen_text(&s);
    assert!(text.contains("✖ Create a production backup"), "{text}");
    assert!(text.contains("timed out after 10m: "), "{text}");

    // Maintenance mode on (T-0) is gated while the checklist is incomplete.
    let effects = [
        press(&mut s, "X"),
        press(&mut s, "done by the night shift\n"),
    ]
    .concat();
    echo(&mut s, sent(&effects).unwrap());
    let effects = [press(&mut s, "jX"), press(&mut s, "tagged by CI\n")].concat();
    echo(&mut s, sent(&effects).unwrap());
    press(&mut s, "j");
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    assert!(effects.is_empty() && matches!(s.mode, Mode::Normal));
    let flash = s.flash.clone().unwrap().1;
    assert!(
        flash.contains("the production checklist is 10/17"),
        "{flash}"
    );

    // Outside production nothing gates it, and a run without a check marks the step.
    let mut s = populated(160, 48);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    press(&mut s, "]0z");
    let steps_before_t0 = 3;
    for _ in 0..steps_before_t0 {
        let effects = [press(&mut s, "X"), press(&mut s, "not in staging\n")].concat();
        assert!(sent(&effects).is_some());
        press(&mut s, "j");
    }
    // Skips are not in the cluster yet, but they count locally (unsynced).
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    assert!(sent(&effects).is_none(), "{effects:?}");
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.flash)
    };
    assert_eq!(dialog.preview.method, "PATCH");
    assert_eq!(
        dialog.preview.path,
        "/api/v1/namespaces/dictamesh-staging/configmaps/feature-flags"
    );
    assert!(
        dialog
            .preview
            .body
            .contains("\"maintenance_mode\": \"true\"")
    );
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    let (op, _) = sent_op(&effects).unwrap();
    let (effects, _) = rollcall::app::update(
        &mut s,
        rollcall::app::Event::OpFinished {
            op,
            outcome: Ok("configmap/feature-flags: maintenance_mode=true".into()),
        },
    );
    let Some(Command::MarkChecklist { item, mark, .. }) = sent(&effects) else {
        panic!("the run marks the step: {effects:?}")
    };
    assert_eq!(item, "rb.maintenance-on");
    assert!(mark.done && mark.note.starts_with("ran: configmap/feature-flags"));
}

#[test]
fn the_sync_step_sends_argocd_sync_and_its_check_decides() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    // Staging: three steps skipped, maintenance on marked, the image step skipped.
    press(&mut s, "]0z");
    for _ in 0..5 {
        let effects = [press(&mut s, "X"), press(&mut s, "elsewhere\n")].concat();
        echo_at(&mut s, 1, sent(&effects).unwrap());
        press(&mut s, "j");
    }
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    assert!(effects.is_empty());
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.flash)
    };
    assert!(matches!(
        &dialog.command,
        Command::ArgocdSync { app, revision: None, .. } if app == "customer-adapter-staging"
    ));
    // Cancelled: nothing runs.
    key(&mut s, crossterm::event::KeyCode::Esc);
    assert!(s.runbook.pending.is_none());
}

/// `echo` for another environment.
fn echo_at(s: &mut State, env: usize, command: Command) {
    let Command::MarkChecklist {
        item,
        mark,
        release,
        ..
    } = command
    else {
        panic!("{command:?}")
    };
    let names = ["dev", "staging", "prod"];
    let mut map = s.checklist.envs[env]
        .shared
        .iter()
        .next()
        .cloned()
        .unwrap_or_else(|| {
            shared(
                &format!("dictamesh-{}", names[env]),
                names[env],
                &release,
                &[],
            )
        });
    if let Some(c) = map.checklist.as_mut() {
        c.apply(&Change { item, mark });
    }
    checklist(s, env, ChecklistUpdate::Shared(WatchUpdate::Apply(map)));
}

#[test]
fn the_gate_is_passed_over_once_with_a_reason_then_t0_steps_run() {
    let mut s = prod_runbook();
    for _ in 0..3 {
        let effects = [press(&mut s, "X"), press(&mut s, "done earlier\n")].concat();
        echo(&mut s, sent(&effects).unwrap());
        press(&mut s, "j");
    }
    // O asks why; without a reason nothing is recorded.
    press(&mut s, "O");
    assert!(sent(&press(&mut s, "\n")).is_none());
    let effects = press(&mut s, "scan finding accepted, CHG-1042\n");
    let command = sent(&effects).expect("the override is recorded");
    let Command::MarkChecklist { item, mark, .. } = &command else {
        panic!()
    };
    assert_eq!(item, "rb.gate");
    assert_eq!(mark.note, "scan finding accepted, CHG-1042");
    echo(&mut s, command);
    let text = screen_text(&s);
    assert!(
        text.contains("⚠ checklist passed over by alice: scan finding accepted, CHG-1042"),
        "{text}"
    );
    // Maintenance mode on now runs (typed confirmation in production).
    key(&mut s, crossterm::event::KeyCode::Enter);
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.flash)
    };
    assert_eq!(dialog.preview.method, "PATCH");
    let effects = press(&mut s, "feature-flags\n");
    assert!(sent(&effects).is_some());
}

#[test]
fn the_log_step_opens_the_services_logs_filtered_for_errors() {
    let mut s = populated(160, 48);
    with_apps(&mut s);
    with_checklist_data(&mut s);
    press(&mut s, "]0z");
    // Staging's runbook: skip to the log step (the eighth).
    for _ in 0..7 {
        let effects = [press(&mut s, "X"), press(&mut s, "elsewhere\n")].concat();
        echo_at(&mut s, 1, sent(&effects).unwrap());
        press(&mut s, "j");
    }
    let effects = key(&mut s, crossterm::event::KeyCode::Enter);
    let Some(Effect::StreamLogs(request)) =
        effects.iter().find(|e| matches!(e, Effect::StreamLogs(_)))
    else {
        panic!("the logs are asked for: {effects:?} {:?}", s.flash)
    };
    assert_eq!(request.namespace, "dictamesh-staging");
    assert_eq!(request.tail, 100);
    assert!(!request.pods.is_empty());
    let view = s.logs.view.as_ref().expect("the logs pane is open");
    assert_eq!(view.filter_text(), "error");
    assert_eq!(s.focus, rollcall::app::Pane::Logs);
}

#[test]
fn a_failed_run_says_why_and_how_to_run_it_again() {
    let mut s = prod_runbook();
    let effects = [press(&mut s, "x"), press(&mut s, "\n")].concat();
    echo(&mut s, sent(&effects).unwrap());
    press(&mut s, "j");
    key(&mut s, crossterm::event::KeyCode::Enter);
    let (op, _) = sent_op(&press(&mut s, "metadata-catalog-db\n")).expect("sent");
    rollcall::app::update(
        &mut s,
        rollcall::app::Event::OpFinished {
            op,
            outcome: Err("backups.postgresql.cnpg.io is forbidden".into()),
        },
    );
    let text = screen_text(&s);
    assert!(
        text.contains("✖ backups.postgresql.cnpg.io is forbidden · enter to run it again"),
        "{text}"
    );
    // The step is still the one to do, its check failing as before.
    assert!(text.contains("✖ Create a production backup"), "{text}");
}

/// T+30m: the error rate read from Prometheus is compared across T-0 and drawn; a
/// release that made it worse fails the step with both values, one that did not lets it
/// be marked.
#[test]
fn the_error_rate_is_compared_across_t0() {
    use rollcall::app::Event;
    use rollcall::domain::checklist::metric::MetricRead;
    use rollcall::domain::metrics::Series;
    let mut s = prod_runbook();
    // Everything before T+30m marked, T-0 40 minutes ago.
    let steps: Vec<(String, i64)> = [
        ("check-staging", 3000),
        ("backup", 2900),
        ("tag", 2800),
        ("maintenance-on", 2400),
        ("set-image", 2390),
        ("sync", 2300),
        ("pods", 2000),
        ("logs", 1990),
        ("smoke-tests", 1900),
        ("metrics", 1890),
        ("maintenance-off", 1800),
    ]
    .iter()
    .map(|(id, secs)| (format!("rb.{id}"), *secs))
    .collect();
    let ticks: Vec<(&str, &str, i64, &str)> = steps
        .iter()
        .map(|(id, secs)| (id.as_str(), "alice@dictamesh.io", *secs, ""))
        .collect();
    let row = shared("dictamesh-prod", "prod", "customer-adapter@v1.2.0", &ticks);
    checklist(
        &mut s,
        PROD,
        ChecklistUpdate::Shared(WatchUpdate::Apply(row)),
    );
    press(&mut s, &"j".repeat(steps.len()));
    let text = screen_text(&s);
    assert!(text.contains("T-0 "), "{text}");
    assert!(text.contains("reading error rate"), "{text}");

    let query = "sum(rate(http_requests_total{namespace=\"dictamesh-prod\",service=\"customer-adapter\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{namespace=\"dictamesh-prod\",service=\"customer-adapter\"}[5m]))";
    let t0 = now() - jiff::SignedDuration::from_secs(2400);
    let series = |after: f64| Series {
        points: (0..120)
            .map(|m| {
                let at = now() - jiff::SignedDuration::from_mins(119 - m);
                (at, if at < t0 { 0.002 } else { after })
            })
            .collect(),
    };
    let read = |after: f64| Event::Metric {
        env: PROD,
        query: query.into(),
        read: MetricRead {
            read_at: now(),
            series: Ok(series(after)),
        },
    };
    rollcall::app::update(&mut s, read(0.12));
    let text = screen_text(&s);
    assert!(
        text.contains("✖ Monitor error rates")
            && text.contains("error rate 0.20% → 12.00% ✖ worse"),
        "{text}"
    );
    // The series drawn, T-0 marked inside it (besides the pane's own borders).
    let drawn = text
        .lines()
        .find(|l| l.contains("now 12.00%"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(drawn.contains('█') && drawn.contains('▁'), "{drawn}");
    assert_eq!(drawn.matches('┃').count(), 3, "{drawn}");
    let effects = press(&mut s, "x");
    assert!(
        effects.is_empty(),
        "a worse error rate cannot be marked done"
    );

    rollcall::app::update(&mut s, read(0.0021));
    let text = screen_text(&s);
    assert!(
        text.contains("▸ Monitor error rates") && text.contains("0.20% → 0.21% ✔"),
        "{text}"
    );
}
