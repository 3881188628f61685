//! The one error type of the config layer. Every message names the file and, where the
//! parser can tell, the line and column, so a user can fix a bad file without guessing;
//! when no position is known the YAML path (`environments[2].namespace`) stands in.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// 1-based line and column.
    Position { line: u64, column: u64 },
    /// A YAML path such as `environments[2].namespace`, when no position is known.
    Path(String),
    /// The file as a whole.
    File,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Position { line, column } => write!(f, ":{line}:{column}"),
            At::Path(path) => write!(f, ": {path}"),
            At::File => Ok(()),
        }
    }
}

impl At {
    /// A position from a parser location, falling back to `path` when it is unknown.
    pub(crate) fn from_location(location: serde_saphyr::Location, path: &str) -> At {
        if location.line() == 0 {
            if path.is_empty() {
                At::File
            } else {
                At::Path(path.to_owned())
            }
        } else {
            At::Position {
                line: location.line(),
                column: location.column(),
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or directory could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A file that is not a regular file, is over the size limit, or is not text: the
    /// message is one line that names the file.
    #[error("{0}")]
    File(rollcall_files::ReadError),
    /// A file is not valid YAML, does not have the expected shape, or holds a value
    /// that fails validation.
    #[error("{}{at}: {message}", file.display())]
    Invalid {
        file: PathBuf,
        at: At,
        message: String,
    },
    /// `--theme NAME` names no built-in theme and no file in the config directory.
    #[error("unknown theme `{name}`; available themes: {}", available.join(", "))]
    UnknownTheme {
        name: String,
        available: Vec<String>,
    },
}

impl ConfigError {
    pub(crate) fn invalid(file: &Path, at: At, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: file.to_path_buf(),
            at,
            message: message.into(),
        }
    }

    /// An error at a parser location, or at `path` when the location is unknown.
    pub(crate) fn at(
        file: &Path,
        location: serde_saphyr::Location,
        path: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::invalid(file, At::from_location(location, path), message)
    }

    /// The file the error is about, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            ConfigError::Io { path, .. } => Some(path),
            ConfigError::File(error) => Some(error.path()),
            ConfigError::Invalid { file, .. } => Some(file),
            ConfigError::UnknownTheme { .. } => None,
        }
    }

    /// The 1-based line and column the error points at, if known.
    pub fn line_column(&self) -> Option<(u64, u64)> {
        match self {
            ConfigError::Invalid {
                at: At::Position { line, column },
                ..
            } => Some((*line, *column)),
            _ => None,
        }
    }
}
