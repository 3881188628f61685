//! Consumer groups as the group coordinator keeps them (classic protocol): committed
//! offsets per partition, members with their range-assigned partitions, and the state the
//! tools report. A group's members either stay put (the demo's graphql-gateway cache) or
//! follow the ready pods of a Deployment, so scaling the consumer to 0 empties the group
//! and scaling it up starts a rebalance. Members commit as they consume, catching up at a
//! bounded rate after a reset.

use std::collections::BTreeMap;

use super::Topic;

/// How long a membership change keeps the group rebalancing (Preparing, then Completing).
const PREPARING_MS: i64 = 2_000;
const COMPLETING_MS: i64 = 3_000;
/// Consumers commit every 5 s (the Java client's auto.commit.interval.ms).
const COMMIT_EVERY_MS: i64 = 5_000;
/// How fast a consumer behind catches up, in messages per simulated millisecond.
const CATCH_UP_PER_MS: f64 = 0.05;

/// The states `DescribeGroups` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    Stable,
    PreparingRebalance,
    CompletingRebalance,
    Dead,
}

impl GroupState {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::Stable => "Stable",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Dead => "Dead",
        }
    }

    /// The coordinator accepts an admin offset commit (generation −1, no member id).
    pub fn inactive(self) -> bool {
        matches!(self, GroupState::Empty | GroupState::Dead)
    }
}

/// One consumer in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub consumer_id: String,
    /// As the coordinator prints it: `/10.42.1.17`.
    pub host: String,
    pub client_id: String,
    pub assignment: Vec<(String, u32)>,
}

/// Where a group's members come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// These members, always.
    Fixed,
    /// One member per ready pod of this Deployment (`app=<name>` pods).
    Deployment {
        namespace: String,
        name: String,
        client_id: String,
    },
}

/// A consumer group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// Topics the members subscribe to.
    pub topics: Vec<String>,
    pub members: Vec<Member>,
    pub source: Members,
    /// Committed offsets by (topic, partition).
    pub offsets: BTreeMap<(String, u32), u64>,
    rebalance_since: Option<i64>,
    consumed_to: Option<i64>,
}

impl Group {
    pub fn new(name: &str, topics: &[&str], source: Members) -> Self {
        Group {
            name: name.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            members: Vec::new(),
            source,
            offsets: BTreeMap::new(),
            rebalance_since: None,
            consumed_to: None,
        }
    }

    pub fn state(&self, now_ms: i64) -> GroupState {
        if self.members.is_empty() {
            return if self.offsets.is_empty() {
                GroupState::Dead
            } else {
                GroupState::Empty
            };
        }
        match self.rebalance_since.map(|t| now_ms - t) {
            Some(d) if d < PREPARING_MS => GroupState::PreparingRebalance,
            Some(d) if d < COMPLETING_MS => GroupState::CompletingRebalance,
            _ => GroupState::Stable,
        }
    }

    /// The partition assignor's name, empty while the group has no members (as the
    /// coordinator reports it).
    pub fn strategy(&self) -> &'static str {
        if self.members.is_empty() { "" } else { "range" }
    }

    /// Replaces the members; a different set starts a rebalance and a new assignment.
    pub fn set_members(
        &mut self,
        mut members: Vec<Member>,
        topics: &BTreeMap<String, Topic>,
        now_ms: i64,
    ) {
        members.sort_by(|a, b| a.consumer_id.cmp(&b.consumer_id));
        let ids = |ms: &[Member]| ms.iter().map(|m| m.consumer_id.clone()).collect::<Vec<_>>();
        if ids(&members) == ids(&self.members) {
            return;
        }
        let was_empty = self.members.is_empty();
        self.members = members;
        self.rebalance_since = (!self.members.is_empty()).then_some(now_ms);
        if was_empty {
            // Consumption restarts from the committed offsets.
            self.consumed_to = Some(now_ms);
        }
        self.assign(topics);
    }

    /// The range assignor: per topic, partitions split in contiguous runs, the first
    /// members taking one more when they do not divide evenly.
    pub fn assign(&mut self, topics: &BTreeMap<String, Topic>) {
        for m in &mut self.members {
            m.assignment.clear();
        }
        let n_members = self.members.len();
        if n_members == 0 {
            return;
        }
        for name in &self.topics {
            let Some(t) = topics.get(name) else { continue };
            let n = t.partitions.len();
            let (each, extra) = (n / n_members, n % n_members);
            let mut p = 0;
            for (i, m) in self.members.iter_mut().enumerate() {
                let take = each + usize::from(i < extra);
                for q in p..p + take {
                    m.assignment.push((name.clone(), q as u32));
                }
                p += take;
            }
        }
    }

    /// Members commit what they consumed up to `now_ms`: every message up to the last
    /// commit tick, at most `CATCH_UP_PER_MS` messages a millisecond behind.
    pub fn consume(&mut self, topics: &BTreeMap<String, Topic>, now_ms: i64) {
        let since = self.consumed_to.unwrap_or(now_ms);
        self.consumed_to = Some(now_ms);
        if self.state(now_ms) != GroupState::Stable {
            return;
        }
        let budget = ((now_ms - since).max(0) as f64 * CATCH_UP_PER_MS) as u64;
        let tick = now_ms - now_ms.rem_euclid(COMMIT_EVERY_MS);
        for m in &self.members {
            for (t, p) in &m.assignment {
                let Some(log) = topics.get(t).and_then(|t| t.partitions.get(*p as usize)) else {
                    continue;
                };
                let target = log.offset_for_time(tick + 1).unwrap_or(log.log_end());
                let key = (t.clone(), *p);
                // A consumer without a committed offset starts at the end (latest).
                let current = self.offsets.get(&key).copied().unwrap_or(target);
                let current = current.max(log.log_start());
                let next = if current >= target {
                    current.min(log.log_end())
                } else {
                    target.min(current + budget)
                };
                self.offsets.insert(key, next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::Topic;

    const T0: i64 = 1_700_000_000_000;

    fn topics() -> BTreeMap<String, Topic> {
        let mut t = Topic::new("catalog.metadata_updated", 6, 3, T0);
        t.advance(T0 + 3_600_000);
        BTreeMap::from([(t.name.clone(), t)])
    }

    fn member(id: &str) -> Member {
        Member {
            consumer_id: id.into(),
            host: "/10.42.1.17".into(),
            client_id: "c".into(),
            assignment: Vec::new(),
        }
    }

    #[test]
    fn range_assignment_and_rebalance_states() {
        let topics = topics();
        let mut g = Group::new("g", &["catalog.metadata_updated"], Members::Fixed);
        assert_eq!(g.state(T0), GroupState::Dead);
        g.set_members(vec![member("b"), member("a")], &topics, T0);
        assert_eq!(g.state(T0 + 1_000), GroupState::PreparingRebalance);
        assert_eq!(g.state(T0 + 2_500), GroupState::CompletingRebalance);
        assert_eq!(g.state(T0 + 3_000), GroupState::Stable);
        let parts = |m: &Member| m.assignment.iter().map(|(_, p)| *p).collect::<Vec<_>>();
        assert_eq!(parts(&g.members[0]), [0, 1, 2]);
        assert_eq!(parts(&g.members[1]), [3, 4, 5]);
        g.set_members(Vec::new(), &topics, T0 + 10_000);
        assert_eq!(
            g.state(T0 + 10_000),
            GroupState::Dead,
            "no offsets committed"
        );
    }

    #[test]
    fn a_consumer_catches_up_at_a_bounded_rate_and_then_keeps_up() {
        let mut topics = topics();
        let mut g = Group::new("g", &["catalog.metadata_updated"], Members::Fixed);
        g.offsets.insert(("catalog.metadata_updated".into(), 0), 0);
        g.set_members(vec![member("a")], &topics, T0 + 3_600_000);
        let now = T0 + 3_600_000 + 3_000;
        g.consume(&topics, now);
        let end = topics["catalog.metadata_updated"].partitions[0].log_end();
        let at = g.offsets[&("catalog.metadata_updated".to_string(), 0)];
        assert!(at > 0 && at < end, "{at} of {end}: catching up");
        let later = now + 3_600_000;
        for t in topics.values_mut() {
            t.advance(later);
        }
        g.consume(&topics, later);
        let log = &topics["catalog.metadata_updated"].partitions[0];
        let lag = log.log_end() - g.offsets[&("catalog.metadata_updated".to_string(), 0)];
        assert!(lag <= 1, "lag {lag}");
    }
}
