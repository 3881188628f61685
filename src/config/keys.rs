//! The key map (config/keys.yaml): which key triggers which action in normal mode.
//! The built-in file is the base; a user keys.yaml patches only the actions it names.
//! The help screen is built from `KeyMap::help`, so it always shows the live bindings.
//!
//! Generic over the action type: the app owns its actions (`app::Action` implements
//! `Bindable`); config only reads, checks and layers the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crossterm::event::KeyEvent;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::{At, ConfigError};
use super::key::Key;
use super::yaml::{OneOrMany, Ordered};
use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) const BUILTIN_FILE: &str = "config/keys.yaml";
pub(crate) const BUILTIN: &str = include_str!("../../config/keys.yaml");

/// An action a key can be bound to: named in keys.yaml by its serde name.
pub trait Bindable:
    Copy + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Every action, in the order the help screen lists them.
    const ALL: &'static [Self];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap<Action> {
    /// Keys per action, in `Action::ALL` order, in the order the file lists them.
    bindings: Vec<(Action, Vec<Key>)>,
    lookup: HashMap<Key, Action>,
}

impl<Action: Bindable> KeyMap<Action> {
    /// The built-in bindings.
    pub fn builtin() -> Result<Self, ConfigError> {
        let mut layers = Layers::<Action>::default();
        layers.apply(Path::new(BUILTIN_FILE), BUILTIN, false)?;
        layers.finish()
    }

    /// The built-in bindings patched by a user keys.yaml read from `file`.
    pub fn with_patch(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let mut layers = Layers::<Action>::default();
        layers.apply(Path::new(BUILTIN_FILE), BUILTIN, false)?;
        layers.apply(file, text, true)?;
        layers.finish()
    }

    /// The action a key press triggers in normal mode; `None` for unbound keys and
    /// key releases.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        self.lookup.get(&Key::from_event(key)?).copied()
    }

    /// The keys bound to `action`, spelled as in keys.yaml (`ctrl-c`, `shift-tab`).
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.keys(action).iter().map(Key::to_string).collect()
    }

    /// The keys bound to `action`.
    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, keys)| keys.as_slice())
    }

    /// Every bound action with its keys joined by ", ", in `Action::ALL` order.
    pub fn help(&self) -> Vec<(String, Action)> {
        self.bindings
            .iter()
            .filter(|(_, keys)| !keys.is_empty())
            .map(|(action, keys)| {
                let shown: Vec<String> = keys.iter().map(Key::to_string).collect();
                (shown.join(", "), *action)
            })
            .collect()
    }
}

impl<Action: Bindable> Default for KeyMap<Action> {
    /// The built-in bindings. The built-in file is tested to load, so the empty map
    /// this falls back to is never seen in practice.
    fn default() -> Self {
        KeyMap::builtin().unwrap_or_else(|err| {
            tracing::error!(%err, "built-in key map does not load");
            KeyMap {
                bindings: Action::ALL.iter().map(|a| (*a, Vec::new())).collect(),
                lookup: HashMap::new(),
            }
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "Action: Bindable")]
struct RawKeys<Action> {
    #[serde(default = "Ordered::default")]
    bindings: Ordered<Spanned<Action>, OneOrMany>,
}

impl<Action> Default for RawKeys<Action> {
    fn default() -> Self {
        RawKeys {
            bindings: Ordered::default(),
        }
    }
}

/// Where a binding was written, to point at it when it conflicts.
#[derive(Debug, Clone)]
struct Origin {
    file: PathBuf,
    location: Location,
    path: String,
    from_user: bool,
}

impl Origin {
    fn at(&self) -> At {
        At::from_location(self.location, &self.path)
    }
}

#[derive(Debug)]
struct Layers<Action> {
    bindings: HashMap<Action, Vec<(Key, Origin)>>,
}

impl<Action> Default for Layers<Action> {
    fn default() -> Self {
        Layers {
            bindings: HashMap::new(),
        }
    }
}

impl<Action: Bindable> Layers<Action> {
    /// Replaces the bindings of every action the file names.
    fn apply(&mut self, file: &Path, text: &str, from_user: bool) -> Result<(), ConfigError> {
        let raw: RawKeys<Action> = super::yaml::parse_or_default(file, text)?;
        for (action, specs) in raw.bindings.0 {
            let name = action_name(action.value);
            let mut keys: Vec<(Key, Origin)> = Vec::with_capacity(specs.items.len());
            for (i, spec) in specs.items.into_iter().enumerate() {
                let path = format!("bindings.{name}[{i}]");
                let key = Key::parse(&spec.value).map_err(|why| {
                    ConfigError::at(file, spec.referenced, &path, why.to_string())
                })?;
                if keys.iter().all(|(k, _)| *k != key) {
                    let origin = Origin {
                        file: file.to_path_buf(),
                        location: spec.referenced,
                        path,
                        from_user,
                    };
                    keys.push((key, origin));
                }
            }
            self.bindings.insert(action.value, keys);
        }
        Ok(())
    }

    /// Checks that no key does two things and builds the lookup table.
    fn finish(self) -> Result<KeyMap<Action>, ConfigError> {
        let mut lookup: HashMap<Key, (Action, &Origin)> = HashMap::new();
        for action in Action::ALL {
            for (key, origin) in self.bindings.get(action).into_iter().flatten() {
                if let Some((other, other_origin)) = lookup.get(key) {
                    // Point at the user's line: that is the one they can change.
                    let (here, there, here_action, there_action) =
                        if origin.from_user || !other_origin.from_user {
                            (origin, *other_origin, *action, *other)
                        } else {
                            (*other_origin, origin, *other, *action)
                        };
                    return Err(ConfigError::invalid(
                        &here.file,
                        here.at(),
                        format!(
                            "key `{key}` is bound to both `{}` and `{}` (at {}{}); a key can do \
                             only one thing in normal mode, so rebind `{}` too (`{}: []` \
                             unbinds it)",
                            action_name(here_action),
                            action_name(there_action),
                            there.file.display(),
                            there.at(),
                            action_name(there_action),
                            action_name(there_action),
                        ),
                    ));
                }
                lookup.insert(*key, (*action, origin));
            }
        }
        let bindings = Action::ALL
            .iter()
            .map(|action| {
                let keys = self.bindings.get(action).into_iter().flatten();
                (*action, keys.map(|(key, _)| *key).collect())
            })
            .collect();
        let lookup = lookup
            .into_iter()
            .map(|(key, (action, _))| (key, action))
            .collect();
        Ok(KeyMap { bindings, lookup })
    }
}

/// The keys.yaml spelling of an action (its serde name).
pub fn action_name<Action: Bindable>(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{action:?}"))
}
