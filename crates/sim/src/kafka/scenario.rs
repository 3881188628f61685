//! The demo's Kafka (the seed's Strimzi cluster in `dictamesh-infra`): three broker pods
//! `dictamesh-kafka-kafka-{0,1,2}`, the `KafkaTopic`s `customers.entity_changed` and
//! `catalog.metadata_updated` created a day ago (so their logs hold a day of messages),
//! and two consumer groups: `metadata-catalog-consumer`, whose Deployment in
//! dictamesh-prod is scaled to 0 (the group is Empty, two hours behind and falling
//! further), and `graphql-gateway-cache`, one live member keeping up. Also the topic
//! backup the seed applies, with one setting older than live.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::groups::{Group, Member, Members};
use super::operator::kafka_topic;
use super::{BROKERS, CLUSTER, CONTAINER, NAMESPACE, broker_pod};
use crate::Shared;
use crate::api::admission::prepare_create;
use crate::controllers::Controllers;
use crate::objects::new_uid;
use crate::resources::{DEPLOYMENTS, KAFKATOPICS, PODS, ResourceDef, def};
use crate::store::WriteMode;

pub const CUSTOMERS: &str = "customers.entity_changed";
pub const CATALOG: &str = "catalog.metadata_updated";
pub const CATALOG_CONSUMER: &str = "metadata-catalog-consumer";
pub const CACHE_GROUP: &str = "graphql-gateway-cache";
/// Where the consumer Deployment runs.
pub const CONSUMER_NAMESPACE: &str = "dictamesh-prod";
/// The Strimzi image (Kafka 3.9.0).
pub const IMAGE: &str = "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0";
/// The backup's file name, next to the GitOps checkout.
pub const BACKUP_FILE: &str = "kafka-topics-backup.yaml";
/// customers.entity_changed's retention in the backup (3 days), where live has 7.
pub const BACKUP_RETENTION_MS: i64 = 259_200_000;
/// How long ago the consumer was stopped.
pub const CONSUMER_STOPPED: SignedDuration = SignedDuration::from_hours(2);

fn create(shared: &Shared, d: &ResourceDef, ns: &str, mut obj: Value) {
    if prepare_create(shared, d, Some(ns), &mut obj).is_ok() {
        let _ = shared.store.write(d, &mut obj, WriteMode::Create);
    }
}

/// A broker pod as Strimzi's StrimziPodSet makes it (KRaft, combined roles).
pub fn broker(id: u32, podset_uid: &str) -> Value {
    let name = broker_pod(id);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/instance": CLUSTER,
                "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
                "app.kubernetes.io/name": "kafka",
                "app.kubernetes.io/part-of": format!("strimzi-{CLUSTER}"),
                "strimzi.io/broker-role": "true",
                "strimzi.io/cluster": CLUSTER,
                "strimzi.io/component-type": "kafka",
                "strimzi.io/controller": "strimzipodset",
                "strimzi.io/controller-name": format!("{CLUSTER}-kafka"),
                "strimzi.io/controller-role": "true",
                "strimzi.io/kind": "Kafka",
                "strimzi.io/name": format!("{CLUSTER}-kafka"),
                "strimzi.io/pod-name": name,
                "strimzi.io/pool-name": "kafka",
            },
            "ownerReferences": [{
                "apiVersion": "core.strimzi.io/v1beta2",
                "kind": "StrimziPodSet",
                "name": format!("{CLUSTER}-kafka"),
                "uid": podset_uid,
                "controller": false,
                "blockOwnerDeletion": false,
            }],
        },
        "spec": {
            "hostname": name,
            "subdomain": format!("{CLUSTER}-kafka-brokers"),
            "containers": [{
                "name": CONTAINER,
                "image": IMAGE,
                "command": ["/opt/kafka/kafka_run.sh"],
                "ports": [
                    {"name": "tcp-ctrlplane", "containerPort": 9090},
                    {"name": "tcp-replication", "containerPort": 9091},
                    {"name": "tcp-clients", "containerPort": 9092},
                ],
                "readinessProbe": {"exec": {"command": ["/opt/kafka/kafka_readiness.sh"]},
                    "initialDelaySeconds": 15, "timeoutSeconds": 5},
                "livenessProbe": {"exec": {"command": ["/opt/kafka/kafka_liveness.sh"]},
                    "initialDelaySeconds": 15, "timeoutSeconds": 5},
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
            }],
        },
    })
}

/// The consumer of customer changes for the catalog: a Deployment scaled to 0.
fn consumer_deployment() -> Value {
    let labels = json!({"app": CATALOG_CONSUMER, "app.kubernetes.io/name": CATALOG_CONSUMER,
        "app.kubernetes.io/part-of": "dictamesh"});
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": CATALOG_CONSUMER, "labels": labels,
            "annotations": {"dictamesh.io/stopped-for": "bad release v1.2.0 replay"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": CATALOG_CONSUMER}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": CATALOG_CONSUMER,
                    "image": format!("ghcr.io/controle-digital/{CATALOG_CONSUMER}:v1.1.4"),
                    "env": [
                        {"name": "KAFKA_BOOTSTRAP_SERVERS", "value": format!("{CLUSTER}-kafka-bootstrap.{NAMESPACE}.svc:9092")},
                        {"name": "KAFKA_GROUP_ID", "value": CATALOG_CONSUMER},
                        {"name": "KAFKA_TOPIC", "value": CUSTOMERS},
                    ],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                }]},
            },
        },
    })
}

/// The demo's topics as their KafkaTopics declare them.
pub fn topics() -> Vec<Value> {
    vec![
        kafka_topic(
            CUSTOMERS,
            3,
            3,
            &[
                ("retention.ms", json!(604_800_000)),
                ("cleanup.policy", json!("delete")),
                ("min.insync.replicas", json!(2)),
            ],
        ),
        kafka_topic(CATALOG, 6, 3, &[("retention.ms", json!(604_800_000))]),
    ]
}

/// How far back the topics' messages go.
pub const HISTORY: SignedDuration = SignedDuration::from_hours(24);

/// Builds the cluster at the clock's time (the scenario's last step, hours ago), then
/// leaves the clock at `now`.
pub fn build(shared: &Shared, ctl: &mut Controllers, now: Timestamp) {
    let podset = new_uid();
    for id in 0..BROKERS {
        create(shared, def(PODS), NAMESPACE, broker(id, &podset));
    }
    create(
        shared,
        def(DEPLOYMENTS),
        CONSUMER_NAMESPACE,
        consumer_deployment(),
    );
    for kt in topics() {
        create(shared, def(KAFKATOPICS), NAMESPACE, kt);
    }
    super::super::scenario::settle(shared, ctl);
    shared.clock.set(now);
    let now_ms = now.as_millisecond();
    let mut world = shared.kafka.lock();
    // The topics have been receiving messages for a day.
    let since = (now - HISTORY).as_millisecond();
    for t in world.topics.values_mut() {
        let name = t.name.clone();
        for (p, log) in t.partitions.iter_mut().enumerate() {
            *log = super::log::PartitionLog::new(&name, p as u32, since);
        }
    }
    world.advance(now_ms);
    let stopped = now_ms - CONSUMER_STOPPED.as_millis() as i64;
    let mut catalog = Group::new(
        CATALOG_CONSUMER,
        &[CUSTOMERS],
        Members::Deployment {
            namespace: CONSUMER_NAMESPACE.into(),
            name: CATALOG_CONSUMER.into(),
            client_id: CATALOG_CONSUMER.into(),
        },
    );
    if let Some(t) = world.topics.get(CUSTOMERS) {
        for (p, log) in t.partitions.iter().enumerate() {
            let at = log.offset_for_time(stopped).unwrap_or(log.log_end());
            catalog.offsets.insert((CUSTOMERS.into(), p as u32), at);
        }
    }
    let mut cache = Group::new(CACHE_GROUP, &[CATALOG], Members::Fixed);
    let member = Member {
        consumer_id: format!("{CACHE_GROUP}-{}", new_uid()),
        host: "/10.42.1.17".into(),
        client_id: "graphql-gateway".into(),
        assignment: Vec::new(),
    };
    // Joined long ago: its rebalance is over.
    cache.set_members(vec![member], &world.topics, now_ms - 3_600_000);
    if let Some(t) = world.topics.get(CATALOG) {
        for (p, log) in t.partitions.iter().enumerate() {
            cache
                .offsets
                .insert((CATALOG.into(), p as u32), log.log_end());
        }
    }
    world.groups.insert(catalog.name.clone(), catalog);
    world.groups.insert(cache.name.clone(), cache);
}

/// Writes the topic backup next to the GitOps checkout: the live KafkaTopics as
/// `kubectl get kafkatopics -o yaml` lists them, without server-set fields (so it can be
/// applied again), and customers.entity_changed with the 3-day retention it had before.
pub fn write_backup(shared: &Shared, dir: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut items: Vec<Value> = shared
        .store
        .list(def(KAFKATOPICS), Some(NAMESPACE), |_| true)
        .1
        .iter()
        .map(|e| e.value())
        .collect();
    for kt in &mut items {
        if let Some(m) = kt.as_object_mut() {
            m.remove("status");
        }
        if let Some(md) = kt.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "generation",
                "managedFields",
            ] {
                md.remove(k);
            }
        }
        if super::operator::topic_name(kt) == CUSTOMERS {
            kt["spec"]["config"]["retention.ms"] = json!(BACKUP_RETENTION_MS);
        }
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items,
        "metadata": {"resourceVersion": ""}});
    let yaml = serde_saphyr::to_string(&list).map_err(std::io::Error::other)?;
    let path = dir.join(BACKUP_FILE);
    std::fs::write(&path, yaml)?;
    shared.kafka.set_backup_path(path.clone());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::groups::GroupState;
    use crate::scenario::{self, Scenario};

    #[test]
    fn a_group_sent_to_latest_and_where_a_replay_from_the_bad_release_starts() {
        let (shared, _stop) = Shared::for_tests();
        let mut ctl = Controllers::new(shared.clone());
        scenario::build(&shared, &mut ctl, Scenario::Dictamesh);
        let bad = shared.clock.now().as_millisecond() - 90 * 60_000;
        let from = shared
            .kafka
            .skip_to_latest(&shared, CATALOG_CONSUMER, CUSTOMERS, bad)
            .unwrap();
        assert_eq!(from.len(), 3);
        let w = shared.kafka.lock();
        let group = &w.groups[CATALOG_CONSUMER];
        for (p, offset) in from {
            let log = &w.topics[CUSTOMERS].partitions[p as usize];
            assert_eq!(group.offsets[&(CUSTOMERS.to_string(), p)], log.log_end());
            // The first message at or after the bad release: the one before is older.
            assert!(offset < log.log_end(), "90 minutes of messages");
            assert!(log.timestamp_of(offset).unwrap() >= bad);
            assert!(log.timestamp_of(offset - 1).unwrap() < bad);
        }
        drop(w);
        assert_eq!(
            shared
                .kafka
                .skip_to_latest(&shared, "no-such-group", CUSTOMERS, bad),
            None
        );
    }

    #[test]
    fn the_demo_cluster() {
        let (shared, _stop) = Shared::for_tests();
        let mut ctl = Controllers::new(shared.clone());
        scenario::build(&shared, &mut ctl, Scenario::Dictamesh);
        let pod = shared
            .store
            .get(def(PODS), NAMESPACE, "dictamesh-kafka-kafka-0")
            .unwrap()
            .value();
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(
            pod["metadata"]["labels"]["strimzi.io/name"],
            "dictamesh-kafka-kafka"
        );
        let now_ms = shared.clock.now().as_millisecond();
        let w = shared.kafka.now(&shared);
        let customers = &w.topics[CUSTOMERS];
        assert_eq!((customers.partitions.len(), customers.replicas), (3, 3));
        assert_eq!(customers.config["min.insync.replicas"], "2");
        assert_eq!(w.topics[CATALOG].partitions.len(), 6);
        for log in &customers.partitions {
            let first = log.timestamp_of(log.log_start()).unwrap();
            assert!(now_ms - first > 23 * 3_600_000 && now_ms - first <= 24 * 3_600_000);
        }
        let catalog = &w.groups[CATALOG_CONSUMER];
        assert_eq!(catalog.state(now_ms), GroupState::Empty);
        let lag: u64 = catalog
            .offsets
            .iter()
            .map(|((t, p), o)| w.topics[t].partitions[*p as usize].log_end() - o)
            .sum();
        assert!(lag > 3 * 2 * 60 * 2, "two hours of a few a minute: {lag}");
        let cache = &w.groups[CACHE_GROUP];
        assert_eq!(cache.state(now_ms), GroupState::Stable);
        assert_eq!(cache.members.len(), 1);
        assert_eq!(cache.members[0].assignment.len(), 6);

        let dir = tempfile::tempdir().unwrap();
        drop(w);
        let path = write_backup(&shared, dir.path()).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("kind: List") && text.contains("retention.ms: 259200000"),
            "{text}"
        );
        assert!(
            !text.contains("resourceVersion: '") && !text.contains("uid:"),
            "{text}"
        );
        assert!(
            text.contains("name: customers.entity-changed")
                && text.contains("topicName: customers.entity_changed"),
            "{text}"
        );
    }
}
