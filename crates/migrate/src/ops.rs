//! up / down / goto / force with golang-migrate's semantics. A `Plan` is worked out
//! from the files and the recorded version before anything runs, so the confirm
//! dialog shows exactly the SQL that `execute` will send; `execute` re-reads the
//! version under the lock and refuses if the database moved since the plan was made.
//!
//! Per step, as golang-migrate's `runMigrations`: `SetVersion(target, dirty=true)`,
//! the SQL, `SetVersion(target, dirty=false)`. A failing step leaves `(target, dirty)`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::source::{Direction, Source};
use super::store::{Db, DbError, LOCK_TIMEOUT, NIL_VERSION, Recorded};

/// What the user asked for, in golang-migrate's CLI terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Request {
    /// `up` (all pending) or `up N`.
    Up { n: Option<u64> },
    /// `down N` (rollcall offers down 1).
    Down { n: u64 },
    /// `goto V`.
    Goto { version: u64 },
    /// `force V`: records V clean, runs no SQL, ignores dirty.
    Force { version: i64 },
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Up { n: None } => write!(f, "up"),
            Request::Up { n: Some(n) } => write!(f, "up {n}"),
            Request::Down { n } => write!(f, "down {n}"),
            Request::Goto { version } => write!(f, "goto {version}"),
            Request::Force { version } => write!(f, "force {version}"),
        }
    }
}

/// One migration to run: the file's version and title, its direction, the version
/// recorded while and after it runs, and its SQL (None: golang-migrate's "empty"
/// migration for a missing file, which moves the version without SQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub version: u64,
    pub title: String,
    pub direction: Direction,
    pub target: i64,
    /// Not in the audit log: the files are versioned; the log names them.
    #[serde(skip)]
    pub sql: Option<String>,
}

impl Step {
    /// golang-migrate's log line prefix: `3/u add_index`.
    pub fn label(&self) -> String {
        format!(
            "{}/{} {}",
            self.version,
            self.direction.letter(),
            self.title
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub request: Request,
    /// The version the plan starts from; `execute` refuses if the database moved.
    pub from: Recorded,
    pub steps: Vec<Step>,
}

impl Plan {
    /// The SQL the plan runs, for the confirm dialog.
    pub fn preview(&self) -> String {
        if let Request::Force { version } = self.request {
            return format!(
                "-- force {version}: no migration SQL runs.\n-- schema_migrations becomes ({version}, dirty=false):\nTRUNCATE schema_migrations;\n{}",
                if version >= 0 {
                    format!(
                        "INSERT INTO schema_migrations (version, dirty) VALUES ({version}, false);"
                    )
                } else {
                    "-- (no row: no migration applied)".to_owned()
                }
            );
        }
        let mut out = String::new();
        for s in &self.steps {
            out.push_str(&format!("-- {} → version {}\n", s.label(), s.target));
            match &s.sql {
                Some(sql) => {
                    out.push_str(sql.trim_end());
                    out.push('\n');
                }
                None => out.push_str("-- (no file: the version moves, no SQL runs)\n"),
            }
        }
        out
    }

    pub fn final_version(&self) -> i64 {
        match self.request {
            Request::Force { version } => version,
            _ => self
                .steps
                .last()
                .map(|s| s.target)
                .unwrap_or(self.from.version),
        }
    }
}

/// golang-migrate's refusal of everything but force on a dirty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Dirty database version {version}. Fix and force version.")]
pub struct Dirty {
    pub version: i64,
}

/// Why a request cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The migrations directory could not be listed; the source's own words.
    #[error("{0}")]
    Unlisted(String),
    #[error("the migrations directory has duplicate versions; golang-migrate refuses it")]
    Duplicates,
    #[error("version must be >= -1")]
    BelowNil,
    #[error(transparent)]
    Dirty(#[from] Dirty),
    #[error("version {version} recorded in the database has no migration file in {}", .dir.display())]
    NoFileForRecorded { version: u64, dir: PathBuf },
    #[error("limit {n} short: only {pending} pending")]
    UpShort { n: u64, pending: usize },
    #[error("limit {n} short: only {applied} applied")]
    DownShort { n: u64, applied: usize },
    #[error("file does not exist: no migration {0}")]
    NoSuchFile(u64),
}

/// Why `execute` did not take a plan to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("done, but unlocking failed: {0}")]
    Unlock(#[source] DbError),
    #[error(transparent)]
    Dirty(#[from] Dirty),
    /// The recorded version is no longer the one the plan started from.
    #[error(
        "the database moved from version {from} to {now} since the preview; refresh and try again"
    )]
    Moved { from: i64, now: i64 },
    /// A step's SQL failed and left `(target, dirty)`; the message says how to recover.
    #[error(
        "{label}: {source}. Database left at version {target} dirty, as golang-migrate leaves \
         it. To recover: if its SQL rolled back as one transaction (the default), force \
         {before} and fix {label}; if part of it was committed, repair the schema by hand, \
         then force {target} (or {before})."
    )]
    Step {
        label: String,
        target: i64,
        before: i64,
        #[source]
        source: DbError,
    },
}

/// Works out the steps of `request` from `from`, or why it cannot run.
pub fn plan(source: &Source, from: Recorded, request: Request) -> Result<Plan, PlanError> {
    if let Some(e) = &source.error {
        return Err(PlanError::Unlisted(e.clone()));
    }
    if source.is_unusable() {
        return Err(PlanError::Duplicates);
    }
    if let Request::Force { version } = request {
        if version < NIL_VERSION {
            return Err(PlanError::BelowNil);
        }
        return Ok(Plan {
            request,
            from,
            steps: Vec::new(),
        });
    }
    if from.dirty {
        return Err(Dirty {
            version: from.version,
        }
        .into());
    }
    let current = from.applied();
    if let Some(v) = current
        && source.get(v).is_none()
    {
        return Err(PlanError::NoFileForRecorded {
            version: v,
            dir: source.dir.clone(),
        });
    }
    let up = |v: u64| -> Step {
        let m = source.get(v);
        Step {
            version: v,
            title: m.map(|m| m.title.clone()).unwrap_or_default(),
            direction: Direction::Up,
            target: v as i64,
            sql: m.and_then(|m| m.up.clone()),
        }
    };
    let down = |v: u64| -> Step {
        let m = source.get(v);
        Step {
            version: v,
            title: m.map(|m| m.title.clone()).unwrap_or_default(),
            direction: Direction::Down,
            target: source.prev(v).map(|p| p as i64).unwrap_or(NIL_VERSION),
            sql: m.and_then(|m| m.down.clone()),
        }
    };
    let mut steps = Vec::new();
    match request {
        Request::Up { n } => {
            let mut at = current;
            while let Some(next) = source.next(at) {
                if n.is_some_and(|n| steps.len() as u64 >= n) {
                    break;
                }
                steps.push(up(next));
                at = Some(next);
            }
            if let Some(n) = n
                && (steps.len() as u64) < n
            {
                let pending = steps.len();
                return Err(PlanError::UpShort { n, pending });
            }
        }
        Request::Down { n } => {
            let mut at = current;
            while let Some(v) = at {
                if steps.len() as u64 >= n {
                    break;
                }
                steps.push(down(v));
                at = source.prev(v);
            }
            if (steps.len() as u64) < n {
                let applied = steps.len();
                return Err(PlanError::DownShort { n, applied });
            }
        }
        Request::Goto { version } => {
            if source.get(version).is_none() {
                return Err(PlanError::NoSuchFile(version));
            }
            match current {
                Some(c) if c > version => {
                    let mut at = Some(c);
                    while let Some(v) = at.filter(|v| *v > version) {
                        steps.push(down(v));
                        at = source.prev(v);
                    }
                }
                _ => {
                    let mut at = current;
                    while let Some(next) = source.next(at).filter(|n| *n <= version) {
                        steps.push(up(next));
                        at = Some(next);
                    }
                }
            }
        }
        Request::Force { .. } => {}
    }
    Ok(Plan {
        request,
        from,
        steps,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub version: i64,
}

/// Runs a plan under the lock. `progress` gets golang-migrate's per-step lines.
/// On a SQL failure the database is left `(target, dirty)` and the error says how
/// to recover.
pub async fn execute(
    db: &mut Db,
    plan: &Plan,
    lock_timeout: Option<Duration>,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<Outcome, ExecError> {
    db.lock(lock_timeout.unwrap_or(LOCK_TIMEOUT)).await?;
    let result = run_locked(db, plan, progress).await;
    // Released on every path, as golang-migrate's deferred unlock.
    let unlocked = db.unlock().await;
    match (result, unlocked) {
        (Ok(o), Ok(())) => Ok(o),
        (Ok(_), Err(e)) => Err(ExecError::Unlock(e)),
        (Err(e), _) => Err(e),
    }
}

async fn run_locked(
    db: &mut Db,
    plan: &Plan,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<Outcome, ExecError> {
    db.ensure_table().await?;
    let now = db.version().await?.unwrap_or(Recorded::NIL);
    if let Request::Force { version } = plan.request {
        db.set_version(version, false).await?;
        let line = format!(
            "forced version {version} (was {}{})",
            now.version,
            if now.dirty { ", dirty" } else { "" }
        );
        progress(line.clone());
        return Ok(Outcome {
            lines: vec![line],
            version,
        });
    }
    if now.dirty {
        return Err(Dirty {
            version: now.version,
        }
        .into());
    }
    if now != plan.from {
        return Err(ExecError::Moved {
            from: plan.from.version,
            now: now.version,
        });
    }
    if plan.steps.is_empty() {
        progress("no change".into());
        return Ok(Outcome {
            lines: vec!["no change".into()],
            version: now.version,
        });
    }
    let mut lines = Vec::new();
    let mut before = now.version;
    for step in &plan.steps {
        let started = Instant::now();
        db.set_version(step.target, true).await?;
        if let Some(sql) = &step.sql
            && let Err(e) = db.run(sql).await
        {
            return Err(ExecError::Step {
                label: step.label(),
                target: step.target,
                before,
                source: e,
            });
        }
        db.set_version(step.target, false).await?;
        let line = format!("{} ({:.1?})", step.label(), started.elapsed());
        progress(line.clone());
        lines.push(line);
        before = step.target;
    }
    Ok(Outcome {
        lines,
        version: before,
    })
}

/// The confirm dialog's words for what a plan does.
pub fn effect(plan: &Plan) -> String {
    let from = if plan.from.dirty {
        format!("{} (dirty)", plan.from.version)
    } else {
        plan.from.version.to_string()
    };
    match plan.request {
        Request::Force { version } => format!(
            "Records version {version} as clean (was {from}); no migration SQL runs. \
             Make sure the schema really is at {version}. Holds the migration lock."
        ),
        _ if plan.steps.is_empty() => format!("No change: the database is at {from}."),
        _ => format!(
            "{} step(s), version {from} → {}, under golang-migrate's lock; each step marks the \
             version dirty, runs its SQL, then marks it clean. A failure leaves it dirty.",
            plan.steps.len(),
            plan.final_version()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_says_how_to_recover() {
        let e = ExecError::Step {
            label: "5/u broken".into(),
            target: 5,
            before: 4,
            source: DbError::Migration {
                message: "relation \"t\" does not exist".into(),
                line: Some(2),
            },
        };
        assert_eq!(
            e.to_string(),
            "5/u broken: migration failed: relation \"t\" does not exist in line 2. Database \
             left at version 5 dirty, as golang-migrate leaves it. To recover: if its SQL rolled \
             back as one transaction (the default), force 4 and fix 5/u broken; if part of it \
             was committed, repair the schema by hand, then force 5 (or 4)."
        );
        let unlocked = ExecError::Unlock(DbError::LockTimeout);
        assert_eq!(
            unlocked.to_string(),
            "done, but unlocking failed: timeout: can't acquire database lock"
        );
    }
}
