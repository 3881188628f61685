//! Kafka as the real `kafka-consumer-groups.sh` prints it (Kafka 3.x/4.x formats: each
//! table row printed as `\n` + padded columns, `-` for what is unknown) and the demo's
//! groups and topics fed to a state as the Kafka watcher would.

use rollcall::app::{Event, State, update};
use rollcall::domain::kafka::table::{parse_offsets, parse_state};
use rollcall::domain::kafka::topics::TopicSpec;
use rollcall::domain::kafka::{GroupView, KafkaUpdate};
use serde_json::json;

use crate::state::now;

/// `--describe --group metadata-catalog-consumer`: no active members, some lag.
pub const EMPTY_OFFSETS: &str = "
Consumer group 'metadata-catalog-consumer' has no active members.

GROUP                     TOPIC                    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
metadata-catalog-consumer customers.entity_changed 0          1180            1302            122             -               -               -
metadata-catalog-consumer customers.entity_changed 1          1175            1290            115             -               -               -
metadata-catalog-consumer customers.entity_changed 2          1201            1311            110             -               -               -
";

/// `--describe --group metadata-catalog-consumer --state`: Empty, no strategy.
pub const EMPTY_STATE: &str = "
GROUP                     COORDINATOR (ID)                                                                        ASSIGNMENT-STRATEGY  STATE           #MEMBERS
metadata-catalog-consumer dictamesh-kafka-kafka-0.dictamesh-kafka-kafka-brokers.dictamesh-infra.svc:9092  (0)                         Empty           0
";

/// `--describe --group graphql-gateway-cache`: one live member on six partitions.
pub const STABLE_OFFSETS: &str = "
GROUP                 TOPIC                    PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                                HOST            CLIENT-ID
graphql-gateway-cache catalog.metadata_updated 0          2040            2041            1               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
graphql-gateway-cache catalog.metadata_updated 1          2033            2033            0               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
graphql-gateway-cache catalog.metadata_updated 2          2051            2053            2               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
graphql-gateway-cache catalog.metadata_updated 3          2019            2019            0               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
graphql-gateway-cache catalog.metadata_updated 4          2047            2048            1               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
graphql-gateway-cache catalog.metadata_updated 5          2028            2028            0               graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway
";

/// `--describe --group graphql-gateway-cache --state`.
pub const STABLE_STATE: &str = "
GROUP                     COORDINATOR (ID)                                                                        ASSIGNMENT-STRATEGY  STATE           #MEMBERS
graphql-gateway-cache     dictamesh-kafka-kafka-0.dictamesh-kafka-kafka-brokers.dictamesh-infra.svc:9092  (0)  range                Stable          1
";

/// `--describe --group graphql-gateway-cache --members`.
pub const STABLE_MEMBERS: &str = "
GROUP                 CONSUMER-ID                                                HOST            CLIENT-ID       #PARTITIONS     
graphql-gateway-cache graphql-gateway-cache-6f1c2a9e-3b7d-4c1e-9a55-0d2b8f7e4a11 /10.42.1.17     graphql-gateway 6               
";

/// `--reset-offsets … --to-datetime … --dry-run` of the empty group: partition 2 has
/// nothing at or after the time and falls back to its end.
pub const RESET_DRY_RUN: &str = "
Warn: Partition 2 from topic customers.entity_changed is empty. Falling back to latest known offset.

GROUP                          TOPIC                          PARTITION  NEW-OFFSET     
metadata-catalog-consumer      customers.entity_changed       0          1100           
metadata-catalog-consumer      customers.entity_changed       1          1150           
metadata-catalog-consumer      customers.entity_changed       2          1311           
";

/// The groups of the demo as one read of the watcher gives them, with a lag history.
pub fn demo_groups() -> Vec<GroupView> {
    let group = |name: &str, state: &str, offsets: &str, history: Vec<u64>| GroupView {
        name: name.to_owned(),
        state: parse_state(state).rows.into_iter().next(),
        partitions: parse_offsets(offsets).rows,
        error: None,
        history,
    };
    vec![
        group(
            "metadata-catalog-consumer",
            EMPTY_STATE,
            EMPTY_OFFSETS,
            (0..30).map(|i| 200 + i * 5).collect(),
        ),
        group(
            "graphql-gateway-cache",
            STABLE_STATE,
            STABLE_OFFSETS,
            vec![3, 5, 2, 4, 4, 6, 3, 2, 4],
        ),
    ]
}

fn topic(name: &str, partitions: i64, retention: i64) -> TopicSpec {
    TopicSpec::from_object(&json!({
        "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
        "metadata": {"name": name, "namespace": "dictamesh-infra",
            "labels": {"strimzi.io/cluster": "dictamesh-kafka"}},
        "spec": {"partitions": partitions, "replicas": 3,
            "config": {"retention.ms": retention, "cleanup.policy": "delete",
                "min.insync.replicas": 2}},
        "status": {"conditions": [{"type": "Ready", "status": "True",
            "lastTransitionTime": "2026-11-25T10:00:00Z"}]}
    }))
    .unwrap()
}

/// The demo's live topics, and a backup whose retention of customers.entity-changed
/// was 3 days and whose catalog topic had 8 partitions (more than live: it can grow).
pub fn demo_topics() -> (Vec<TopicSpec>, Vec<TopicSpec>) {
    let live = vec![
        topic("customers.entity-changed", 3, 604_800_000),
        topic("catalog.metadata-updated", 6, 604_800_000),
    ];
    let backup = vec![
        topic("customers.entity-changed", 3, 259_200_000),
        topic("catalog.metadata-updated", 6, 604_800_000),
    ];
    (live, backup)
}

/// Feeds environment `env` of `state` the demo's groups and topics, read at `now()`; its
/// backup file named where no home directory shows.
pub fn with_kafka(state: &mut State, env: usize) {
    if let Some(k) = state
        .envs
        .get_mut(env)
        .and_then(|e| e.config.kafka.as_mut())
    {
        k.topics_backup = Some("/srv/dictamesh/kafka-topics-backup.yaml".into());
    }
    update(
        state,
        Event::Kafka {
            env,
            update: KafkaUpdate::Groups {
                read_at: now()
                    .checked_sub(jiff::SignedDuration::from_secs(4))
                    .unwrap(),
                groups: Ok(demo_groups()),
            },
        },
    );
    let (live, backup) = demo_topics();
    update(
        state,
        Event::Kafka {
            env,
            update: KafkaUpdate::Topics {
                live: Ok(live),
                backup: Some(Ok(backup)),
            },
        },
    );
}
