//! The advisor's Kafka layer (issue 18): a service with `consumer_groups` gets, after
//! every way back, a replay of each group from when the running (bad) version started,
//! sent as the Kafka pane's offset reset; an active group blocks that step, not the
//! plan; and the drill of a consumer group that replayed nothing, scored from the
//! Kafka pane's reads.

use crossterm::event::KeyCode;
use jiff::Timestamp;
use rollcall::app::advisor;
use rollcall::app::drill::{Baseline, DrillRun, command_kind};
use rollcall::app::{Effect, Event, Mode, State, update};
use rollcall::bus::Command;
use rollcall::config::drills::{Goal, find_drill, load_drills};
use rollcall::domain::advisor::{Plan, Severity, StepAction};
use rollcall::domain::kafka::{GroupState, GroupView, KafkaUpdate, ResetSpec};
use rollcall_testkit::kafka_state::{demo_groups, with_kafka};
use rollcall_testkit::release::{REV_NEW, REV_OLD, app_json, only_app};
use rollcall_testkit::state::*;

const PROD: usize = 2;
const GROUP: &str = "metadata-catalog-consumer";
const TOPIC: &str = "customers.entity_changed";

/// prod's metadata-catalog at revision 2 (v1.1.4, Argo CD history id 4 deployed
/// 2026-11-25 11:30 UTC) after revision 1, auto-sync on; Kafka read 4 s ago.
fn scene() -> State {
    let mut s = crate::advisor::scene();
    with_kafka(&mut s, PROD);
    s
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn replays(plan: &Plan) -> Vec<&StepAction> {
    plan.steps
        .iter()
        .map(|s| &s.action)
        .filter(|a| matches!(a, StepAction::ResetConsumerGroup { .. }))
        .collect()
}

fn reset_at(to: &str) -> StepAction {
    StepAction::ResetConsumerGroup {
        group: GROUP.into(),
        topic: TOPIC.into(),
        to: ts(to),
    }
}

fn feed_groups(s: &mut State, groups: Vec<GroupView>) {
    update(
        s,
        Event::Kafka {
            env: PROD,
            update: KafkaUpdate::Groups {
                read_at: now(),
                groups: Ok(groups),
            },
        },
    );
}

#[test]
fn every_way_back_ends_by_replaying_the_group_from_when_the_running_release_went_out() {
    let s = scene();
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert_eq!(plans.len(), 2, "{plans:#?}");
    for plan in &plans {
        let last = plan.steps.last().unwrap();
        // Argo CD's history id 4 deployed the running revision at 11:30.
        assert_eq!(last.action, reset_at("2026-11-25T11:30:00Z"), "{plan:#?}");
        assert_eq!(last.blocker, None, "the group is Empty");
        assert!(last.why.contains("Argo CD history id 4"), "{}", last.why);
        assert!(!plan.blocked());
        // The lag the pane last read (122 + 115 + 110), and the idempotence note.
        let notes: Vec<&str> = plan
            .risks
            .iter()
            .filter(|r| r.severity == Severity::Note)
            .map(|r| r.text.as_str())
            .collect();
        assert!(
            notes.iter().any(|n| n.contains(
                "metadata-catalog-consumer is 347 message(s) behind on customers.entity_changed \
                 (read 4s ago)"
            )),
            "{notes:#?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("safe only if its consumer is idempotent")),
            "{notes:#?}"
        );
    }
    // The rollback comes first, the replay after it.
    assert!(matches!(
        plans[0].steps[1].action,
        StepAction::ArgocdRollback { .. }
    ));
    assert_eq!(
        plans[0].steps.last().unwrap().action.describe(),
        "replay metadata-catalog-consumer on customers.entity_changed from \
         2026-11-25T11:30:00.000Z"
    );
}

#[test]
fn the_replay_starts_at_the_first_sync_of_the_running_revision() {
    let mut s = scene();
    // Id 4 started deploying the revision at 11:29:58; id 5 synced it again later.
    let mut app = app_json("metadata-catalog-prod", true, REV_NEW, "v1.1.4");
    app["status"]["history"][1]["deployStartedAt"] = "2026-11-25T11:29:58Z".into();
    app["status"]["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": 5, "revision": REV_NEW,
            "deployedAt": "2026-11-26T09:00:00Z"}));
    only_app(&mut s, PROD, app);
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert_eq!(
        replays(&plans[0]),
        [&reset_at("2026-11-25T11:29:58Z")],
        "{plans:#?}"
    );
    // Rolled back to the old revision and on it now: history says when that began.
    let mut back = app_json("metadata-catalog-prod", false, REV_OLD, "v1.1.3");
    back["status"]["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": 5, "revision": REV_OLD,
            "deployedAt": "2026-11-26T12:00:00Z"}));
    only_app(&mut s, PROD, back);
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert_eq!(replays(&plans[0]), [&reset_at("2026-11-26T12:00:00Z")]);
}

#[test]
fn without_argo_cd_the_deployments_current_revision_dates_the_bad_version() {
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
    with_kafka(&mut s, PROD);
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    assert_eq!(plans.len(), 1, "{plans:#?}");
    // Revision 2's ReplicaSet was created three days before NOW.
    assert_eq!(
        replays(&plans[0]),
        [&reset_at("2026-11-23T14:02:11Z")],
        "{plans:#?}"
    );
    assert!(
        plans[0].steps[1]
            .why
            .contains("deployment/metadata-catalog revision 2")
    );
}

#[test]
fn an_active_group_blocks_its_step_not_the_rollback_and_the_run_stops_there() {
    let mut s = scene();
    let mut groups = demo_groups();
    let st = groups[0].state.as_mut().unwrap();
    st.state = GroupState::Stable;
    st.members = 2;
    feed_groups(&mut s, groups);
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    let undo = &plans[1];
    let reset = undo.steps.last().unwrap();
    let blocker = reset.blocker.as_deref().unwrap();
    assert!(
        blocker.contains("metadata-catalog-consumer is Stable with 2 active member(s)")
            && blocker.contains("rollcall cannot stop a consumer")
            && blocker.contains("from the Kafka pane (K, t) to 2026-11-25T11:30:00.000Z"),
        "{blocker}"
    );
    assert!(!undo.blocked(), "the rollback itself can run");
    // The run: auto-sync off, the undo, then the reset is refused as Kafka would.
    press(&mut s, "]]2");
    while s
        .selected_pod()
        .and_then(|p| p.deployment())
        .is_some_and(|d| d != "metadata-catalog")
    {
        press(&mut s, "j");
    }
    press(&mut s, "!j");
    key(&mut s, KeyCode::Enter);
    for name in ["metadata-catalog-prod", "metadata-catalog"] {
        press(&mut s, name);
        let effects = key(&mut s, KeyCode::Enter);
        let [Effect::Send { op, .. }] = effects.as_slice() else {
            panic!("{effects:?} {:?}", s.mode)
        };
        update(
            &mut s,
            Event::OpFinished {
                op: *op,
                outcome: Ok("done".into()),
            },
        );
    }
    assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
    assert!(s.advisor.run.is_none());
    let flash = &s.flash.as_ref().unwrap().1;
    assert!(
        flash.starts_with("plan stopped at step 3/3 (replay metadata-catalog-consumer")
            && flash.contains("is Stable with 2 active member(s)"),
        "{flash}"
    );
}

#[test]
fn the_replay_step_sends_the_kafka_panes_reset_with_its_dry_run() {
    let mut s = scene();
    press(&mut s, "]]2");
    while s
        .selected_pod()
        .and_then(|p| p.deployment())
        .is_some_and(|d| d != "metadata-catalog")
    {
        press(&mut s, "j");
    }
    // The undo plan: auto-sync off, the undo, then the replay.
    press(&mut s, "!j");
    key(&mut s, KeyCode::Enter);
    for name in ["metadata-catalog-prod", "metadata-catalog"] {
        press(&mut s, name);
        let effects = key(&mut s, KeyCode::Enter);
        let [Effect::Send { op, .. }] = effects.as_slice() else {
            panic!("{effects:?} {:?}", s.mode)
        };
        let (effects, _) = update(
            &mut s,
            Event::OpFinished {
                op: *op,
                outcome: Ok("done".into()),
            },
        );
        if name == "metadata-catalog" {
            // The reset's dialog opened, and asked the tool's dry run for its plan.
            assert!(
                effects.iter().any(|e| matches!(e,
                    Effect::DryRun(Command::KafkaResetOffsets { spec, .. })
                        if *spec == ResetSpec::ToDatetime("2026-11-25T11:30:00.000Z".into()))),
                "{effects:?}"
            );
        }
    }
    let Mode::Confirm(dialog) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    let Command::KafkaResetOffsets {
        env,
        broker,
        group,
        topic,
        spec,
    } = &dialog.command
    else {
        panic!("{:?}", dialog.command)
    };
    assert_eq!(
        (env.as_str(), group.as_str(), topic.as_str()),
        ("prod", GROUP, TOPIC)
    );
    assert_eq!(broker.pod, "dictamesh-kafka-kafka-0");
    assert_eq!(
        *spec,
        ResetSpec::ToDatetime("2026-11-25T11:30:00.000Z".into())
    );
    assert!(
        dialog
            .warning
            .as_deref()
            .unwrap()
            .starts_with("plan step 3/3: replay metadata-catalog-consumer"),
        "{:?}",
        dialog.warning
    );
    press(&mut s, GROUP);
    let effects = key(&mut s, KeyCode::Enter);
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Send {
                command: Command::KafkaResetOffsets { .. },
                ..
            }]
        ),
        "{effects:?}"
    );
}

#[test]
fn a_service_without_consumer_groups_gets_no_replay() {
    let mut s = populated(160, 48);
    rollcall_testkit::canary::with_rollout(&mut s, rollcall_testkit::canary::Phase::Paused, 30);
    with_kafka(&mut s, PROD);
    let plans = advisor::plans(&s, PROD, "customer-adapter");
    assert!(!plans.is_empty());
    for plan in &plans {
        assert!(replays(plan).is_empty(), "{plan:#?}");
        assert!(
            !plan.risks.iter().any(|r| r.text.contains("idempotent")),
            "{plan:#?}"
        );
    }
}

#[test]
fn rollcall_advise_prints_the_replay_in_text_and_json() {
    let mut s = scene();
    let mut groups = demo_groups();
    let st = groups[0].state.as_mut().unwrap();
    st.state = GroupState::Stable;
    st.members = 1;
    feed_groups(&mut s, groups);
    let plans = advisor::plans(&s, PROD, "metadata-catalog");
    let previews: Vec<Vec<_>> = plans
        .iter()
        .map(|p| {
            p.steps
                .iter()
                .map(|st| advisor::preview(&s, PROD, "metadata-catalog", &st.action))
                .collect()
        })
        .collect();
    let text = rollcall::headless::advise::report(
        "prod",
        "metadata-catalog",
        now(),
        &plans,
        &previews,
        false,
    );
    assert!(
        text.contains(
            "   4. replay metadata-catalog-consumer on customers.entity_changed from \
             2026-11-25T11:30:00.000Z (~20s)"
        ),
        "{text}"
    );
    assert!(
        text.contains("      BLOCKED: metadata-catalog-consumer is Stable with 1 active"),
        "{text}"
    );
    // What it will send once the consumers are stopped.
    assert!(
        text.contains(
            "      sends: EXEC /api/v1/namespaces/dictamesh-infra/pods/dictamesh-kafka-kafka-0/exec"
        ),
        "{text}"
    );
    let json = rollcall::headless::advise::report(
        "prod",
        "metadata-catalog",
        now(),
        &plans,
        &previews,
        true,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let step = &v["plans"][0]["steps"][3];
    assert_eq!(step["action"]["kind"], "reset-consumer-group");
    assert_eq!(step["action"]["group"], GROUP);
    assert_eq!(step["action"]["topic"], TOPIC);
    assert_eq!(step["action"]["to"], "2026-11-25T11:30:00Z");
    assert!(
        step["blocker"]
            .as_str()
            .unwrap()
            .contains("active member(s)")
    );
    assert!(
        step["sends"]["body"]
            .as_str()
            .unwrap()
            .contains("--to-datetime 2026-11-25T11:30:00.000Z --execute"),
        "{step}"
    );
}

/// The drill's group after a reset: each partition's committed offset.
fn group_at(offsets: [i64; 3]) -> Vec<GroupView> {
    let mut groups = demo_groups();
    for (p, o) in groups[0].partitions.iter_mut().zip(offsets) {
        p.current = Some(o);
        p.lag = p.end.map(|e| e - o);
    }
    groups
}

#[test]
fn the_replay_drill_is_done_when_every_partition_is_back_at_the_bad_release() {
    let drill = find_drill(
        load_drills(None, &["dev", "staging", "prod"]).unwrap(),
        "consumer-replayed-nothing",
    )
    .unwrap();
    assert!(matches!(
        &drill.goal,
        Goal::GroupReplayed { group, since }
            if group.group == GROUP && group.topic == TOPIC && since.as_secs() == 90 * 60
    ));
    let mut s = populated(160, 48);
    // As the simulator measured it: where a replay from the bad release starts.
    let baseline = Baseline {
        bad_release: Some(ts("2026-11-26T12:32:11Z")),
        replay_from: vec![(0, 1100), (1, 1150), (2, 1311)],
    };
    s.drill = Some(DrillRun::new(drill, now()).with_baseline(baseline));
    assert!(s.drill.as_ref().unwrap().page().starts_with(
        "DRILL A consumer group that replayed nothing: the bad release went out at \
                 2026-11-26T12:32:11.000Z. prod's metadata-catalog"
    ));
    // At latest (the start): not done. One partition short: not done.
    feed_groups(&mut s, group_at([1302, 1290, 1311]));
    assert!(s.drill.as_ref().unwrap().done.is_none());
    feed_groups(&mut s, group_at([1100, 1151, 1311]));
    assert!(s.drill.as_ref().unwrap().done.is_none());
    // A reset to latest on the way is unsafe; a reset to a datetime is not.
    let reset = |spec| Command::KafkaResetOffsets {
        env: "prod".into(),
        broker: rollcall::bus::kafka::Broker::of(&Default::default()),
        group: GROUP.into(),
        topic: TOPIC.into(),
        spec,
    };
    assert_eq!(
        command_kind(&reset(ResetSpec::ToLatest)),
        "kafka-reset-to-latest"
    );
    rollcall::app::drill::on_sent(&mut s, &reset(ResetSpec::ToLatest));
    rollcall::app::drill::on_sent(
        &mut s,
        &reset(ResetSpec::ToDatetime("2026-11-26T12:30:00.000Z".into())),
    );
    // Replayed from before the bad release: done, with the unsafe send in the score.
    feed_groups(&mut s, group_at([1090, 1150, 1311]));
    let run = s.drill.as_ref().unwrap();
    assert!(run.done.is_some());
    assert_eq!(run.sent, 2);
    let score = run.score(s.now, 1.0);
    assert!(
        score.contains("UNSAFE: ") && score.contains("to latest"),
        "{score}"
    );
}

#[test]
fn a_replay_drill_without_a_measured_baseline_is_never_done() {
    let drill = find_drill(
        load_drills(None, &["dev", "staging", "prod"]).unwrap(),
        "consumer-replayed-nothing",
    )
    .unwrap();
    let mut s = populated(160, 48);
    s.drill = Some(DrillRun::new(drill, now()));
    feed_groups(&mut s, group_at([0, 0, 0]));
    assert!(s.drill.as_ref().unwrap().done.is_none());
}
