//! A Strimzi-managed Kafka in the simulator: the cluster's topics (partitions whose logs
//! are modelled by arrival rate, `log.rs`), its consumer groups (`groups.rs`), the broker
//! pods' tools run through `pods/exec` (`tool/`), and the topic operator that applies
//! `KafkaTopic` resources (`operator.rs`). Everything advances on the simulated clock when
//! it is looked at, so nothing runs in the background.

pub mod groups;
pub mod log;
pub mod operator;
pub mod scenario;
pub mod tool;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use base64::Engine;

use crate::Shared;
use crate::resources::{PODS, def};
use groups::{Group, Member, Members};
use log::PartitionLog;

/// Where the demo's Kafka runs.
pub const NAMESPACE: &str = "dictamesh-infra";
/// The `Kafka` resource's name (`strimzi.io/cluster`).
pub const CLUSTER: &str = "dictamesh-kafka";
/// The broker pods are `<cluster>-kafka-<id>`.
pub const BROKERS: u32 = 3;
/// The container the tools run in.
pub const CONTAINER: &str = "kafka";
/// The listener the tools are pointed at inside a broker pod.
pub const BOOTSTRAP: &str = "localhost:9092";
/// Kafka's default `retention.ms` (7 days).
pub const DEFAULT_RETENTION_MS: i64 = 604_800_000;

/// The name of broker `id`'s pod.
pub fn broker_pod(id: u32) -> String {
    format!("{CLUSTER}-kafka-{id}")
}

/// The address broker `id` advertises (Strimzi's per-broker headless Service name).
pub fn broker_host(id: u32) -> String {
    format!("{CLUSTER}-kafka-{id}.{CLUSTER}-kafka-brokers.{NAMESPACE}.svc")
}

/// A topic: its partitions, replication and config overrides.
#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    /// Kafka's topic id: 16 random bytes, base64url without padding.
    pub id: String,
    pub replicas: u32,
    /// Only the keys set on the topic (the tools print these as non-default).
    pub config: BTreeMap<String, String>,
    pub partitions: Vec<PartitionLog>,
}

impl Topic {
    pub fn new(name: &str, partitions: u32, replicas: u32, created_ms: i64) -> Self {
        let bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
        Topic {
            name: name.into(),
            id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            replicas,
            config: BTreeMap::new(),
            partitions: (0..partitions)
                .map(|p| PartitionLog::new(name, p, created_ms))
                .collect(),
        }
    }

    /// Adds partitions up to `n`, empty from `now_ms` on (partitions only grow).
    pub fn grow_to(&mut self, n: u32, now_ms: i64) {
        for p in self.partitions.len() as u32..n {
            self.partitions
                .push(PartitionLog::new(&self.name, p, now_ms));
        }
    }

    fn retention_ms(&self) -> Option<i64> {
        match self
            .config
            .get("retention.ms")
            .and_then(|v| v.parse::<i64>().ok())
        {
            Some(ms) if ms < 0 => None,
            Some(ms) => Some(ms),
            None => Some(DEFAULT_RETENTION_MS),
        }
    }

    pub fn advance(&mut self, now_ms: i64) {
        let retention = self.retention_ms();
        for p in &mut self.partitions {
            p.advance(now_ms);
            if let Some(r) = retention {
                p.retain_after(now_ms - r);
            }
        }
    }

    /// (leader, replicas) of a partition: spread over the brokers, leader first.
    pub fn placement(&self, partition: u32) -> (u32, Vec<u32>) {
        let rf = self.replicas.clamp(1, BROKERS);
        let replicas: Vec<u32> = (0..rf).map(|i| (partition + i) % BROKERS).collect();
        (replicas[0], replicas)
    }
}

/// The cluster's data.
#[derive(Debug, Default)]
pub struct World {
    pub topics: BTreeMap<String, Topic>,
    pub groups: BTreeMap<String, Group>,
}

impl World {
    /// Brings every log and consumer up to `now_ms`.
    pub fn advance(&mut self, now_ms: i64) {
        for t in self.topics.values_mut() {
            t.advance(now_ms);
        }
        for g in self.groups.values_mut() {
            g.consume(&self.topics, now_ms);
        }
    }
}

/// The Kafka cluster shared by the API handlers and the controllers.
#[derive(Debug, Default)]
pub struct Kafka {
    world: Mutex<World>,
    backup: OnceLock<PathBuf>,
}

impl Kafka {
    /// The cluster's data, not advanced (for building scenarios and tests).
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cluster's data as of now: logs advanced, members following their pods.
    pub fn now(&self, shared: &Shared) -> MutexGuard<'_, World> {
        let now_ms = shared.clock.now().as_millisecond();
        let mut w = self.lock();
        let bound: Vec<(String, Members)> = w
            .groups
            .values()
            .filter(|g| g.source != Members::Fixed)
            .map(|g| (g.name.clone(), g.source.clone()))
            .collect();
        for t in w.topics.values_mut() {
            t.advance(now_ms);
        }
        for (name, source) in bound {
            let members = pod_members(shared, &source);
            let World { topics, groups } = &mut *w;
            if let Some(g) = groups.get_mut(&name) {
                g.set_members(members, topics, now_ms);
            }
        }
        let World { topics, groups } = &mut *w;
        for g in groups.values_mut() {
            g.consume(topics, now_ms);
        }
        w
    }

    /// A drill's start: `group`'s committed offsets on `topic` moved to the log end, as
    /// a reset to latest leaves them (nothing replayed), and per partition the first
    /// offset at or after `bad_release_ms` (the log end where nothing arrived since):
    /// where a replay from the bad release starts, for the drill's goal. `None` when the
    /// group or the topic does not exist.
    pub fn skip_to_latest(
        &self,
        shared: &Shared,
        group: &str,
        topic: &str,
        bad_release_ms: i64,
    ) -> Option<Vec<(u32, u64)>> {
        let mut w = self.now(shared);
        let World { topics, groups } = &mut *w;
        let t = topics.get(topic)?;
        let g = groups.get_mut(group)?;
        let mut replay_from = Vec::with_capacity(t.partitions.len());
        for (p, log) in t.partitions.iter().enumerate() {
            let p = p as u32;
            g.offsets.insert((topic.to_owned(), p), log.log_end());
            let from = log.offset_for_time(bad_release_ms).unwrap_or(log.log_end());
            replay_from.push((p, from));
        }
        Some(replay_from)
    }

    /// Where the demo's topic backup was written.
    pub fn backup_path(&self) -> Option<&std::path::Path> {
        self.backup.get().map(PathBuf::as_path)
    }

    pub(crate) fn set_backup_path(&self, p: PathBuf) {
        let _ = self.backup.set(p);
    }
}

/// The members a Deployment's ready pods make: one each, named after the pod's uid.
fn pod_members(shared: &Shared, source: &Members) -> Vec<Member> {
    let Members::Deployment {
        namespace,
        name,
        client_id,
    } = source
    else {
        return Vec::new();
    };
    shared
        .store
        .list(def(PODS), Some(namespace), |m| {
            m.label("app") == Some(name.as_str()) && m.ready && !m.deleting
        })
        .1
        .iter()
        .map(|e| {
            let pod = e.value();
            let ip = pod["status"]["podIP"].as_str().unwrap_or("").to_string();
            Member {
                consumer_id: format!("{client_id}-{}", e.meta.uid),
                host: format!("/{ip}"),
                client_id: client_id.clone(),
                assignment: Vec::new(),
            }
        })
        .collect()
}
