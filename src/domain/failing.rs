//! Pods that keep failing, per workload: what a workload's counts cannot say. A
//! crash-looping pod is only "not available" to its Deployment, and `kubectl rollout
//! status` just waits on it; the pods' own status says why.

use std::collections::BTreeMap;

use super::pod::{PodPhase, PodRow};
use super::store::RowStore;

/// What kubelet writes as a container's waiting (or last terminated) reason when the
/// container cannot run: any of these on an unready pod is a failure, not a start.
const FAILING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerCannotRun",
    "StartError",
    "OOMKilled",
    "Error",
];

/// Between two crashes the container runs again for a moment, unready: the same loop.
const RESTARTING: &str = "restarting";

/// A workload's failing pods: how many, and the reason most of them give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub pods: u32,
    pub reason: String,
    /// Whether kubelet named the failure; an unready pod that only restarted before may
    /// still be starting, so alone it counts only where availability is short.
    pub named: bool,
}

impl Failing {
    /// `3 pods CrashLoopBackOff`.
    pub fn describe(&self) -> String {
        let pods = if self.pods == 1 { "pod" } else { "pods" };
        format!("{} {pods} {}", self.pods, self.reason)
    }
}

/// Why one pod is failing, if it is.
pub fn pod_failure(p: &PodRow) -> Option<&str> {
    if p.deleting || p.is_ready() {
        return None;
    }
    match p.reason.as_deref() {
        Some(r) if FAILING_REASONS.contains(&r) => Some(r),
        None if p.restarts > 0 && p.phase == PodPhase::Running => Some(RESTARTING),
        _ => None,
    }
}

/// The failing pods of Deployment (or Rollout) `workload` in `namespace`, found by its
/// ReplicaSets' names, so only that workload's range of the store is read.
pub fn failing_pods(pods: &RowStore<PodRow>, namespace: &str, workload: &str) -> Option<Failing> {
    let prefix = format!("{workload}-");
    let mut reasons: BTreeMap<&str, u32> = BTreeMap::new();
    for p in pods
        .with_name_prefix(namespace, &prefix)
        .filter(|p| p.deployment() == Some(workload))
    {
        if let Some(r) = pod_failure(p) {
            *reasons.entry(r).or_default() += 1;
        }
    }
    let pods = reasons.values().sum();
    // The reason kubelet names beats "restarting"; among named ones, the commonest.
    let reason = reasons
        .iter()
        .max_by_key(|(r, n)| (**r != RESTARTING, **n))
        .map(|(r, _)| *r)?;
    Some(Failing {
        pods,
        reason: reason.to_owned(),
        named: reason != RESTARTING,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WatchUpdate;

    /// A pod named `<workload>-<hash>-<suffix>`, owned by ReplicaSet `<workload>-<hash>`.
    fn pod(name: &str, reason: Option<&str>, restarts: u32, ready: bool) -> PodRow {
        let rs = name.rsplit_once('-').map_or(name, |(rs, _)| rs);
        let hash = rs.rsplit_once('-').map_or("", |(_, h)| h);
        PodRow {
            name: name.into(),
            namespace: "ns".into(),
            uid: name.into(),
            app: Some("api".into()),
            owner: Some(("ReplicaSet".into(), rs.into())),
            template_hash: Some(hash.into()),
            node: None,
            phase: PodPhase::Running,
            reason: reason.map(str::to_owned),
            ready: u16::from(ready),
            containers: 1,
            restarts,
            created: None,
            deleting: false,
            image: None,
            started: None,
            readiness_delay: None,
            ready_since: None,
        }
    }

    fn store(rows: Vec<PodRow>) -> RowStore<PodRow> {
        let mut s = RowStore::default();
        for r in rows {
            s.apply(WatchUpdate::Apply(r));
        }
        s
    }

    #[test]
    fn crash_loops_are_counted_with_the_named_reason() {
        let s = store(vec![
            pod("api-5c4b-a", Some("CrashLoopBackOff"), 3, false),
            pod("api-5c4b-b", None, 2, false),
            pod("api-5c4b-c", None, 0, true),
            // Another workload whose name starts the same.
            pod("api-gw-9f9f-x", Some("CrashLoopBackOff"), 3, false),
        ]);
        let f = failing_pods(&s, "ns", "api").unwrap();
        assert_eq!(f.describe(), "2 pods CrashLoopBackOff");
        assert!(f.named);
    }

    #[test]
    fn starting_pods_are_not_failing() {
        let s = store(vec![
            pod("api-5c4b-a", Some("ContainerCreating"), 0, false),
            pod("api-5c4b-b", None, 0, false),
        ]);
        assert_eq!(failing_pods(&s, "ns", "api"), None);
    }
}
