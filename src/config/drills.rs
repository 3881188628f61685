//! Drills: scripted incidents for `rollcall demo --drill NAME`, one YAML file each,
//! built in (config/drills/) or in the config directory's `drills/`, which teams write
//! for themselves. What breaks at the start, the state that ends the drill, and which
//! commands count as unsafe on the way.

use std::path::Path;

use jiff::SignedDuration;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;
use super::policy::parse_duration;

/// The built-in drills: (name, file, text).
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "bad-canary",
        "config/drills/bad-canary.yaml",
        include_str!("../../config/drills/bad-canary.yaml"),
    ),
    (
        "bad-release-self-heal",
        "config/drills/bad-release-self-heal.yaml",
        include_str!("../../config/drills/bad-release-self-heal.yaml"),
    ),
    (
        "dirty-migration",
        "config/drills/dirty-migration.yaml",
        include_str!("../../config/drills/dirty-migration.yaml"),
    ),
    (
        "api-outage",
        "config/drills/api-outage.yaml",
        include_str!("../../config/drills/api-outage.yaml"),
    ),
    (
        "consumer-replayed-nothing",
        "config/drills/consumer-replayed-nothing.yaml",
        include_str!("../../config/drills/consumer-replayed-nothing.yaml"),
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drill {
    pub name: String,
    pub title: String,
    pub brief: String,
    pub environment: String,
    pub start: DrillStart,
    pub goal: Goal,
    /// Command kinds that count as unsafe (`rollout-promote`, `argocd-sync`,
    /// `migrate-down`, … as the drill's score names them).
    pub unsafe_commands: Vec<String>,
    /// Any change sent while an environment's link is down counts as unsafe.
    pub unsafe_while_down: bool,
    /// The time a practised on-call engineer takes.
    pub par: SignedDuration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrillStart {
    /// Images (a tag, or a whole reference) that crash-loop from the start.
    pub unhealthy_images: Vec<String>,
    /// The API server refuses every request for `for_` from `after` on.
    pub outage: Option<(SignedDuration, SignedDuration)>,
    /// A consumer group whose committed offsets on a topic start at the log end, as a
    /// reset to latest leaves them: nothing replayed.
    pub group_at_latest: Option<GroupTopic>,
}

/// A consumer group and one topic it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTopic {
    pub group: String,
    pub topic: String,
}

/// The state that ends a drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// The Rollout of that name in the drill's environment is aborted.
    RolloutAborted(String),
    /// The Argo CD app is Healthy and does not run the tag.
    AppHealthy { app: String, not_tag: String },
    /// The drill's environment's database is recorded clean.
    MigrationsClean,
    /// Every environment is live again, at least this long after the start.
    AllLiveAfter(SignedDuration),
    /// The group's committed offsets on the topic are, on every partition, at or before
    /// the first message at or after the bad release, which went out `since` before the
    /// drill started: it replays everything the bad release may have mangled.
    GroupReplayed {
        group: GroupTopic,
        since: SignedDuration,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrill {
    title: String,
    brief: String,
    environment: Spanned<String>,
    #[serde(default)]
    start: RawStart,
    goal: Spanned<RawGoal>,
    #[serde(default)]
    unsafe_commands: Vec<String>,
    #[serde(default)]
    unsafe_while_down: bool,
    par: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStart {
    #[serde(default)]
    unhealthy_images: Vec<String>,
    outage: Option<Spanned<RawOutage>>,
    group_at_latest: Option<RawGroupTopic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroupTopic {
    group: Spanned<String>,
    topic: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroupReplayed {
    group: Spanned<String>,
    topic: Spanned<String>,
    since: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutage {
    after: String,
    #[serde(rename = "for")]
    for_: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoal {
    rollout_aborted: Option<String>,
    app_healthy: Option<RawAppHealthy>,
    migrations_clean: Option<bool>,
    all_live_after: Option<String>,
    group_replayed: Option<RawGroupReplayed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppHealthy {
    app: String,
    not_tag: String,
}

/// Parses drill `name` from `text`; its environment must be one of `environments`.
pub fn parse_drill(
    name: &str,
    file: &Path,
    text: &str,
    environments: &[&str],
) -> Result<Drill, ConfigError> {
    let raw: RawDrill = super::yaml::parse(file, text)?;
    if !environments.contains(&raw.environment.value.as_str()) {
        return Err(ConfigError::at(
            file,
            raw.environment.referenced,
            "environment",
            format!(
                "no environment `{}` (known: {})",
                raw.environment.value,
                environments.join(", ")
            ),
        ));
    }
    let duration = |text: &str, at, path: &str| {
        parse_duration(text).ok_or_else(|| {
            ConfigError::at(
                file,
                at,
                path,
                format!("invalid duration `{text}`, expected one like 90s, 2m, 1h30m"),
            )
        })
    };
    let outage = match &raw.start.outage {
        Some(o) => Some((
            duration(&o.value.after, o.referenced, "start.outage.after")?,
            duration(&o.value.for_, o.referenced, "start.outage.for")?,
        )),
        None => None,
    };
    let g = &raw.goal.value;
    let goals = [
        g.rollout_aborted.is_some(),
        g.app_healthy.is_some(),
        g.migrations_clean == Some(true),
        g.all_live_after.is_some(),
        g.group_replayed.is_some(),
    ];
    if goals.iter().filter(|set| **set).count() != 1 {
        return Err(ConfigError::at(
            file,
            raw.goal.referenced,
            "goal",
            "expected exactly one of rollout_aborted, app_healthy, migrations_clean: true, \
             all_live_after, group_replayed",
        ));
    }
    let goal = if let Some(r) = &g.rollout_aborted {
        Goal::RolloutAborted(r.clone())
    } else if let Some(a) = &g.app_healthy {
        Goal::AppHealthy {
            app: a.app.clone(),
            not_tag: a.not_tag.clone(),
        }
    } else if let Some(after) = &g.all_live_after {
        Goal::AllLiveAfter(duration(after, raw.goal.referenced, "goal.all_live_after")?)
    } else if let Some(r) = &g.group_replayed {
        // A duration is never 0s: the bad release went out before the drill started.
        Goal::GroupReplayed {
            group: group_topic(file, "goal.group_replayed", &r.group, &r.topic)?,
            since: duration(
                &r.since.value,
                r.since.referenced,
                "goal.group_replayed.since",
            )?,
        }
    } else {
        Goal::MigrationsClean
    };
    let group_at_latest = match &raw.start.group_at_latest {
        Some(g) => Some(group_topic(
            file,
            "start.group_at_latest",
            &g.group,
            &g.topic,
        )?),
        None => None,
    };
    if let Goal::GroupReplayed { group, .. } = &goal
        && group_at_latest.as_ref() != Some(group)
    {
        return Err(ConfigError::at(
            file,
            raw.goal.referenced,
            "goal.group_replayed",
            format!(
                "group_replayed needs start.group_at_latest with the same group and topic \
                 ({} on {}): the replay is measured from where the drill puts it",
                group.group, group.topic
            ),
        ));
    }
    Ok(Drill {
        name: name.to_owned(),
        title: raw.title,
        brief: raw.brief,
        environment: raw.environment.value,
        start: DrillStart {
            unhealthy_images: raw.start.unhealthy_images,
            outage,
            group_at_latest,
        },
        goal,
        unsafe_commands: raw.unsafe_commands,
        unsafe_while_down: raw.unsafe_while_down,
        par: duration(&raw.par.value, raw.par.referenced, "par")?,
    })
}

/// A group and topic of a drill, each non-empty (what the Kafka tools would refuse is
/// checked by `environments.yaml`'s `consumer_groups`, which names them for real).
fn group_topic(
    file: &Path,
    path: &str,
    group: &Spanned<String>,
    topic: &Spanned<String>,
) -> Result<GroupTopic, ConfigError> {
    for (field, v) in [("group", group), ("topic", topic)] {
        if v.value.trim().is_empty() || v.value.chars().any(char::is_whitespace) {
            return Err(ConfigError::at(
                file,
                v.referenced,
                &format!("{path}.{field}"),
                format!(
                    "invalid {field} `{}`: it must be non-empty, without spaces",
                    v.value
                ),
            ));
        }
    }
    Ok(GroupTopic {
        group: group.value.clone(),
        topic: topic.value.clone(),
    })
}

/// Every drill: the built-in ones, then the config directory's `drills/*.yaml` (a file
/// of the same name replaces a built-in one), sorted by name.
pub fn load_drills(dir: Option<&Path>, environments: &[&str]) -> Result<Vec<Drill>, ConfigError> {
    let mut drills = Vec::new();
    for (name, file, text) in BUILTIN {
        drills.push(parse_drill(name, Path::new(file), text, environments)?);
    }
    if let Some(entries) = dir.and_then(|d| std::fs::read_dir(d.join("drills")).ok()) {
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for path in files {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            // Regular files under the config size limit only, as every config file.
            let text = rollcall_files::read_text(&path, rollcall_files::Kind::Config)
                .map_err(ConfigError::File)?;
            let drill = parse_drill(&name, &path, &text, environments)?;
            drills.retain(|d| d.name != name);
            drills.push(drill);
        }
    }
    drills.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(drills)
}

/// A drill by name, or the names there are.
pub fn find_drill(drills: Vec<Drill>, name: &str) -> Result<Drill, String> {
    let names: Vec<String> = drills.iter().map(|d| d.name.clone()).collect();
    drills
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("no drill `{name}` (known: {})", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_drills_parse() {
        let drills = load_drills(None, &["dev", "staging", "prod"]).unwrap();
        let names: Vec<&str> = drills.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "api-outage",
                "bad-canary",
                "bad-release-self-heal",
                "consumer-replayed-nothing",
                "dirty-migration"
            ]
        );
        let canary = drills.iter().find(|d| d.name == "bad-canary").unwrap();
        assert_eq!(canary.goal, Goal::RolloutAborted("customer-adapter".into()));
        let outage = drills.iter().find(|d| d.name == "api-outage").unwrap();
        assert_eq!(
            outage.start.outage,
            Some((SignedDuration::from_secs(20), SignedDuration::from_secs(60)))
        );
    }

    #[test]
    fn a_bad_drill_names_file_line_and_column() {
        let text = "title: t\nbrief: b\nenvironment: qa\ngoal: {migrations_clean: true}\npar: 1m\n";
        let err = parse_drill("x", Path::new("drills/x.yaml"), text, &["prod"]).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("drills/x.yaml:3:"), "{shown}");
        assert!(shown.contains("no environment `qa`"), "{shown}");
        let two = "title: t\nbrief: b\nenvironment: prod\ngoal: {migrations_clean: true, rollout_aborted: x}\npar: 1m\n";
        let err = parse_drill("x", Path::new("x.yaml"), two, &["prod"]).unwrap_err();
        assert!(err.to_string().contains("exactly one of"), "{err}");
    }
}
