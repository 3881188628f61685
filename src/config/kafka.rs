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
    fn bootstrap_is_host_and_port() {
        assert_eq!(bootstrap_problem("localhost:9092"), None);
        assert_eq!(bootstrap_problem("[::1]:9092"), None);
        assert!(bootstrap_problem("localhost").is_some());
        assert!(bootstrap_problem("a:0").is_some());
        assert!(bootstrap_problem("a,b:9092").is_some());
        assert!(bootstrap_problem(":9092").is_some());
    }
}
