//! `rollcall checklist`: reads what a release's checklist needs from the clusters, Argo
//! CD, the migration database and the monitoring URLs once, then hands the snapshot to
//! `headless::checklist` to evaluate and print. With `--demo` it reads the embedded
//! simulator's DictaMesh world, as `rollcall demo` shows it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use color_eyre::eyre::Result;
use kube::{Api, Client};

use super::once::{Outcome, client_of, list, workloads};
use super::{ArgocdSource, endpoint_for};
use crate::app::Config;
use crate::clients::argocd::{ArgoClient, Timeouts};
use crate::config::Environment;
use crate::domain::RowStore;
use crate::domain::checklist::Release;
use crate::domain::checklist::shared::{WatchedChecklist, configmap_name};
use crate::domain::checklist::walk::probe_urls;
use crate::domain::cnpg::WatchedBackup;
use crate::domain::environment::summarize;
use crate::domain::vulnerability::WatchedVulnerabilityReport;
use crate::headless::checklist::{ArgoRead, Snapshot, report};

/// What `rollcall checklist` was asked.
pub struct ChecklistCommand {
    pub env: String,
    pub release: String,
    pub json: bool,
    pub kubeconfig: Option<PathBuf>,
    /// Read the embedded simulator, with the demo's databases under this directory.
    pub demo: Option<PathBuf>,
}

/// A bad `--env` or `--release`: the user's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum BadInput {
    #[error("no environment `{name}` (known: {known})")]
    Environment { name: String, known: String },
    #[error(transparent)]
    Release(#[from] crate::domain::checklist::ReleaseParseError),
}

pub fn run(
    config: Config,
    cmd: ChecklistCommand,
) -> Result<std::result::Result<Outcome, BadInput>> {
    super::block_on(run_async(config, cmd))
}

async fn run_async(
    mut config: Config,
    cmd: ChecklistCommand,
) -> Result<std::result::Result<Outcome, BadInput>> {
    let Some(env) = config.environments.iter().position(|e| e.name == cmd.env) else {
        let known: Vec<&str> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        return Ok(Err(BadInput::Environment {
            name: cmd.env,
            known: known.join(", "),
        }));
    };
    let release = match Release::parse(&cmd.release) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.into())),
    };
    let world =
        super::once::open(&mut config, cmd.kubeconfig.as_deref(), cmd.demo.as_deref()).await?;
    let environments = config.environments.clone();
    let snapshot = read(
        &environments,
        env,
        &release,
        &world.clients,
        &world.argocd,
        &config.checklists,
    )
    .await;
    world.close().await;
    let (text, progress) = report(
        &config.checklists,
        &environments,
        env,
        &release,
        &snapshot,
        cmd.json,
    );
    // The environment's workloads could not be listed: its cluster is unreachable, and
    // what the checklist says of it is a question unanswered (2), not a "no" (1).
    let status = match (&snapshot.rolling, progress.complete()) {
        (Err(_), _) => 2,
        (Ok(_), true) => 0,
        (Ok(_), false) => 1,
    };
    Ok(Ok(Outcome { text, status }))
}

pub(super) async fn read(
    environments: &[Environment],
    env: usize,
    release: &Release,
    clients: &HashMap<Option<String>, Client>,
    argocd: &ArgocdSource,
    lists: &crate::config::Checklists,
) -> Snapshot {
    let now = jiff::Timestamp::now();
    let here = &environments[env];
    let client = client_of(clients, here);

    // Argo CD, per environment (the check reads another environment's app).
    let mut argo = HashMap::new();
    for e in environments {
        let read = match endpoint_for(e, argocd) {
            Err(why) => ArgoRead::NotConfigured(why.to_string()),
            Ok(endpoint) => match ArgoClient::new(&endpoint, Timeouts::default()) {
                Err(err) => ArgoRead::Down(err.to_string()),
                Ok(c) => match c.list().await {
                    Ok(list) => ArgoRead::Apps(list.items),
                    Err(err) => ArgoRead::Down(err.to_string()),
                },
            },
        };
        argo.insert(e.name.clone(), read);
    }

    let backups = match (&here.backup, client) {
        (Some(target), Some(c)) => list::<WatchedBackup>(c, &target.namespace)
            .await
            .map(|v| v.into_iter().map(|w| w.row).collect()),
        (None, _) => Ok(Vec::new()),
        (Some(_), None) => Err("no cluster connection".into()),
    };

    let mut reports = Vec::new();
    let mut report_errors = Vec::new();
    let mut images = HashMap::new();
    let mut rolling = Err("no cluster connection".to_owned());
    for (i, e) in environments.iter().enumerate() {
        let Some(c) = client_of(clients, e) else {
            continue;
        };
        match list::<WatchedVulnerabilityReport>(c, &e.namespace).await {
            Ok(v) => reports.extend(v.into_iter().map(|w| w.row)),
            Err(why) => report_errors.push(why),
        }
        let store = match workloads(c, e).await {
            Ok(s) => s,
            Err(why) => {
                if i == env {
                    rolling = Err(why);
                }
                continue;
            }
        };
        for svc in &e.services {
            if let Some(image) = store
                .get(&e.namespace, &svc.workload)
                .and_then(|row| row.image.clone())
            {
                let repo = match image.rsplit_once(':') {
                    Some((path, tag)) if !tag.contains('/') => path.to_owned(),
                    _ => image,
                };
                images.entry(svc.name.clone()).or_insert(repo);
            }
        }
        if i == env {
            // Which rollouts are in flight needs no pods.
            rolling = Ok(summarize(e, &store, &RowStore::default(), now).rolling());
        }
    }
    let reports = if reports.is_empty() && !report_errors.is_empty() {
        Err(report_errors.remove(0))
    } else {
        Ok(reports)
    };

    let marks = match client {
        Some(c) => {
            let api: Api<WatchedChecklist> = Api::namespaced(c.clone(), &here.namespace);
            match api.get_opt(&configmap_name(release)).await {
                Ok(Some(w)) => w.row.checklist.map(|s| s.marks).unwrap_or_default(),
                _ => BTreeMap::new(),
            }
        }
        None => BTreeMap::new(),
    };

    let migrations = crate::headless::migrations::read(here).await;
    let jobs = match client {
        Some(c) => list::<crate::domain::job::WatchedJob>(c, &here.namespace)
            .await
            .map(|v| v.into_iter().map(|w| w.row).collect()),
        None => Err("no cluster connection".into()),
    };

    let mut probes = HashMap::new();
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    if let Ok(http) = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
    {
        for url in probe_urls(lists, std::slice::from_ref(here)) {
            let probe = crate::clients::checklist::probe(&http, &url, now).await;
            probes.insert(url, probe);
        }
    }

    let git = match &here.gitops {
        Some(g) => {
            let files: Vec<String> = here
                .services
                .iter()
                .map(|s| g.kustomization(&here.name, &s.name))
                .collect();
            Ok(crate::clients::git::read(g, &files, None, now).await)
        }
        None => Err(crate::domain::gitops::not_configured(&here.name)),
    };

    Snapshot {
        now,
        argocd: argo,
        backups,
        reports,
        images,
        migrations,
        probes,
        rolling,
        marks,
        jobs,
        git,
    }
}
