//! The simulator's Kafka through `pods/exec`, as rollcall reaches it: kube-rs over a
//! WebSocket (v5.channel.k8s.io) and the real `kubectl exec`. The demo's Empty group is
//! described and reset to a datetime (dry run first; then the lag is up by exactly the
//! replayed count), the live group's reset is refused and changes nothing, the viewer may
//! not exec, other commands fail as missing executables, and the KafkaTopics are served
//! to kubectl with the topic operator's rules.

use std::collections::BTreeMap;

use rollcall_testkit::cluster::{client, client_for, start};
use rollcall_testkit::kafka::{
    self, BROKER, GROUPS_SH, consumer_groups, datetime, exec_in, new_offsets, offsets,
};
use rollcall_testkit::kubectl::{K, cols, kubectl_or_skip};

const GROUP: &str = "metadata-catalog-consumer";
const TOPIC: &str = "customers.entity_changed";
const CACHE: &str = "graphql-gateway-cache";

type Offsets = BTreeMap<u32, (Option<u64>, u64)>;

/// Σ(end − current) over the partitions.
fn lag(o: &Offsets) -> i64 {
    o.values()
        .map(|(c, e)| *e as i64 - c.unwrap_or(*e) as i64)
        .sum()
}

/// After a reset from `before` to `after`: the lag grew by the replayed messages plus the
/// messages that arrived meanwhile, exactly.
fn assert_lag_up_by_replayed(before: &Offsets, after: &Offsets) {
    let replayed: i64 = before
        .iter()
        .map(|(p, (c, _))| c.unwrap_or(0) as i64 - after[p].0.unwrap_or(0) as i64)
        .sum();
    let arrived: i64 = before
        .iter()
        .map(|(p, (_, e))| after[p].1 as i64 - *e as i64)
        .sum();
    assert!(
        replayed > 0,
        "a reset an hour back replays messages: {before:?} → {after:?}"
    );
    assert_eq!(
        lag(after),
        lag(before) + replayed + arrived,
        "{before:?} → {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_exec_describes_resets_and_is_refused() {
    let sim = start(1.0).await;
    let c = client(&sim).await;

    let d = consumer_groups(&c, &format!("--describe --group {GROUP}")).await;
    assert_eq!(
        d.status.as_ref().and_then(|s| s.status.as_deref()),
        Some("Success"),
        "{d:?}"
    );
    assert_eq!(
        d.stderr,
        format!("\nConsumer group '{GROUP}' has no active members.\n")
    );
    let header = d.stdout.lines().nth(1).unwrap_or("");
    assert_eq!(
        cols(header),
        [
            "GROUP",
            "TOPIC",
            "PARTITION",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID"
        ]
    );
    let before = offsets(&d.stdout, TOPIC);
    assert_eq!(before.len(), 3, "{}", d.stdout);
    assert!(lag(&before) > 0, "the stopped consumer is behind");

    // Dry run to an hour ago (the consumer stopped two hours ago): nothing changes.
    let at = datetime(sim.now() - jiff::SignedDuration::from_hours(1));
    let args = format!("--reset-offsets --group {GROUP} --topic {TOPIC} --to-datetime {at}");
    let dry = consumer_groups(&c, &format!("{args} --dry-run")).await;
    let planned = new_offsets(&dry.stdout, TOPIC);
    assert_eq!(planned.len(), 3, "{dry:?}");
    for (p, o) in &planned {
        assert!(
            *o > before[p].0.unwrap_or(0) && *o <= before[p].1,
            "{p}: {o} {before:?}"
        );
    }
    let still = offsets(
        &consumer_groups(&c, &format!("--describe --group {GROUP}"))
            .await
            .stdout,
        TOPIC,
    );
    assert_eq!(
        still.iter().map(|(p, (c, _))| (*p, *c)).collect::<Vec<_>>(),
        before
            .iter()
            .map(|(p, (c, _))| (*p, *c))
            .collect::<Vec<_>>()
    );

    // Back to three hours ago, executed: the lag is up by exactly the replayed count.
    let at = datetime(sim.now() - jiff::SignedDuration::from_hours(3));
    let args = format!("--reset-offsets --group {GROUP} --topic {TOPIC} --to-datetime {at}");
    let mid = offsets(
        &consumer_groups(&c, &format!("--describe --group {GROUP}"))
            .await
            .stdout,
        TOPIC,
    );
    let done = consumer_groups(&c, &format!("{args} --execute")).await;
    let applied = new_offsets(&done.stdout, TOPIC);
    let after = offsets(
        &consumer_groups(&c, &format!("--describe --group {GROUP}"))
            .await
            .stdout,
        TOPIC,
    );
    for (p, o) in &applied {
        assert_eq!(after[p].0, Some(*o));
    }
    assert_lag_up_by_replayed(&mid, &after);

    // The live group: refused, nothing reset.
    let r = consumer_groups(&c, &format!("--reset-offsets --group {CACHE} --topic catalog.metadata_updated --to-earliest --execute")).await;
    assert!(
        r.stdout.contains(&format!("Error: Assignments can only be reset if the group '{CACHE}' is inactive, but the current state is Stable.")),
        "{r:?}"
    );
    let live = offsets(
        &consumer_groups(&c, &format!("--describe --group {CACHE}"))
            .await
            .stdout,
        "catalog.metadata_updated",
    );
    assert_eq!(live.len(), 6);
    assert!(
        live.values()
            .all(|(c, e)| c.is_some_and(|c| c > 0 && e - c <= 2)),
        "{live:?}"
    );

    // A usage error: a non-zero exit in the Status.
    let u = consumer_groups(&c, "--describe").await;
    let s = u.status.expect("status");
    assert_eq!(
        (s.status.as_deref(), s.reason.as_deref()),
        (Some("Failure"), Some("NonZeroExitCode"))
    );
    let cause = &s.details.and_then(|d| d.causes).unwrap_or_default()[0];
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("1"))
    );

    // A command the container does not have.
    let nf = exec_in(&c, BROKER, &["ls", "/"]).await.expect("exec");
    let s = nf.status.expect("status");
    assert_eq!(s.reason.as_deref(), Some("InternalError"));
    assert!(
        s.message
            .unwrap_or_default()
            .ends_with("exec: \"ls\": executable file not found in $PATH")
    );

    // The viewer may not exec: 403 before any upgrade.
    let viewer = client_for(&sim, None, Some(sim.viewer_token())).await;
    match exec_in(&viewer, BROKER, &[GROUPS_SH, "--list"]).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert_eq!(
                s.message,
                "pods \"dictamesh-kafka-kafka-0\" is forbidden: User \"viewer\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"dictamesh-infra\""
            );
        }
        other => panic!("the viewer's exec: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_kubectl_exec_resets_the_demo_group() {
    let Some(bin) = kubectl_or_skip("kubectl exec into the simulated Kafka") else {
        return;
    };
    let sim = start(1.0).await;
    let k = K::new(bin, &sim);
    let tool = |args: &str| -> Vec<String> {
        let mut v: Vec<String> = [
            "exec",
            "-n",
            kafka::NAMESPACE,
            BROKER,
            "-c",
            "kafka",
            "--",
            GROUPS_SH,
            "--bootstrap-server",
            "localhost:9092",
        ]
        .map(String::from)
        .to_vec();
        v.extend(args.split_whitespace().map(String::from));
        v
    };
    let run = |v: Vec<String>| {
        let k = &k;
        async move {
            k.run(&v.iter().map(String::as_str).collect::<Vec<_>>())
                .await
        }
    };
    let ok = |v: Vec<String>| {
        let k = &k;
        async move {
            k.ok(&v.iter().map(String::as_str).collect::<Vec<_>>())
                .await
        }
    };
    let (code, out, err) = run(tool(&format!("--describe --group {GROUP}"))).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!("Consumer group '{GROUP}' has no active members.")),
        "{err}"
    );
    let before = offsets(&out, TOPIC);
    assert_eq!(before.len(), 3, "{out}");

    let at = datetime(sim.now() - jiff::SignedDuration::from_hours(3));
    let (code, dry, _) = run(tool(&format!(
        "--reset-offsets --group {GROUP} --topic {TOPIC} --to-datetime {at} --dry-run"
    )))
    .await;
    assert_eq!(code, 0);
    assert_eq!(new_offsets(&dry, TOPIC).len(), 3, "{dry}");
    let mid = offsets(
        &ok(tool(&format!("--describe --group {GROUP}"))).await,
        TOPIC,
    );
    assert_eq!(
        mid.values().map(|v| v.0).collect::<Vec<_>>(),
        before.values().map(|v| v.0).collect::<Vec<_>>(),
        "the dry run changed nothing"
    );
    ok(tool(&format!(
        "--reset-offsets --group {GROUP} --topic {TOPIC} --to-datetime {at} --execute"
    )))
    .await;
    let after = offsets(
        &ok(tool(&format!("--describe --group {GROUP}"))).await,
        TOPIC,
    );
    assert_lag_up_by_replayed(&mid, &after);

    // A failing command: kubectl reports the exit code and exits with it.
    let (code, _, err) = run(tool("--describe")).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("Option [describe] takes one of these options")
            && err.contains("command terminated with exit code 1"),
        "{err}"
    );
    let (code, _, err) = k
        .run(&["exec", "-n", kafka::NAMESPACE, BROKER, "--", "ls"])
        .await;
    assert_eq!(code, 1);
    assert!(err.contains("executable file not found in $PATH"), "{err}");
    // The viewer: Forbidden, from the WebSocket attempt alone (no SPDY retry on a 403).
    let (code, _, err) = k
        .run(&[
            "--context",
            "rollcall-sim-viewer",
            "-v=6",
            "exec",
            "-n",
            kafka::NAMESPACE,
            BROKER,
            "--",
            GROUPS_SH,
            "--list",
        ])
        .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot create resource \\\"pods/exec\\\"")
            || err.contains("cannot create resource \"pods/exec\""),
        "{err}"
    );
    let attempts = err
        .lines()
        .filter(|l| l.contains("/exec?") && l.contains(" 403 "))
        .count();
    assert_eq!(attempts, 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_and_changes_kafka_topics() {
    let Some(bin) = kubectl_or_skip("kubectl on KafkaTopics") else {
        return;
    };
    let sim = start(1.0).await;
    let k = K::new(bin, &sim);
    let out = k.ok(&["get", "kt", "-n", kafka::NAMESPACE]).await;
    let rows: Vec<Vec<&str>> = out.lines().map(cols).collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "CLUSTER",
            "PARTITIONS",
            "REPLICATION",
            "FACTOR",
            "READY"
        ],
        "{out}"
    );
    assert!(
        rows.contains(&vec![
            "customers.entity-changed",
            "dictamesh-kafka",
            "3",
            "3",
            "True"
        ]),
        "{out}"
    );
    assert!(
        rows.contains(&vec![
            "catalog.metadata-updated",
            "dictamesh-kafka",
            "6",
            "3",
            "True"
        ]),
        "{out}"
    );

    // The backup: a List kubectl applies (server-side dry run first), retention restored.
    let backup = sim
        .kafka_topics_backup()
        .expect("the demo's topic backup")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(&backup).expect("backup");
    assert!(
        text.contains("kind: List") && text.contains("retention.ms: 259200000"),
        "{text}"
    );
    let dry = k.ok(&["apply", "--dry-run=server", "-f", &backup]).await;
    assert!(
        dry.contains(
            "kafkatopic.kafka.strimzi.io/customers.entity-changed configured (server dry run)"
        ),
        "{dry}"
    );
    let c = client(&sim).await;
    let describe = |c: kube::Client| async move {
        exec_in(
            &c,
            BROKER,
            &[
                "/opt/kafka/bin/kafka-topics.sh",
                "--bootstrap-server",
                "localhost:9092",
                "--describe",
                "--topic",
                TOPIC,
            ],
        )
        .await
        .expect("exec")
        .stdout
    };
    assert!(describe(c.clone()).await.contains("retention.ms=604800000"));
    k.ok(&["apply", "-f", &backup]).await;
    let mut restored = String::new();
    for _ in 0..50 {
        restored = describe(c.clone()).await;
        if restored.contains("retention.ms=259200000") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(restored.contains("retention.ms=259200000"), "{restored}");

    // Partitions only grow; replicas do not change.
    for (patch, want) in [
        (
            r#"{"spec":{"partitions":2}}"#,
            "False 3 KafkaError: Number of partitions cannot be decreased",
        ),
        (
            r#"{"spec":{"partitions":3,"replicas":1}}"#,
            "False 4 NotSupported: Changing spec.replicas is not supported",
        ),
        (r#"{"spec":{"partitions":4,"replicas":3}}"#, "True 5 : "),
    ] {
        k.ok(&[
            "patch",
            "kt",
            "customers.entity-changed",
            "-n",
            kafka::NAMESPACE,
            "--type",
            "merge",
            "-p",
            patch,
        ])
        .await;
        assert_eq!(settled(&k).await, want, "{patch}");
    }
    assert!(describe(c.clone()).await.contains("PartitionCount: 4"));
}

/// The KafkaTopic's Ready condition once the operator has seen its latest generation.
async fn settled(k: &K) -> String {
    let get = [
        "get",
        "kt",
        "customers.entity-changed",
        "-n",
        kafka::NAMESPACE,
        "-o",
    ];
    let mut last = String::new();
    for _ in 0..50 {
        let gens = k
            .ok(&[
                &get[..],
                &["jsonpath={.metadata.generation} {.status.observedGeneration}"],
            ]
            .concat())
            .await;
        last = k
            .ok(&[&get[..], &["jsonpath={.status.conditions[0].status} {.status.observedGeneration} {.status.conditions[0].reason}: {.status.conditions[0].message}"]].concat())
            .await;
        if gens.split(' ').next() == gens.split(' ').nth(1) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}
