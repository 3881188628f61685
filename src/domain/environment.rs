//! The environments pane's view: per environment, its services' replica counts,
//! versions, health, and drift from the environment's policy.

use jiff::Timestamp;

use super::deployment::{DeploymentRow, RolloutState};
use super::failing::{Failing, failing_pods};
use super::pod::PodRow;
use super::store::RowStore;
use crate::config::{Environment, Service, WorkloadKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Healthy,
    Progressing,
    /// Not known yet: no list has arrived.
    Unknown,
    Degraded,
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    pub name: String,
    pub kind: WorkloadKind,
    pub desired: u32,
    pub ready: u32,
    pub updated: u32,
    pub version: Option<String>,
    pub health: Health,
    /// Why it is not healthy, in the controller's words.
    pub detail: Option<String>,
    /// A rollout is under way (progressing or paused), whatever its pods' health.
    pub rolling: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDrift {
    BelowMinReplicas {
        service: String,
        desired: u32,
        min: u32,
    },
    ReadyBelowMin {
        service: String,
        ready: u32,
        min: u32,
    },
    Missing {
        service: String,
    },
    RollingOutsideWindow {
        service: String,
    },
}

impl PolicyDrift {
    pub fn describe(&self) -> String {
        match self {
            PolicyDrift::BelowMinReplicas {
                service,
                desired,
                min,
            } => {
                format!("{service}: {desired} replicas, policy minimum {min}")
            }
            PolicyDrift::ReadyBelowMin {
                service,
                ready,
                min,
            } => {
                format!("{service}: only {ready} ready, policy minimum {min}")
            }
            PolicyDrift::Missing { service } => format!("{service}: not found in the cluster"),
            PolicyDrift::RollingOutsideWindow { service } => {
                format!("{service}: rolling outside the change window")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentSummary {
    pub services: Vec<ServiceSummary>,
    pub ready: u32,
    pub desired: u32,
    pub health: Health,
    pub drift: Vec<PolicyDrift>,
    /// None when the deploy mode has no change window.
    pub window_open: Option<bool>,
}

impl EnvironmentSummary {
    /// The services rolling out now, with how far they are.
    pub fn rolling(&self) -> Vec<(String, String)> {
        self.services
            .iter()
            .filter(|s| s.rolling)
            .map(|s| {
                (
                    s.name.clone(),
                    format!("rolling: {}/{} updated", s.updated, s.desired),
                )
            })
            .collect()
    }
}

/// `pods` are the environment's pods, for the crash loops a workload's counts hide;
/// a caller that has none passes an empty store and reads the workloads alone.
pub fn summarize(
    env: &Environment,
    deployments: &RowStore<DeploymentRow>,
    pods: &RowStore<PodRow>,
    now: Timestamp,
) -> EnvironmentSummary {
    let window_open = env.policy.window_open(now);
    let min = env.policy.min_replicas;
    let mut drift = Vec::new();
    let services: Vec<ServiceSummary> = env
        .services
        .iter()
        .map(|svc| {
            let row = deployments.get(&env.namespace, &svc.workload);
            let failing = row.and_then(|d| {
                failing_pods(pods, &env.namespace, pods_of(svc, d, deployments, env))
            });
            let summary = service_summary(&svc.name, svc.kind, row, failing, deployments.listed());
            if deployments.listed() {
                match row {
                    None => drift.push(PolicyDrift::Missing {
                        service: svc.name.clone(),
                    }),
                    Some(d) => {
                        if d.desired < min {
                            drift.push(PolicyDrift::BelowMinReplicas {
                                service: svc.name.clone(),
                                desired: d.desired,
                                min,
                            });
                        } else if serving(d) < min {
                            drift.push(PolicyDrift::ReadyBelowMin {
                                service: svc.name.clone(),
                                ready: serving(d),
                                min,
                            });
                        }
                        if window_open == Some(false)
                            && matches!(
                                d.rollout_state(),
                                RolloutState::Progressing { .. }
                                    | RolloutState::BecomingAvailable { .. }
                            )
                        {
                            drift.push(PolicyDrift::RollingOutsideWindow {
                                service: svc.name.clone(),
                            });
                        }
                    }
                }
            }
            summary
        })
        .collect();
    let health = services
        .iter()
        .map(|s| s.health)
        .max()
        .unwrap_or(Health::Unknown);
    EnvironmentSummary {
        ready: services.iter().map(|s| s.ready).sum(),
        desired: services.iter().map(|s| s.desired).sum(),
        services,
        health,
        drift,
        window_open,
    }
}

/// The Deployment (or Rollout) whose pods serve `svc`: for a blue/green pair, the colour
/// whose row stands in for the Service (`bluegreen::serving_rows` keeps its uid).
fn pods_of<'a>(
    svc: &'a Service,
    row: &'a DeploymentRow,
    deployments: &'a RowStore<DeploymentRow>,
    env: &Environment,
) -> &'a str {
    let Some(pair) = &svc.blue_green else {
        return &svc.workload;
    };
    [&pair.blue, &pair.green]
        .into_iter()
        .find(|name| {
            deployments
                .get(&env.namespace, name)
                .is_some_and(|d| d.uid == row.uid)
        })
        .map_or(&svc.workload, |name| name.as_str())
}

/// Replicas serving: ready ones, or available ones when the status leaves readyReplicas
/// out (Argo CD judges a Deployment by availableReplicas, and an available pod is a
/// ready one), so a healthy workload is not alarmed for a missing field.
fn serving(d: &DeploymentRow) -> u32 {
    d.ready.max(d.available)
}

fn service_summary(
    name: &str,
    kind: WorkloadKind,
    row: Option<&DeploymentRow>,
    failing: Option<Failing>,
    listed: bool,
) -> ServiceSummary {
    let Some(d) = row else {
        return ServiceSummary {
            name: name.to_owned(),
            kind,
            desired: 0,
            ready: 0,
            updated: 0,
            version: None,
            health: if listed {
                Health::Missing
            } else {
                Health::Unknown
            },
            detail: None,
            rolling: false,
        };
    };
    let state = d.rollout_state();
    let rolling = matches!(
        state,
        RolloutState::Progressing { .. }
            | RolloutState::BecomingAvailable { .. }
            | RolloutState::Paused
    );
    let (mut health, mut detail) = match state.clone() {
        RolloutState::Complete if serving(d) >= d.desired => (Health::Healthy, None),
        RolloutState::Complete => (
            Health::Degraded,
            Some(format!("{} of {} ready", d.ready, d.desired)),
        ),
        RolloutState::Progressing { updated, desired } => (
            Health::Progressing,
            Some(format!("rolling: {updated}/{desired} updated")),
        ),
        RolloutState::BecomingAvailable { available, updated } => (
            Health::Progressing,
            Some(format!("rolling: {available}/{updated} updated available")),
        ),
        RolloutState::Unavailable { available, updated } => (
            Health::Degraded,
            Some(format!("{available} of {updated} available")),
        ),
        RolloutState::Paused => (Health::Progressing, Some("rollout paused".to_owned())),
        RolloutState::Stalled { message } => (Health::Degraded, Some(message)),
    };
    // Crash-looping pods fail the workload whatever its counts say: a paused canary or
    // a rollout within its deadline would otherwise read as calm progress.
    if let Some(f) = failing.filter(|f| f.named || d.available < d.desired) {
        let mut why = format!("{}, {}/{} available", f.describe(), d.available, d.desired);
        if let RolloutState::Stalled { message } = state {
            why = format!("{why} · {message}");
        }
        detail = Some(why);
        health = Health::Degraded;
    }
    ServiceSummary {
        name: name.to_owned(),
        kind,
        desired: d.desired,
        ready: d.ready,
        updated: d.updated,
        version: d.version().map(str::to_owned),
        health,
        detail,
        rolling,
    }
}
