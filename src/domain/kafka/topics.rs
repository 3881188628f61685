//! Topic configuration as Strimzi keeps it (`KafkaTopic`, kafka.strimzi.io/v1beta2:
//! `spec.partitions`, `spec.replicas`, `spec.config`), compared with a backup of the
//! objects (`kubectl get kafkatopics -o yaml`: a `kind: List`, or several documents),
//! and the merge patch that puts the backup's configuration back. Kafka only grows a
//! topic's partitions and the Topic Operator does not change its replicas: those
//! differences are shown and never sent.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

pub const GROUP: &str = "kafka.strimzi.io";
pub const VERSION: &str = "v1beta2";
pub const KIND: &str = "KafkaTopic";
pub const PLURAL: &str = "kafkatopics";

/// One `KafkaTopic`, the parts the rollback compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// The object's name (what `kubectl apply` matches on).
    pub name: String,
    /// The Kafka topic: `spec.topicName`, else the object's name.
    pub topic_name: String,
    pub partitions: Option<i64>,
    pub replicas: Option<i64>,
    pub config: BTreeMap<String, Value>,
    /// The Topic Operator's `Ready` condition: `None` when the object has no status,
    /// else whether it is ready and its message.
    pub ready: Option<(bool, String)>,
}

impl TopicSpec {
    /// Reads a `KafkaTopic` object (or says why it is not one).
    pub fn from_object(object: &Value) -> Result<TopicSpec, String> {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or(KIND);
        if kind != KIND {
            return Err(format!("a {kind}, not a {KIND}"));
        }
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or("a KafkaTopic without metadata.name")?
            .to_owned();
        let spec = object.get("spec").cloned().unwrap_or(Value::Null);
        let int = |key: &str| spec.get(key).and_then(Value::as_i64);
        let config = spec
            .get("config")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let ready = object
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
            })
            .map(|c| {
                let ok = c.get("status").and_then(Value::as_str) == Some("True");
                let message = ["reason", "message"]
                    .iter()
                    .filter_map(|k| c.get(*k).and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(": ");
                (ok, message)
            });
        Ok(TopicSpec {
            topic_name: spec
                .get("topicName")
                .and_then(Value::as_str)
                .unwrap_or(&name)
                .to_owned(),
            name,
            partitions: int("partitions"),
            replicas: int("replicas"),
            config,
            ready,
        })
    }
}

impl TopicSpec {
    /// The object again, as much of it as the rollback reads.
    pub fn to_object(&self) -> Value {
        let mut spec = serde_json::Map::new();
        spec.insert("topicName".into(), json!(self.topic_name));
        if let Some(p) = self.partitions {
            spec.insert("partitions".into(), json!(p));
        }
        if let Some(r) = self.replicas {
            spec.insert("replicas".into(), json!(r));
        }
        spec.insert("config".into(), json!(self.config));
        json!({
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": KIND,
            "metadata": {"name": self.name},
            "spec": spec,
        })
    }
}

/// The `KafkaTopic` objects of a backup file: a `kind: List` (what `kubectl get -o yaml`
/// writes), one object, or several YAML documents of either.
pub fn parse_backup(text: &str) -> Result<Vec<TopicSpec>, String> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| format!("not YAML that reads: {e}"))?;
    let mut out = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let items = match doc.get("kind").and_then(Value::as_str) {
            Some("List") | Some("KafkaTopicList") => doc
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => vec![doc],
        };
        for item in &items {
            // Other kinds in the same file (a ConfigMap, say) are not topics.
            if item.get("kind").and_then(Value::as_str) == Some(KIND) {
                out.push(TopicSpec::from_object(item)?);
            }
        }
    }
    if out.is_empty() {
        return Err("no KafkaTopic in it".into());
    }
    Ok(out)
}

/// What applying the backup does to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// Sent: the backup's value (or the key's removal) goes back.
    Apply,
    /// Shown, not sent: Kafka or the Topic Operator refuses it, and why.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// `partitions`, `replicas`, or the config key.
    pub field: String,
    pub live: Option<String>,
    pub backup: Option<String>,
    pub verdict: Verdict,
}

/// One topic, live against its backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDiff {
    pub name: String,
    pub live: Option<TopicSpec>,
    pub backup: Option<TopicSpec>,
    pub rows: Vec<DiffRow>,
}

impl TopicDiff {
    /// The rows that differ.
    pub fn changes(&self) -> impl Iterator<Item = &DiffRow> {
        self.rows.iter().filter(|r| r.verdict != Verdict::Same)
    }

    /// What sending the backup would do, in a few words.
    pub fn status(&self) -> String {
        match (&self.live, &self.backup) {
            (None, _) => "not in the cluster: rollcall does not create topics".into(),
            (_, None) => "not in the backup".into(),
            _ => {
                let apply = self
                    .rows
                    .iter()
                    .filter(|r| r.verdict == Verdict::Apply)
                    .count();
                let refused = self
                    .rows
                    .iter()
                    .filter(|r| matches!(r.verdict, Verdict::Refused(_)))
                    .count();
                match (apply, refused) {
                    (0, 0) => "as in the backup".into(),
                    (a, 0) => format!("{a} to restore"),
                    (0, r) => format!("{r} Kafka refuses to change"),
                    (a, r) => format!("{a} to restore, {r} Kafka refuses"),
                }
            }
        }
    }

    /// What the backup has that Kafka refuses, as `field: why`: shown, never sent.
    pub fn refused(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|r| match &r.verdict {
                Verdict::Refused(why) => Some(format!("{}: {why}", r.field)),
                _ => None,
            })
            .collect()
    }

    /// The merge patch that restores what Kafka accepts; `None` when there is nothing
    /// to send (no difference, or only ones Kafka refuses).
    pub fn restore_patch(&self) -> Option<Value> {
        let backup = self.backup.as_ref()?;
        self.live.as_ref()?;
        let mut spec = serde_json::Map::new();
        let mut config = serde_json::Map::new();
        for row in self.rows.iter().filter(|r| r.verdict == Verdict::Apply) {
            match row.field.as_str() {
                "partitions" => {
                    spec.insert("partitions".into(), json!(backup.partitions));
                }
                key => {
                    let value = backup.config.get(key).cloned().unwrap_or(Value::Null);
                    config.insert(key.to_owned(), value);
                }
            }
        }
        if !config.is_empty() {
            spec.insert("config".into(), Value::Object(config));
        }
        (!spec.is_empty()).then(|| json!({ "spec": spec }))
    }
}

/// A config value as Kafka reads it: `604800000` and `"604800000"` are the same.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Live against backup for one topic.
pub fn diff(live: &TopicSpec, backup: &TopicSpec) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    let num = |v: Option<i64>| v.map(|n| n.to_string());
    let partitions = match (live.partitions, backup.partitions) {
        (_, None) => None,
        (Some(l), Some(b)) if b < l => Some(Verdict::Refused(format!(
            "partitions can only grow: Kafka cannot go from {l} back to {b}"
        ))),
        (l, Some(b)) if l == Some(b) => Some(Verdict::Same),
        _ => Some(Verdict::Apply),
    };
    if let Some(verdict) = partitions {
        rows.push(DiffRow {
            field: "partitions".into(),
            live: num(live.partitions),
            backup: num(backup.partitions),
            verdict,
        });
    }
    if let Some(b) = backup.replicas {
        rows.push(DiffRow {
            field: "replicas".into(),
            live: num(live.replicas),
            backup: Some(b.to_string()),
            verdict: if live.replicas == Some(b) {
                Verdict::Same
            } else {
                Verdict::Refused(
                    "the Topic Operator does not change spec.replicas (a reassignment \
                     does)"
                        .into(),
                )
            },
        });
    }
    let keys: BTreeSet<&String> = live.config.keys().chain(backup.config.keys()).collect();
    for key in keys {
        let l = live.config.get(key).map(text);
        let b = backup.config.get(key).map(text);
        rows.push(DiffRow {
            field: key.clone(),
            verdict: if l == b {
                Verdict::Same
            } else {
                Verdict::Apply
            },
            live: l,
            backup: b,
        });
    }
    rows
}

/// Every topic of either side, by object name, live order first.
pub fn diff_all(live: &[TopicSpec], backup: &[TopicSpec]) -> Vec<TopicDiff> {
    let mut names: Vec<&str> = live.iter().map(|t| t.name.as_str()).collect();
    for b in backup {
        if !names.contains(&b.name.as_str()) {
            names.push(&b.name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let l = live.iter().find(|t| t.name == name).cloned();
            let b = backup.iter().find(|t| t.name == name).cloned();
            let rows = match (&l, &b) {
                (Some(l), Some(b)) => diff(l, b),
                _ => Vec::new(),
            };
            TopicDiff {
                name: name.to_owned(),
                live: l,
                backup: b,
                rows,
            }
        })
        .collect()
}
