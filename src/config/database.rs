//! An environment's migration database (`database:` in environments.yaml): the URL,
//! given inline or through an environment variable it names, and the migrations
//! directory. URLs are held as `DbUrl`, whose Debug and Display redact the password.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;
use rollcall_migrate::{DbUrl, UnsupportedUrl};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Given inline in the file.
    pub url: Option<DbUrl>,
    /// The environment variable that holds the URL (read when it is needed).
    pub url_env: Option<String>,
    /// golang-migrate's `-path`: where the `{version}_{title}.up.sql` files are.
    pub migrations: PathBuf,
}

/// Why an environment has no database URL to connect to. Never includes the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("${var}: {source}")]
    Invalid {
        var: String,
        #[source]
        source: UnsupportedUrl,
    },
    #[error("set ${var} to this environment's database URL")]
    Unset { var: String },
}

impl Database {
    /// The URL to connect to, or why there is none.
    pub fn resolve(&self) -> Result<DbUrl, ResolveError> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let var = self.url_env.clone().unwrap_or_default();
        match std::env::var(&var) {
            Ok(v) if !v.trim().is_empty() => {
                DbUrl::parse(&v).map_err(|source| ResolveError::Invalid { var, source })
            }
            _ => Err(ResolveError::Unset { var }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatabase {
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    url_env: Option<Spanned<String>>,
    migrations: Spanned<String>,
}

impl RawDatabase {
    pub(crate) fn validate(self, file: &Path, path: &str) -> Result<Database, ConfigError> {
        let url = match self.url {
            Some(u) => Some(DbUrl::parse(&u.value).map_err(|why| {
                ConfigError::at(file, u.referenced, &format!("{path}.url"), why.to_string())
            })?),
            None => None,
        };
        let url_env = match self.url_env {
            Some(v) if v.value.trim().is_empty() || v.value.contains(['=', '\0', ' ']) => {
                return Err(ConfigError::at(
                    file,
                    v.referenced,
                    &format!("{path}.url_env"),
                    format!("`{}` is not an environment variable name", v.value),
                ));
            }
            other => other.map(|v| v.value),
        };
        if url.is_some() == url_env.is_some() {
            return Err(ConfigError::at(
                file,
                self.migrations.referenced,
                path,
                "expected exactly one of `url` and `url_env` (the variable that holds the URL)",
            ));
        }
        if self.migrations.value.trim().is_empty() {
            return Err(ConfigError::at(
                file,
                self.migrations.referenced,
                &format!("{path}.migrations"),
                "empty migrations directory",
            ));
        }
        Ok(Database {
            url,
            url_env,
            migrations: PathBuf::from(self.migrations.value),
        })
    }
}
