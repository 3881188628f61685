//! `rollcall status`: reads every environment once (workloads, Rollouts, Argo CD apps,
//! the migration database, the release checklists walked there) and hands it to
//! `headless::status` to print.

use std::collections::HashMap;
use std::path::PathBuf;

use color_eyre::eyre::Result;
use kube::Api;

use super::endpoint_for;
use super::once::{Outcome, client_of, list, pods, workloads};
use crate::app::Config;
use crate::clients::argocd::{ArgoClient, Timeouts};
use crate::domain::WatchedRollout;
use crate::domain::checklist::shared::{LABEL, WatchedChecklist};
use crate::domain::checklist::walk::walk;
use crate::domain::environment::summarize;
use crate::headless::status::{EnvStatus, report};

/// What `rollcall status` was asked.
pub struct StatusCommand {
    pub env: Option<String>,
    pub json: bool,
    pub kubeconfig: Option<PathBuf>,
    pub demo: Option<PathBuf>,
}

pub fn run(config: Config, cmd: StatusCommand) -> Result<std::result::Result<Outcome, String>> {
    super::block_on(run_async(config, cmd))
}

async fn run_async(
    mut config: Config,
    cmd: StatusCommand,
) -> Result<std::result::Result<Outcome, String>> {
    if let Some(name) = &cmd.env
        && !config.environments.iter().any(|e| &e.name == name)
    {
        let known: Vec<&str> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        return Ok(Err(format!(
            "no environment `{name}` (known: {})",
            known.join(", ")
        )));
    }
    let world =
        super::once::open(&mut config, cmd.kubeconfig.as_deref(), cmd.demo.as_deref()).await?;
    let environments = config.environments.clone();
    let now = jiff::Timestamp::now();
    // Argo CD per distinct server.
    let mut apps_by_server: HashMap<String, Result<Vec<crate::domain::AppRow>, String>> =
        HashMap::new();
    let mut statuses = Vec::new();
    for (i, e) in environments.iter().enumerate() {
        if cmd.env.as_ref().is_some_and(|n| n != &e.name) {
            continue;
        }
        let client = client_of(&world.clients, e);
        let (summary, rollouts) = match client {
            None => (Err("no cluster connection".to_owned()), Vec::new()),
            Some(c) => {
                let store = workloads(c, e).await;
                let rollouts = list::<WatchedRollout>(c, &e.namespace)
                    .await
                    .map(|v| v.into_iter().map(|w| w.row).collect())
                    .unwrap_or_default();
                let pods = pods(c, e).await;
                (store.map(|s| summarize(e, &s, &pods, now)), rollouts)
            }
        };
        let apps = match endpoint_for(e, &world.argocd) {
            Err(why) => Err(why.to_string()),
            Ok(endpoint) => match apps_by_server.get(&endpoint.server) {
                Some(read) => read.clone(),
                None => {
                    let read = match ArgoClient::new(&endpoint, Timeouts::default()) {
                        Err(err) => Err(err.to_string()),
                        Ok(c) => c.list().await.map(|l| l.items).map_err(|e| e.to_string()),
                    };
                    apps_by_server.insert(endpoint.server.clone(), read.clone());
                    read
                }
            },
        };
        let names: Vec<&str> = e.services.iter().map(|s| s.argocd_app.as_str()).collect();
        let apps = apps.map(|all| {
            all.into_iter()
                .filter(|a| names.contains(&a.name.as_str()))
                .collect()
        });
        let migrations = crate::headless::migrations::read(e).await.summary();
        let mut checklists = Vec::new();
        if let Some(c) = client {
            let api: Api<WatchedChecklist> = Api::namespaced(c.clone(), &e.namespace);
            let maps = api
                .list(&kube::api::ListParams::default().labels(LABEL))
                .await
                .map(|l| l.items)
                .unwrap_or_default();
            for shared in maps.into_iter().filter_map(|w| w.row.checklist) {
                let snapshot = super::checklist::read(
                    &environments,
                    i,
                    &shared.release,
                    &world.clients,
                    &world.argocd,
                    &config.checklists,
                )
                .await;
                let (_, progress) = walk(
                    &config.checklists,
                    &environments,
                    i,
                    &shared.release,
                    &snapshot.marks,
                    &snapshot,
                );
                checklists.push((shared.release, progress));
            }
        }
        checklists.sort_by(|a, b| a.0.cmp(&b.0));
        statuses.push(EnvStatus {
            config: e,
            summary,
            rollouts,
            apps,
            migrations,
            checklists,
        });
    }
    world.close().await;
    // A cluster that could not be read is a question unanswered (2), not a degraded
    // environment (1): the report says why.
    let unreachable = statuses.iter().any(|s| s.summary.is_err());
    let (text, degraded) = report(&statuses, cmd.json);
    Ok(Ok(Outcome {
        text,
        status: if unreachable { 2 } else { u8::from(degraded) },
    }))
}
