//! up / down / goto / force with golang-migrate's semantics. A `Plan` is worked out
//! from the files and the recorded version before anything runs, so the confirm
//! dialog shows exactly the SQL that `execute` will send; `execute` re-reads the
//! version under the lock and refuses if the database moved since the plan was made.
//!
//! Per step, as golang-migrate's `runMigrations`: `SetVersion(target, dirty=true)`,
//! the SQL, `SetVersion(target, dirty=false)`. A failing step leaves `(target, dirty)`.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::source::{Direction, Source};
use super::store::{Db, LOCK_TIMEOUT, NIL_VERSION, Recorded};

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

pub fn dirty_error(version: i64) -> String {
    format!("Dirty database version {version}. Fix and force version.")
}

/// Works out the steps of `request` from `from`, or why it cannot run.
pub fn plan(source: &Source, from: Recorded, request: Request) -> Result<Plan, String> {
    if let Some(e) = &source.error {
        return Err(e.clone());
    }
    if source.is_unusable() {
        return Err(
            "the migrations directory has duplicate versions; golang-migrate refuses it".into(),
        );
    }
    if let Request::Force { version } = request {
        if version < NIL_VERSION {
            return Err("version must be >= -1".into());
        }
        return Ok(Plan {
            request,
            from,
            steps: Vec::new(),
        });
    }
    if from.dirty {
        return Err(dirty_error(from.version));
    }
    let current = from.applied();
    if let Some(v) = current
        && source.get(v).is_none()
    {
        return Err(format!(
            "version {v} recorded in the database has no migration file in {}",
            source.dir.display()
        ));
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
                return Err(format!("limit {n} short: only {} pending", steps.len()));
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
                return Err(format!("limit {n} short: only {} applied", steps.len()));
            }
        }
        Request::Goto { version } => {
            if source.get(version).is_none() {
                return Err(format!("file does not exist: no migration {version}"));
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
) -> Result<Outcome, String> {
    db.lock(lock_timeout.unwrap_or(LOCK_TIMEOUT)).await?;
    let result = run_locked(db, plan, progress).await;
    // Released on every path, as golang-migrate's deferred unlock.
    let unlocked = db.unlock().await;
    match (result, unlocked) {
        (Ok(o), Ok(())) => Ok(o),
        (Ok(_), Err(e)) => Err(format!("done, but unlocking failed: {e}")),
        (Err(e), _) => Err(e),
    }
}

async fn run_locked(
    db: &mut Db,
    plan: &Plan,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<Outcome, String> {
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
        return Err(dirty_error(now.version));
    }
    if now != plan.from {
        return Err(format!(
            "the database moved from version {} to {} since the preview; refresh and try again",
            plan.from.version, now.version
        ));
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
            return Err(format!(
                "{}: {e}. Database left at version {} dirty, as golang-migrate leaves it. {}",
                step.label(),
                step.target,
                recovery(step, before)
            ));
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

/// How to get out of the dirty state a failed step leaves.
fn recovery(step: &Step, before: i64) -> String {
    format!(
        "To recover: if its SQL rolled back as one transaction (the default), force {before} and fix {}; \
         if part of it was committed, repair the schema by hand, then force {} (or {before}).",
        step.label(),
        step.target
    )
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
