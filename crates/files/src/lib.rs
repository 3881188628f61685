//! Reads the files a person or another tool left on disk for rollcall (its config, the
//! kubeconfig, the Argo CD CLI's config, migration SQL) without trusting what they are.
//! A symlink to /dev/zero would otherwise be read until memory runs out, a FIFO would
//! block start-up forever, and a 200 MB file would be parsed before anyone said it was
//! wrong. Every loader goes through [`check`] (or [`read_text`], which uses it): the
//! path, after following symlinks, must be a regular file under its kind's limit, and it
//! is opened without blocking.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a file is for; each kind has its own size limit and its own word in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// rollcall's YAML config, a theme, a runbook's Job manifest, the Argo CD CLI's
    /// config, a CA bundle, the local ticks file.
    Config,
    /// A kubeconfig: certificates are inlined as base64, and one file may hold a fleet.
    Kubeconfig,
    /// A golang-migrate SQL file, which may carry data as well as schema changes.
    Migration,
}

impl Kind {
    /// The largest file of this kind that is read.
    ///
    /// Config: the built-in files are 33 KB together and the largest is 7.5 KB; 4 MiB is
    /// over 500 times that (thousands of services) while parsing stays well under a
    /// second. Kubeconfigs and migrations are written by other tools and can carry
    /// certificates (about 5 KB per context) or seed data: 16 MiB holds a kubeconfig for
    /// three thousand clusters and keeps the SQL lint's parse bounded.
    pub const fn limit(self) -> u64 {
        match self {
            Kind::Config => 4 * MIB,
            Kind::Kubeconfig | Kind::Migration => 16 * MIB,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Config => "a config file",
            Kind::Kubeconfig => "a kubeconfig",
            Kind::Migration => "a migration file",
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// Why a file was not read. `Display` is one line that starts with the path; `reason`
/// is the same without it, for messages that name the file themselves.
#[derive(Debug)]
pub enum ReadError {
    /// The path (after symlinks) is a FIFO, a device, a directory or a socket.
    NotRegular { path: PathBuf, what: &'static str },
    /// The file is larger than its kind's limit. `size` is what the file system said,
    /// or `None` when the file said less but more came (a growing or virtual file).
    TooLarge {
        path: PathBuf,
        size: Option<u64>,
        kind: Kind,
    },
    /// The bytes are not UTF-8.
    NotText { path: PathBuf, offset: usize },
    /// The operating system refused: missing, no permission, an I/O error.
    Io { path: PathBuf, error: io::Error },
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::NotText { path, .. }
            | ReadError::Io { path, .. } => path,
        }
    }

    /// True when there is no file at the path (callers treat that as "not configured").
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }

    /// What is wrong, without the path.
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotRegular { what, .. } => format!("not a regular file ({what})"),
            ReadError::TooLarge { size, kind, .. } => {
                let size = match size {
                    // Just over: rounded, it would read as the limit itself.
                    Some(size) if human(*size) == human(kind.limit()) => format!("{size} bytes"),
                    Some(size) => human(*size),
                    None => format!("more than {}", human(kind.limit())),
                };
                format!(
                    "{size} is over the {} limit for {}",
                    human(kind.limit()),
                    kind.noun()
                )
            }
            ReadError::NotText { offset, .. } => {
                format!("not UTF-8 text (invalid byte at offset {offset})")
            }
            ReadError::Io { error, .. } => error.to_string(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.reason())
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Checks that `path` is a regular file (after symlinks) no larger than `kind`'s limit,
/// without opening it. For files another library reads itself (the kubeconfig).
pub fn check(path: &Path, kind: Kind) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(|error| io_error(path, error))?;
    admit(path, &meta, kind)
}

/// Reads `path` as UTF-8 text after [`check`]ing it. The file is opened without
/// blocking and checked again once open, and never more than the limit is read, so a
/// file swapped or grown between the check and the read is refused all the same.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, ReadError> {
    check(path, kind)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| io_error(path, error))?;
    let meta = file.metadata().map_err(|error| io_error(path, error))?;
    admit(path, &meta, kind)?;
    let bytes = read_at_most(file, &meta, kind.limit()).map_err(|error| io_error(path, error))?;
    if bytes.len() as u64 > kind.limit() {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: None,
            kind,
        });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotText {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Up to `limit + 1` bytes, so a file longer than it said is caught.
fn read_at_most(file: File, meta: &Metadata, limit: u64) -> io::Result<Vec<u8>> {
    // The size said is a hint only: /proc files say 0.
    let hint = usize::try_from(meta.len().min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(hint);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn admit(path: &Path, meta: &Metadata, kind: Kind) -> Result<(), ReadError> {
    let file_type = meta.file_type();
    if !file_type.is_file() {
        let what = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a FIFO"
        } else if file_type.is_char_device() {
            "a character device"
        } else if file_type.is_block_device() {
            "a block device"
        } else if file_type.is_socket() {
            "a socket"
        } else {
            "an unknown kind of file"
        };
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            what,
        });
    }
    if meta.len() > kind.limit() {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: Some(meta.len()),
            kind,
        });
    }
    Ok(())
}

fn io_error(path: &Path, error: io::Error) -> ReadError {
    ReadError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// `512 bytes`, `3.5 KiB`, `190.7 MiB`, `4 MiB`: binary units, like the limits.
fn human(bytes: u64) -> String {
    let (value, unit) = match bytes {
        b if b >= 1024 * MIB => (b as f64 / (1024 * MIB) as f64, "GiB"),
        b if b >= MIB => (b as f64 / MIB as f64, "MiB"),
        b if b >= 1024 => (b as f64 / 1024.0, "KiB"),
        b => return format!("{b} bytes"),
    };
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

#[cfg(test)]
mod tests;
