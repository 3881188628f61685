//! Shared by the SQLite and PostgreSQL migration tests: a migrations directory and the
//! golang-migrate behaviours every driver must show.

use std::path::Path;
use std::time::Duration;

use rollcall_migrate::store::Recorded;
use rollcall_migrate::{Db, DbUrl, Request, Source, execute, plan};

pub const GOOD: &[(&str, &str)] = &[
    ("000001_create_t.up.sql", "CREATE TABLE t (id int);\n"),
    ("000001_create_t.down.sql", "DROP TABLE t;\n"),
    ("000002_add_c.up.sql", "ALTER TABLE t ADD COLUMN c int;\n"),
    ("000002_add_c.down.sql", "ALTER TABLE t DROP COLUMN c;\n"),
    (
        "000004_create_u.up.sql",
        "CREATE TABLE u (id int);\nINSERT INTO u VALUES (1);\n",
    ),
    ("000004_create_u.down.sql", "DROP TABLE u;\n"),
];

/// Version 5 fails on its second line, after creating a table (rolled back).
pub const BAD: &[(&str, &str)] = &[(
    "000005_broken.up.sql",
    "CREATE TABLE w (id int);\nINSERT INTO no_such_table VALUES (1);\n",
)];

pub fn source(files: &[&[(&str, &str)]]) -> Source {
    let all: Vec<(&str, &str)> = files.iter().flat_map(|f| f.iter().copied()).collect();
    Source::from_files(Path::new("test-migrations"), all)
}

pub async fn version(url: &DbUrl) -> Option<Recorded> {
    let mut db = Db::connect(url, true).await.expect("connect");
    let v = db.version().await.expect("version");
    db.close().await;
    v
}

/// Plans against the database's current version and runs it. The error is the text the
/// user would read, which is what the tests assert on.
pub async fn run(url: &DbUrl, src: &Source, req: Request) -> Result<Vec<String>, String> {
    let text = |e: &dyn std::error::Error| e.to_string();
    let mut db = Db::connect(url, true).await.map_err(|e| text(&e))?;
    db.ensure_table().await.map_err(|e| text(&e))?;
    let from = db.version().await.map_err(|e| text(&e))?;
    let p = plan(src, from.unwrap_or(Recorded::NIL), req).map_err(|e| text(&e))?;
    let mut lines = Vec::new();
    let r = execute(&mut db, &p, Some(Duration::from_secs(5)), &mut |l| {
        lines.push(l)
    })
    .await;
    db.close().await;
    r.map(|_| lines).map_err(|e| text(&e))
}

pub fn rec(version: i64, dirty: bool) -> Option<Recorded> {
    Some(Recorded { version, dirty })
}

/// status, up, up N, down, goto, force on a fresh database.
pub async fn up_down_goto_force(url: &DbUrl) {
    let src = source(&[GOOD]);
    assert_eq!(version(url).await, None, "fresh database: no table yet");
    let lines = run(url, &src, Request::Up { n: Some(1) }).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("1/u create_t ("), "{lines:?}");
    assert_eq!(version(url).await, rec(1, false));

    let lines = run(url, &src, Request::Up { n: None }).await.unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].starts_with("4/u create_u"), "{lines:?}");
    assert_eq!(version(url).await, rec(4, false));
    assert_eq!(
        run(url, &src, Request::Up { n: None }).await.unwrap(),
        vec!["no change".to_owned()]
    );

    run(url, &src, Request::Down { n: 1 }).await.unwrap();
    assert_eq!(
        version(url).await,
        rec(2, false),
        "down goes to the previous file's version"
    );

    let lines = run(url, &src, Request::Goto { version: 1 }).await.unwrap();
    assert!(lines[0].starts_with("2/d add_c"), "{lines:?}");
    assert_eq!(version(url).await, rec(1, false));
    run(url, &src, Request::Goto { version: 4 }).await.unwrap();
    assert_eq!(version(url).await, rec(4, false));
    let err = run(url, &src, Request::Goto { version: 3 })
        .await
        .unwrap_err();
    assert!(err.contains("file does not exist"), "{err}");

    // force runs no SQL: table u stays although version 2 does not have it.
    run(url, &src, Request::Force { version: 2 }).await.unwrap();
    assert_eq!(version(url).await, rec(2, false));
    run(url, &src, Request::Force { version: -1 })
        .await
        .unwrap();
    assert_eq!(
        version(url).await,
        rec(-1, false),
        "force -1 empties the table"
    );
    let err = run(url, &src, Request::Force { version: -2 })
        .await
        .unwrap_err();
    assert_eq!(err, "version must be >= -1");
}

/// A failing step leaves (target, dirty); every command but force then refuses.
pub async fn failure_leaves_dirty(url: &DbUrl) {
    let src = source(&[GOOD, BAD]);
    let err = run(url, &src, Request::Up { n: None }).await.unwrap_err();
    assert!(err.contains("5/u broken"), "{err}");
    assert!(err.contains("migration failed"), "{err}");
    assert!(err.contains("force 4"), "says how to recover: {err}");
    assert_eq!(version(url).await, rec(5, true));
    let err = run(url, &src, Request::Up { n: None }).await.unwrap_err();
    assert_eq!(err, "Dirty database version 5. Fix and force version.");
    let err = run(url, &src, Request::Down { n: 1 }).await.unwrap_err();
    assert_eq!(err, "Dirty database version 5. Fix and force version.");
    // The failed file ran in one transaction: its CREATE TABLE w was rolled back, so
    // forcing the previous version is the right repair.
    run(url, &src, Request::Force { version: 4 }).await.unwrap();
    assert_eq!(version(url).await, rec(4, false));
    run(url, &src, Request::Down { n: 1 }).await.unwrap();
    assert_eq!(version(url).await, rec(2, false));
}

/// Down from the first migration failing records (-1, dirty), as golang-migrate does.
pub async fn failed_first_down_is_nil_dirty(url: &DbUrl) {
    let src = source(&[&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE no_such_table_at_all;"),
    ]]);
    run(url, &src, Request::Up { n: None }).await.unwrap();
    run(url, &src, Request::Down { n: 1 }).await.unwrap_err();
    assert_eq!(version(url).await, rec(-1, true));
}

/// Two runs at once: the lock serialises them, so the second sees the first's result
/// (the database moved since its plan) instead of interleaving steps.
pub async fn concurrent_runs_serialise(url: &DbUrl, slow_sql: &str) {
    let files = [
        ("1_slow.up.sql", slow_sql),
        ("1_slow.down.sql", "SELECT 1;"),
        ("2_t.up.sql", "CREATE TABLE t2 (id int);"),
        ("2_t.down.sql", "DROP TABLE t2;"),
    ];
    let src = source(&[&files]);
    let mut db = Db::connect(url, true).await.unwrap();
    db.ensure_table().await.unwrap();
    db.close().await;
    let p = plan(&src, Recorded::NIL, Request::Up { n: None }).unwrap();
    let go = |p: rollcall_migrate::Plan| {
        let url = url.clone();
        tokio::spawn(async move {
            let mut db = Db::connect(&url, true).await.unwrap();
            let r = execute(&mut db, &p, Some(Duration::from_secs(20)), &mut |_| {}).await;
            db.close().await;
            r
        })
    };
    let (a, b) = (go(p.clone()), go(p));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(oks, 1, "exactly one run applies the plan: {a:?} {b:?}");
    let err = a.err().or(b.err()).unwrap().to_string();
    assert!(err.contains("moved from version -1 to 2"), "{err}");
    assert_eq!(version(url).await, rec(2, false));
}
