//! golang-migrate compatibility on SQLite: the version table as the sqlite3 driver
//! creates it, and status / up / down / goto / force / dirty / lock behaviour.

use rollcall_migrate::store::Recorded;
use rollcall_migrate::{Db, DbUrl};
use rollcall_testkit::migrate::*;
use sqlx::{Connection, Row};

fn fresh() -> (tempfile::TempDir, DbUrl) {
    let dir = tempfile::tempdir().unwrap();
    let url = DbUrl::parse(&format!(
        "sqlite3://{}",
        dir.path().join("app.db").display()
    ))
    .unwrap();
    (dir, url)
}

#[tokio::test]
async fn up_down_goto_force_on_sqlite() {
    let (_dir, url) = fresh();
    up_down_goto_force(&url).await;
}

#[tokio::test]
async fn failing_migration_leaves_sqlite_dirty() {
    let (_dir, url) = fresh();
    failure_leaves_dirty(&url).await;
    // The failed file's first statement was rolled back with it.
    let path = url.sqlite_path().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'w'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn failed_first_down_records_nil_dirty_on_sqlite() {
    let (_dir, url) = fresh();
    failed_first_down_is_nil_dirty(&url).await;
}

#[tokio::test]
async fn concurrent_runs_are_serialised_on_sqlite() {
    let (_dir, url) = fresh();
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) \
                SELECT count(*) FROM c;";
    concurrent_runs_serialise(&url, slow).await;
}

/// The table is byte for byte the sqlite3 driver's (`CREATE TABLE IF NOT EXISTS
/// schema_migrations (version uint64,dirty bool)` plus unique index `version_unique`).
#[tokio::test]
async fn version_table_is_golang_migrates() {
    let (_dir, url) = fresh();
    let mut db = Db::connect(&url, true).await.unwrap();
    db.ensure_table().await.unwrap();
    db.set_version(3, true).await.unwrap();
    db.close().await;
    let path = url.sqlite_path().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    let sql: String = sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        sql,
        "CREATE TABLE schema_migrations (version uint64,dirty bool)"
    );
    let idx: String = sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'version_unique'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        idx,
        "CREATE UNIQUE INDEX version_unique ON schema_migrations (version)"
    );
    // Single row, dirty stored as the Go driver stores a bool: 1.
    let rows = sqlx::query("SELECT version, dirty FROM schema_migrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].get::<i64, _>(0), rows[0].get::<i64, _>(1)), (3, 1));
}

/// A database that `migrate` made (its DDL, its row) reads back as golang-migrate
/// would print it with `migrate version`: `7 (dirty)`.
#[tokio::test]
async fn reads_a_table_written_by_migrate() {
    let (_dir, url) = fresh();
    let path = url.sqlite_path().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=rwc"))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
         CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
         INSERT INTO schema_migrations (version, dirty) VALUES (7, 1);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert_eq!(
        version(&url).await,
        Some(Recorded {
            version: 7,
            dirty: true
        })
    );
}

#[tokio::test]
async fn status_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let url = DbUrl::parse(&format!("sqlite://{}", missing.display())).unwrap();
    assert!(rollcall_migrate::status::read_url(&url).await.is_err());
    assert!(!missing.exists());
}

#[tokio::test]
async fn the_demo_seeds_prod_behind_and_staging_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let envs = ["dev", "staging", "prod"].map(String::from);
    let dbs = rollcall_migrate::demo::prepare(dir.path(), &envs)
        .await
        .unwrap();
    let mut got = Vec::new();
    for db in &dbs {
        got.push(version(&db.url).await.unwrap());
    }
    let rec = |version, dirty| Recorded { version, dirty };
    assert_eq!(got, vec![rec(5, false), rec(4, true), rec(2, false)]);
}
