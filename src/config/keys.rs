//! The key map (config/keys.yaml): which key triggers which `Action` in normal mode.
//! The built-in file is the base; a user keys.yaml patches only the actions it names.
//! The help screen is built from `KeyMap::help`, so it always shows the live bindings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crossterm::event::KeyEvent;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::{At, ConfigError};
use super::key::Key;
use super::yaml::{OneOrMany, Ordered};
use crate::app::Action;

pub(crate) const BUILTIN_FILE: &str = "config/keys.yaml";
pub(crate) const BUILTIN: &str = include_str!("../../config/keys.yaml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    /// Keys per action, in `Action::ALL` order, in the order the file lists them.
    bindings: Vec<(Action, Vec<Key>)>,
    lookup: HashMap<Key, Action>,
}

impl KeyMap {
    /// The built-in bindings.
    pub fn builtin() -> Result<KeyMap, ConfigError> {
        let mut layers = Layers::default();
        layers.apply(Path::new(BUILTIN_FILE), BUILTIN, false)?;
        layers.finish()
    }

    /// The built-in bindings patched by a user keys.yaml read from `file`.
    pub fn with_patch(file: &Path, text: &str) -> Result<KeyMap, ConfigError> {
        let mut layers = Layers::default();
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

impl Default for KeyMap {
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    #[serde(default)]
    bindings: Ordered<Spanned<Action>, OneOrMany>,
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

#[derive(Debug, Default)]
struct Layers {
    bindings: HashMap<Action, Vec<(Key, Origin)>>,
}

impl Layers {
    /// Replaces the bindings of every action the file names.
    fn apply(&mut self, file: &Path, text: &str, from_user: bool) -> Result<(), ConfigError> {
        let raw: RawKeys = super::yaml::parse_or_default(file, text)?;
        for (action, specs) in raw.bindings.0 {
            let name = action_name(action.value);
            let mut keys: Vec<(Key, Origin)> = Vec::with_capacity(specs.items.len());
            for (i, spec) in specs.items.into_iter().enumerate() {
                let path = format!("bindings.{name}[{i}]");
                let key = Key::parse(&spec.value)
                    .map_err(|why| ConfigError::at(file, spec.referenced, &path, why))?;
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
    fn finish(self) -> Result<KeyMap, ConfigError> {
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
pub fn action_name(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{action:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn builtin_binds_every_action() {
        let map = KeyMap::builtin().expect("built-in keys load");
        for action in Action::ALL {
            assert!(!map.keys(*action).is_empty(), "{action:?} has no key");
        }
        assert_eq!(map.help().len(), Action::ALL.len());
        assert_eq!(map.help()[0], ("q, ctrl-c".to_owned(), Action::Quit));
    }

    #[test]
    fn builtin_lookups() {
        let map = KeyMap::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.action(&press(KeyCode::Char('q'), none)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('g'), none)),
            Some(Action::Top)
        );
        assert_eq!(map.action(&press(KeyCode::Char('x'), none)), None);
        assert_eq!(map.keys_for(Action::PageDown), vec!["pgdn", "ctrl-f"]);
    }

    #[test]
    fn action_names_are_kebab_case() {
        assert_eq!(action_name(Action::RestartDeployment), "restart-deployment");
    }
}
