//! Where an environment's Kafka is (`kafka:` in environments.yaml): the Strimzi broker
//! pod whose own tools rollcall runs through the `pods/exec` subresource, and the backup
//! of the `KafkaTopic` objects the topic rollback compares with.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::environments::dns_label_problem;
use super::error::ConfigError;

/// Strimzi's defaults for the cluster the seed runs (`dictamesh-kafka`).
pub const DEFAULT_NAMESPACE: &str = "dictamesh-infra";
pub const DEFAULT_POD: &str = "dictamesh-kafka-kafka-0";
pub const DEFAULT_CONTAINER: &str = "kafka";
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kafka {
    /// The namespace of the broker pod and of the `KafkaTopic` objects.
    pub namespace: String,
    /// A broker pod: the tools run there.
    pub pod: String,
    pub container: String,
    /// `--bootstrap-server`, as seen from inside the pod.
    pub bootstrap: String,
    /// A `kubectl get kafkatopics -o yaml` of the topics to roll back to.
    pub topics_backup: Option<PathBuf>,
}

impl Default for Kafka {
    fn default() -> Self {
        Kafka {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            pod: DEFAULT_POD.to_owned(),
            container: DEFAULT_CONTAINER.to_owned(),
            bootstrap: DEFAULT_BOOTSTRAP.to_owned(),
            topics_backup: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKafka {
    #[serde(default)]
    namespace: Option<Spanned<String>>,
    #[serde(default)]
    pod: Option<Spanned<String>>,
    #[serde(default)]
    container: Option<Spanned<String>>,
    #[serde(default)]
    bootstrap: Option<Spanned<String>>,
    #[serde(default)]
    topics_backup: Option<Spanned<String>>,
}

/// A consumer group a service's code runs, and the topic it reads (`consumer_groups:`
/// of a service): named in config because which groups belong to which service cannot
/// be told from Kafka (a group is only a name its consumers share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub group: String,
    pub topic: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConsumerGroup {
    group: Spanned<String>,
    topic: Spanned<String>,
}

/// Why `name` is not a topic name Kafka accepts: 1 to 249 of `a-z A-Z 0-9 . _ -`, and
/// not `.` or `..`.
fn topic_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 249 {
        return Some("it must be 1 to 249 characters");
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` are not topic names");
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if !name.chars().all(ok) {
        return Some("use letters, digits, `.`, `_` and `-`");
    }
    None
}

/// Why `name` is not a group id rollcall can work with: Kafka takes any non-empty id,
/// but the tool prints its tables in columns split by spaces, so an id with a space or
/// a control character could not be read back.
fn group_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it must not be empty");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it must not contain spaces or control characters");
    }
    None
}

/// A service's `consumer_groups`: each `{group, topic}` valid and listed once, and only
/// where the environment has a `kafka:` to reach them through.
pub(crate) fn validate_consumer_groups(
    file: &Path,
    path: &str,
    raw: Spanned<Vec<RawConsumerGroup>>,
    has_kafka: bool,
) -> Result<Vec<ConsumerGroup>, ConfigError> {
    if !has_kafka && !raw.value.is_empty() {
        return Err(ConfigError::at(
            file,
            raw.referenced,
            path,
            "consumer_groups needs the environment's `kafka:` (where the broker pod is); \
             add `kafka: {}` for the defaults, or leave consumer_groups out",
        ));
    }
    let mut out: Vec<ConsumerGroup> = Vec::with_capacity(raw.value.len());
    for (i, g) in raw.value.into_iter().enumerate() {
        let here = format!("{path}[{i}]");
        if let Some(why) = group_problem(&g.group.value) {
            return Err(ConfigError::at(
                file,
                g.group.referenced,
                &format!("{here}.group"),
                format!("invalid group `{}`: {why}", g.group.value.escape_debug()),
            ));
        }
        if let Some(why) = topic_problem(&g.topic.value) {
            return Err(ConfigError::at(
                file,
                g.topic.referenced,
                &format!("{here}.topic"),
                format!("invalid topic `{}`: {why}", g.topic.value.escape_debug()),
            ));
        }
        let group = ConsumerGroup {
            group: g.group.value,
            topic: g.topic.value,
        };
        if out.contains(&group) {
            return Err(ConfigError::at(
                file,
                g.group.referenced,
                &format!("{here}.group"),
                format!(
                    "group `{}` on topic `{}` is listed twice",
                    group.group, group.topic
                ),
            ));
        }
        out.push(group);
    }
    Ok(out)
}

/// Why `s` is not a `host:port` the tools would take.
fn bootstrap_problem(s: &str) -> Option<&'static str> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Some("it must be host:port");
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == ',') {
        return Some("the host must be one name or address, without spaces");
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => None,
        _ => Some("the port must be a number from 1 to 65535"),
    }
}

impl RawKafka {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<Kafka, ConfigError> {
        let name = |field: &str,
                    v: Option<Spanned<String>>,
                    default: &str,
                    max: usize,
                    dots: bool| match v {
            None => Ok(default.to_owned()),
            Some(v) => match dns_label_problem(&v.value, max, dots) {
                None => Ok(v.value),
                Some(why) => Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.{field}"),
                    format!("invalid {field} `{}`: {why}", v.value),
                )),
            },
        };
        let bootstrap = match self.bootstrap {
            None => DEFAULT_BOOTSTRAP.to_owned(),
            Some(v) => match bootstrap_problem(&v.value) {
                None => v.value,
                Some(why) => {
                    return Err(ConfigError::at(
                        file,
                        v.referenced,
                        &format!("{path}.bootstrap"),
                        format!("invalid bootstrap `{}`: {why}", v.value),
                    ));
                }
            },
        };
        let topics_backup = match self.topics_backup {
            None => None,
            Some(v) if v.value.trim().is_empty() => {
                return Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.topics_backup"),
                    "empty topics_backup; leave it out when there is no backup file",
                ));
            }
            Some(v) => Some(super::gitops::expand_home(v.value.trim())),
        };
        Ok(Kafka {
            namespace: name("namespace", self.namespace, DEFAULT_NAMESPACE, 63, false)?,
            pod: name("pod", self.pod, DEFAULT_POD, 253, true)?,
            container: name("container", self.container, DEFAULT_CONTAINER, 63, false)?,
            bootstrap,
            topics_backup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_and_group_names() {
        assert_eq!(topic_problem("customers.entity_changed"), None);
        assert!(topic_problem("..").is_some());
        assert!(topic_problem("a b").is_some());
        assert!(topic_problem(&"t".repeat(250)).is_some());
        assert_eq!(group_problem("metadata-catalog-consumer"), None);
        assert!(group_problem("").is_some());
        assert!(group_problem("a b").is_some());
    }

    #[test]
    fn bootstrap_is_host_and_port() {
        assert_eq!(bootstrap_problem("localhost:9092"), None);
        assert_eq!(bootstrap_problem("[::1]:9092"), None);
        assert!(bootstrap_problem("localhost").is_some());
        assert!(bootstrap_problem("a:0").is_some());
        assert!(bootstrap_problem("a,b:9092").is_some());
        assert!(bootstrap_problem(":9092").is_some());
    }
}
