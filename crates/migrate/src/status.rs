//! A cheap status read of one environment's migration database: the recorded version,
//! dirty flag, who holds the lock and when the row last changed. Read-only: a status
//! read never creates the version table or the database file.

use jiff::Timestamp;
use serde::Serialize;

use super::store::{Db, DbError, Recorded};
use super::url::DbUrl;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbStatus {
    /// The URL with its password redacted.
    pub database: String,
    /// None when `schema_migrations` does not exist yet (nothing ever ran).
    pub recorded: Option<Recorded>,
    /// The PostgreSQL advisory lock key rollcall and `migrate` both take.
    pub lock_key: Option<u32>,
    pub locked_by: Option<String>,
    pub last_change: Option<Timestamp>,
    /// What `last_change` is: the row's commit time, or the file's write time.
    pub last_change_source: Option<&'static str>,
}

impl DbStatus {
    pub fn recorded(&self) -> Recorded {
        self.recorded.unwrap_or(Recorded::NIL)
    }
}

/// Reads the status over an open connection.
pub async fn read(db: &mut Db) -> Result<DbStatus, DbError> {
    let recorded = db.version().await?;
    let locked_by = db.lock_holder().await;
    let last = if recorded.is_some() {
        db.last_change().await
    } else {
        None
    };
    Ok(DbStatus {
        database: db.url().to_string(),
        recorded,
        lock_key: db.advisory_key(),
        locked_by,
        last_change: last.map(|(t, _)| t),
        last_change_source: last.map(|(_, s)| s),
    })
}

/// Connects, reads and closes: for the headless command and one-off checks.
pub async fn read_url(url: &DbUrl) -> Result<DbStatus, DbError> {
    let mut db = Db::connect(url, false).await?;
    let status = read(&mut db).await;
    db.close().await;
    status
}
