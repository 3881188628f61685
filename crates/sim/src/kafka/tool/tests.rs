//! The tools' output against the real tools' formats, on a frozen cluster: logs that stop
//! receiving messages an hour after they start, so every number is fixed.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::javahash::{iteration_order, topic_partition_hash};
use super::{Output, run};
use crate::Shared;
use crate::kafka::groups::{Group, GroupState, Member, Members};
use crate::kafka::log::PartitionLog;
use crate::kafka::{Topic, World};

const T0: i64 = 1_718_352_000_000; // 2024-06-14T08:00:00Z
const HOUR: i64 = 3_600_000;
const G: &str = "metadata-catalog-consumer";
const T: &str = "customers.entity_changed";
const CACHE: &str = "graphql-gateway-cache";
const CAT: &str = "catalog.metadata_updated";
const CACHE_ID: &str = "graphql-gateway-cache-0f0e";

fn frozen(name: &str, partitions: u32, silent: &[u32]) -> Topic {
    let mut t = Topic::new(name, partitions, 3, T0);
    t.config.insert("retention.ms".into(), "-1".into());
    for (p, log) in t.partitions.iter_mut().enumerate() {
        let mut l = PartitionLog::new(name, p as u32, T0);
        if !silent.contains(&(p as u32)) {
            l.advance(T0 + HOUR);
        }
        *log = l.silent();
    }
    t
}

fn world() -> (Arc<Shared>, tokio::sync::watch::Sender<bool>) {
    let (shared, stop) = Shared::for_tests();
    {
        let mut w = shared.kafka.lock();
        w.topics.insert(T.into(), frozen(T, 3, &[2]));
        w.topics.insert(CAT.into(), frozen(CAT, 2, &[]));
        let mut g = Group::new(G, &[T], Members::Fixed);
        for p in 0..3 {
            g.offsets.insert((T.into(), p), 0);
        }
        g.offsets.insert((T.into(), 0), 100);
        let mut cache = Group::new(CACHE, &[CAT], Members::Fixed);
        let m = Member {
            consumer_id: CACHE_ID.into(),
            host: "/10.42.1.17".into(),
            client_id: "graphql-gateway".into(),
            assignment: Vec::new(),
        };
        let World { topics, groups } = &mut *w;
        cache.set_members(vec![m], topics, T0);
        groups.insert(G.into(), g);
        groups.insert(CACHE.into(), cache);
    }
    (shared, stop)
}

fn cg(shared: &Shared, args: &str) -> Output {
    let mut argv = vec!["/opt/kafka/bin/kafka-consumer-groups.sh".to_string()];
    argv.extend(args.split_whitespace().map(String::from));
    run(shared, true, &argv).unwrap()
}

const BS: &str = "--bootstrap-server localhost:9092";

fn end(shared: &Shared, t: &str, p: usize) -> u64 {
    shared.kafka.lock().topics[t].partitions[p].log_end()
}

#[test]
fn describe_offsets_of_an_empty_group() {
    let (shared, _stop) = world();
    let out = cg(&shared, &format!("{BS} --describe --group {G}"));
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stderr,
        format!("\nConsumer group '{G}' has no active members.\n")
    );
    let header = "GROUP                     TOPIC                    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID";
    let row = |p: usize, o: u64| {
        let e = end(&shared, T, p);
        format!(
            "{G} {T} {:<10} {:<15} {:<15} {:<15} {:<15} {:<15} -",
            p,
            o,
            e,
            e - o,
            "-",
            "-"
        )
    };
    // Rows come in the tool's HashMap order of TopicPartition.
    let order = iteration_order(&[0, 1, 2].map(|p| topic_partition_hash(T, p)));
    let offsets = [100, 0, 0];
    let rows: Vec<String> = order.iter().map(|&p| row(p, offsets[p])).collect();
    assert_eq!(out.stdout, format!("\n{header}\n{}\n", rows.join("\n")));
    assert_eq!(end(&shared, T, 2), 0, "partition 2 has no messages");
}

#[test]
fn describe_offsets_members_and_state_of_a_stable_group() {
    let (shared, _stop) = world();
    let out = cg(&shared, &format!("{BS} --describe --group {CACHE}"));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "");
    assert!(
        lines[1].starts_with(
            "GROUP                 TOPIC                    PARTITION  CURRENT-OFFSET"
        ),
        "{}",
        out.stdout
    );
    for l in &lines[2..] {
        let c: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(c.len(), 9, "{l}");
        assert_eq!(
            (c[0], c[1], c[6], c[7], c[8]),
            (CACHE, CAT, CACHE_ID, "/10.42.1.17", "graphql-gateway")
        );
        assert_eq!(c[5], "0", "a live consumer keeps up: {l}");
    }
    assert_eq!(lines.len(), 4);

    let out = cg(
        &shared,
        &format!("{BS} --describe --group {CACHE} --members"),
    );
    assert_eq!(
        out.stdout,
        format!(
            "\nGROUP                 CONSUMER-ID                HOST            CLIENT-ID       #PARTITIONS     \n{CACHE} {CACHE_ID} /10.42.1.17     graphql-gateway 2               \n"
        )
    );
    let out = cg(
        &shared,
        &format!("{BS} --describe --group {CACHE} --members --verbose"),
    );
    assert!(
        out.stdout.contains("#PARTITIONS     ASSIGNMENT\n")
            && out.stdout.contains("2               (0,1)\n"),
        "{}",
        out.stdout
    );

    let out = cg(&shared, &format!("{BS} --describe --group {CACHE} --state"));
    let node = super::consumer_groups::coordinator(CACHE);
    let coord = format!(
        "dictamesh-kafka-kafka-{node}.dictamesh-kafka-kafka-brokers.dictamesh-infra.svc:9092  ({node})"
    );
    let w = coord.len();
    assert_eq!(
        out.stdout,
        format!(
            "\n{:<w$} {:<25} {:<20} {:<15} {}\n{:<w$} {} {:<20} {:<15} {}\n",
            "GROUP",
            "COORDINATOR (ID)",
            "ASSIGNMENT-STRATEGY",
            "STATE",
            "#MEMBERS",
            CACHE,
            coord,
            "range",
            "Stable",
            1
        )
    );
    let out = cg(&shared, &format!("{BS} --describe --group {G} --state"));
    assert!(
        out.stdout.contains(" Empty           0\n"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("has no active members"));
}

#[test]
fn list_and_unknown_groups() {
    let (shared, _stop) = world();
    let out = cg(&shared, &format!("{BS} --list"));
    assert_eq!(out.stdout, format!("{CACHE}\n{G}\n"));
    let out = cg(&shared, &format!("{BS} --list --state"));
    assert_eq!(
        out.stdout.lines().next().unwrap(),
        format!("{:<35} {:<20}", "GROUP", "STATE")
    );
    assert!(out.stdout.contains(&format!("{:<35} {:<20}\n", G, "Empty")));
    let out = cg(&shared, &format!("{BS} --list --state stable"));
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let out = cg(&shared, &format!("{BS} --describe --group nope"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "\nError: Consumer group 'nope' does not exist.\n")
    );
}

fn committed(shared: &Shared, g: &str) -> BTreeMap<(String, u32), u64> {
    shared.kafka.now(shared).groups[g].offsets.clone()
}

#[test]
fn reset_to_datetime_dry_run_then_execute() {
    let (shared, _stop) = world();
    let before = committed(&shared, G);
    let at = "2024-06-14T08:30:00.000"; // T0 + 30 min, UTC
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T} --to-datetime {at} --dry-run"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let want: Vec<u64> = (0..3)
        .map(|p| {
            let w = shared.kafka.lock();
            let log = &w.topics[T].partitions[p];
            log.offset_for_time(T0 + HOUR / 2).unwrap_or(log.log_end())
        })
        .collect();
    let order = iteration_order(&[0, 1, 2].map(|p| topic_partition_hash(T, p)));
    let rows: String = order
        .iter()
        .map(|&p| format!("\n{:<30} {:<30} {:<10} {:<15}", G, T, p, want[p]))
        .collect();
    assert_eq!(
        out.stdout,
        format!(
            "\nWarn: Partition 2 from topic {T} is empty. Falling back to latest known offset.\n\n{:<30} {:<30} {:<10} {:<15}{rows}\n",
            "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"
        )
    );
    assert_eq!(committed(&shared, G), before, "a dry run changes nothing");
    // Without --dry-run or --execute: the warning, and still a dry run.
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:0 --to-earliest"),
    );
    assert!(
        out.stderr
            .starts_with("WARN: No action will be performed as the --execute option is missing.")
    );
    assert!(
        out.stdout
            .contains(&format!("{:<30} {:<30} {:<10} {:<15}", G, T, 0, 0))
    );
    assert_eq!(committed(&shared, G), before);

    let lag = |s: &Shared| -> u64 {
        (0..3)
            .map(|p| end(s, T, p as usize) - committed(s, G)[&(T.to_string(), p)])
            .sum()
    };
    let lag_before = lag(&shared);
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T} --to-datetime {at} --execute"),
    );
    assert_eq!(out.code, 0);
    let after = committed(&shared, G);
    for p in 0..3u32 {
        assert_eq!(after[&(T.to_string(), p)], want[p as usize]);
    }
    let replayed: i64 = (0..3u32)
        .map(|p| before[&(T.to_string(), p)] as i64 - after[&(T.to_string(), p)] as i64)
        .sum();
    assert_eq!(
        lag(&shared) as i64,
        lag_before as i64 + replayed,
        "lag up by exactly the replayed count"
    );
}

#[test]
fn reset_scenarios() {
    let (shared, _stop) = world();
    let new_offset = |out: &Output, p: u32| -> Option<u64> {
        out.stdout.lines().find_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c.len() == 4 && c[2] == p.to_string() && c[0] == G)
                .then(|| c[3].parse().ok())
                .flatten()
        })
    };
    let e0 = end(&shared, T, 0);
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:0,1 --to-latest --dry-run"),
    );
    assert_eq!(
        (
            new_offset(&out, 0),
            new_offset(&out, 1),
            new_offset(&out, 2)
        ),
        (Some(e0), Some(end(&shared, T, 1)), None)
    );
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:0 --shift-by -30 --dry-run"),
    );
    assert_eq!(new_offset(&out, 0), Some(70));
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:0 --shift-by 1000000 --dry-run"),
    );
    assert_eq!(new_offset(&out, 0), Some(e0));
    assert!(out.stderr.contains(&format!("WARN New offset (1000100) is higher than latest offset for topic partition {T}-0. Value will be set to {e0}")), "{}", out.stderr);
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --all-topics --to-offset 5 --dry-run"),
    );
    assert_eq!(new_offset(&out, 0), Some(5));
    assert_eq!(
        new_offset(&out, 2),
        Some(0),
        "clamped to the empty partition's end"
    );
    // By duration: far enough back to be before every message.
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:1 --by-duration P9999D --dry-run"),
    );
    assert_eq!(new_offset(&out, 1), Some(0));
}

#[test]
fn resets_refused_or_failing_change_nothing() {
    let (shared, _stop) = world();
    let before = committed(&shared, CACHE);
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {CACHE} --topic {CAT} --to-earliest --execute"),
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        format!(
            "\nError: Assignments can only be reset if the group '{CACHE}' is inactive, but the current state is Stable.\n\n{:<30} {:<30} {:<10} {:<15}\n",
            "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"
        )
    );
    assert_eq!(committed(&shared, CACHE), before);
    assert_eq!(
        shared.kafka.lock().groups[CACHE].state(T0 + HOUR),
        GroupState::Stable
    );

    let before = committed(&shared, G);
    let out = cg(
        &shared,
        &format!(
            "{BS} --reset-offsets --group {G} --topic {T} --to-datetime 2024-06-14T08:30:00 --execute"
        ),
    );
    assert_eq!(
        out.stdout,
        "\nError: Executing consumer group command failed due to java.text.ParseException: Unparseable date: \"2024-06-14T08:30:00Z\"\n"
    );
    assert!(
        out.stderr
            .starts_with("java.lang.RuntimeException: java.text.ParseException")
    );
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic nope --to-earliest --execute"),
    );
    assert_eq!(
        out.stdout,
        "\nError: Executing consumer group command failed due to java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n"
    );
    let out = cg(
        &shared,
        &format!("{BS} --reset-offsets --group {G} --topic {T}:0 --by-duration 1h --execute"),
    );
    assert!(
        out.stdout
            .contains("failed due to Text cannot be parsed to a Duration")
    );
    assert_eq!(committed(&shared, G), before);
}

#[test]
fn usage_errors_exit_1_with_the_help() {
    let (shared, _stop) = world();
    let cases = [
        ("", "This tool helps to list all consumer groups"),
        (
            "--describe --group x",
            "Missing required argument \"[bootstrap-server]\"",
        ),
        (
            &format!("{BS} --describe"),
            "Option [describe] takes one of these options: ",
        ),
        (
            &format!("{BS} --describe --group x --members --state"),
            "Option [describe] takes at most one of these options: [members], [offsets], [state]",
        ),
        (
            &format!("{BS} --reset-offsets --group x --topic t --to-earliest --dry-run --execute"),
            "Option [reset-offsets] only accepts one of [execute] and [dry-run]",
        ),
        (
            &format!(
                "{BS} --reset-offsets --group x --topic t --to-earliest --to-latest --dry-run"
            ),
            "can't be used with option",
        ),
        (
            &format!("{BS} --reset-offsets --group x --to-earliest --dry-run"),
            "One of the reset scopes should be defined: --all-topics, --topic.",
        ),
        (
            &format!("{BS} --reset-offsets --group x --topic {T} --dry-run"),
            "Option '[reset-offsets]' requires one of the following scenarios: [",
        ),
        (
            &format!("{BS} --group x"),
            "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets",
        ),
        (
            &format!("{BS} --reset-offsets --group {G} --topic {T}:x --to-earliest --dry-run"),
            &format!("Invalid partition 'x' specified in topic arg '{T}:x''"),
        ),
    ];
    for (args, message) in cases {
        let out = cg(&shared, args);
        assert_eq!(out.code, 1, "{args}: {out:?}");
        assert!(out.stderr.contains(message), "{args}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("Option                                  Description"),
            "{args}"
        );
    }
    let out = cg(&shared, &format!("{BS} --describe --group x --bogus"));
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("Exception in thread \"main\" joptsimple.UnrecognizedOptionException: bogus is not a recognized option\n"));
    let out = cg(&shared, "--bootstrap-server kafka.example:9092 --list");
    assert!(
        out.stdout
            .contains("Timed out waiting for a node assignment. Call: listConsumerGroups")
    );
    let out = cg(&shared, "--version");
    assert_eq!(out.stdout, "3.9.0\n");
}

#[test]
fn topics_describe_and_commands_a_pod_lacks() {
    let (shared, _stop) = world();
    let argv = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let out = run(
        &shared,
        true,
        &argv(&format!(
            "/opt/kafka/bin/kafka-topics.sh {BS} --describe --topic {T}"
        )),
    )
    .unwrap();
    let id = shared.kafka.lock().topics[T].id.clone();
    assert_eq!(
        out.stdout,
        format!(
            "Topic: {T}\tTopicId: {id}\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: retention.ms=-1\n\tTopic: {T}\tPartition: 0\tLeader: 0\tReplicas: 0,1,2\tIsr: 0,1,2\tElr: \tLastKnownElr: \n\tTopic: {T}\tPartition: 1\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,2,0\tElr: \tLastKnownElr: \n\tTopic: {T}\tPartition: 2\tLeader: 2\tReplicas: 2,0,1\tIsr: 2,0,1\tElr: \tLastKnownElr: \n"
        )
    );
    let out = run(
        &shared,
        true,
        &argv(&format!("bin/kafka-topics.sh {BS} --describe --topic nope")),
    )
    .unwrap();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "Error while executing topic command : Topic 'Optional[nope]' does not exist as expected\n"
        )
    );
    assert!(
        run(
            &shared,
            false,
            &argv(&format!("/opt/kafka/bin/kafka-topics.sh {BS} --list"))
        )
        .is_err(),
        "only broker pods have the tools"
    );
    assert_eq!(run(&shared, true, &argv("ls /")).unwrap_err().command, "ls");
}

/// Random argument lists, made of the tool's own words and junk: never a panic.
#[test]
fn any_argument_list_is_answered() {
    let (shared, _stop) = world();
    let words = [
        "--bootstrap-server",
        "localhost:9092",
        "--group",
        G,
        CACHE,
        "--topic",
        T,
        "nope",
        "--describe",
        "--list",
        "--reset-offsets",
        "--to-datetime",
        "2024-06-14T08:30:00.000",
        "2024-13-99T99:99:99.999+99:99",
        "--to-earliest",
        "--to-latest",
        "--shift-by",
        "-5",
        "9223372036854775807",
        "--by-duration",
        "PT1H",
        "P",
        "--execute",
        "--dry-run",
        "--members",
        "--state",
        "--offsets",
        "--verbose",
        "--all-topics",
        "--all-groups",
        "--delete",
        "--delete-offsets",
        "--to-offset",
        "--to-current",
        "--export",
        "--from-file",
        "--timeout",
        "x",
        "--",
        "-",
        "-x",
        "--=",
        "--group=",
        ":",
        "t:",
        "t:,",
        "t:-1",
        "t:0,,1",
        "\u{1F600}",
        "",
        "--desc",
        "--to",
        "--state=Stable",
        "--type",
        "classic",
    ];
    let mut rng = fastrand::Rng::with_seed(17);
    for _ in 0..3_000 {
        let n = rng.usize(0..10);
        let mut argv = vec![
            if rng.bool() {
                "/opt/kafka/bin/kafka-consumer-groups.sh"
            } else {
                "/opt/kafka/bin/kafka-topics.sh"
            }
            .to_string(),
        ];
        argv.extend((0..n).map(|_| words[rng.usize(..words.len())].to_string()));
        let out = run(&shared, true, &argv).unwrap();
        assert!(out.code == 0 || out.code == 1, "{argv:?}");
    }
}
