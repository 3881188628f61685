//! golang-migrate compatibility on a real PostgreSQL, started once for this test
//! binary from `initdb` in a temp directory (as the `postgres` user when run as
//! root, since initdb refuses root). Each test gets its own database.
//!
//! Without initdb: a failure under CI=true, a loud SKIP otherwise.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rollcall_migrate::store::{Recorded, lock_key};
use rollcall_migrate::{Db, DbUrl, Request};
use rollcall_testkit::migrate::*;
use sqlx::{Connection, PgConnection, Row};

struct Server {
    port: u16,
}

static SERVER: OnceLock<Option<Server>> = OnceLock::new();

fn tool(name: &str) -> Option<String> {
    for dir in ["/usr/local/bin", "/usr/lib/postgresql/bin", "/usr/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return Some(p);
        }
    }
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!p.is_empty()).then_some(p)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `argv` as the server's owner: `postgres` via runuser when we are root.
fn as_owner(argv: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(argv);
        c
    } else {
        let mut c = Command::new(argv[0]);
        c.args(&argv[1..]);
        c
    }
}

// The server and its watchdog outlive this function on purpose: the watchdog reaps
// the server when the test process is gone.
#[allow(clippy::zombie_processes)]
fn start() -> Option<Server> {
    let (Some(initdb), Some(postgres)) = (tool("initdb"), tool("postgres")) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("initdb/postgres not found: CI must run the PostgreSQL tests");
        }
        eprintln!(
            "\n***** SKIP: initdb/postgres not found; PostgreSQL migration tests did not run *****\n"
        );
        return None;
    };
    let dir = tempfile::Builder::new()
        .prefix("rollcall-pg-")
        .tempdir()
        .unwrap()
        .keep();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres", &dir.to_string_lossy()])
            .status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "chown of the data dir to postgres failed"
        );
    }
    let data = dir.join("data");
    let out = as_owner(&[
        &initdb,
        "-D",
        &data.to_string_lossy(),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
    ])
    .output()
    .expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log = dir.join("server.log");
    let cmd = format!(
        "exec {postgres} -D {} -p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c track_commit_timestamp=on >{} 2>&1",
        data.display(),
        dir.display(),
        log.display()
    );
    as_owner(&["sh", "-c", &cmd])
        .stdin(Stdio::null())
        .spawn()
        .expect("postgres starts");
    // A watchdog (as the test's own user) stops the server and removes its files
    // when this test process is gone; statics are never dropped.
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         kill -INT $(head -1 {data}/postmaster.pid) 2>/dev/null; sleep 2; rm -rf {dir}",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "postgres did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Server { port })
}

/// A fresh database for one test, or None (skipped) without PostgreSQL.
async fn database(name: &str) -> Option<DbUrl> {
    let server = SERVER.get_or_init(start).as_ref()?;
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    let mut conn = connect_retry(&admin).await;
    // Two statements: DROP / CREATE DATABASE cannot share an implicit transaction.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    Some(
        DbUrl::parse(&format!(
            "postgres://postgres:secret-pw@127.0.0.1:{}/{name}",
            server.port
        ))
        .unwrap(),
    )
}

async fn connect_retry(url: &str) -> PgConnection {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match PgConnection::connect(url).await {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot connect to the test server: {e}"),
        }
    }
}

#[tokio::test]
async fn up_down_goto_force_on_postgres() {
    let Some(url) = database("t_basic").await else {
        return;
    };
    up_down_goto_force(&url).await;
}

#[tokio::test]
async fn failing_migration_leaves_postgres_dirty() {
    let Some(url) = database("t_dirty").await else {
        return;
    };
    failure_leaves_dirty(&url).await;
}

#[tokio::test]
async fn failed_first_down_records_nil_dirty_on_postgres() {
    let Some(url) = database("t_nil_dirty").await else {
        return;
    };
    failed_first_down_is_nil_dirty(&url).await;
}

#[tokio::test]
async fn concurrent_runs_are_serialised_by_the_advisory_lock() {
    let Some(url) = database("t_race").await else {
        return;
    };
    concurrent_runs_serialise(&url, "SELECT pg_sleep(0.5);").await;
}

/// Table DDL and lock key exactly as the reference gives golang-migrate's: columns
/// `version bigint not null primary key, dirty boolean not null` in the current
/// schema, and key `uint32(crc32(schema\0table\0db) * 1486364155)` — 143310882 for
/// public/schema_migrations/postgres and 1787120056 for …/app.
#[tokio::test]
async fn table_and_lock_identity_match_golang_migrate() {
    let Some(url) = database("app").await else {
        return;
    };
    let mut db = Db::connect(&url, true).await.unwrap();
    assert_eq!(db.pg_identity(), Some(("public", "app", 1787120056)));
    assert_eq!(
        lock_key("postgres", "public", "schema_migrations"),
        143310882
    );
    db.ensure_table().await.unwrap();
    db.set_version(3, false).await.unwrap();
    db.set_version(4, true).await.unwrap();
    db.close().await;

    let mut conn = connect_retry(&url.expose().replace("secret-pw", "x")).await;
    let cols = sqlx::query(
        "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = 'schema_migrations' ORDER BY ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let cols: Vec<(String, String, String)> = cols
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("version".into(), "bigint".into(), "NO".into()),
            ("dirty".into(), "boolean".into(), "NO".into())
        ]
    );
    let pk: String = sqlx::query(
        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
         AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'public.schema_migrations'::regclass AND i.indisprimary",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get(0);
    assert_eq!(pk, "version");
    let rows = sqlx::query("SELECT version, dirty FROM schema_migrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one row only");
    assert_eq!(
        (rows[0].get::<i64, _>(0), rows[0].get::<bool, _>(1)),
        (4, true)
    );

    // Another client (the `migrate` CLI) holding golang-migrate's lock blocks rollcall
    // until it lets go; rollcall gives up with migrate's own timeout message.
    sqlx::query("SELECT pg_advisory_lock(1787120056)")
        .execute(&mut conn)
        .await
        .unwrap();
    let src = source(&[GOOD]);
    let mut db = Db::connect(&url, true).await.unwrap();
    let p = rollcall_migrate::plan(
        &src,
        Recorded {
            version: 4,
            dirty: true,
        },
        Request::Force { version: 2 },
    )
    .unwrap();
    let err = rollcall_migrate::execute(&mut db, &p, Some(Duration::from_millis(300)), &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "timeout: can't acquire database lock");
    let status = rollcall_migrate::status::read(&mut db).await.unwrap();
    assert!(
        status.locked_by.is_some_and(|h| h.contains("pid")),
        "status shows the holder"
    );
    assert_eq!(status.lock_key, Some(1787120056));
    assert!(status.last_change.is_some(), "commit timestamp of the row");
    assert!(
        !status.database.contains("secret-pw"),
        "{}",
        status.database
    );
    sqlx::query("SELECT pg_advisory_unlock(1787120056)")
        .execute(&mut conn)
        .await
        .unwrap();
    rollcall_migrate::execute(&mut db, &p, Some(Duration::from_secs(5)), &mut |_| {})
        .await
        .unwrap();
    db.close().await;
    assert_eq!(
        version(&url).await,
        Some(Recorded {
            version: 2,
            dirty: false
        })
    );
}

/// A failing statement reports the line the server points at, and no password.
#[tokio::test]
async fn failure_names_the_line_and_hides_the_password() {
    let Some(url) = database("t_line").await else {
        return;
    };
    let src = source(&[&[
        (
            "1_x.up.sql",
            "CREATE TABLE x (id int);\n\nSELECT nope FROM x;\n",
        ),
        ("1_x.down.sql", "DROP TABLE x;"),
    ]]);
    let err = run(&url, &src, Request::Up { n: None }).await.unwrap_err();
    assert!(err.contains("in line 3"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    let mut db = Db::connect(&url, false).await.unwrap();
    assert_eq!(
        db.version().await.unwrap(),
        Some(Recorded {
            version: 1,
            dirty: true
        })
    );
    db.close().await;
}
