//! One look at the cluster: per (namespace, service) of the Deployments and Rollouts, how
//! many of their pods there are, are ready, run an unhealthy image, and how often their
//! containers restarted. Per service, not per pod: workloads are listed, then each
//! namespace's pods once, matched on the stored index fields (no JSON parse); only the
//! matched pods' images and restart counts are read, through a slim decode.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Shared;
use crate::resources::{DEPLOYMENTS, PODS, ROLLOUTS, def};
use crate::rollouts::replicasets::HASH;
use crate::store::selector::LabelSelector;

/// What the pods of one service show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub pods: u32,
    pub ready: u32,
    pub unhealthy: u32,
    pub restarts: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorkloadSpec {
    spec: SelectorOnly,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SelectorOnly {
    selector: serde_json::Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodSlim {
    spec: PodSpecSlim,
    status: PodStatusSlim,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodSpecSlim {
    containers: Vec<ContainerSlim>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerSlim {
    image: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodStatusSlim {
    phase: Option<String>,
    container_statuses: Vec<RestartsSlim>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RestartsSlim {
    restart_count: Option<i64>,
}

/// Every service's count now. A service whose workloads have no pods is there with zeros.
pub fn observe(shared: &Shared) -> BTreeMap<(String, String), Count> {
    // Namespace → (service, selector) of each workload in it.
    let mut workloads: BTreeMap<String, Vec<(String, LabelSelector)>> = BTreeMap::new();
    for kind in [DEPLOYMENTS, ROLLOUTS] {
        for e in shared.store.list(def(kind), None, |m| !m.deleting).1 {
            let spec: WorkloadSpec = serde_json::from_slice(&e.json).unwrap_or_default();
            // An empty selector selects every pod of the namespace: not one service's.
            let Ok(selector) = LabelSelector::from_object(&spec.spec.selector) else {
                continue;
            };
            if selector.is_empty() {
                continue;
            }
            let service = e.meta.label("app").unwrap_or(&e.meta.name).to_owned();
            workloads
                .entry(e.meta.namespace.to_string())
                .or_default()
                .push((service, selector));
        }
    }
    let mut out = BTreeMap::new();
    for (ns, services) in workloads {
        for (svc, _) in &services {
            out.entry((ns.clone(), svc.clone()))
                .or_insert_with(Count::default);
        }
        let (_, pods) = shared.store.list(def(PODS), Some(&ns), |m| {
            !m.deleting && services.iter().any(|(_, sel)| sel.matches(m))
        });
        for pod in pods {
            let Some((svc, _)) = services.iter().find(|(_, sel)| sel.matches(&pod.meta)) else {
                continue;
            };
            let slim: PodSlim = serde_json::from_slice(&pod.json).unwrap_or_default();
            if matches!(slim.status.phase.as_deref(), Some("Succeeded" | "Failed")) {
                continue;
            }
            let unhealthy = slim
                .spec
                .containers
                .iter()
                .filter_map(|c| c.image.as_deref())
                .any(|i| shared.unhealthy.image(i));
            let restarts = slim
                .status
                .container_statuses
                .iter()
                .map(|s| s.restart_count.unwrap_or(0).max(0) as u64)
                .sum::<u64>();
            // The service's series, and its version's (what an analysis of a canary reads).
            let version = pod
                .meta
                .label(HASH)
                .map(|h| super::history::version_series(svc, h));
            for series in std::iter::once(svc.clone()).chain(version) {
                let c = out
                    .entry((ns.clone(), series))
                    .or_insert_with(Count::default);
                c.pods += 1;
                c.ready += u32::from(pod.meta.ready);
                c.unhealthy += u32::from(unhealthy);
                c.restarts += restarts;
            }
        }
    }
    out
}
