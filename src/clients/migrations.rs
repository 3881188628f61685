//! The executor-side status poller: one task per environment that re-reads the
//! migration files and the version row every few seconds (or at once when asked,
//! after an operation) and emits an event only when something changed. It keeps one
//! connection open and reconnects after an error, so a poll costs two small queries;
//! a SQLite file replaced under it (a reseeded database) is opened again, as the open
//! connection would go on reading the old, unlinked one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::config::ResolveError;
use crate::domain::migrations::{MigrationUpdate, SourceSnapshot, StatusError};
use rollcall_migrate::ExecError;
use rollcall_migrate::source::Source;
use rollcall_migrate::status;
use rollcall_migrate::store::{Db, DbError};
use rollcall_migrate::url::DbUrl;

pub const INTERVAL: Duration = Duration::from_secs(2);

/// What the bus and the poller share about one environment's database.
#[derive(Debug, Clone)]
pub struct Target {
    pub env: usize,
    pub url: Result<DbUrl, ResolveError>,
    pub migrations: std::path::PathBuf,
    /// Wakes the poller early (after an operation).
    pub refresh: Arc<Notify>,
}

/// Why a migration command did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Url(#[from] ResolveError),
    #[error(transparent)]
    Connect(#[from] DbError),
    #[error(transparent)]
    Execute(#[from] ExecError),
}

/// Migration files, status or progress of one environment.
#[derive(Debug)]
pub struct MigrationItem {
    /// Index of the environment in the config.
    pub env: usize,
    pub update: MigrationUpdate,
}

pub fn spawn<E: From<MigrationItem> + Send + 'static>(
    target: Target,
    events: mpsc::Sender<E>,
    clock: crate::domain::Clock,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_source: Option<Source> = None;
        let mut last_status = None;
        let mut db: Option<Db> = None;
        // The file the open connection reads (SQLite only).
        let mut opened: Option<FileId> = None;
        loop {
            let dir = target.migrations.clone();
            // File reads are blocking; keep them off the async workers.
            let source = tokio::task::spawn_blocking(move || Source::read(&dir))
                .await
                .unwrap_or_default();
            if last_source.as_ref() != Some(&source) {
                let snap = {
                    let s = source.clone();
                    tokio::task::spawn_blocking(move || SourceSnapshot::new(s))
                        .await
                        .ok()
                };
                if let Some(snap) = snap {
                    last_source = Some(source);
                    let update = MigrationUpdate::Source(Arc::new(snap));
                    if send(&events, target.env, update).await.is_err() {
                        return;
                    }
                }
            }
            let result: Result<_, StatusError> = match &target.url {
                Err(e) => Err(e.clone().into()),
                Ok(url) => {
                    let file = file_id(url);
                    let conn = match db.take() {
                        Some(conn) if file == opened => Ok(conn),
                        stale => {
                            if let Some(conn) = stale {
                                conn.close().await;
                            }
                            opened = file;
                            Db::connect(url, false).await
                        }
                    };
                    match conn {
                        Ok(mut conn) => {
                            let read = status::read(&mut conn).await;
                            db = Some(conn);
                            read.map_err(Into::into)
                        }
                        Err(e) => Err(e.into()),
                    }
                }
            };
            if result.is_err()
                && let Some(conn) = db.take()
            {
                conn.close().await;
            }
            if last_status.as_ref() != Some(&result) {
                last_status = Some(result.clone());
                let update = MigrationUpdate::Status {
                    at: clock(),
                    status: result,
                };
                if send(&events, target.env, update).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = target.refresh.notified() => {}
            }
        }
    })
}

/// Which file a SQLite URL names right now: its device and inode, so a file replaced
/// by another (same path, new inode) is told apart from one written in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

fn file_id(url: &DbUrl) -> Option<FileId> {
    let meta = std::fs::metadata(url.sqlite_path()?).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FileId(meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        // No inode: a new file has a new creation time.
        let created = meta
            .created()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(FileId(created.as_secs(), u64::from(created.subsec_nanos())))
    }
}

async fn send<E: From<MigrationItem>>(
    events: &mpsc::Sender<E>,
    env: usize,
    update: MigrationUpdate,
) -> Result<(), mpsc::error::SendError<E>> {
    events.send(MigrationItem { env, update }.into()).await
}

/// Runs one confirmed migration command (from the bus executor): connects, executes
/// the plan under the lock, streams each step as progress, then wakes the poller so
/// the pane shows the new version at once.
pub async fn run_op<E: From<MigrationItem> + Send + 'static>(
    target: &Target,
    op: crate::domain::OpId,
    plan: &rollcall_migrate::Plan,
    events: &mpsc::Sender<E>,
) -> Result<String, RunError> {
    let url = target.url.clone()?;
    let mut db = Db::connect(&url, true).await?;
    let env = target.env;
    let tx = events.clone();
    let mut progress = move |line: String| {
        // Progress is best effort: a full channel must not stall the migration.
        let _ = tx.try_send(
            MigrationItem {
                env,
                update: MigrationUpdate::Progress { op, line },
            }
            .into(),
        );
    };
    let result = rollcall_migrate::execute(&mut db, plan, None, &mut progress).await;
    db.close().await;
    target.refresh.notify_one();
    let outcome = result?;
    let steps = outcome.lines.join(", ");
    Ok(format!("{steps}; now at version {}", outcome.version))
}

/// One target per environment that has a `database:` in config, by environment name.
pub fn targets(envs: &[crate::config::Environment]) -> std::collections::HashMap<String, Target> {
    envs.iter()
        .enumerate()
        .filter_map(|(env, e)| {
            let db = e.database.as_ref()?;
            Some((
                e.name.clone(),
                Target {
                    env,
                    url: db.resolve(),
                    migrations: db.migrations.clone(),
                    refresh: Arc::new(Notify::new()),
                },
            ))
        })
        .collect()
}
