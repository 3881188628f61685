//! Wiring of the Argo CD side: which server each environment uses, one client and one
//! watch per distinct server, and the fan-out of its apps to the environments that
//! name them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::Event;
use crate::clients::argocd::{
    ArgoClient, CliConfigError, Endpoint, Timeouts, WatchItem, spawn_watch,
};
use crate::config::Environment;
use crate::domain::WatchUpdate;
use crate::domain::feed::ArgoUpdate;

/// Where the environments' Argo CD comes from.
#[derive(Debug, Clone)]
pub enum ArgocdSource {
    /// Each environment's `argocd:` block, else the argocd CLI's current context; the
    /// token from `ARGOCD_AUTH_TOKEN` or the CLI's config (`cli_config` overrides its path).
    FromConfig { cli_config: Option<PathBuf> },
    /// One server for every environment (the embedded simulator's).
    Fixed(Endpoint),
    /// No Argo CD, and why (shown in the release pane).
    Off(String),
}

/// The Argo CD listener of the embedded simulator, for `rollcall demo`: its URL, the
/// admin API key it minted and its CA, so TLS is verified as against a real server.
pub fn demo_argocd(sim: &rollcall_sim::SimHandle) -> ArgocdSource {
    ArgocdSource::Fixed(Endpoint {
        server: sim.argocd_url(),
        insecure: false,
        ca_pem: sim.argocd_ca_pem(),
        token: Some(crate::clients::argocd::Token::new(sim.argocd_token())),
    })
}

/// Why an environment has no Argo CD endpoint (shown in the release pane).
#[derive(Debug, thiserror::Error)]
pub enum NoEndpoint {
    /// Argo CD is off for every environment; the reason the source gives.
    #[error("{0}")]
    Off(String),
    #[error("Argo CD ca_file {0}")]
    CaFile(rollcall_files::ReadError),
    #[error(transparent)]
    CliConfig(#[from] CliConfigError),
    #[error(
        "no Argo CD server: add `argocd: {{server: …}}` to the environment, or run `argocd login`"
    )]
    NoServer,
    #[error("no Argo CD token for {server}: set ARGOCD_AUTH_TOKEN or run `argocd login`")]
    NoToken { server: String },
}

/// The endpoint of one environment, or why it has none.
pub fn endpoint_for(env: &Environment, source: &ArgocdSource) -> Result<Endpoint, NoEndpoint> {
    use crate::clients::argocd::{cli_current, token_for};
    let cli_config = match source {
        ArgocdSource::Fixed(e) => return Ok(e.clone()),
        ArgocdSource::Off(why) => return Err(NoEndpoint::Off(why.clone())),
        ArgocdSource::FromConfig { cli_config } => cli_config.as_deref(),
    };
    let (server, insecure, ca_pem) = match &env.argocd {
        Some(cfg) => {
            let ca_pem = cfg
                .ca_file
                .as_ref()
                .map(|path| {
                    rollcall_files::read_text(path, rollcall_files::Kind::Config)
                        .map_err(NoEndpoint::CaFile)
                })
                .transpose()?;
            (cfg.server.clone(), cfg.insecure, ca_pem)
        }
        None => match cli_current(cli_config)? {
            Some(cur) => (cur.url, cur.insecure, None),
            None => return Err(NoEndpoint::NoServer),
        },
    };
    let Some(token) = token_for(&server, cli_config)? else {
        return Err(NoEndpoint::NoToken { server });
    };
    Ok(Endpoint {
        server,
        insecure,
        ca_pem,
        token: Some(token),
    })
}

/// Starts one watch per distinct server. Returns the clients by environment name (for
/// the bus) and the tasks.
pub fn spawn_argocd(
    environments: &[Environment],
    source: &ArgocdSource,
    tx: &mpsc::Sender<Event>,
) -> (HashMap<String, ArgoClient>, Vec<JoinHandle<()>>) {
    let mut groups: Vec<(Endpoint, Vec<usize>)> = Vec::new();
    for (i, env) in environments.iter().enumerate() {
        match endpoint_for(env, source) {
            Ok(ep) => match groups.iter_mut().find(|(e, _)| *e == ep) {
                Some((_, members)) => members.push(i),
                None => groups.push((ep, vec![i])),
            },
            Err(why) => {
                let _ = tx.try_send(Event::Argocd {
                    env: i,
                    update: ArgoUpdate::NotConfigured(why.to_string()),
                });
            }
        }
    }
    let mut clients = HashMap::new();
    let mut tasks = Vec::new();
    for (ep, members) in groups {
        let client = match ArgoClient::new(&ep, Timeouts::default()) {
            Ok(c) => c,
            Err(e) => {
                for &i in &members {
                    let _ = tx.try_send(Event::Argocd {
                        env: i,
                        update: ArgoUpdate::NotConfigured(e.to_string()),
                    });
                }
                continue;
            }
        };
        for &i in &members {
            clients.insert(environments[i].name.clone(), client.clone());
        }
        let wanted: Vec<(usize, HashSet<String>)> = members
            .iter()
            .map(|&i| {
                let names = environments[i]
                    .services
                    .iter()
                    .map(|s| s.argocd_app.clone())
                    .collect();
                (i, names)
            })
            .collect();
        let (watch, rx) = spawn_watch(client);
        tasks.push(watch);
        tasks.push(tokio::spawn(fan_out(rx, wanted, tx.clone())));
    }
    (clients, tasks)
}

/// Routes the server's apps to the environments that name them.
async fn fan_out(
    mut rx: mpsc::Receiver<WatchItem>,
    wanted: Vec<(usize, HashSet<String>)>,
    tx: mpsc::Sender<Event>,
) {
    while let Some(item) = rx.recv().await {
        for (env, names) in &wanted {
            let update = match &item {
                WatchItem::Down(e) => ArgoUpdate::Down(e.to_string()),
                WatchItem::Update(u) => match u {
                    WatchUpdate::Init | WatchUpdate::InitDone => ArgoUpdate::Apps(u.clone()),
                    WatchUpdate::InitApply(a) | WatchUpdate::Apply(a) | WatchUpdate::Delete(a)
                        if names.contains(&a.name) =>
                    {
                        ArgoUpdate::Apps(u.clone())
                    }
                    _ => continue,
                },
            };
            if tx.send(Event::Argocd { env: *env, update }).await.is_err() {
                return;
            }
        }
    }
}
