//! How a mutation is confirmed in an environment (`confirm:` in environments.yaml):
//! escalating actions (promote, set image, rollback, sync, migrate, …) and de-escalating
//! ones (abort, pause, terminate) each take either the target's name typed or one key.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;

/// What confirming takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// The target's name, typed.
    Typed,
    /// Enter.
    Key,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmPolicy {
    pub escalating: Confirm,
    pub de_escalating: Confirm,
}

impl ConfirmPolicy {
    /// Production types the name of what it changes; stopping harm takes one key
    /// everywhere, since mid-incident every keystroke counts.
    pub fn default_for(production: bool) -> Self {
        ConfirmPolicy {
            escalating: if production {
                Confirm::Typed
            } else {
                Confirm::Key
            },
            de_escalating: Confirm::Key,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfirm {
    #[serde(default)]
    escalating: Option<Spanned<String>>,
    #[serde(default)]
    de_escalating: Option<Spanned<String>>,
}

impl RawConfirm {
    pub(crate) fn validate(
        self,
        file: &Path,
        path: &str,
        production: bool,
    ) -> Result<ConfirmPolicy, ConfigError> {
        let default = ConfirmPolicy::default_for(production);
        let one = |field: &str, v: Option<Spanned<String>>, d: Confirm| match v {
            None => Ok(d),
            Some(v) => match v.value.as_str() {
                "typed" => Ok(Confirm::Typed),
                "key" => Ok(Confirm::Key),
                other => Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.{field}"),
                    format!("unknown confirmation `{other}`, expected typed or key"),
                )),
            },
        };
        Ok(ConfirmPolicy {
            escalating: one("escalating", self.escalating, default.escalating)?,
            de_escalating: one("de_escalating", self.de_escalating, default.de_escalating)?,
        })
    }
}
