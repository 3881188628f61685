//! The `schema_migrations` table and the migration lock, byte for byte as
//! golang-migrate uses them, over one sqlx connection (a session-level advisory lock
//! must be held by the session that runs the SQL).
//!
//! PostgreSQL: table `"<current_schema>"."schema_migrations" (version bigint not null
//! primary key, dirty boolean not null)`, 0 or 1 rows, and `pg_advisory_lock(key)` with
//! golang-migrate's key (`lock_key`). SQLite: table `schema_migrations (version uint64,
//! dirty bool)` plus unique index `version_unique`; golang-migrate's sqlite3 driver
//! locks with an in-memory flag only, so the matching lock here is process-wide
//! (`SQLITE_LOCKS`): rollcall's own runs are serialised; across processes, as with
//! `migrate`, only SQLite's own transaction locking applies.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection, Row};

use super::url::{DbKind, DbUrl, scrub};

pub const TABLE: &str = "schema_migrations";
/// golang-migrate's `-lock-timeout` default.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(15);
/// golang-migrate's `NilVersion`: no migration applied.
pub const NIL_VERSION: i64 = -1;
/// golang-migrate's `advisoryLockIDSalt`.
const LOCK_SALT: u32 = 1486364155;

/// The row of `schema_migrations` (`version == -1` when the table has no row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub version: i64,
    pub dirty: bool,
}

impl Recorded {
    pub const NIL: Recorded = Recorded {
        version: NIL_VERSION,
        dirty: false,
    };

    pub fn applied(&self) -> Option<u64> {
        u64::try_from(self.version).ok()
    }
}

/// golang-migrate's `GenerateAdvisoryLockId(db, schema, table)` (v4.15.0+):
/// `uint32(crc32.IEEE(schema + "\0" + table + "\0" + db) * salt)`.
pub fn lock_key(database: &str, schema: &str, table: &str) -> u32 {
    let joined = format!("{schema}\0{table}\0{database}");
    crc32_ieee(joined.as_bytes()).wrapping_mul(LOCK_SALT)
}

/// CRC-32 (IEEE 802.3, reflected, as Go's `crc32.ChecksumIEEE`). Bitwise: it runs
/// once per connection on a few dozen bytes.
pub fn crc32_ieee(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

static SQLITE_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn sqlite_lock(path: &str) -> Arc<tokio::sync::Mutex<()>> {
    let key = std::fs::canonicalize(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_owned());
    let mut map = SQLITE_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key).or_default().clone()
}

enum Conn {
    Pg {
        conn: PgConnection,
        schema: String,
        database: String,
        key: u32,
    },
    Sqlite {
        conn: SqliteConnection,
        path: String,
        guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    },
}

/// Why the database could not be reached, read or written. The driver's errors are kept
/// as text with the URL's password scrubbed, not as a `source`: sqlx's own message may
/// echo the connection string, and a status is cloned and compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Driver(String),
    #[error("no current schema: search_path names no existing schema")]
    NoSchema,
    #[error("{url}: no database file in the URL")]
    NoFile { url: DbUrl },
    #[error("unsupported database URL {url}")]
    Unsupported { url: DbUrl },
    /// golang-migrate's words when the lock stays taken past the timeout.
    #[error("timeout: can't acquire database lock")]
    LockTimeout,
    #[error("transaction commit failed: {0}")]
    Commit(String),
    /// golang-migrate's shape: `migration failed: <message> in line <L>`.
    #[error("migration failed: {message}{}", .line.map(|l| format!(" in line {l}")).unwrap_or_default())]
    Migration {
        message: String,
        line: Option<usize>,
    },
}

impl DbError {
    fn driver(e: &sqlx::Error, url: &DbUrl) -> DbError {
        DbError::Driver(scrub(&e.to_string(), url))
    }
}

/// One open migration database.
pub struct Db {
    url: DbUrl,
    conn: Conn,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl Db {
    /// Connects. `create` lets SQLite create a missing file (as `migrate` does);
    /// status reads pass false so a typo in a path never leaves an empty database.
    pub async fn connect(url: &DbUrl, create: bool) -> Result<Db, DbError> {
        let err = |e: sqlx::Error| DbError::driver(&e, url);
        let conn = match url.kind() {
            Some(DbKind::Postgres) => {
                let opts = PgConnectOptions::from_str(url.expose()).map_err(err)?;
                let mut conn = PgConnection::connect_with(&opts).await.map_err(err)?;
                let row = sqlx::query("SELECT CURRENT_SCHEMA()::text, CURRENT_DATABASE()::text")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(err)?;
                let schema: Option<String> = row.try_get(0).map_err(err)?;
                let database: String = row.try_get(1).map_err(err)?;
                let schema = schema.ok_or(DbError::NoSchema)?;
                let key = lock_key(&database, &schema, TABLE);
                Conn::Pg {
                    conn,
                    schema,
                    database,
                    key,
                }
            }
            Some(DbKind::Sqlite) => {
                let path = url.sqlite_path().unwrap_or_default();
                if path.is_empty() {
                    return Err(DbError::NoFile { url: url.clone() });
                }
                let opts = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(create)
                    .busy_timeout(Duration::from_secs(5));
                let conn = SqliteConnection::connect_with(&opts).await.map_err(err)?;
                Conn::Sqlite {
                    conn,
                    path,
                    guard: None,
                }
            }
            None => return Err(DbError::Unsupported { url: url.clone() }),
        };
        Ok(Db {
            url: url.clone(),
            conn,
        })
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// PostgreSQL only: (schema, database, lock key), the inputs and output of
    /// golang-migrate's lock key computation for this connection.
    pub fn pg_identity(&self) -> Option<(&str, &str, u32)> {
        match &self.conn {
            Conn::Pg {
                schema,
                database,
                key,
                ..
            } => Some((schema, database, *key)),
            Conn::Sqlite { .. } => None,
        }
    }

    /// The PostgreSQL advisory lock key, as golang-migrate computes it.
    pub fn advisory_key(&self) -> Option<u32> {
        match &self.conn {
            Conn::Pg { key, .. } => Some(*key),
            Conn::Sqlite { .. } => None,
        }
    }

    fn err(&self, e: sqlx::Error) -> DbError {
        DbError::driver(&e, &self.url)
    }

    pub async fn table_exists(&mut self) -> Result<bool, DbError> {
        let result = match &mut self.conn {
            Conn::Pg { conn, schema, .. } => sqlx::query(
                "SELECT COUNT(1) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
            )
            .bind(schema.as_str())
            .bind(TABLE)
            .fetch_one(conn)
            .await
            .and_then(|r| r.try_get::<i64, _>(0)),
            Conn::Sqlite { conn, .. } => {
                sqlx::query("SELECT COUNT(1) FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(TABLE)
                    .fetch_one(conn)
                    .await
                    .and_then(|r| r.try_get::<i64, _>(0))
            }
        };
        result.map(|n| n > 0).map_err(|e| self.err(e))
    }

    /// Creates the table as golang-migrate's `ensureVersionTable` does.
    pub async fn ensure_table(&mut self) -> Result<(), DbError> {
        if self.table_exists().await? {
            return Ok(());
        }
        let result = match &mut self.conn {
            Conn::Pg { conn, schema, .. } => {
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {}.{} (version bigint not null primary key, dirty boolean not null)",
                    quote(schema),
                    quote(TABLE)
                );
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(conn)
                    .await
                    .map(|_| ())
            }
            Conn::Sqlite { conn, .. } => {
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {TABLE} (version uint64,dirty bool);\n  CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON {TABLE} (version);"
                );
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(conn)
                    .await
                    .map(|_| ())
            }
        };
        result.map_err(|e| self.err(e))
    }

    fn table_ref(&self) -> String {
        match &self.conn {
            Conn::Pg { schema, .. } => format!("{}.{}", quote(schema), quote(TABLE)),
            Conn::Sqlite { .. } => TABLE.to_owned(),
        }
    }

    /// The recorded version; None when the table does not exist yet.
    pub async fn version(&mut self) -> Result<Option<Recorded>, DbError> {
        if !self.table_exists().await? {
            return Ok(None);
        }
        let sql = format!("SELECT version, dirty FROM {} LIMIT 1", self.table_ref());
        let row = match &mut self.conn {
            Conn::Pg { conn, .. } => sqlx::query(AssertSqlSafe(sql))
                .fetch_optional(conn)
                .await
                .and_then(|r| {
                    r.map(|r| {
                        Ok::<_, sqlx::Error>((r.try_get::<i64, _>(0)?, r.try_get::<bool, _>(1)?))
                    })
                    .transpose()
                }),
            Conn::Sqlite { conn, .. } => sqlx::query(AssertSqlSafe(sql))
                .fetch_optional(conn)
                .await
                .and_then(|r| {
                    // The Go driver stores bools as 0/1 integers; read them as such.
                    r.map(|r| {
                        Ok::<_, sqlx::Error>((
                            r.try_get::<i64, _>(0)?,
                            r.try_get::<i64, _>(1)? != 0,
                        ))
                    })
                    .transpose()
                }),
        };
        let row = row.map_err(|e| self.err(e))?;
        Ok(Some(match row {
            Some((version, dirty)) => Recorded { version, dirty },
            None => Recorded::NIL,
        }))
    }

    /// golang-migrate's `SetVersion`: in one transaction, empty the table, then insert
    /// the row unless it is (-1, clean).
    pub async fn set_version(&mut self, version: i64, dirty: bool) -> Result<(), DbError> {
        let table = self.table_ref();
        let insert = version >= 0 || (version == NIL_VERSION && dirty);
        let result: Result<(), sqlx::Error> = match &mut self.conn {
            Conn::Pg { conn, .. } => {
                async {
                    let mut tx = conn.begin().await?;
                    let r = async {
                        sqlx::query(AssertSqlSafe(format!("TRUNCATE {table}")))
                            .execute(&mut *tx)
                            .await?;
                        if insert {
                            sqlx::query(AssertSqlSafe(format!(
                                "INSERT INTO {table} (version, dirty) VALUES ($1, $2)"
                            )))
                            .bind(version)
                            .bind(dirty)
                            .execute(&mut *tx)
                            .await?;
                        }
                        Ok::<_, sqlx::Error>(())
                    }
                    .await;
                    match r {
                        Ok(()) => tx.commit().await,
                        Err(e) => Err(e),
                    }
                }
                .await
            }
            Conn::Sqlite { conn, .. } => {
                async {
                    let mut tx = conn.begin().await?;
                    let r = async {
                        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                            .execute(&mut *tx)
                            .await?;
                        if insert {
                            sqlx::query(AssertSqlSafe(format!(
                                "INSERT INTO {table} (version, dirty) VALUES (?, ?)"
                            )))
                            .bind(version)
                            .bind(dirty)
                            .execute(&mut *tx)
                            .await?;
                        }
                        Ok::<_, sqlx::Error>(())
                    }
                    .await;
                    match r {
                        Ok(()) => tx.commit().await,
                        Err(e) => Err(e),
                    }
                }
                .await
            }
        };
        result.map_err(|e| self.err(e))
    }

    /// Takes the migration lock, waiting at most `timeout` (then golang-migrate's
    /// `timeout: can't acquire database lock`).
    pub async fn lock(&mut self, timeout: Duration) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Pg { conn, key, .. } => {
                // lock_timeout bounds the blocking pg_advisory_lock server-side, so a
                // give-up never leaves a waiter behind that could take the lock later.
                let ms = format!("{}ms", timeout.as_millis().max(1));
                let r = async {
                    sqlx::query("SELECT set_config('lock_timeout', $1, false)")
                        .bind(ms)
                        .execute(&mut *conn)
                        .await?;
                    let locked = sqlx::query("SELECT pg_advisory_lock($1)")
                        .bind(i64::from(*key))
                        .execute(&mut *conn)
                        .await;
                    sqlx::query("RESET lock_timeout")
                        .execute(&mut *conn)
                        .await?;
                    locked
                }
                .await;
                match r {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                        Err(DbError::LockTimeout)
                    }
                    Err(e) => Err(DbError::driver(&e, &self.url)),
                }
            }
            Conn::Sqlite { path, guard, .. } => {
                if guard.is_some() {
                    return Ok(());
                }
                let mutex = sqlite_lock(path);
                match tokio::time::timeout(timeout, mutex.lock_owned()).await {
                    Ok(g) => {
                        *guard = Some(g);
                        Ok(())
                    }
                    Err(_) => Err(DbError::LockTimeout),
                }
            }
        }
    }

    pub async fn unlock(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Pg { conn, key, .. } => sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(i64::from(*key))
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(|e| DbError::driver(&e, &self.url)),
            Conn::Sqlite { guard, .. } => {
                guard.take();
                Ok(())
            }
        }
    }

    /// Who holds the migration lock right now, if anyone (cheap; for status).
    pub async fn lock_holder(&mut self) -> Option<String> {
        match &mut self.conn {
            Conn::Pg { conn, key, .. } => sqlx::query(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1::bigint::oid AND granted LIMIT 1",
            )
            .bind(i64::from(*key))
            .fetch_optional(conn)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.try_get::<i32, _>(0).ok())
            .map(|pid| format!("server pid {pid}")),
            Conn::Sqlite { path, guard, .. } => {
                let held = guard.is_some() || sqlite_lock(path).try_lock().is_err();
                held.then(|| "rollcall (this process)".to_owned())
            }
        }
    }

    /// Runs one migration body as golang-migrate does: PostgreSQL gets the whole file
    /// in one simple-protocol Exec (one implicit transaction); SQLite runs it inside
    /// an explicit transaction. The error names the line when the server says where.
    pub async fn run(&mut self, sql: &str) -> Result<(), DbError> {
        let url = self.url.clone();
        match &mut self.conn {
            Conn::Pg { conn, .. } => sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(conn)
                .await
                .map(|_| ())
                .map_err(|e| failure(sql, &e, &url)),
            Conn::Sqlite { conn, .. } => {
                let mut tx = conn.begin().await.map_err(|e| DbError::driver(&e, &url))?;
                match sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut *tx)
                    .await
                {
                    Ok(_) => tx
                        .commit()
                        .await
                        .map_err(|e| DbError::Commit(scrub(&e.to_string(), &url))),
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(failure(sql, &e, &url))
                    }
                }
            }
        }
    }

    /// When the version row last changed, where the database can tell: PostgreSQL's
    /// commit timestamp of the row (only with `track_commit_timestamp = on`), or the
    /// SQLite file's modification time (any write moves it).
    pub async fn last_change(&mut self) -> Option<(Timestamp, &'static str)> {
        let table = self.table_ref();
        match &mut self.conn {
            Conn::Pg { conn, .. } => {
                let sql = format!(
                    "SELECT extract(epoch from pg_xact_commit_timestamp(xmin))::float8 FROM {table} LIMIT 1"
                );
                let secs: f64 = sqlx::query(AssertSqlSafe(sql))
                    .fetch_optional(conn)
                    .await
                    .ok()??
                    .try_get::<Option<f64>, _>(0)
                    .ok()??;
                let ts = Timestamp::from_millisecond((secs * 1000.0) as i64).ok()?;
                Some((ts, "commit"))
            }
            Conn::Sqlite { path, .. } => {
                let modified = std::fs::metadata(path.as_str()).ok()?.modified().ok()?;
                let ts = Timestamp::try_from(modified).ok()?;
                Some((ts, "file written"))
            }
        }
    }

    pub async fn close(self) {
        match self.conn {
            Conn::Pg { conn, .. } => {
                let _ = conn.close().await;
            }
            Conn::Sqlite { conn, .. } => {
                let _ = conn.close().await;
            }
        }
    }
}

/// The failure of a migration's SQL, with the line when the server says where.
fn failure(sql: &str, e: &sqlx::Error, url: &DbUrl) -> DbError {
    let (message, line) = match e {
        sqlx::Error::Database(db) => {
            let line = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| match pg.position() {
                    Some(sqlx::postgres::PgErrorPosition::Original(pos)) => Some(
                        sql.chars()
                            .take(pos.saturating_sub(1))
                            .filter(|c| *c == '\n')
                            .count()
                            + 1,
                    ),
                    _ => None,
                });
            (db.message().to_owned(), line)
        }
        other => (other.to_string(), None),
    };
    DbError::Migration {
        message: scrub(&message, url),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_key_matches_the_reference_vectors() {
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            lock_key("postgres", "public", "schema_migrations"),
            143310882
        );
        assert_eq!(lock_key("app", "public", "schema_migrations"), 1787120056);
    }
}
