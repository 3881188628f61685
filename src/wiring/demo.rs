//! `rollcall demo` and `rollcall sim`: the embedded simulator, alone for other tools or
//! with rollcall pointed at it (seeded SQLite migration databases, the simulator's
//! kubeconfig and Argo CD, and its faster clock).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::config::Kubeconfig;
use rollcall_sim::{Scenario, SimOptions};

use super::{RunOptions, Source, demo_argocd};
use crate::app::Config;

/// What `rollcall demo` needs beyond the config.
pub struct DemoOptions {
    /// Simulated clock speed (2 = twice real time).
    pub speed: f64,
    pub readonly: bool,
    pub audit: crate::bus::AuditLog,
    pub user: String,
    /// Where the demo's migration databases are written (replaced at each start).
    pub databases: PathBuf,
    /// The drill to run on the simulator (`--drill NAME`).
    pub drill: Option<crate::config::drills::Drill>,
    /// Image tags marked unhealthy once the world is built (the canary's version going
    /// bad during its first pause, for a drill).
    pub unhealthy_images: Vec<String>,
}

/// Starts the simulator with the DictaMesh scenario and runs rollcall against it.
pub fn run(config: Config, opts: DemoOptions) -> Result<()> {
    super::block_on(run_async(config, opts))
}

async fn run_async(mut config: Config, opts: DemoOptions) -> Result<()> {
    crate::headless::migrations::use_demo_databases(&mut config.environments, &opts.databases)
        .await
        .map_err(|e| eyre!("demo databases: {e}"))?;
    let handle = rollcall_sim::start(SimOptions {
        speed: opts.speed,
        scenario: Scenario::Dictamesh,
        gitops_dir: Some(opts.databases.clone()),
        state_dir: Some(opts.databases.join("sim")),
        // A drill's broken images crash-loop from the first pod on.
        unhealthy_images: opts
            .drill
            .as_ref()
            .map(|d| d.start.unhealthy_images.clone())
            .unwrap_or_default(),
        ..SimOptions::default()
    })
    .await
    .wrap_err("cannot start the embedded simulator")?;
    // After the build: marked before, the canary could never reach its first pause.
    if !opts.unhealthy_images.is_empty() {
        handle.set_unhealthy_images(opts.unhealthy_images.clone());
    }
    super::once::point_at_sim(&mut config.environments, &handle);
    // The demo's world is new at every start: so are its unsynced ticks.
    let ticks_file = opts.databases.join("checklist-ticks.json");
    let _ = std::fs::remove_file(&ticks_file);
    let kubeconfig = Kubeconfig::from_yaml(&handle.kubeconfig_yaml())
        .wrap_err("the simulator wrote an unreadable kubeconfig")?;
    let drill = match opts.drill {
        Some(drill) => {
            let baseline = start_drill(&handle, &drill)?;
            Some((drill, baseline))
        }
        None => None,
    };
    let label = format!("demo: simulator {} ×{}", handle.addr(), opts.speed);
    let result = super::run_async(RunOptions {
        config,
        source: Source::Fixed {
            kubeconfig: Box::new(kubeconfig),
            label,
        },
        readonly: opts.readonly,
        audit: opts.audit,
        user: opts.user,
        clock: crate::domain::clock::scaled(handle.now(), opts.speed),
        clock_speed: opts.speed,
        drill,
        argocd: demo_argocd(&handle),
        ticks_file,
    })
    .await;
    handle.shutdown().await;
    result
}

/// Breaks what the drill breaks: a group's offsets moved to latest now, its outage
/// later (in the user's time, as the fault plan counts it) after its delay. Its
/// unhealthy images are set at the simulator's start. What the goal is measured
/// against is read from the simulator as it breaks it.
fn start_drill(
    handle: &rollcall_sim::SimHandle,
    drill: &crate::config::drills::Drill,
) -> Result<crate::app::drill::Baseline> {
    use crate::config::drills::Goal;
    if let Some((after, length)) = drill.start.outage {
        let plan = rollcall_sim::FaultPlan {
            outage_secs: Some(length.as_secs_f64()),
            ..rollcall_sim::FaultPlan::default()
        };
        handle.set_faults_after(after.unsigned_abs(), plan);
    }
    let mut baseline = crate::app::drill::Baseline::default();
    if let Some(g) = &drill.start.group_at_latest {
        // The goal's bad release (else now: measured, but no goal reads it).
        let since = match &drill.goal {
            Goal::GroupReplayed { group, since } if group == g => Some(*since),
            _ => None,
        };
        let bad_release = handle.now() - since.unwrap_or(jiff::SignedDuration::ZERO);
        let replay_from = handle
            .kafka_skip_to_latest(&g.group, &g.topic, bad_release)
            .ok_or_else(|| {
                eyre!(
                    "drill {}: the simulator has no group {} on topic {}",
                    drill.name,
                    g.group,
                    g.topic
                )
            })?;
        baseline = crate::app::drill::Baseline {
            bad_release: since.map(|_| bad_release),
            replay_from: replay_from
                .into_iter()
                .map(|(p, o)| (p, i64::try_from(o).unwrap_or(i64::MAX)))
                .collect(),
        };
    }
    Ok(baseline)
}

/// What `rollcall sim` was asked for.
pub struct SimCommand<'a> {
    pub listen: SocketAddr,
    pub kubeconfig_out: Option<&'a Path>,
    pub speed: f64,
    pub token: String,
    pub flags: &'a rollcall_sim::cli::SimFlags,
    /// Where the certificates are kept when `--state-dir` is not given.
    pub state_dir: PathBuf,
}

/// Runs the simulator alone until Ctrl-C or SIGTERM, printing where to find it.
pub fn run_sim(cmd: SimCommand<'_>) -> Result<()> {
    super::block_on(run_sim_async(cmd))
}

async fn run_sim_async(cmd: SimCommand<'_>) -> Result<()> {
    let mut opts = SimOptions {
        listen: cmd.listen,
        speed: cmd.speed,
        token: cmd.token,
        state_dir: Some(cmd.state_dir),
        ..SimOptions::default()
    };
    cmd.flags.apply(&mut opts).map_err(|e| eyre!(e))?;
    let kept_in = opts.state_dir.clone();
    let handle = rollcall_sim::start(opts)
        .await
        .wrap_err_with(|| format!("cannot start the simulator on {}", cmd.listen))?;
    println!("simulator listening on {}", handle.base_url());
    if let Some(dir) = &kept_in {
        println!(
            "state kept in {} (certificates, Argo CD keys: configs written before still work)",
            dir.display()
        );
    }
    // Tokens: readable by the user only.
    if let Some(path) = cmd.kubeconfig_out {
        rollcall_sim::keep::write_private(path, handle.kubeconfig_yaml().as_bytes())
            .wrap_err_with(|| format!("cannot write {}", path.display()))?;
        println!(
            "kubeconfig written to {} (context rollcall-sim)",
            path.display()
        );
        println!("try: kubectl --kubeconfig {} get pods -A", path.display());
    }
    println!("argocd api listening on {}", handle.argocd_url());
    println!(
        "monitoring (Grafana /api/health) on {}",
        handle.monitoring_url()
    );
    println!("argocd admin token: {}", handle.argocd_token());
    if let (Some(remote), Some(checkout)) = (handle.gitops_remote(), handle.gitops_checkout()) {
        println!(
            "gitops repository (argocd's {}): {}",
            rollcall_sim::argocd::repo::REPO_URL,
            remote.display()
        );
        println!("a clone to commit and push from: {}", checkout.display());
    }
    if let Some(path) = &cmd.flags.argocd_config_out {
        rollcall_sim::keep::write_private(path, handle.argocd_cli_config().as_bytes())
            .wrap_err_with(|| format!("cannot write {}", path.display()))?;
        // The argocd CLI itself speaks gRPC, which the simulator does not serve; the file
        // is for clients of the REST API (rollcall) that read the CLI's config.
        println!(
            "argocd config written to {} (argocd CLI format, REST API only)",
            path.display()
        );
    }
    println!("Ctrl-C stops it.");
    wait_for_stop().await;
    handle.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
