//! Strimzi's topic operator in the simulator: each `KafkaTopic` is applied to the Kafka
//! model (created with its partitions, replicas and config; later changes applied), and
//! its status says how that went: `Ready` True, or False with the reason Kafka gave.
//! Partitions only grow; a decrease is refused (`KafkaError`, "Number of partitions cannot
//! be decreased"), and so is a change of `spec.replicas` (`NotSupported`). Deleting the
//! resource deletes the topic.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Topic;
use crate::Shared;
use crate::clock::fmt_time;
use crate::resources::{KAFKATOPICS, def};
use crate::store::{Change, ChangeType, WriteMode};

/// Brokers' defaults when the resource leaves them out (`num.partitions`,
/// `default.replication.factor` of the demo's cluster).
const DEFAULT_PARTITIONS: i64 = 1;
const DEFAULT_REPLICAS: i64 = 3;
/// Kafka caps what this simulator models.
const MAX_PARTITIONS: i64 = 10_000;

type Key = (String, String);

/// KafkaTopics waiting for a reconcile.
#[derive(Default)]
pub struct TopicOperator {
    dirty: BTreeSet<Key>,
}

impl TopicOperator {
    pub fn observe(&mut self, shared: &Shared, c: &Change) {
        let m = &c.entry.meta;
        if m.def != KAFKATOPICS {
            return;
        }
        if c.ty == ChangeType::Deleted {
            let v = c.entry.value();
            shared.kafka.lock().topics.remove(&topic_name(&v));
            self.dirty
                .remove(&(m.namespace.to_string(), m.name.to_string()));
        } else {
            self.dirty
                .insert((m.namespace.to_string(), m.name.to_string()));
        }
    }

    pub fn resync(&mut self, shared: &Shared) {
        for e in shared.store.list(def(KAFKATOPICS), None, |_| true).1 {
            self.dirty
                .insert((e.meta.namespace.to_string(), e.meta.name.to_string()));
        }
    }

    pub fn tick(&mut self, shared: &Shared) {
        for (ns, name) in std::mem::take(&mut self.dirty) {
            reconcile(shared, &ns, &name);
        }
    }

    pub fn idle(&self) -> bool {
        self.dirty.is_empty()
    }
}

/// `spec.topicName`, else the resource's name.
pub fn topic_name(kt: &Value) -> String {
    kt.pointer("/spec/topicName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .or_else(|| kt.pointer("/metadata/name").and_then(Value::as_str))
        .unwrap_or("")
        .to_string()
}

/// A config value as Kafka stores it: strings as they are, numbers and booleans printed.
fn config_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(config_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Applies one KafkaTopic and writes its status.
fn reconcile(shared: &Shared, ns: &str, name: &str) {
    let Some(entry) = shared.store.get(def(KAFKATOPICS), ns, name) else {
        return;
    };
    let mut kt = entry.value();
    let generation = kt
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if kt
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        == Some(generation)
    {
        return;
    }
    let now = shared.clock.now();
    let topic = topic_name(&kt);
    let int = |ptr: &str, default: i64| kt.pointer(ptr).and_then(Value::as_i64).unwrap_or(default);
    let partitions = int("/spec/partitions", DEFAULT_PARTITIONS);
    let replicas = int("/spec/replicas", DEFAULT_REPLICAS);
    let config: BTreeMap<String, String> = kt
        .pointer("/spec/config")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), config_value(v)))
                .collect()
        })
        .unwrap_or_default();
    let outcome = {
        let mut world = shared.kafka.now(shared);
        let now_ms = now.as_millisecond();
        if !(1..=MAX_PARTITIONS).contains(&partitions)
            || !(1..=i64::from(i16::MAX)).contains(&replicas)
        {
            Err((
                "InvalidResource",
                format!(
                    "Invalid spec: partitions must be between 1 and {MAX_PARTITIONS}, replicas at least 1"
                ),
            ))
        } else {
            match world.topics.get_mut(&topic) {
                None => {
                    let mut t = Topic::new(&topic, partitions as u32, replicas as u32, now_ms);
                    t.config = config;
                    let id = t.id.clone();
                    world.topics.insert(topic.clone(), t);
                    Ok(id)
                }
                Some(t) if (partitions as usize) < t.partitions.len() => Err((
                    "KafkaError",
                    "Number of partitions cannot be decreased".to_string(),
                )),
                Some(t) if replicas as u32 != t.replicas => Err((
                    "NotSupported",
                    "Changing spec.replicas is not supported".to_string(),
                )),
                Some(t) => {
                    t.grow_to(partitions as u32, now_ms);
                    t.config = config;
                    Ok(t.id.clone())
                }
            }
        }
    };
    let topic_id = {
        let world = shared.kafka.lock();
        world.topics.get(&topic).map(|t| t.id.clone())
    };
    let mut condition = match &outcome {
        Ok(_) => json!({"type": "Ready", "status": "True"}),
        Err((reason, message)) => {
            json!({"type": "Ready", "status": "False", "reason": reason, "message": message})
        }
    };
    let previous = kt
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .cloned();
    let unchanged = previous.as_ref().is_some_and(|p| {
        p["status"] == condition["status"] && p.get("reason") == condition.get("reason")
    });
    condition["lastTransitionTime"] = match (unchanged, previous) {
        (true, Some(p)) => p["lastTransitionTime"].clone(),
        _ => json!(fmt_time(now)),
    };
    let mut status = json!({
        "conditions": [condition],
        "observedGeneration": generation,
        "topicName": topic,
    });
    if let Some(id) = topic_id {
        status["topicId"] = json!(id);
    }
    kt["status"] = status;
    let _ = shared.store.write(
        def(KAFKATOPICS),
        &mut kt,
        WriteMode::Update(Some(entry.meta.rv)),
    );
}

/// The resource name of a topic: Kubernetes names allow no `_` or capitals, so those
/// topics keep their Kafka name in `spec.topicName`, as Strimzi does.
pub fn resource_name(topic: &str) -> String {
    topic.to_ascii_lowercase().replace('_', "-")
}

/// A KafkaTopic as the demo's GitOps declares it.
pub fn kafka_topic(topic: &str, partitions: i64, replicas: i64, config: &[(&str, Value)]) -> Value {
    let config: serde_json::Map<String, Value> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let name = resource_name(topic);
    let mut spec = json!({"partitions": partitions, "replicas": replicas, "config": config});
    if name != topic {
        spec["topicName"] = json!(topic);
    }
    json!({
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": super::CLUSTER}},
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::admission::{finish_update, prepare_create};
    use crate::controllers::Controllers;

    fn ready(shared: &Shared, name: &str) -> Value {
        let kt = shared
            .store
            .get(def(KAFKATOPICS), "dictamesh-infra", name)
            .map(|e| e.value())
            .unwrap_or_default();
        kt["status"].clone()
    }

    fn edit(shared: &Shared, ctl: &mut Controllers, name: &str, f: impl Fn(&mut Value)) {
        let e = shared
            .store
            .get(def(KAFKATOPICS), "dictamesh-infra", name)
            .unwrap();
        let old = e.value();
        let mut new = old.clone();
        f(&mut new);
        let mut new = finish_update(def(KAFKATOPICS), None, &old, new).unwrap();
        shared
            .store
            .write(
                def(KAFKATOPICS),
                &mut new,
                WriteMode::Update(Some(e.meta.rv)),
            )
            .unwrap();
        ctl.drain();
        ctl.tick();
    }

    #[test]
    fn the_operator_creates_grows_refuses_and_deletes() {
        let (shared, _stop) = Shared::for_tests();
        let mut ctl = Controllers::new(shared.clone());
        let mut ns = json!({"metadata": {"name": "dictamesh-infra"}});
        prepare_create(&shared, def(crate::resources::NAMESPACES), None, &mut ns).unwrap();
        shared
            .store
            .write(
                def(crate::resources::NAMESPACES),
                &mut ns,
                WriteMode::Create,
            )
            .unwrap();
        let mut kt = kafka_topic("orders", 3, 3, &[("retention.ms", json!(604800000))]);
        prepare_create(&shared, def(KAFKATOPICS), Some("dictamesh-infra"), &mut kt).unwrap();
        shared
            .store
            .write(def(KAFKATOPICS), &mut kt, WriteMode::Create)
            .unwrap();
        ctl.drain();
        ctl.tick();
        let s = ready(&shared, "orders");
        assert_eq!(s["conditions"][0]["status"], "True", "{s}");
        assert_eq!(s["observedGeneration"], 1);
        assert_eq!(s["topicName"], "orders");
        let id = s["topicId"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 22);
        assert_eq!(
            shared.kafka.lock().topics["orders"].config["retention.ms"],
            "604800000"
        );

        edit(&shared, &mut ctl, "orders", |v| {
            v["spec"]["partitions"] = json!(5);
            v["spec"]["config"]["retention.ms"] = json!("259200000");
        });
        let s = ready(&shared, "orders");
        assert_eq!(
            (
                s["conditions"][0]["status"].as_str(),
                s["observedGeneration"].as_i64()
            ),
            (Some("True"), Some(2))
        );
        assert_eq!(shared.kafka.lock().topics["orders"].partitions.len(), 5);
        assert_eq!(
            shared.kafka.lock().topics["orders"].config["retention.ms"],
            "259200000"
        );

        edit(&shared, &mut ctl, "orders", |v| {
            v["spec"]["partitions"] = json!(2)
        });
        let c = &ready(&shared, "orders")["conditions"][0];
        assert_eq!(
            (c["status"].as_str(), c["reason"].as_str()),
            (Some("False"), Some("KafkaError"))
        );
        assert_eq!(c["message"], "Number of partitions cannot be decreased");
        assert_eq!(
            shared.kafka.lock().topics["orders"].partitions.len(),
            5,
            "nothing shrank"
        );

        edit(&shared, &mut ctl, "orders", |v| {
            v["spec"]["partitions"] = json!(5);
            v["spec"]["replicas"] = json!(1);
        });
        let c = &ready(&shared, "orders")["conditions"][0];
        assert_eq!(
            (c["reason"].as_str(), c["message"].as_str()),
            (
                Some("NotSupported"),
                Some("Changing spec.replicas is not supported")
            )
        );
        assert_eq!(shared.kafka.lock().topics["orders"].replicas, 3);

        shared
            .store
            .delete(def(KAFKATOPICS), "dictamesh-infra", "orders", None)
            .unwrap();
        ctl.drain();
        assert!(!shared.kafka.lock().topics.contains_key("orders"));
        assert_eq!(ready(&shared, "orders"), Value::Null);
        let _ = id;
    }
}
