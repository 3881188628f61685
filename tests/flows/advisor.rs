//! The rollback advisor (issue 18): plans ranked from the live state, their steps and
//! risks, and a plan run step by step through the usual dialogs.

use std::path::Path;
use std::sync::Arc;

use crossterm::event::KeyCode;
use rollcall::app::advisor;
use rollcall::app::{Effect, EnvUpdate, Event, Mode, State, update};
use rollcall::bus::Command;
use rollcall::domain::WatchUpdate;
use rollcall::domain::advisor::{Severity, StepAction};
use rollcall::domain::migrations::{MigrationUpdate, SourceSnapshot};
use rollcall_migrate::store::Recorded;
use rollcall_migrate::{DbStatus, Source};
use rollcall_testkit::release::{REV_NEW, REV_OLD, app_json, only_app};
use rollcall_testkit::state::*;

const PROD: usize = 2;

/// prod's metadata-catalog at revision 2 (v1.1.4) after revision 1 (v1.1.3), deployed by
/// `metadata-catalog-prod` with auto-sync and self-heal on.
pub(crate) fn scene() -> State {
    let mut s = populated(160, 48);
    feed_rs(
        &mut s,
        PROD,
        deployment_rs("metadata-catalog", "5d8f7c9b4", 1, "v1.1.3", 0, 5 * 86400),
    );
    feed_rs(
        &mut s,
        PROD,
        deployment_rs("metadata-catalog", "7d9f5c6b8", 2, "v1.1.4", 3, 3 * 86400),
    );
    only_app(
        &mut s,
        PROD,
        app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4"),
    );
    s
}

/// metadata-catalog's consumer group replayed from when the running release (history
/// id 4) went out: every way back for it ends so (see `advisor_kafka`).
fn replay() -> StepAction {
    StepAction::ResetConsumerGroup {
        group: "metadata-catalog-consumer".into(),
        topic: "customers.entity_changed".into(),
        to: "2026-11-25T11:30:00Z".parse().unwrap(),
    }
}

fn actions(plan: &rollcall::domain::advisor::Plan) -> Vec<&StepAction> {
    plan.steps.iter().map(|s| &s.action).collect()
}

#[test]
fn with_self_heal_on_auto_sync_off_comes_first() {
    let s = scene();
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert_eq!(plans.len(), 2, "{plans:#?}");
    // The Argo CD rollback ranks first: cluster and Argo CD agree afterwards.
    let best = &plans[0];
    assert_eq!(
        actions(best),
        [
            &StepAction::DisableAutoSync {
                app: "metadata-catalog-prod".into()
            },
            &StepAction::ArgocdRollback {
                app: "metadata-catalog-prod".into(),
                id: 3,
                revision: REV_OLD.into()
            },
            &StepAction::WaitHealthy {
                app: "metadata-catalog-prod".into()
            },
            &replay(),
        ]
    );
    // The undo behind Argo CD's back needs self-heal off too, and ranks lower.
    assert_eq!(
        actions(&plans[1]),
        [
            &StepAction::DisableAutoSync {
                app: "metadata-catalog-prod".into()
            },
            &StepAction::UndoDeployment {
                deployment: "metadata-catalog".into(),
                to_revision: 1
            },
            &replay(),
        ]
    );
    assert!(plans[1].rank_reason.contains("behind Argo CD's back"));
    assert!(!best.blocked() && best.expected_secs > 0);
}

/// prod's database at migration 5 (it drops a column), changed `applied` ago.
fn migrated_to_5(s: &mut State, applied: &str) {
    let source = Source::from_files(
        Path::new("migrations"),
        rollcall_migrate::demo::FILES.iter().copied(),
    );
    s.envs[PROD].migrations.database = Some("postgres://db/catalog".into());
    let status = DbStatus {
        database: "postgres://db/catalog".into(),
        recorded: Some(Recorded {
            version: 5,
            dirty: false,
        }),
        lock_key: None,
        locked_by: None,
        last_change: Some(applied.parse().unwrap()),
        last_change_source: None,
    };
    for update_ in [
        MigrationUpdate::Source(Arc::new(SourceSnapshot::new(source))),
        MigrationUpdate::Status {
            at: now(),
            status: Ok(status),
        },
    ] {
        update(
            s,
            Event::Migrations {
                env: PROD,
                update: update_,
            },
        );
    }
}

#[test]
fn a_column_dropped_after_the_target_release_blocks_rolling_back_below_it() {
    let mut s = scene();
    // Release id 3 went out 2026-11-19; the DROP COLUMN was applied on the 25th.
    migrated_to_5(&mut s, "2026-11-25T12:00:00Z");
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert!(plans.iter().all(|p| p.blocked()), "{plans:#?}");
    let blocker = plans[0]
        .risks
        .iter()
        .find(|r| r.severity == Severity::Blocker)
        .unwrap();
    assert!(
        blocker.text.starts_with("migration 5 ") && blocker.text.contains("DROP COLUMN"),
        "{}",
        blocker.text
    );
    assert!(blocker.text.contains("old version reads what it removed"));
    // A drop applied before the release rolled back to is only a warning.
    let mut s = scene();
    migrated_to_5(&mut s, "2026-11-18T12:00:00Z");
    let later = advisor::plans(&s, PROD, "metadata-catalog");
    let argo = &later[0];
    assert!(!argo.blocked(), "{argo:#?}");
    assert!(
        argo.risks
            .iter()
            .any(|r| r.severity == Severity::Warning && r.text.contains("DROP COLUMN"))
    );
}

#[test]
fn a_ready_blue_green_switch_back_ranks_above_an_argo_cd_rollback() {
    let mut s = populated(160, 48);
    // graphql-gateway: blue (v1.1.4, deployed 3 days ago) serves the way back; green runs
    // v1.2.0 (since 2 hours), fully ready, and serves: its release is rolled back.
    bluegreen_pair(&mut s, 3 * 86400, 2 * 3600);
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Apply(service(
            "dictamesh-prod",
            "graphql-gateway",
            Some("green"),
        ))),
    );
    only_app(
        &mut s,
        PROD,
        app_json("graphql-gateway-prod", false, REV_NEW, "v1.2.0"),
    );
    let plans = advisor::plans(&s, PROD, "graphql-gateway");
    assert_eq!(plans.len(), 2, "{plans:#?}");
    assert!(
        plans[0].risks.iter().all(|r| r.severity == Severity::Note),
        "{:#?}",
        plans[0].risks
    );
    assert_eq!(
        actions(&plans[0]),
        [&StepAction::SwitchBlueGreen {
            to: rollcall::config::Colour::Blue
        }]
    );
    assert!(matches!(
        actions(&plans[1])[0],
        StepAction::ArgocdRollback { id: 3, .. }
    ));
    // Auto-sync is off here: no step to turn it off.
    assert_eq!(plans[1].steps.len(), 2);
}

#[test]
fn a_canary_in_flight_is_aborted_first() {
    let mut s = populated(160, 48);
    rollcall_testkit::canary::with_rollout(&mut s, rollcall_testkit::canary::Phase::Paused, 30);
    let plans = advisor::plans(&s, PROD, "customer-adapter");
    assert!(matches!(
        actions(&plans[0])[..],
        [StepAction::AbortCanary { .. }]
    ));
    assert!(plans[0].steps[0].why.contains("Git is not touched"));
}

/// `!` then Enter: each step opens its usual dialog; the next opens when the previous
/// succeeded; the wait ends when the app is Healthy at the old revision.
#[test]
fn a_plan_runs_its_steps_in_order_and_stops_at_the_first_failure() {
    let mut s = scene();
    press(&mut s, "]]2");
    // The metadata-catalog pod: its service is the one in view.
    while s
        .selected_pod()
        .and_then(|p| p.deployment())
        .is_some_and(|d| d != "metadata-catalog")
    {
        press(&mut s, "j");
    }
    press(&mut s, "!");
    assert!(matches!(s.mode, Mode::Advice(_)), "{:?}", s.mode);
    assert!(screen_text(&s).contains("Ways back · metadata-catalog · prod"));
    key(&mut s, KeyCode::Enter);
    let send = |s: &mut State, name: &str| {
        press(s, name);
        let effects = key(s, KeyCode::Enter);
        match effects.as_slice() {
            [Effect::Send { op, command, .. }] => (*op, command.clone()),
            other => panic!("{other:?} {:?}", s.mode),
        }
    };
    let (op, command) = send(&mut s, "metadata-catalog-prod");
    assert!(matches!(command, Command::ArgocdDisableAutoSync { .. }));
    update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Ok("auto-sync off".into()),
        },
    );
    let (op, command) = send(&mut s, "metadata-catalog-prod");
    assert!(
        matches!(command, Command::ArgocdRollback { id: 3, .. }),
        "{command:?}"
    );
    update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Err("Argo CD refused: permission denied".into()),
        },
    );
    assert!(s.advisor.run.is_none());
    let flash = &s.flash.as_ref().unwrap().1;
    assert!(
        flash.starts_with("plan stopped at step 2/4 (roll metadata-catalog-prod back"),
        "{flash}"
    );
    assert!(flash.contains("permission denied"));
}

/// A drill counts keys and sends, judges each send against the drill's unsafe list, and
/// stops its clock when the goal holds.
#[test]
fn a_drill_scores_time_keys_and_unsafe_sends() {
    use rollcall::app::drill::DrillRun;
    use rollcall::config::drills::{find_drill, load_drills};
    let mut s = populated(160, 48);
    rollcall_testkit::canary::with_rollout(&mut s, rollcall_testkit::canary::Phase::Paused, 30);
    let drill = find_drill(
        load_drills(None, &["dev", "staging", "prod"]).unwrap(),
        "bad-canary",
    )
    .unwrap();
    s.drill = Some(DrillRun::new(drill, now()));
    // Promote first (unsafe on a failing canary), then abort.
    press(&mut s, "]]3pcustomer-adapter");
    let at = |secs| {
        now()
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    update(
        &mut s,
        Event::KeyAt {
            key: crossterm::event::KeyEvent::new(
                KeyCode::Enter,
                crossterm::event::KeyModifiers::NONE,
            ),
            at: at(30),
        },
    );
    assert_eq!(s.drill.as_ref().unwrap().unsafe_sent.len(), 1);
    rollcall_testkit::canary::with_rollout(&mut s, rollcall_testkit::canary::Phase::Aborted, 0);
    let run = s.drill.as_ref().unwrap();
    assert!(run.done.is_some());
    let score = run.score(s.now, 1.0);
    assert!(
        score.starts_with("mitigated in 30s (within par 2m0s)"),
        "{score}"
    );
    assert!(score.contains("UNSAFE: "), "{score}");
}

/// At 80×24 the chosen plan's steps do not fit under the list of plans: the list stays
/// (the alternatives in sight), the details scroll with PgDn/PgUp to their last row and
/// no further, and choosing another plan starts its details from the top.
#[test]
fn the_plans_stay_listed_and_the_details_scroll_at_80x24() {
    let mut s = scene();
    s.size = (80, 24);
    press(&mut s, "]]2");
    while s
        .selected_pod()
        .and_then(|p| p.deployment())
        .is_some_and(|d| d != "metadata-catalog")
    {
        press(&mut s, "j");
    }
    press(&mut s, "!");
    let top = screen_text(&s);
    assert!(top.contains("▶ BEST"), "{top}");
    assert!(top.contains("#2"), "the alternative stays listed:\n{top}");
    assert!(top.contains("(PgDn/PgUp)"), "{top}");
    assert!(
        !top.contains("· note:"),
        "the notes are below the fold:\n{top}"
    );
    for _ in 0..20 {
        key(&mut s, KeyCode::PageDown);
    }
    let bottom = screen_text(&s);
    assert!(bottom.contains("· note:"), "{bottom}");
    assert!(bottom.contains("#2"), "{bottom}");
    let Mode::Advice(view) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    let scrolled = view.scroll;
    key(&mut s, KeyCode::PageDown);
    let Mode::Advice(view) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(view.scroll, scrolled, "no scrolling past the end");
    press(&mut s, "j");
    let Mode::Advice(view) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!((view.cursor, view.scroll), (1, 0));
}

/// graphql-gateway's blue (v1.1.4) and green (v1.2.0) Deployments, fully ready, their
/// versions deployed `blue_age` and `green_age` seconds ago.
fn bluegreen_pair(s: &mut State, blue_age: i64, green_age: i64) {
    for (name, tag, age) in [
        ("graphql-gateway-blue", "v1.1.4", blue_age),
        ("graphql-gateway-green", "v1.2.0", green_age),
    ] {
        let mut d = deployment("dictamesh-prod", name, 3, 3, tag);
        d.created = now().checked_sub(jiff::SignedDuration::from_secs(age)).ok();
        feed(s, PROD, EnvUpdate::Deployments(WatchUpdate::Apply(d)));
    }
}

/// Green holds a newer version deployed for its switch while blue serves: switching to
/// it would be a release, not a way back, so no plan offers it (the demo's prod
/// graphql-gateway is in this state, and the advisor ranked "switch back to green" first).
#[test]
fn a_newer_colour_waiting_for_its_switch_is_no_way_back() {
    let mut s = populated(160, 48);
    bluegreen_pair(&mut s, 3 * 86400, 2 * 3600);
    feed(
        &mut s,
        PROD,
        EnvUpdate::Services(WatchUpdate::Apply(service(
            "dictamesh-prod",
            "graphql-gateway",
            Some("blue"),
        ))),
    );
    only_app(
        &mut s,
        PROD,
        app_json("graphql-gateway-prod", false, REV_NEW, "v1.1.4"),
    );
    let plans = advisor::plans(&s, PROD, "graphql-gateway");
    assert!(
        plans
            .iter()
            .all(|p| !matches!(actions(p)[..], [StepAction::SwitchBlueGreen { .. }])),
        "{plans:#?}"
    );
}
