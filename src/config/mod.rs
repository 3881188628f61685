//! Loading and validation of rollcall's configuration: environments, key bindings and
//! themes. The defaults are built into the binary; `--config DIR` lays the user's files
//! over them and `--theme NAME` picks a theme. Nothing here panics on bad input: every
//! problem comes back as a `ConfigError` naming the file, line and column.
//!
//! Layout of a config directory (every file optional):
//! - `DIR/environments.yaml` replaces the built-in environment list as a whole;
//! - `DIR/checklists.yaml` replaces the built-in checklists as a whole;
//! - `DIR/runbooks/production.yaml` replaces the built-in production runbook;
//! - `DIR/keys.yaml` patches the built-in key map, action by action;
//! - `DIR/themes/NAME.yaml` adds theme NAME, or overrides the built-in one of that
//!   name role by role; roles it leaves out come from the built-in theme of the same
//!   name, else from the (possibly overridden) default theme.

mod argocd;
mod checklists;
mod confirm;
mod database;
pub mod drills;
mod environments;
mod error;
mod gitops;
mod kafka;
mod key;
mod keys;
mod monitoring;
mod policy;
mod runbooks;
mod theme;
mod window;
mod yaml;

use std::io;
use std::path::{Path, PathBuf};

use rollcall_files::Kind as FileKind;

pub use argocd::ArgocdServer;
pub use checklists::{
    Check, Checklist, Checklists, Item, MetricSeries, MetricUnit, OnCall, THIS as THIS_ENVIRONMENT,
    parse_checklists,
};
pub use confirm::{Confirm, ConfirmPolicy};
pub use database::{Database, ResolveError};
pub use environments::{
    BlueGreenPair, Colour, Environment, Service, WorkloadKind, parse_environments,
};
pub use error::{At, ConfigError};
pub use gitops::Gitops;
pub use kafka::{ConsumerGroup, Kafka};
pub use key::{Key, KeySpecError};
pub use keys::{Bindable, KeyMap, action_name};
pub use monitoring::{BackupTarget, Monitoring};
pub use policy::{DeployMode, ParseDeployModeError, Policy, parse_duration};
pub use runbooks::{
    Phase as RunbookPhase, Runbook, Step as RunbookStep, StepRun,
    parse_offset as parse_runbook_offset, parse_runbook,
};
pub use theme::Theme;
pub use window::ChangeWindow;

const ENVIRONMENTS_FILE: &str = "config/environments.yaml";
const ENVIRONMENTS: &str = include_str!("../../config/environments.yaml");
const CHECKLISTS_FILE: &str = "config/checklists.yaml";
const CHECKLISTS: &str = include_str!("../../config/checklists.yaml");
const RUNBOOK_FILE: &str = "config/runbooks/production.yaml";
const RUNBOOK: &str = include_str!("../../config/runbooks/production.yaml");

/// Everything rollcall reads from config, validated. `Action` is the app's action type
/// the key map binds (config does not know the app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config<Action> {
    pub environments: Vec<Environment>,
    pub checklists: Checklists,
    pub runbook: Runbook,
    pub keys: KeyMap<Action>,
    pub theme: Theme,
    /// The user files that were read, in the order read; empty when only the built-in
    /// defaults are in use.
    pub sources: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions<'a> {
    /// A config directory whose files override the built-in defaults.
    pub dir: Option<&'a Path>,
    /// A theme name; `None` is `default`.
    pub theme: Option<&'a str>,
}

/// Loads the built-in defaults and lays the files in `opts.dir` over them.
pub fn load<Action: Bindable>(opts: &LoadOptions) -> Result<Config<Action>, ConfigError> {
    let mut sources = Vec::new();
    if let Some(dir) = opts.dir {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::Io {
                    path: dir.to_path_buf(),
                    error: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                });
            }
            Err(error) => {
                return Err(ConfigError::Io {
                    path: dir.to_path_buf(),
                    error,
                });
            }
        }
    }

    let environments = match read_user_file(opts.dir, "environments.yaml", &mut sources)? {
        Some((file, text)) => parse_environments(&file, &text)?,
        None => parse_environments(Path::new(ENVIRONMENTS_FILE), ENVIRONMENTS)?,
    };
    let names: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
    let checklists = match read_user_file(opts.dir, "checklists.yaml", &mut sources)? {
        Some((file, text)) => parse_checklists(&file, &text, &names)?,
        None => parse_checklists(Path::new(CHECKLISTS_FILE), CHECKLISTS, &names)?,
    };
    let runbook = match read_user_file(opts.dir, "runbooks/production.yaml", &mut sources)? {
        Some((file, text)) => parse_runbook(&file, &text, &names)?,
        None => parse_runbook(Path::new(RUNBOOK_FILE), RUNBOOK, &names)?,
    };
    let keys = match read_user_file(opts.dir, "keys.yaml", &mut sources)? {
        Some((file, text)) => KeyMap::with_patch(&file, &text)?,
        None => KeyMap::builtin()?,
    };
    let theme = load_theme(opts.dir, opts.theme.unwrap_or("default"), &mut sources)?;
    Ok(Config {
        environments,
        checklists,
        runbook,
        keys,
        theme,
        sources,
    })
}

/// Names of the themes `--theme` accepts: the built-in ones and those in
/// `DIR/themes/`, sorted.
pub fn available_themes(dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = theme::BUILTIN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    if let Some(dir) = dir
        && let Ok(entries) = std::fs::read_dir(dir.join("themes"))
    {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml")
                && let Some(name) = path.file_stem().and_then(|s| s.to_str())
                && valid_theme_name(name)
            {
                names.push(name.to_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn load_theme(
    dir: Option<&Path>,
    name: &str,
    sources: &mut Vec<PathBuf>,
) -> Result<Theme, ConfigError> {
    let unknown = || ConfigError::UnknownTheme {
        name: name.to_owned(),
        available: available_themes(dir),
    };
    if !valid_theme_name(name) {
        return Err(unknown());
    }
    let mut theme = Theme::builtin("default")?;
    if let Some((file, text)) = read_user_file(dir, "themes/default.yaml", sources)? {
        theme.apply(&file, &text)?;
    }
    if name == "default" {
        return Ok(theme);
    }
    let builtin = theme::builtin_text(name);
    if let Some(text) = builtin {
        theme.apply(&theme::builtin_file(name), text)?;
    }
    let user = read_user_file(dir, &format!("themes/{name}.yaml"), sources)?;
    if let Some((file, text)) = &user {
        theme.apply(file, text)?;
    }
    if builtin.is_none() && user.is_none() {
        return Err(unknown());
    }
    theme.name = name.to_owned();
    Ok(theme)
}

/// Theme names are file names: no paths, nothing hidden.
fn valid_theme_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Reads `dir/relative` if it exists, recording it in `sources`.
fn read_user_file(
    dir: Option<&Path>,
    relative: &str,
    sources: &mut Vec<PathBuf>,
) -> Result<Option<(PathBuf, String)>, ConfigError> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let path = dir.join(relative);
    match rollcall_files::read_text(&path, FileKind::Config) {
        Ok(text) => {
            sources.push(path.clone());
            Ok(Some((path, text)))
        }
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(ConfigError::File(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_environments_follow_the_seed_table() {
        let environments = parse_environments(Path::new(ENVIRONMENTS_FILE), ENVIRONMENTS)
            .expect("built-in environments load");
        let names: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["dev", "staging", "prod"]);
        let mins: Vec<u32> = environments.iter().map(|e| e.policy.min_replicas).collect();
        assert_eq!(mins, [1, 2, 3]);
    }

    #[test]
    fn builtin_checklists_are_the_seeds_two_lists() {
        let lists = parse_checklists(
            Path::new(CHECKLISTS_FILE),
            CHECKLISTS,
            &["dev", "staging", "prod"],
        )
        .expect("built-in checklists load");
        let titles: Vec<&str> = lists.lists.iter().map(|l| l.title.as_str()).collect();
        assert_eq!(
            titles,
            ["For all deployments", "For production deployments"]
        );
        assert_eq!(lists.items(false).count(), 8);
        assert_eq!(lists.items(true).count(), 17);
        assert!(lists.on_call.is_some());
        let runbook = parse_runbook(
            Path::new(RUNBOOK_FILE),
            RUNBOOK,
            &["dev", "staging", "prod"],
        )
        .expect("built-in runbook loads");
        let names: Vec<&str> = runbook.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["T-24h", "T-0", "T+5m", "T+30m"]);
        assert_eq!(runbook.steps().count(), 16);
    }

    #[test]
    fn theme_names_cannot_escape_the_directory() {
        assert!(!valid_theme_name("../etc/passwd"));
        assert!(!valid_theme_name(".hidden"));
        assert!(valid_theme_name("solarized-dark"));
    }
}
