//! `rollcall advise`: reads one environment once (workloads, ReplicaSets, Rollouts, pods,
//! Services, the Argo CD apps, the migration database, the backups), feeds it to an app
//! state as the watchers would, and asks the same advisor the TUI asks.

use std::path::PathBuf;

use color_eyre::eyre::Result;

use super::endpoint_for;
use super::once::{Outcome, client_of, list, pods};
use crate::app::panes::argocd::ArgoUpdate;
use crate::app::{Config, Event, State, update};
use crate::clients::argocd::{ArgoClient, Timeouts};
use crate::domain::cnpg::WatchedBackup;
use crate::domain::feed::{ChecklistUpdate, EnvUpdate};
use crate::domain::kafka::KafkaUpdate;
use crate::domain::migrations::MigrationUpdate;
use crate::domain::rollout::RolloutUpdate;
use crate::domain::{
    WatchUpdate, WatchedDeployment, WatchedReplicaSet, WatchedRollout, WatchedService,
};

pub struct AdviseCommand {
    pub env: String,
    pub service: String,
    pub json: bool,
    pub kubeconfig: Option<PathBuf>,
    pub demo: Option<PathBuf>,
}

/// The service's consumer groups (its `consumer_groups:`), described once; `None` when
/// it names none or the environment has no Kafka.
async fn consumer_groups(
    client: &kube::Client,
    e: &crate::config::Environment,
    service: &str,
) -> Option<std::result::Result<Vec<crate::domain::kafka::GroupView>, String>> {
    let kafka = e.kafka.clone()?;
    let svc = e.services.iter().find(|s| s.name == service)?;
    if svc.consumer_groups.is_empty() {
        return None;
    }
    let tools = crate::clients::kafka::KafkaTools::new(client.clone(), kafka);
    let mut names: Vec<&str> = svc
        .consumer_groups
        .iter()
        .map(|g| g.group.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        // A part that cannot be read is said in the group's view (its `error`).
        out.push(tools.describe_group(name.to_owned()).await);
    }
    Some(Ok(out))
}

pub fn run(config: Config, cmd: AdviseCommand) -> Result<std::result::Result<Outcome, String>> {
    super::block_on(run_async(config, cmd))
}

/// Applies a whole list as one watch's initial list.
fn listed<T>(rows: Vec<T>) -> Vec<WatchUpdate<T>> {
    let mut out = vec![WatchUpdate::Init];
    out.extend(rows.into_iter().map(WatchUpdate::InitApply));
    out.push(WatchUpdate::InitDone);
    out
}

async fn run_async(
    mut config: Config,
    cmd: AdviseCommand,
) -> Result<std::result::Result<Outcome, String>> {
    let Some(index) = config.environments.iter().position(|e| e.name == cmd.env) else {
        let known: Vec<&str> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        return Ok(Err(format!(
            "no environment `{}` (known: {})",
            cmd.env,
            known.join(", ")
        )));
    };
    if !config.environments[index]
        .services
        .iter()
        .any(|s| s.name == cmd.service)
    {
        let known: Vec<&str> = config.environments[index]
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        return Ok(Err(format!(
            "no service `{}` in {} (known: {})",
            cmd.service,
            cmd.env,
            known.join(", ")
        )));
    }
    let world =
        super::once::open(&mut config, cmd.kubeconfig.as_deref(), cmd.demo.as_deref()).await?;
    let e = config.environments[index].clone();
    let Some(client) = client_of(&world.clients, &e) else {
        world.close().await;
        return Ok(Err(format!("{}: no cluster connection", e.name)));
    };
    let ns = e.namespace.as_str();
    let deployments = match list::<WatchedDeployment>(client, ns).await {
        Ok(d) => d,
        Err(why) => {
            world.close().await;
            return Ok(Err(format!("{}: cannot list deployments: {why}", e.name)));
        }
    };
    let replicasets = list::<WatchedReplicaSet>(client, ns)
        .await
        .unwrap_or_default();
    let rollouts = list::<WatchedRollout>(client, ns).await.unwrap_or_default();
    let services = list::<WatchedService>(client, ns).await.unwrap_or_default();
    let pods = pods(client, &e).await;
    let backups = match &e.backup {
        Some(b) => list::<WatchedBackup>(client, &b.namespace)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let apps = match endpoint_for(&e, &world.argocd) {
        Err(_) => Vec::new(),
        Ok(endpoint) => match ArgoClient::new(&endpoint, Timeouts::default()) {
            Err(_) => Vec::new(),
            Ok(c) => c.list().await.map(|l| l.items).unwrap_or_default(),
        },
    };
    let migrations = crate::headless::migrations::read(&e).await;
    let kafka = consumer_groups(client, &e, &cmd.service).await;
    world.close().await;

    let now = jiff::Timestamp::now();
    let mut state = State::new(config.environments.clone(), config.keys.clone(), now);
    state.checklist = crate::app::panes::checklist::ChecklistState::new(
        config.checklists.clone(),
        config.environments.len(),
    );
    let mut events = Vec::new();
    let env = index;
    for u in listed(deployments.into_iter().map(|d| d.row).collect()) {
        events.push(Event::Watch {
            env,
            update: EnvUpdate::Deployments(u),
        });
    }
    for u in listed(services.into_iter().map(|s| s.row).collect()) {
        events.push(Event::Watch {
            env,
            update: EnvUpdate::Services(u),
        });
    }
    for u in listed(pods.iter().cloned().collect()) {
        events.push(Event::Watch {
            env,
            update: EnvUpdate::Pods(u),
        });
    }
    for u in listed(replicasets.into_iter().map(|r| r.row).collect()) {
        events.push(Event::Rollouts {
            env,
            update: RolloutUpdate::ReplicaSets(u),
        });
    }
    for u in listed(rollouts.into_iter().map(|r| r.row).collect()) {
        events.push(Event::Rollouts {
            env,
            update: RolloutUpdate::Rollouts(u),
        });
    }
    for u in listed(apps) {
        events.push(Event::Argocd {
            env,
            update: ArgoUpdate::Apps(u),
        });
    }
    for u in listed(backups.into_iter().map(|b| b.row).collect()) {
        events.push(Event::Checklist {
            env,
            update: ChecklistUpdate::Backups(u),
        });
    }
    if let Some(source) = migrations.source.clone() {
        events.push(Event::Migrations {
            env,
            update: MigrationUpdate::Source(source),
        });
    }
    if let Some(status) = migrations.status.clone() {
        let at = migrations.checked.unwrap_or(now);
        events.push(Event::Migrations {
            env,
            update: MigrationUpdate::Status { at, status },
        });
    }
    if let Some(groups) = kafka {
        events.push(Event::Kafka {
            env,
            update: KafkaUpdate::Groups {
                read_at: now,
                groups,
            },
        });
    }
    for event in events {
        update(&mut state, event);
    }
    let plans = crate::app::advisor::plans(&state, env, &cmd.service);
    let previews: Vec<Vec<Option<crate::bus::Preview>>> = plans
        .iter()
        .map(|p| {
            p.steps
                .iter()
                .map(|s| crate::app::advisor::preview(&state, env, &cmd.service, &s.action))
                .collect()
        })
        .collect();
    let text =
        crate::headless::advise::report(&e.name, &cmd.service, now, &plans, &previews, cmd.json);
    let usable = plans.iter().any(|p| !p.blocked());
    Ok(Ok(Outcome {
        text,
        status: u8::from(!usable),
    }))
}
