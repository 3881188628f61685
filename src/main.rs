//! The rollcall command line: `run` (default) against your clusters, `demo` against
//! the embedded simulator, `sim` to run the simulator alone.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use color_eyre::eyre::{Result, WrapErr};

use rollcall::config::LoadOptions;
use rollcall::wiring::demo::{self, DemoOptions, SimCommand};
use rollcall::wiring::{self as runner, RunOptions, Source};

#[derive(Parser)]
#[command(
    name = "rollcall",
    version,
    about = "A terminal control room for deployments on Kubernetes",
    after_help = EXIT_STATUS
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    common: Common,
    /// Used when no subcommand is given (same as `run`).
    #[command(flatten)]
    target: Target,
}

/// What `--help` says of exit statuses (the README's table, shorter).
const EXIT_STATUS: &str = "Exit status:
  0        done; for checklist, status and migrations: all clear
  1        attention needed (checklist incomplete, something degraded, a dirty database,
           an unsafe pending migration), or an unexpected error
  2        bad input (flags, config, a kubeconfig that cannot work, an unknown --env),
           or no answer (a cluster or database unreachable or not configured)
  128+N    stopped by signal N (130 SIGINT, 143 SIGTERM), the terminal restored";

/// Which cluster `run` looks at.
#[derive(Args, Clone, Default)]
struct Target {
    /// Kubeconfig to use instead of $KUBECONFIG / ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Look at this context only, without an environments file.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Look at this namespace only, without an environments file.
    #[arg(
        long,
        short = 'n',
        value_name = "NS",
        conflicts_with = "all_namespaces"
    )]
    namespace: Option<String>,
    /// Look at every namespace, without an environments file.
    #[arg(long, short = 'A')]
    all_namespaces: bool,
}

#[derive(Args, Clone)]
struct Common {
    /// Directory whose environments.yaml, keys.yaml and themes/ override the defaults.
    #[arg(long, global = true, value_name = "DIR")]
    config: Option<PathBuf>,
    /// Colour theme (default, high-contrast, …, or one in DIR/themes).
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,
    /// Hide and refuse every action that changes a cluster.
    #[arg(long, global = true)]
    readonly: bool,
    /// Where mutations are recorded (JSON lines).
    #[arg(long, global = true, value_name = "FILE", env = "ROLLCALL_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
    /// Where rollcall's own log goes (never the terminal).
    #[arg(long, global = true, value_name = "FILE", env = "ROLLCALL_LOG_FILE")]
    log_file: Option<PathBuf>,
}

/// Where a print-and-exit command reads from, and how it prints.
#[derive(Args, Clone)]
struct ReadOnce {
    /// Output format: text or json.
    #[arg(short = 'o', long, default_value = "text", value_parser = ["text", "json"])]
    output: String,
    /// Kubeconfig to use instead of $KUBECONFIG / ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Read the embedded simulator's demo world instead of your clusters.
    #[arg(long)]
    demo: bool,
}

// Parsed once at start and moved once: `sim`'s many flags cost nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Watch and act on the clusters of your environments (the default).
    Run(Target),
    /// Run against the embedded simulator with the DictaMesh scenario.
    Demo {
        /// Simulated clock speed (2 = twice real time; 0.01 to 1000).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = rollcall_sim::cli::parse_speed)]
        speed: f64,
        /// Start a scripted incident and score how it is handled (`rollcall drill --list`).
        #[arg(long, value_name = "NAME")]
        drill: Option<String>,
        /// Once the demo's world is built, this image tag runs an unhealthy version (pods
        /// crash-loop, its error rate climbs, analysis fails). Repeatable.
        #[arg(long = "unhealthy-image", value_name = "TAG")]
        unhealthy_images: Vec<String>,
    },
    /// On-call drills: scripted incidents for `rollcall demo --drill NAME`.
    Drill {
        /// Name each drill, with what it is about.
        #[arg(long)]
        list: bool,
    },
    /// Run the simulator alone, for kubectl and other tools.
    Sim {
        #[arg(long, default_value = "127.0.0.1:18080")]
        listen: SocketAddr,
        /// Write a kubeconfig for the simulator here.
        #[arg(long, value_name = "FILE")]
        kubeconfig_out: Option<PathBuf>,
        /// Simulated clock speed (2 = twice real time; 0.01 to 1000).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = rollcall_sim::cli::parse_speed)]
        speed: f64,
        /// Bearer token the simulator accepts.
        #[arg(long, default_value = "rollcall-sim-admin")]
        token: String,
        #[command(flatten)]
        flags: rollcall_sim::cli::SimFlags,
    },
    /// Evaluate a release's pre-deployment checklist in an environment and print it with
    /// its evidence. Exits 0 when complete, 1 when not, 2 on bad input or an unreachable
    /// cluster.
    Checklist {
        /// The environment the release goes to.
        #[arg(long, value_name = "NAME")]
        env: String,
        /// The release, as SERVICE@VERSION (customer-adapter@v1.2.0).
        #[arg(long, value_name = "SERVICE@VERSION")]
        release: String,
        #[command(flatten)]
        read: ReadOnce,
    },
    /// Print every environment in a few lines: versions, health, canary, Argo CD, the
    /// migration database, checklist progress. Exits 1 when something is degraded, 2 on
    /// bad input or an unreachable cluster.
    Status {
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        #[command(flatten)]
        read: ReadOnce,
    },
    /// Print the rollback advisor's ranked plans for a service: each step, why, what it
    /// sends, how long, the risks. Exits 0 when a plan can run, 1 when none can, 2 on
    /// bad input or an unreachable cluster.
    Advise {
        /// The environment.
        #[arg(long, value_name = "NAME")]
        env: String,
        /// The service, as named in environments.yaml.
        #[arg(long, value_name = "NAME")]
        service: String,
        #[command(flatten)]
        read: ReadOnce,
    },
    /// Print the migration status of the environments' databases (golang-migrate's
    /// schema_migrations), with the lint of pending migrations. Exits 0 when every
    /// database is clean, 1 when one needs attention (dirty, locked, an unsafe or
    /// unparsed pending migration), 2 on bad input or a database that cannot be read
    /// (none configured, its url_env unset, unreachable).
    Migrations {
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Output format: text or json.
        #[arg(short = 'o', long, default_value = "text", value_parser = ["text", "json"])]
        output: String,
        /// Use demo SQLite databases, freshly seeded in a temporary directory (as
        /// `rollcall demo` seeds its own; a running demo's are left alone).
        #[arg(long)]
        demo: bool,
    },
    /// The audit log (--audit-log, else the state directory's audit.jsonl).
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the log's hash chain: exits 0 when intact, 1 when a record was edited,
    /// removed or inserted, 2 when it cannot be read. Names operations with no outcome.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Cmd::Audit {
        action: AuditAction::Verify,
    }) = &cli.command
    {
        let path = audit_log_path(&cli.common);
        let (text, status) = rollcall::wiring::audit::run_verify(&path);
        println!("{text}");
        return ExitCode::from(status);
    }
    if let Some(
        Cmd::Checklist { .. } | Cmd::Status { .. } | Cmd::Advise { .. } | Cmd::Migrations { .. },
    ) = &cli.command
    {
        return report(cli);
    }
    main_with(cli)
}

/// `rollcall checklist`, `status` and `migrations`, whose exit status is their answer (0
/// yes, 1 attention needed) and 2 when they could not tell (bad input, config, an
/// unreachable cluster or database); an error is one plain line.
fn report(cli: Cli) -> ExitCode {
    let config = match rollcall::app::load_config(&LoadOptions {
        dir: cli.common.config.as_deref(),
        theme: cli.common.theme.as_deref(),
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rollcall: {e}");
            return ExitCode::from(2);
        }
    };
    let state_dir = state_dir();
    if let Err(e) = start_logging(&cli.common, &state_dir) {
        eprintln!("rollcall: {e}");
        return ExitCode::from(2);
    }
    let wants_demo = match &cli.command {
        Some(Cmd::Checklist { read, .. } | Cmd::Status { read, .. } | Cmd::Advise { read, .. }) => {
            read.demo
        }
        Some(Cmd::Migrations { demo, .. }) => *demo,
        _ => false,
    };
    let scratch = match wants_demo.then(scratch_demo_dir).transpose() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("rollcall: cannot make a directory for the demo's databases: {e}");
            return ExitCode::from(2);
        }
    };
    let demo_dir = scratch.as_ref().map(|d| d.path().to_owned());
    let result = match cli.command {
        Some(Cmd::Checklist { env, release, read }) => {
            let cmd = rollcall::wiring::checklist::ChecklistCommand {
                env,
                release,
                json: read.output == "json",
                kubeconfig: read.kubeconfig,
                demo: demo_dir,
            };
            rollcall::wiring::checklist::run(config, cmd)
                .map(|r| r.map(|o| (o.text, o.status)).map_err(|bad| bad.to_string()))
        }
        Some(Cmd::Status { env, read }) => {
            let cmd = rollcall::wiring::status::StatusCommand {
                env,
                json: read.output == "json",
                kubeconfig: read.kubeconfig,
                demo: demo_dir,
            };
            rollcall::wiring::status::run(config, cmd).map(|r| r.map(|o| (o.text, o.status)))
        }
        Some(Cmd::Migrations { env, output, .. }) => {
            let mut environments = config.environments;
            Ok(rollcall::headless::migrations::report(
                &mut environments,
                env.as_deref(),
                output == "json",
                demo_dir.as_deref(),
            )
            .map(|o| (o.text, o.status))
            .map_err(|e| e.to_string()))
        }
        Some(Cmd::Advise { env, service, read }) => {
            let cmd = rollcall::wiring::advise::AdviseCommand {
                env,
                service,
                json: read.output == "json",
                kubeconfig: read.kubeconfig,
                demo: demo_dir,
            };
            rollcall::wiring::advise::run(config, cmd).map(|r| r.map(|o| (o.text, o.status)))
        }
        _ => return ExitCode::from(2),
    };
    match result {
        Ok(Ok((text, status))) => {
            println!("{}", text.trim_end());
            ExitCode::from(status)
        }
        Ok(Err(bad)) => {
            eprintln!("rollcall: {bad}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("rollcall: {}", one_line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn main_with(cli: Cli) -> ExitCode {
    // colour-eyre's report (colours, Location) is for a person at a terminal; a script or
    // a log reading stderr gets one plain line, and a panic's report no ANSI codes.
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let hooks = color_eyre::config::HookBuilder::default();
    let hooks = if stderr_is_terminal {
        hooks
    } else {
        hooks.theme(color_eyre::config::Theme::new())
    };
    if let Err(e) = hooks.install() {
        eprintln!("rollcall: {e}");
        return ExitCode::FAILURE;
    }
    // Bad configuration is the user's to fix: a clear message and status 2, before
    // the terminal is touched.
    let needs_config = !matches!(cli.command, Some(Cmd::Sim { .. }));
    let loaded = if needs_config {
        match rollcall::app::load_config(&LoadOptions {
            dir: cli.common.config.as_deref(),
            theme: cli.common.theme.as_deref(),
        }) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("rollcall: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    // A command that can change clusters opens its audit log first: exit 2 when it
    // cannot be written, before the terminal is touched.
    let can_change = matches!(cli.command, None | Some(Cmd::Run(_) | Cmd::Demo { .. }));
    let audit = if can_change {
        let path = audit_log_path(&cli.common);
        match rollcall::wiring::audit::open(&path, &local_user(), cli.common.readonly) {
            Ok(log) => Some(log),
            Err(e) => {
                eprintln!("rollcall: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    match run(cli, loaded, audit) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e, stderr_is_terminal),
    }
}

/// The exit status of a run that ended in `e`, and what is said of it: 128 + N after
/// signal N (nothing to say: it was asked for), 2 for what the user must fix (one line),
/// 1 for the rest (colour-eyre's report at a terminal, else one line).
fn failed(e: &color_eyre::Report, stderr_is_terminal: bool) -> ExitCode {
    if let Some(stopped) = e.downcast_ref::<rollcall::wiring::terminal::Stopped>() {
        return ExitCode::from(u8::try_from(128 + stopped.number).unwrap_or(1));
    }
    if let Some(unusable) = e.downcast_ref::<runner::Unusable>() {
        eprintln!("rollcall: {}", one_line(&unusable.to_string()));
        return ExitCode::from(2);
    }
    if stderr_is_terminal {
        eprintln!("rollcall: {e:?}");
    } else {
        eprintln!("rollcall: {}", one_line(&format!("{e:#}")));
    }
    ExitCode::FAILURE
}

/// `text` on one line, for whatever reads stderr line by line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Who the user says they are (`$ROLLCALL_USER`, else `$USER`): the audit log also
/// records the uid and the cluster's identity, which they cannot choose.
fn local_user() -> String {
    std::env::var("ROLLCALL_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into())
}

fn audit_log_path(common: &Common) -> PathBuf {
    common
        .audit_log
        .clone()
        .unwrap_or_else(|| state_dir().join("audit.jsonl"))
}

/// Dispatches to the library, which runs each command on its own async runtime (so
/// this crate compiles no async code of its own).
fn run(
    cli: Cli,
    loaded: Option<rollcall::app::Config>,
    audit: Option<rollcall::bus::AuditLog>,
) -> Result<()> {
    let state_dir = state_dir();
    start_logging(&cli.common, &state_dir)?;
    let user = local_user();
    let audit = || audit.ok_or_else(|| color_eyre::eyre::eyre!("the audit log was not opened"));

    let command = cli.command.unwrap_or(Cmd::Run(cli.target));
    match (command, loaded) {
        (
            Cmd::Sim {
                listen,
                kubeconfig_out,
                speed,
                token,
                flags,
            },
            _,
        ) => demo::run_sim(SimCommand {
            listen,
            kubeconfig_out: kubeconfig_out.as_deref(),
            speed,
            token,
            flags: &flags,
            state_dir: state_dir.join("sim"),
        }),
        (Cmd::Run(target), Some(mut config)) => {
            // Pointed at a context or namespace directly: one ad-hoc environment
            // instead of the configured ones, so rollcall works on any cluster.
            if target.context.is_some() || target.namespace.is_some() || target.all_namespaces {
                let namespace = if target.all_namespaces {
                    String::new()
                } else {
                    target.namespace.clone().unwrap_or_else(|| "default".into())
                };
                config.environments = vec![runner::ad_hoc_environment(
                    target.context.clone(),
                    namespace,
                )];
            }
            runner::run(RunOptions {
                config,
                source: Source::Kubeconfig {
                    path: target.kubeconfig,
                },
                readonly: cli.common.readonly,
                audit: audit()?,
                user,
                clock: rollcall::domain::clock::wall(),
                clock_speed: 1.0,
                drill: None,
                argocd: runner::ArgocdSource::FromConfig { cli_config: None },
                ticks_file: state_dir.join("checklist-ticks.json"),
            })
        }
        (Cmd::Drill { .. }, Some(config)) => {
            let names: Vec<&str> = config
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            let drills =
                rollcall::config::drills::load_drills(cli.common.config.as_deref(), &names)?;
            let width = drills.iter().map(|d| d.name.len()).max().unwrap_or(0);
            for d in drills {
                println!("{:<width$}  {} ({})", d.name, d.title, d.environment);
            }
            Ok(())
        }
        (
            Cmd::Demo {
                speed,
                drill,
                unhealthy_images,
            },
            Some(config),
        ) => {
            let drill = match drill {
                None => None,
                Some(name) => {
                    let names: Vec<&str> = config
                        .environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect();
                    let all = rollcall::config::drills::load_drills(
                        cli.common.config.as_deref(),
                        &names,
                    )?;
                    Some(
                        rollcall::config::drills::find_drill(all, &name)
                            .map_err(|e| color_eyre::eyre::eyre!(e))?,
                    )
                }
            };
            demo::run(
                config,
                DemoOptions {
                    speed,
                    unhealthy_images,
                    readonly: cli.common.readonly,
                    audit: audit()?,
                    user,
                    drill,
                    databases: state_dir.join("demo"),
                },
            )
        }
        // Handled before the config is loaded for everything else (its own exit codes).
        (
            Cmd::Checklist { .. }
            | Cmd::Status { .. }
            | Cmd::Advise { .. }
            | Cmd::Audit { .. }
            | Cmd::Migrations { .. },
            _,
        ) => unreachable_config(),
        (_, None) => unreachable_config(),
    }
}

fn unreachable_config() -> Result<()> {
    Err(color_eyre::eyre::eyre!("configuration was not loaded"))
}

/// Where a print-and-exit `--demo` seeds its databases: a fresh temporary directory,
/// removed when it is done. Never the state directory, whose databases a running
/// `rollcall demo` is reading (seeding replaces the files under it).
fn scratch_demo_dir() -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("rollcall-demo-").tempdir()
}

fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("rollcall");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/rollcall"),
        None => std::env::temp_dir().join("rollcall"),
    }
}

/// rollcall's own log: `--log-file`, else rollcall.log in the state directory.
fn start_logging(common: &Common, state_dir: &Path) -> Result<()> {
    let log_file = common
        .log_file
        .clone()
        .unwrap_or_else(|| state_dir.join("rollcall.log"));
    init_tracing(&log_file)
}

fn init_tracing(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .wrap_err_with(|| format!("cannot open log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROLLCALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    Ok(())
}
