//! Blue/green pairs and Deployment revisions, derived from the watched rows: which colour
//! a Service selects and whether the other one could take the traffic; a Deployment's
//! revisions from its ReplicaSets, as `kubectl rollout history` groups them.

use jiff::Timestamp;

use super::deployment::{DeploymentRow, RolloutState};
use super::rollout::ReplicaSetRow;
use super::service::ServiceRow;
use super::store::RowStore;
use crate::config::{BlueGreenPair, Colour};

/// One colour of a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct SideView {
    pub colour: Colour,
    pub deployment: String,
    /// False when the Deployment is not in the cluster.
    pub found: bool,
    pub desired: u32,
    pub ready: u32,
    /// Images of the Deployment's current revision (its spec's first image until the
    /// ReplicaSets are known).
    pub images: Vec<String>,
    /// Every desired replica ready and the rollout complete: safe to send traffic to.
    pub fully_ready: bool,
    /// When the colour got the version it runs (its current ReplicaSet's creation, else
    /// the Deployment's): tells a previous version from a newer one not yet switched to.
    pub since: Option<jiff::Timestamp>,
}

impl SideView {
    /// Why the colour must not get the traffic, if it must not.
    pub fn not_ready_reason(&self) -> Option<String> {
        if !self.found {
            return Some(format!("deployment/{} not found", self.deployment));
        }
        (!self.fully_ready).then(|| {
            format!(
                "deployment/{} has {}/{} ready",
                self.deployment, self.ready, self.desired
            )
        })
    }

    pub fn version(&self) -> Option<&str> {
        super::deployment::image_tag(self.images.first()?)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreenView {
    /// The service's name in the config.
    pub name: String,
    pub namespace: String,
    /// The Kubernetes Service whose selector is flipped.
    pub service: String,
    pub selector_key: String,
    /// The Service was found in the cluster.
    pub service_found: bool,
    /// The selector's value for the key, as the Service has it.
    pub selector_value: Option<String>,
    /// The colour that value names.
    pub live: Option<Colour>,
    pub blue: SideView,
    pub green: SideView,
}

impl BlueGreenView {
    pub fn side(&self, colour: Colour) -> &SideView {
        match colour {
            Colour::Blue => &self.blue,
            Colour::Green => &self.green,
        }
    }

    /// Where a switch goes: the colour not selected now (blue when neither is).
    pub fn target(&self) -> Colour {
        self.live.map_or(Colour::Blue, Colour::other)
    }

    /// Whether the target colour has every desired replica ready.
    pub fn target_ready(&self) -> bool {
        self.side(self.target()).fully_ready
    }
}

fn side(
    colour: Colour,
    name: &str,
    namespace: &str,
    deployments: &RowStore<DeploymentRow>,
    replicasets: Option<&RowStore<ReplicaSetRow>>,
) -> SideView {
    let Some(d) = deployments.get(namespace, name) else {
        return SideView {
            colour,
            deployment: name.to_owned(),
            found: false,
            desired: 0,
            ready: 0,
            images: Vec::new(),
            fully_ready: false,
            since: None,
        };
    };
    let current_rs = replicasets.and_then(|rss| {
        let revision: u64 = d.revision.as_deref()?.parse().ok()?;
        rss.iter().find(|rs| {
            rs.namespace == d.namespace
                && rs.revision == Some(revision)
                && rs
                    .owner
                    .as_ref()
                    .is_some_and(|(k, n)| k == "Deployment" && *n == d.name)
        })
    });
    let images = match current_rs {
        Some(rs) if !rs.images.is_empty() => rs.images.clone(),
        _ => d.image.iter().cloned().collect(),
    };
    SideView {
        colour,
        deployment: name.to_owned(),
        found: true,
        desired: d.desired,
        ready: d.ready,
        images,
        fully_ready: d.desired > 0
            && d.ready >= d.desired
            && d.rollout_state() == RolloutState::Complete,
        since: current_rs.and_then(|rs| rs.created).or(d.created),
    }
}

/// The view of one blue/green service.
pub fn bluegreen_view(
    name: &str,
    service: &str,
    namespace: &str,
    pair: &BlueGreenPair,
    services: &RowStore<ServiceRow>,
    deployments: &RowStore<DeploymentRow>,
    replicasets: Option<&RowStore<ReplicaSetRow>>,
) -> BlueGreenView {
    let svc = services.get(namespace, service);
    let selector_value = svc.and_then(|s| s.selector.get(&pair.selector_key).cloned());
    BlueGreenView {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        service: service.to_owned(),
        selector_key: pair.selector_key.clone(),
        service_found: svc.is_some(),
        live: selector_value.as_deref().and_then(Colour::parse),
        selector_value,
        blue: side(
            Colour::Blue,
            &pair.blue,
            namespace,
            deployments,
            replicasets,
        ),
        green: side(
            Colour::Green,
            &pair.green,
            namespace,
            deployments,
            replicasets,
        ),
    }
}

/// One revision of a Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionEntry {
    pub revision: u64,
    pub replica_set: String,
    pub images: Vec<String>,
    pub created: Option<Timestamp>,
    pub desired: u32,
    pub ready: u32,
    /// The Deployment's own revision: what it runs now.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRevisions {
    pub deployment: String,
    pub namespace: String,
    pub current: Option<u64>,
    /// Newest first.
    pub revisions: Vec<RevisionEntry>,
}

/// The revisions of `d` from the ReplicaSets it controls (kubectl keeps those whose
/// controller is the Deployment; one ReplicaSet per revision number).
pub fn deployment_revisions<'a>(
    d: &DeploymentRow,
    replicasets: impl IntoIterator<Item = &'a ReplicaSetRow>,
) -> DeploymentRevisions {
    let current = d.revision.as_deref().and_then(|r| r.parse().ok());
    let mut revisions: Vec<RevisionEntry> = replicasets
        .into_iter()
        .filter(|rs| {
            rs.namespace == d.namespace
                && rs
                    .owner
                    .as_ref()
                    .is_some_and(|(k, n)| k == "Deployment" && *n == d.name)
        })
        .filter_map(|rs| {
            Some(RevisionEntry {
                revision: rs.revision?,
                replica_set: rs.name.clone(),
                images: rs.images.clone(),
                created: rs.created,
                desired: rs.desired,
                ready: rs.ready,
                current: rs.revision == current,
            })
        })
        .collect();
    revisions.sort_by(|a, b| b.revision.cmp(&a.revision).then(a.created.cmp(&b.created)));
    revisions.dedup_by_key(|r| r.revision);
    DeploymentRevisions {
        deployment: d.name.clone(),
        namespace: d.namespace.clone(),
        current,
        revisions,
    }
}

/// The Deployment each blue/green service of `env` serves from (the colour its Service
/// selects), renamed after the service, so an environment's summary counts the pair as
/// the one workload it is; the idle colour is for the blue/green view.
pub fn serving_rows(
    env: &crate::config::Environment,
    services: &RowStore<ServiceRow>,
    deployments: &RowStore<DeploymentRow>,
) -> Vec<DeploymentRow> {
    env.services
        .iter()
        .filter_map(|svc| {
            let pair = svc.blue_green.as_ref()?;
            let view = bluegreen_view(
                &svc.name,
                &svc.workload,
                &env.namespace,
                pair,
                services,
                deployments,
                None,
            );
            let live = view.live?;
            let mut row = deployments
                .get(&env.namespace, &view.side(live).deployment)?
                .clone();
            row.name = svc.workload.clone();
            Some(row)
        })
        .collect()
}
