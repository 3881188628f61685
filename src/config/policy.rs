//! The policy an environment is held to (the seed's environment table): how many
//! replicas it must keep, how changes reach it, when, and how fresh its backups must be.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use jiff::{SignedDuration, SpanRelativeTo, Timestamp};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;
use super::window::{ChangeWindow, RawWindow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Fewest ready replicas per service before the environment shows drift.
    pub min_replicas: u32,
    pub deploy_mode: DeployMode,
    /// When deploys are allowed; only used with `DeployMode::ManualWindow`.
    pub change_windows: Vec<ChangeWindow>,
    /// How old the newest database backup may be; `None` expects no backups.
    pub backup_max_age: Option<SignedDuration>,
}

impl Policy {
    /// Whether a change window is open at `now`; `None` when the deploy mode has no
    /// windows.
    pub fn window_open(&self, now: Timestamp) -> Option<bool> {
        match self.deploy_mode {
            DeployMode::ManualWindow => Some(self.change_windows.iter().any(|w| w.contains(now))),
            DeployMode::Auto | DeployMode::Manual => None,
        }
    }

    /// When the next change window opens after `now`, if the policy has windows.
    pub fn next_window(&self, now: Timestamp) -> Option<Timestamp> {
        self.change_windows
            .iter()
            .filter_map(|w| w.next_open(now))
            .min()
    }
}

/// How changes reach an environment, from the seed's environment table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum DeployMode {
    /// Deployed on every push.
    #[serde(rename = "auto")]
    Auto,
    /// Needs an approval.
    #[serde(rename = "manual")]
    Manual,
    /// Needs an approval and an open change window.
    #[serde(rename = "manual+window")]
    ManualWindow,
}

impl DeployMode {
    pub const ALL: &'static [DeployMode] = &[
        DeployMode::Auto,
        DeployMode::Manual,
        DeployMode::ManualWindow,
    ];

    /// The spelling used in environments.yaml.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployMode::Auto => "auto",
            DeployMode::Manual => "manual",
            DeployMode::ManualWindow => "manual+window",
        }
    }

    /// The label for the environments table's MODE column.
    pub fn short_label(self) -> &'static str {
        match self {
            DeployMode::Auto => "auto",
            DeployMode::Manual => "approval",
            DeployMode::ManualWindow => "window",
        }
    }
}

impl fmt::Display for DeployMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown deploy mode `{0}`, expected one of auto, manual, manual+window")]
pub struct ParseDeployModeError(pub String);

impl FromStr for DeployMode {
    type Err = ParseDeployModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeployMode::ALL
            .iter()
            .copied()
            .find(|mode| mode.as_str() == s.trim())
            .ok_or_else(|| ParseDeployModeError(s.to_owned()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    #[serde(default)]
    min_replicas: Option<Spanned<u32>>,
    #[serde(default)]
    deploy_mode: Option<Spanned<DeployMode>>,
    #[serde(default)]
    change_windows: Vec<RawWindow>,
    #[serde(default)]
    backup_max_age: Option<Spanned<String>>,
}

impl RawPolicy {
    pub(crate) fn validate(
        self,
        file: &Path,
        path: &str,
        production: bool,
    ) -> Result<Policy, ConfigError> {
        let min_replicas = match self.min_replicas {
            Some(min) if min.value == 0 && production => {
                return Err(ConfigError::at(
                    file,
                    min.referenced,
                    &format!("{path}.min_replicas"),
                    "min_replicas must be at least 1 in a production environment",
                ));
            }
            Some(min) => min.value,
            None => 1,
        };
        let mut change_windows = Vec::with_capacity(self.change_windows.len());
        for (i, raw) in self.change_windows.into_iter().enumerate() {
            change_windows.push(raw.validate(file, &format!("{path}.change_windows[{i}]"))?);
        }
        let deploy_mode = match self.deploy_mode {
            None if change_windows.is_empty() => DeployMode::Manual,
            None => DeployMode::ManualWindow,
            Some(mode) => {
                let mode_path = format!("{path}.deploy_mode");
                if mode.value == DeployMode::ManualWindow && change_windows.is_empty() {
                    return Err(ConfigError::at(
                        file,
                        mode.referenced,
                        &mode_path,
                        "deploy_mode manual+window needs at least one entry in change_windows",
                    ));
                }
                if mode.value != DeployMode::ManualWindow && !change_windows.is_empty() {
                    return Err(ConfigError::at(
                        file,
                        mode.referenced,
                        &mode_path,
                        format!(
                            "change_windows are only used with deploy_mode manual+window, \
                             not {}; change the mode or remove the windows",
                            mode.value
                        ),
                    ));
                }
                mode.value
            }
        };
        let backup_max_age = match self.backup_max_age {
            None => None,
            Some(age) => Some(parse_duration(&age.value).ok_or_else(|| {
                ConfigError::at(
                    file,
                    age.referenced,
                    &format!("{path}.backup_max_age"),
                    format!(
                        "invalid duration `{}`, expected a positive duration like 24h, 30m or 1d",
                        age.value
                    ),
                )
            })?),
        };
        Ok(Policy {
            min_replicas,
            deploy_mode,
            change_windows,
            backup_max_age,
        })
    }
}

/// `24h`, `90m`, `1h30m`, ISO 8601 `PT24H`, or with days counted as 24 hours (`1d`).
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let duration = match text.trim().parse::<SignedDuration>() {
        Ok(d) => d,
        Err(_) => text
            .trim()
            .parse::<jiff::Span>()
            .ok()?
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .ok()?,
    };
    duration.is_positive().then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_mode_round_trips_and_labels() {
        for mode in DeployMode::ALL {
            assert_eq!(mode.as_str().parse::<DeployMode>(), Ok(*mode));
        }
        assert_eq!(DeployMode::ManualWindow.short_label(), "window");
        assert_eq!(DeployMode::Manual.short_label(), "approval");
        let err = "sometimes".parse::<DeployMode>().unwrap_err();
        assert!(err.to_string().contains("auto, manual, manual+window"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h"), Some(SignedDuration::from_hours(24)));
        assert_eq!(parse_duration("1d"), Some(SignedDuration::from_hours(24)));
        assert_eq!(parse_duration("PT30M"), Some(SignedDuration::from_mins(30)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("-5m"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
