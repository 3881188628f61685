//! Kafka's pure side: the real `kafka-consumer-groups.sh` output read back (offsets,
//! `--state`, `--members`, `--list`, the reset table, `Warn:`/`Error:` lines, any column
//! widths, `-`), lag, the reset plan's arithmetic, the datetime rules of
//! `--to-datetime`, the KafkaTopic backup (List and multi-document) against live, and the
//! `kafka:` config with file:line:col errors.

use std::path::Path;

use rollcall::config::parse_environments;
use rollcall::domain::kafka::datetime::{self, default_input};
use rollcall::domain::kafka::table::*;
use rollcall::domain::kafka::topics::{Verdict, diff_all, parse_backup};
use rollcall::domain::kafka::{GroupState, ResetPlan, ResetSpec, reset_args, total_lag};
use rollcall_testkit::kafka_state::*;
use rollcall_testkit::state::now;
use serde_json::json;

#[test]
fn offsets_of_a_group_without_members() {
    let p = parse_offsets(EMPTY_OFFSETS);
    assert_eq!(p.no_active_members, vec!["metadata-catalog-consumer"]);
    assert!(p.unread.is_empty(), "{:?}", p.unread);
    assert_eq!(p.rows.len(), 3);
    let r = &p.rows[0];
    assert_eq!(
        (
            r.group.as_str(),
            r.topic.as_str(),
            r.partition,
            r.current,
            r.end,
            r.lag
        ),
        (
            "metadata-catalog-consumer",
            "customers.entity_changed",
            0,
            Some(1180),
            Some(1302),
            Some(122)
        )
    );
    assert_eq!(
        (&r.consumer_id, &r.host, &r.client_id),
        (&None, &None, &None)
    );
    assert_eq!(total_lag(&p.rows), 122 + 115 + 110);
}

#[test]
fn offsets_with_a_live_member_and_unknown_values() {
    let p = parse_offsets(STABLE_OFFSETS);
    assert_eq!(p.rows.len(), 6);
    assert!(p.no_active_members.is_empty());
    let r = &p.rows[2];
    assert_eq!(r.lag(), Some(2));
    assert_eq!(
        r.consumer_id.as_deref(),
        Some("graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11")
    );
    assert_eq!(r.host.as_deref(), Some("/10.42.1.17"));
    assert_eq!(r.client_id.as_deref(), Some("graphql-gateway"));
    // No committed offset: `-` in CURRENT-OFFSET and LAG; other widths read the same.
    let narrow = "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n\
                  g t 0 - 40 - - - -\n\
                  g t 1 12 40 28 c-1 /10.0.0.1 my client\n";
    let p = parse_offsets(narrow);
    assert_eq!(p.rows[0].current, None);
    assert_eq!(p.rows[0].lag(), None);
    assert_eq!(p.rows[1].lag(), Some(28));
    assert_eq!(p.rows[1].client_id.as_deref(), Some("my client"));
    // A lag the tool left out is end − committed.
    let p = parse_offsets(
        "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\ng t 0 10 25 - - - -\n",
    );
    assert_eq!(p.rows[0].lag(), Some(15));
}

#[test]
fn state_reads_both_ends_of_the_row() {
    let empty = parse_state(EMPTY_STATE).rows;
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].state, GroupState::Empty);
    assert_eq!(empty[0].members, 0);
    assert_eq!(empty[0].assignment_strategy, "");
    assert!(
        empty[0].coordinator.ends_with("(0)"),
        "{}",
        empty[0].coordinator
    );
    let stable = parse_state(STABLE_STATE).rows;
    assert_eq!(stable[0].state, GroupState::Stable);
    assert_eq!(stable[0].members, 1);
    assert_eq!(stable[0].assignment_strategy, "range");
    assert!(!stable[0].state.resettable());
    assert!(empty[0].state.resettable());
    let rebalancing = parse_state(
        "GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS\ng b:9092 (1) range PreparingRebalance 2\n",
    )
    .rows;
    assert!(rebalancing[0].state.rebalancing());
    assert!(GroupState::Dead.resettable());
}

#[test]
fn members_list_and_reset_table() {
    let m = parse_members(STABLE_MEMBERS).rows;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].client_id, "graphql-gateway");
    assert_eq!(m[0].partitions, 6);
    assert_eq!(
        parse_list("\nmetadata-catalog-consumer\ngraphql-gateway-cache\n\n"),
        vec!["metadata-catalog-consumer", "graphql-gateway-cache"]
    );
    let r = parse_reset(RESET_DRY_RUN);
    assert_eq!(r.rows.len(), 3);
    assert_eq!(r.rows[1].new_offset, 1150);
    assert_eq!(
        r.warnings,
        vec![
            "Partition 2 from topic customers.entity_changed is empty. Falling back to latest \
             known offset."
        ]
    );
    assert!(r.unread.is_empty(), "{:?}", r.unread);
}

#[test]
fn the_tools_errors_are_read_from_either_stream() {
    let unknown = tool_error(
        "Error: Consumer group 'no-such-group' does not exist.\n",
        "",
    );
    assert!(
        matches!(unknown, Some(ToolError::UnknownGroup { ref group, .. }) if group == "no-such-group")
    );
    let active = tool_error(
        "",
        "\nError: Assignments can only be reset if the group 'graphql-gateway-cache' is \
         inactive, but the current state is Stable.\n",
    );
    match active {
        Some(ToolError::GroupActive {
            group,
            state,
            message,
        }) => {
            assert_eq!(
                (group.as_str(), state.as_str()),
                ("graphql-gateway-cache", "Stable")
            );
            assert!(message.starts_with("Assignments can only be reset"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_plan_counts_replayed_and_skipped() {
    let current = parse_offsets(EMPTY_OFFSETS).rows;
    let reset = parse_reset(RESET_DRY_RUN);
    let plan = ResetPlan::new(
        "metadata-catalog-consumer",
        &current,
        &reset.rows,
        reset.warnings,
    );
    // 1180 → 1100 replays 80; 1175 → 1150 replays 25; 1201 → 1311 skips 110.
    let per: Vec<(u64, u64)> = plan
        .partitions
        .iter()
        .map(|p| (p.replayed(), p.skipped()))
        .collect();
    assert_eq!(per, vec![(80, 0), (25, 0), (0, 110)]);
    assert_eq!((plan.replayed(), plan.skipped()), (105, 110));
    assert_eq!(plan.totals(), "replays 105 messages and skips 110 messages");
    let lines = plan.lines();
    assert_eq!(
        lines[1],
        "  customers.entity_changed[0]  1180 → 1100  replays 80"
    );
    assert_eq!(
        lines[3],
        "  customers.entity_changed[2]  1201 → 1311  skips 110"
    );
    assert!(lines[4].contains("Falling back to latest"));
    // Nothing committed: neither replayed nor skipped, said so.
    let none = ResetPlan::new("g", &[], &reset.rows[..1], Vec::new());
    assert_eq!(none.replayed(), 0);
    assert!(none.lines()[1].contains("- (none committed) → 1100"));
}

#[test]
fn reset_arguments_are_the_seeds() {
    let spec = ResetSpec::ToDatetime("2026-11-26T13:02:11.000Z".into());
    assert_eq!(
        reset_args("localhost:9092", "g", "t", &spec, false).join(" "),
        "/opt/kafka/bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 \
         --reset-offsets --group g --topic t --to-datetime 2026-11-26T13:02:11.000Z --dry-run"
    );
    assert!(
        reset_args("b:1", "g", "t", &ResetSpec::ShiftBy(-5), true)
            .join(" ")
            .ends_with("--shift-by -5 --execute")
    );
}

#[test]
fn datetimes_as_the_tool_reads_them() {
    let now = now(); // 2026-11-26T14:02:11Z
    let utc = datetime::parse("2026-11-26T13:02:11.000", now).unwrap();
    assert_eq!(utc.tool, "2026-11-26T13:02:11.000Z");
    assert!(utc.assumed_utc);
    assert_eq!(
        utc.describe(),
        "2026-11-26T13:02:11.000Z (UTC, no zone typed)"
    );
    let z = datetime::parse("2026-11-26T13:02:11.250Z", now).unwrap();
    assert_eq!(z.at.to_string(), "2026-11-26T13:02:11.25Z");
    let offset = datetime::parse("2026-11-26T15:02:11.000+02:00", now).unwrap();
    assert_eq!(offset.at, utc.at);
    assert_eq!(
        offset.describe(),
        "2026-11-26T15:02:11.000+02:00 (= 2026-11-26T13:02:11.000Z UTC)"
    );
    let hours = datetime::parse("2026-11-26T08:02:11.000-05", now).unwrap();
    assert_eq!(hours.tool, "2026-11-26T08:02:11.000-05:00");
    assert_eq!(hours.at, utc.at);
    assert_eq!(default_input(now), "2026-11-26T13:02:11.000Z");
    assert!(datetime::parse(&default_input(now), now).is_ok());
    for (bad, why) in [
        ("2026-11-26 13:02:11.000", "no `T`"),
        ("2026-11-26T1:02:11.000Z", "HH:mm:SS.sss"),
        ("2026-11-26T13", "HH:mm:SS.sss"),
        ("2026-11-26T13:02:11:00.000Z", "HH:mm:SS.sss"),
        ("2026-11-26T13:02:11.5Z", "three digits"),
        ("2026-02-30T13:02:11.000Z", "no such date"),
        ("2026-11-26T25:02:11.000Z", "no such date"),
        ("26-11-26T13:02:11.000Z", "YYYY-MM-DD"),
        ("2026-11-26T13:02:11.000+2:00", "zone"),
        ("yesterday", "no `T`"),
    ] {
        let e = datetime::parse(bad, now).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
        assert!(e.contains("YYYY-MM-DDTHH:mm:SS.sss"), "{bad}: {e}");
    }
    // The tool wants the milliseconds; a person may leave them, or the seconds, out.
    let short = datetime::parse("2026-11-26T13:02:11Z", now).unwrap();
    assert_eq!(short.tool, "2026-11-26T13:02:11.000Z");
    let shorter = datetime::parse("2026-11-26T15:02+02:00", now).unwrap();
    assert_eq!(shorter.tool, "2026-11-26T15:02:00.000+02:00");
    assert_eq!(shorter.at.to_string(), "2026-11-26T13:02:00Z");
    let future = datetime::parse("2026-11-26T14:02:12.000Z", now).unwrap_err();
    assert!(future.contains("in the future"), "{future}");
    // The same instant in another zone is in the future too.
    assert!(datetime::parse("2026-11-26T16:10:00.000+02:00", now).is_err());
}

#[test]
fn backup_against_live_says_what_kafka_accepts() {
    let (live, backup) = demo_topics();
    let diffs = diff_all(&live, &backup);
    assert_eq!(diffs.len(), 2);
    let d = &diffs[0];
    let changes: Vec<_> = d.changes().collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "retention.ms");
    assert_eq!(changes[0].verdict, Verdict::Apply);
    assert_eq!(
        d.restore_patch(),
        Some(json!({"spec": {"config": {"retention.ms": 259_200_000}}}))
    );
    assert_eq!(diffs[1].status(), "as in the backup");
    assert_eq!(diffs[1].restore_patch(), None);

    // Partitions only grow; replicas are not changed; a key only live goes back to the
    // default (null); numbers and strings of the same value are the same.
    let text = "\
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: customers.entity-changed
spec:
  partitions: 2
  replicas: 1
  config:
    retention.ms: \"604800000\"
    cleanup.policy: compact
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: catalog.metadata-updated
spec:
  partitions: 8
  replicas: 3
  config:
    retention.ms: 604800000
    cleanup.policy: delete
    min.insync.replicas: 2
";
    let backup = parse_backup(text).unwrap();
    let diffs = diff_all(&live, &backup);
    let d = &diffs[0];
    let verdict = |f: &str| {
        d.rows
            .iter()
            .find(|r| r.field == f)
            .unwrap()
            .verdict
            .clone()
    };
    assert!(matches!(verdict("partitions"), Verdict::Refused(ref w) if w.contains("only grow")));
    assert!(matches!(verdict("replicas"), Verdict::Refused(ref w) if w.contains("replicas")));
    assert_eq!(verdict("retention.ms"), Verdict::Same);
    assert_eq!(verdict("cleanup.policy"), Verdict::Apply);
    assert_eq!(verdict("min.insync.replicas"), Verdict::Apply);
    assert_eq!(
        d.restore_patch(),
        Some(
            json!({"spec": {"config": {"cleanup.policy": "compact", "min.insync.replicas": null}}})
        )
    );
    assert_eq!(d.status(), "2 to restore, 2 Kafka refuses");
    // Growing is sent.
    assert_eq!(
        diffs[1].restore_patch(),
        Some(json!({"spec": {"partitions": 8}}))
    );
}

#[test]
fn backup_files_as_kubectl_writes_them() {
    let list = "\
apiVersion: v1
items:
- apiVersion: kafka.strimzi.io/v1beta2
  kind: KafkaTopic
  metadata:
    labels:
      strimzi.io/cluster: dictamesh-kafka
    name: customers.entity-changed
    namespace: dictamesh-infra
  spec:
    config:
      retention.ms: 259200000
    partitions: 3
    replicas: 3
    topicName: customers.entity_changed
  status:
    conditions:
    - lastTransitionTime: \"2026-11-25T10:00:00Z\"
      status: \"True\"
      type: Ready
kind: List
metadata:
  resourceVersion: \"\"
";
    let topics = parse_backup(list).unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].topic_name, "customers.entity_changed");
    assert_eq!(topics[0].ready, Some((true, String::new())));
    assert!(
        parse_backup("kind: List\nitems: []\n")
            .unwrap_err()
            .contains("no KafkaTopic")
    );
    assert!(parse_backup("a: [").is_err());
    // Its object again reads as the same topic (the restore command carries it).
    let again =
        rollcall::domain::kafka::topics::TopicSpec::from_object(&topics[0].to_object()).unwrap();
    assert_eq!(
        (again.partitions, &again.config, &again.topic_name),
        (
            topics[0].partitions,
            &topics[0].config,
            &topics[0].topic_name
        )
    );
}

fn envs(kafka: &str) -> Result<Vec<rollcall::config::Environment>, String> {
    let text = format!("environments:\n  - name: prod\n    namespace: p\n    kafka:\n{kafka}");
    parse_environments(Path::new("environments.yaml"), &text).map_err(|e| e.to_string())
}

#[test]
fn kafka_config_defaults_and_errors_at_their_line() {
    let k = envs("      topics_backup: /tmp/b.yaml\n").unwrap()[0]
        .kafka
        .clone()
        .unwrap();
    assert_eq!(
        (
            k.namespace.as_str(),
            k.pod.as_str(),
            k.container.as_str(),
            k.bootstrap.as_str()
        ),
        (
            "dictamesh-infra",
            "dictamesh-kafka-kafka-0",
            "kafka",
            "localhost:9092"
        )
    );
    assert_eq!(k.topics_backup.as_deref(), Some(Path::new("/tmp/b.yaml")));
    let none = parse_environments(
        Path::new("environments.yaml"),
        "environments:\n  - name: prod\n    namespace: p\n",
    )
    .unwrap();
    assert_eq!(none[0].kafka, None);
    for (body, line_col, what) in [
        (
            "      namespace: Infra\n",
            "environments.yaml:5:18",
            "invalid namespace",
        ),
        (
            "      bootstrap: localhost\n",
            "environments.yaml:5:18",
            "host:port",
        ),
        (
            "      pod: \"-x\"\n",
            "environments.yaml:5:12",
            "invalid pod",
        ),
        ("      brokers: 3\n", "environments.yaml:5", "brokers"),
    ] {
        let e = envs(body).unwrap_err();
        assert!(e.contains(line_col), "{body}: {e}");
        assert!(e.contains(what), "{body}: {e}");
    }
    // The built-in environments all have the demo's Kafka.
    let builtin = rollcall::config::load::<rollcall::app::Action>(&Default::default()).unwrap();
    assert!(builtin.environments.iter().all(|e| e.kafka.is_some()));
}
