//! The Kafka pane's `update()` flows: the watcher's reads land per environment; a reset
//! of a group with active members is refused at once with Kafka's reason and no dialog;
//! the prompt (now − 1 h in UTC, the kinds of reset), bad input kept in the prompt and
//! nothing sent; the confirm dialog with the tool's dry run; prod's typed confirm; the
//! read asked again when the reset finishes; the topic restore and what it refuses.

use crossterm::event::KeyCode;
use rollcall::app::panes::kafka::{KafkaView, ResetChoice};
use rollcall::app::state::DryRun;
use rollcall::app::{Effect, Event, Mode, Pane, State, update};
use rollcall::bus::{Command, OpId};
use rollcall::domain::kafka::{KafkaUpdate, ResetSpec};
use rollcall_testkit::kafka_state::*;
use rollcall_testkit::state::*;

const DEV: usize = 0;
const PROD: usize = 2;

fn scene(env: usize) -> State {
    let mut s = populated(80, 24);
    for e in 0..3 {
        with_kafka(&mut s, e);
    }
    if env == PROD {
        press(&mut s, "]]");
    }
    press(&mut s, "K");
    assert_eq!(s.focus, Pane::Kafka);
    s
}

fn nothing_sent(effects: &[Effect]) {
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Send { .. } | Effect::DryRun(_))),
        "{effects:?}"
    );
}

#[test]
fn an_active_group_is_refused_without_a_dialog() {
    let mut s = scene(DEV);
    press(&mut s, "j");
    let effects = press(&mut s, "t");
    nothing_sent(&effects);
    assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
    let (_, text, ok) = s.flash.clone().unwrap();
    assert!(!ok);
    assert!(
        text.contains("graphql-gateway-cache is Stable with 1 active member(s)"),
        "{text}"
    );
    assert!(
        text.contains(
            "Assignments can only be reset if the group 'graphql-gateway-cache' is inactive, \
             but the current state is Stable."
        ),
        "{text}"
    );
}

#[test]
fn the_prompt_starts_an_hour_ago_in_utc_and_bad_input_sends_nothing() {
    let mut s = scene(DEV);
    let effects = press(&mut s, "t");
    nothing_sent(&effects);
    let Mode::KafkaReset(p) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(p.group, "metadata-catalog-consumer");
    assert_eq!(p.topics, vec!["customers.entity_changed"]);
    assert_eq!(p.choice, ResetChoice::Datetime);
    assert_eq!(p.input.lines().join(""), "2026-11-26T13:02:11.000Z");
    // Unparseable: the prompt stays, says why, and nothing goes out.
    for _ in 0..24 {
        key(&mut s, KeyCode::Backspace);
    }
    let effects = press(&mut s, "2026-11-26 13:00\n");
    nothing_sent(&effects);
    let Mode::KafkaReset(p) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert!(
        p.error.as_deref().unwrap().contains("no `T`"),
        "{:?}",
        p.error
    );
    // In the future: the same.
    for _ in 0..16 {
        key(&mut s, KeyCode::Backspace);
    }
    let effects = press(&mut s, "2026-11-26T15:00:00.000Z\n");
    nothing_sent(&effects);
    let Mode::KafkaReset(p) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert!(
        p.error.as_deref().unwrap().contains("in the future"),
        "{:?}",
        p.error
    );
    // A shift that is not a number.
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    let Mode::KafkaReset(p) = &s.mode else {
        panic!()
    };
    assert_eq!(p.choice, ResetChoice::Shift);
    let effects = press(&mut s, "x\n");
    nothing_sent(&effects);
    assert!(
        matches!(&s.mode, Mode::KafkaReset(p) if p.error.as_deref().unwrap().contains("whole number"))
    );
    // Esc: nothing moved.
    let effects = key(&mut s, KeyCode::Esc);
    nothing_sent(&effects);
    assert!(matches!(s.mode, Mode::Normal));
}

#[test]
fn a_datetime_opens_the_dialog_with_the_tools_dry_run() {
    let mut s = scene(DEV);
    press(&mut s, "t");
    let effects = key(&mut s, KeyCode::Enter);
    let Mode::Confirm(d) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    let expected = Command::KafkaResetOffsets {
        env: "dev".into(),
        broker: rollcall::bus::kafka::Broker {
            namespace: "dictamesh-infra".into(),
            pod: "dictamesh-kafka-kafka-0".into(),
            container: "kafka".into(),
            bootstrap: "localhost:9092".into(),
        },
        group: "metadata-catalog-consumer".into(),
        topic: "customers.entity_changed".into(),
        spec: ResetSpec::ToDatetime("2026-11-26T13:02:11.000Z".into()),
    };
    assert_eq!(d.command, expected);
    assert!(d.typed.is_none(), "dev confirms with Enter");
    assert_eq!(d.preview.method, "EXEC");
    assert!(
        d.preview
            .body
            .ends_with("--to-datetime 2026-11-26T13:02:11.000Z --execute")
    );
    assert!(
        d.preview
            .effect
            .contains("Datetime: 2026-11-26T13:02:11.000Z (UTC)"),
        "{}",
        d.preview.effect
    );
    // The dialog asks the bus for the tool's --dry-run.
    assert_eq!(effects, vec![Effect::DryRun(expected.clone())]);
    assert_eq!(d.dry_run, DryRun::Asking);
    // Its answer, the plan, shows a line per partition.
    let plan = rollcall::domain::kafka::ResetPlan::new(
        "metadata-catalog-consumer",
        &rollcall::domain::kafka::table::parse_offsets(EMPTY_OFFSETS).rows,
        &rollcall::domain::kafka::table::parse_reset(RESET_DRY_RUN).rows,
        Vec::new(),
    );
    update(
        &mut s,
        Event::DryRun {
            command: expected.clone(),
            result: Ok(plan.lines().join("\n")),
        },
    );
    s.size = (160, 48);
    let screen = screen_text(&s);
    assert!(
        screen.contains("replays 105 messages and skips 110"),
        "{screen}"
    );
    assert!(
        screen.contains("customers.entity_changed[0]  1180 → 1100  replays 80"),
        "{screen}"
    );
    // Enter sends it; when it finishes the environment is read again.
    let effects = key(&mut s, KeyCode::Enter);
    let op = match effects.as_slice() {
        [Effect::Send { op, command, .. }] => {
            assert_eq!(*command, expected);
            *op
        }
        other => panic!("{other:?}"),
    };
    let (effects, _) = update(
        &mut s,
        Event::OpFinished {
            op,
            outcome: Ok("reset".into()),
        },
    );
    assert!(effects.contains(&Effect::RefreshKafka(DEV)), "{effects:?}");
    // Another op's end asks nothing of Kafka.
    let (effects, _) = update(
        &mut s,
        Event::OpFinished {
            op: OpId(999),
            outcome: Ok("x".into()),
        },
    );
    assert!(!effects.iter().any(|e| matches!(e, Effect::RefreshKafka(_))));
}

#[test]
fn prod_types_the_group_and_other_kinds_of_reset() {
    let mut s = scene(PROD);
    press(&mut s, "t");
    key(&mut s, KeyCode::Tab);
    let effects = key(&mut s, KeyCode::Enter);
    assert!(matches!(
        &effects[..],
        [Effect::DryRun(Command::KafkaResetOffsets {
            spec: ResetSpec::ToEarliest,
            ..
        })]
    ));
    let Mode::Confirm(d) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(
        d.typed.as_ref().map(|(n, _)| n.as_str()),
        Some("metadata-catalog-consumer")
    );
    // Enter without the name sends nothing.
    let effects = key(&mut s, KeyCode::Enter);
    nothing_sent(&effects);
    assert!(matches!(s.mode, Mode::Confirm(_)));
    key(&mut s, KeyCode::Esc);
    // A shift by N.
    press(&mut s, "t");
    for _ in 0..3 {
        key(&mut s, KeyCode::Tab);
    }
    for _ in 0..4 {
        key(&mut s, KeyCode::Backspace);
    }
    press(&mut s, "-50\n");
    let Mode::Confirm(d) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert!(matches!(
        d.command,
        Command::KafkaResetOffsets {
            spec: ResetSpec::ShiftBy(-50),
            ..
        }
    ));
}

#[test]
fn reads_land_per_environment_and_failures_keep_the_last_read() {
    let mut s = scene(DEV);
    assert_eq!(
        rollcall::app::panes::kafka::groups(&s)
            .iter()
            .map(|g| g.total_lag())
            .collect::<Vec<_>>(),
        vec![347, 4]
    );
    update(
        &mut s,
        Event::Kafka {
            env: DEV,
            update: KafkaUpdate::Groups {
                read_at: now(),
                groups: Err(
                    "forbidden: RBAC does not let you create pods/exec in dictamesh-infra".into(),
                ),
            },
        },
    );
    assert_eq!(rollcall::app::panes::kafka::groups(&s).len(), 2);
    let screen = screen_text(&s);
    assert!(
        screen.contains("forbidden: RBAC does not let you create pods/exec"),
        "{screen}"
    );
}

#[test]
fn restoring_a_topic_sends_what_kafka_accepts() {
    let mut s = scene(DEV);
    press(&mut s, "D");
    assert_eq!(s.kafka.view, KafkaView::Topics);
    let effects = press(&mut s, "B");
    let Mode::Confirm(d) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    match &d.command {
        Command::KafkaTopicRestore {
            namespace,
            name,
            patch,
            left_out,
            ..
        } => {
            assert_eq!(
                (namespace.as_str(), name.as_str()),
                ("dictamesh-infra", "customers.entity-changed")
            );
            assert_eq!(
                *patch,
                serde_json::json!({"spec": {"config": {"retention.ms": 259_200_000}}})
            );
            assert!(left_out.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.preview.method, "PATCH");
    assert_eq!(
        d.preview.path,
        "/apis/kafka.strimzi.io/v1beta2/namespaces/dictamesh-infra/kafkatopics/customers.entity-changed"
    );
    assert!(matches!(&effects[..], [Effect::DryRun(_)]), "{effects:?}");
    key(&mut s, KeyCode::Esc);
    // A topic already as in the backup: said, nothing sent.
    press(&mut s, "j");
    let effects = press(&mut s, "B");
    nothing_sent(&effects);
    assert!(s.flash.as_ref().unwrap().1.contains("nothing to restore"));
}

#[test]
fn only_what_kafka_refuses_is_said_and_not_sent() {
    let mut s = scene(DEV);
    let (live, mut backup) = demo_topics();
    backup[1].partitions = Some(4);
    update(
        &mut s,
        Event::Kafka {
            env: DEV,
            update: KafkaUpdate::Topics {
                live: Ok(live),
                backup: Some(Ok(backup)),
            },
        },
    );
    press(&mut s, "Dj");
    let effects = press(&mut s, "B");
    nothing_sent(&effects);
    let text = &s.flash.as_ref().unwrap().1;
    assert!(text.contains("nothing Kafka accepts to restore"), "{text}");
    assert!(text.contains("partitions can only grow"), "{text}");
}

#[test]
fn read_only_hides_and_refuses_the_reset() {
    let mut s = scene(DEV);
    s.readonly = true;
    let effects = press(&mut s, "t");
    nothing_sent(&effects);
    assert!(matches!(s.mode, Mode::Normal));
}
