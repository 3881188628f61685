//! The migrations pane's views: per environment, the recorded version, dirty flag,
//! applied and pending migrations with their lint verdicts, derived from the files
//! (with their lint, computed off the UI thread) and the last status read.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::ResolveError;
use crate::domain::OpId;
use rollcall_migrate::{DbError, DbStatus, Source};
use rollcall_sqllint::{LintReport, Rule, Verdict};

/// The files of one environment's migrations directory and the lint of each up file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSnapshot {
    pub source: Source,
    pub lint: BTreeMap<u64, LintReport>,
}

impl SourceSnapshot {
    pub fn new(source: Source) -> Self {
        let lint = source
            .migrations
            .values()
            .filter_map(|m| {
                m.up.as_deref()
                    .map(|sql| (m.version, rollcall_sqllint::lint(sql)))
            })
            .collect();
        SourceSnapshot { source, lint }
    }
}

/// Why an environment's migration status is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Url(#[from] ResolveError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What the poller and the executor report about one environment's migrations.
#[derive(Debug, Clone)]
pub enum MigrationUpdate {
    Source(Arc<SourceSnapshot>),
    Status {
        at: Timestamp,
        status: Result<DbStatus, StatusError>,
    },
    /// One finished step of a running operation (`3/u add_index (12ms)`).
    Progress {
        op: OpId,
        line: String,
    },
}

/// Everything the pane knows about one environment's migrations.
#[derive(Debug, Clone, Default)]
pub struct EnvMigrations {
    /// None: the environment has no `database:` in config.
    pub database: Option<String>,
    pub source: Option<Arc<SourceSnapshot>>,
    pub status: Option<Result<DbStatus, StatusError>>,
    pub checked: Option<Timestamp>,
    /// The last lines of the running or last operation.
    pub progress: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowState {
    Applied,
    /// The recorded version, clean.
    Current,
    /// The recorded version, dirty: its step failed or was interrupted.
    Dirty,
    Pending,
    /// Recorded in the database but no file for it.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationRow {
    pub version: u64,
    pub title: String,
    pub state: RowState,
    /// Lint of the up SQL, for pending (and dirty) migrations.
    pub verdict: Option<Verdict>,
    pub rules: Vec<Rule>,
    pub has_down: bool,
}

/// One line per environment for the pane's top row and `rollcall migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationSummary {
    /// None when nothing is recorded (or the status is unknown).
    pub version: Option<i64>,
    pub title: Option<String>,
    pub dirty: bool,
    pub pending: usize,
    pub unsafe_pending: usize,
    /// Why the status is unknown, if it is.
    pub error: Option<String>,
    pub problems: Vec<String>,
}

impl EnvMigrations {
    /// The pane's starting point for an environment's `database:` config.
    pub fn configured(db: Option<&crate::config::Database>) -> Self {
        EnvMigrations {
            database: db.map(|d| match (&d.url, &d.url_env) {
                (Some(url), _) => url.to_string(),
                (None, Some(var)) => format!("${var}"),
                (None, None) => String::new(),
            }),
            ..EnvMigrations::default()
        }
    }

    pub fn recorded(&self) -> Option<rollcall_migrate::Recorded> {
        match &self.status {
            Some(Ok(s)) => Some(s.recorded()),
            _ => None,
        }
    }

    /// Rows in version order, with database versions missing from the files included.
    pub fn rows(&self) -> Vec<MigrationRow> {
        let Some(snap) = &self.source else {
            return Vec::new();
        };
        let recorded = self.recorded();
        let current = recorded.and_then(|r| r.applied());
        let dirty = recorded.is_some_and(|r| r.dirty);
        let mut rows: Vec<MigrationRow> = snap
            .source
            .migrations
            .values()
            .map(|m| {
                let state = match current {
                    Some(c) if m.version == c && dirty => RowState::Dirty,
                    Some(c) if m.version == c => RowState::Current,
                    Some(c) if m.version < c => RowState::Applied,
                    _ => RowState::Pending,
                };
                let report = snap.lint.get(&m.version);
                let linted = matches!(state, RowState::Pending | RowState::Dirty);
                MigrationRow {
                    version: m.version,
                    title: m.title.clone(),
                    state,
                    verdict: linted.then(|| report.map(|r| r.verdict())).flatten(),
                    rules: if linted {
                        report.map(|r| r.rules()).unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                    has_down: m.down.is_some(),
                }
            })
            .collect();
        if let Some(c) = current
            && snap.source.get(c).is_none()
        {
            let at = rows.partition_point(|r| r.version < c);
            rows.insert(
                at,
                MigrationRow {
                    version: c,
                    title: "(no file)".into(),
                    state: RowState::Missing,
                    verdict: None,
                    rules: Vec::new(),
                    has_down: false,
                },
            );
        }
        rows
    }

    pub fn summary(&self) -> MigrationSummary {
        let rows = self.rows();
        let recorded = self.recorded();
        let pending: Vec<&MigrationRow> = rows
            .iter()
            .filter(|r| r.state == RowState::Pending)
            .collect();
        let mut problems: Vec<String> = self
            .source
            .iter()
            .flat_map(|s| s.source.problems.iter().map(|p| p.to_string()))
            .collect();
        if let Some(e) = self.source.as_ref().and_then(|s| s.source.error.clone()) {
            problems.insert(0, e);
        }
        MigrationSummary {
            version: recorded.and_then(|r| (r.version >= 0 || r.dirty).then_some(r.version)),
            title: recorded
                .and_then(|r| r.applied())
                .and_then(|v| self.source.as_ref()?.source.get(v))
                .map(|m| m.title.clone()),
            dirty: recorded.is_some_and(|r| r.dirty),
            pending: pending.len(),
            unsafe_pending: pending
                .iter()
                .filter(|r| r.verdict == Some(Verdict::Unsafe))
                .count(),
            error: match (&self.database, &self.status) {
                (None, _) => Some("no database configured".into()),
                (_, Some(Err(e))) => Some(e.to_string()),
                (_, None) => Some("checking…".into()),
                _ => None,
            },
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_migrate::Recorded;
    use std::path::Path;

    fn env(version: i64, dirty: bool) -> EnvMigrations {
        let source = Source::from_files(
            Path::new("m"),
            [
                ("1_a.up.sql", "CREATE TABLE t (id int);"),
                ("1_a.down.sql", "DROP TABLE t;"),
                ("2_b.up.sql", "ALTER TABLE t DROP COLUMN id;"),
                ("2_b.down.sql", "SELECT 1;"),
            ],
        );
        EnvMigrations {
            database: Some("sqlite://x".into()),
            source: Some(Arc::new(SourceSnapshot::new(source))),
            status: Some(Ok(DbStatus {
                database: "sqlite://x".into(),
                recorded: Some(Recorded { version, dirty }),
                lock_key: None,
                locked_by: None,
                last_change: None,
                last_change_source: None,
            })),
            checked: None,
            progress: Vec::new(),
        }
    }

    #[test]
    fn rows_and_summary() {
        let e = env(1, false);
        let rows = e.rows();
        assert_eq!(rows[0].state, RowState::Current);
        assert_eq!(rows[1].state, RowState::Pending);
        assert_eq!(rows[1].verdict, Some(Verdict::Unsafe));
        let s = e.summary();
        assert_eq!(
            (s.version, s.pending, s.unsafe_pending, s.dirty),
            (Some(1), 1, 1, false)
        );
        let d = env(2, true);
        assert_eq!(d.rows()[1].state, RowState::Dirty);
        assert!(d.summary().dirty);
        let m = env(7, false);
        assert_eq!(m.rows().last().map(|r| r.state), Some(RowState::Missing));
        assert_eq!(env(-1, false).summary().version, None);
    }
}
