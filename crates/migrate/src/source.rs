//! Migration files, named and ordered exactly as golang-migrate reads them:
//! `{version}_{title}.{up|down}.{ext}` with `version` a u64 (leading zeros ignored).
//! Unlike golang-migrate, which silently treats a missing half as an empty migration,
//! every irregularity is kept as a `SourceProblem` so the pane can show it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One version: its title and the SQL of each direction (None when the file is missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub version: u64,
    pub title: String,
    pub up: Option<String>,
    pub down: Option<String>,
    pub up_file: Option<String>,
    pub down_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceProblem {
    /// A file in the directory that golang-migrate would not accept as a migration.
    MalformedName {
        file: String,
        why: NameError,
    },
    /// Two files for the same version and direction; golang-migrate refuses the source.
    Duplicate {
        file: String,
        version: u64,
    },
    /// golang-migrate would move the version without running SQL; usually a mistake.
    MissingDown {
        version: u64,
    },
    MissingUp {
        version: u64,
    },
    /// A file that could not be read (permissions, not UTF-8, …).
    Unreadable {
        file: String,
        error: String,
    },
}

impl std::fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceProblem::MalformedName { file, why } => write!(f, "malformed name {file}: {why}"),
            SourceProblem::Duplicate { file, version } => write!(
                f,
                "duplicate migration file: {file} (version {version}); golang-migrate refuses this directory"
            ),
            SourceProblem::MissingDown { version } => write!(
                f,
                "version {version} has no .down file: down would move the version without running SQL"
            ),
            SourceProblem::MissingUp { version } => write!(
                f,
                "version {version} has no .up file: up would move the version without running SQL"
            ),
            SourceProblem::Unreadable { file, error } => write!(f, "cannot read {file}: {error}"),
        }
    }
}

/// A parsed migrations directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    pub dir: PathBuf,
    pub migrations: BTreeMap<u64, Migration>,
    pub problems: Vec<SourceProblem>,
    /// Set when the directory itself could not be listed.
    pub error: Option<String>,
}

/// Why a file name is not a golang-migrate migration name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("expected {{version}}_{{title}}.up.sql or .down.sql")]
    NoVersion,
    #[error("the version before `_` must be digits only")]
    NotDigits,
    #[error("the version does not fit in 64 bits")]
    TooLarge,
    #[error("expected `.up.` or `.down.` before the extension")]
    NoDirection,
    #[error("expected an extension after `.up.` / `.down.`")]
    NoExtension,
}

/// As its message, the words the JSON status and the pane show.
impl Serialize for NameError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The pieces of a golang-migrate file name, or why it is not one. Mirrors the regex
/// `^([0-9]+)_(.*)\.(down|up)\.(.*)$` (greedy title, so `a.up.b.up.sql` has title `a.up.b`).
pub fn parse_name(name: &str) -> Result<(u64, String, Direction), NameError> {
    let (digits, rest) = match name.find('_') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => return Err(NameError::NoVersion),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NameError::NotDigits);
    }
    let version: u64 = digits.parse().map_err(|_| NameError::TooLarge)?;
    // The greedy `(.*)` before `\.(down|up)\.` takes the last such marker.
    let up = rest.rfind(".up.");
    let down = rest.rfind(".down.");
    let (at, dir, len) = match (up, down) {
        (Some(u), Some(d)) if d > u => (d, Direction::Down, 6),
        (Some(u), _) => (u, Direction::Up, 4),
        (None, Some(d)) => (d, Direction::Down, 6),
        (None, None) => return Err(NameError::NoDirection),
    };
    if at + len > rest.len() {
        return Err(NameError::NoExtension);
    }
    Ok((version, rest[..at].to_owned(), dir))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// The letter golang-migrate prints per step (`3/u add_index`).
    pub fn letter(self) -> char {
        match self {
            Direction::Up => 'u',
            Direction::Down => 'd',
        }
    }
}

impl Source {
    /// Reads a directory. Never fails: problems are recorded in the result.
    pub fn read(dir: &Path) -> Source {
        let mut source = Source {
            dir: dir.to_path_buf(),
            ..Source::default()
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                source.error = Some(format!("cannot list {}: {e}", dir.display()));
                return source;
            }
        };
        // Symlinks are followed (a linked migration is a migration); what is not a
        // regular file is refused by the read, and said, rather than passed over.
        let mut files: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter(|e| !e.path().is_dir())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        files.sort();
        let texts = files.into_iter().map(|(name, path)| {
            let text = rollcall_files::read_text(&path, rollcall_files::Kind::Migration)
                .map_err(|e| e.reason());
            (name, text)
        });
        source.add_files(texts);
        source
    }

    /// Builds a source from (file name, contents) pairs; used by `read` and by tests.
    pub fn from_files<'a>(dir: &Path, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut source = Source {
            dir: dir.to_path_buf(),
            ..Source::default()
        };
        source.add_files(
            files
                .into_iter()
                .map(|(n, t)| (n.to_owned(), Ok(t.to_owned()))),
        );
        source
    }

    fn add_files(&mut self, files: impl IntoIterator<Item = (String, Result<String, String>)>) {
        for (name, text) in files {
            // Editor leftovers and READMEs are not migrations and not worth a warning.
            if name.starts_with('.') || name.ends_with(".md") || name.ends_with('~') {
                continue;
            }
            let (version, title, dir) = match parse_name(&name) {
                Ok(p) => p,
                Err(why) => {
                    self.problems
                        .push(SourceProblem::MalformedName { file: name, why });
                    continue;
                }
            };
            let text = match text {
                Ok(t) => t,
                // Kept as text: a problem is compared and cloned with the source.
                Err(error) => {
                    self.problems
                        .push(SourceProblem::Unreadable { file: name, error });
                    continue;
                }
            };
            let m = self.migrations.entry(version).or_insert_with(|| Migration {
                version,
                title: title.clone(),
                up: None,
                down: None,
                up_file: None,
                down_file: None,
            });
            // The up file names the migration; a lone down file names it otherwise.
            let retitle = dir == Direction::Up || m.up.is_none();
            let (slot, file) = match dir {
                Direction::Up => (&mut m.up, &mut m.up_file),
                Direction::Down => (&mut m.down, &mut m.down_file),
            };
            if slot.is_some() {
                self.problems.push(SourceProblem::Duplicate {
                    file: name,
                    version,
                });
                continue;
            }
            *slot = Some(text);
            *file = Some(name);
            if retitle {
                m.title = title;
            }
        }
        for m in self.migrations.values() {
            if m.up.is_none() {
                self.problems
                    .push(SourceProblem::MissingUp { version: m.version });
            }
            if m.down.is_none() {
                self.problems
                    .push(SourceProblem::MissingDown { version: m.version });
            }
        }
    }

    /// Whether golang-migrate would refuse to use this directory at all.
    pub fn is_unusable(&self) -> bool {
        self.error.is_some()
            || self
                .problems
                .iter()
                .any(|p| matches!(p, SourceProblem::Duplicate { .. }))
    }

    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations.get(&version)
    }

    /// The version before `version` in the source, or None below the first.
    pub fn prev(&self, version: u64) -> Option<u64> {
        self.migrations
            .range(..version)
            .next_back()
            .map(|(v, _)| *v)
    }

    /// The first version after `version` (or the first of all when None).
    pub fn next(&self, version: Option<u64>) -> Option<u64> {
        match version {
            None => self.migrations.keys().next().copied(),
            Some(v) => self
                .migrations
                .range(v.saturating_add(1)..)
                .next()
                .map(|(v, _)| *v)
                .filter(|n| *n > v),
        }
    }

    pub fn latest(&self) -> Option<u64> {
        self.migrations.keys().next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_golang_migrate_regex() {
        assert_eq!(
            parse_name("000001_create_users.up.sql"),
            Ok((1, "create_users".into(), Direction::Up))
        );
        assert_eq!(
            parse_name("20060102150405_x.down.sql"),
            Ok((20060102150405, "x".into(), Direction::Down))
        );
        assert_eq!(parse_name("3_.up.sql"), Ok((3, "".into(), Direction::Up)));
        assert_eq!(
            parse_name("4_a.up.b.down.sql"),
            Ok((4, "a.up.b".into(), Direction::Down))
        );
        assert!(parse_name("create.up.sql").is_err());
        assert!(parse_name("x1_a.up.sql").is_err());
        assert!(parse_name("1_a.sql").is_err());
        assert!(parse_name("99999999999999999999999_a.up.sql").is_err());
    }

    #[test]
    fn problems_are_reported() {
        let s = Source::from_files(
            Path::new("m"),
            [
                ("1_a.up.sql", "x"),
                ("1_a.down.sql", "y"),
                ("001_b.up.sql", "dup"),
                ("2_c.up.sql", "z"),
                ("notes.txt", ""),
            ],
        );
        assert_eq!(s.migrations.len(), 2);
        assert!(s.is_unusable());
        assert!(
            s.problems
                .contains(&SourceProblem::MissingDown { version: 2 })
        );
        assert!(s.problems.iter().any(
            |p| matches!(p, SourceProblem::MalformedName { file, .. } if file == "notes.txt")
        ));
        assert_eq!(s.prev(2), Some(1));
        assert_eq!(s.prev(1), None);
        assert_eq!(s.next(None), Some(1));
        assert_eq!(s.next(Some(1)), Some(2));
        assert_eq!(s.next(Some(2)), None);
    }

    #[test]
    fn a_directory_follows_symlinks_and_says_what_it_will_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("1_a.up.sql", "CREATE TABLE a (id int);");
        write("1_a.down.sql", "DROP TABLE a;");
        // A migration kept elsewhere and linked in is read like any other.
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("b.sql"), "CREATE TABLE b (id int);").unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path().join("b.sql"),
            dir.path().join("2_b.up.sql"),
        )
        .unwrap();
        write("2_b.down.sql", "DROP TABLE b;");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("3_c.up.sql")).unwrap();
        let fifo = dir.path().join("3_c.down.sql");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let big = std::fs::File::create(dir.path().join("4_d.up.sql")).unwrap();
        big.set_len(rollcall_files::Kind::Migration.limit() + 1)
            .unwrap();

        let s = Source::read(dir.path());
        assert_eq!(
            s.get(2).and_then(|m| m.up.as_deref()),
            Some("CREATE TABLE b (id int);")
        );
        let unreadable: Vec<String> = s
            .problems
            .iter()
            .filter(|p| matches!(p, SourceProblem::Unreadable { .. }))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            unreadable,
            [
                "cannot read 3_c.down.sql: not a regular file (a FIFO)",
                "cannot read 3_c.up.sql: not a regular file (a character device)",
                "cannot read 4_d.up.sql: 16777217 bytes is over the 16 MiB limit for a migration file",
            ]
        );
    }
}
