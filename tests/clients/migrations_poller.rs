//! The migrations pane's status poller sees a change made outside rollcall within
//! 10 s: a version row written in place by another client, and a database file
//! replaced under it (the demo's databases seeded again), which an open SQLite
//! connection would go on reading from the old, unlinked file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rollcall::clients::migrations::{INTERVAL, MigrationItem, Target, spawn};
use rollcall::domain::migrations::MigrationUpdate;
use rollcall_migrate::DbUrl;
use rollcall_migrate::store::Recorded;
use sqlx::Connection;
use tokio::sync::{Notify, mpsc};

const WITHIN: Duration = Duration::from_secs(10);

/// Waits for a status read showing `want`; returns how long it took.
async fn until_status(rx: &mut mpsc::Receiver<MigrationItem>, want: Recorded) -> Duration {
    let start = Instant::now();
    loop {
        let left = WITHIN.saturating_sub(start.elapsed());
        let item = tokio::time::timeout(left, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no status {want:?} within {WITHIN:?}"))
            .expect("the poller runs");
        if let MigrationUpdate::Status { status: Ok(s), .. } = item.update
            && s.recorded == Some(want)
        {
            return start.elapsed();
        }
    }
}

async fn seed(dir: &std::path::Path) -> DbUrl {
    let envs = ["dev".to_owned(), "staging".to_owned(), "prod".to_owned()];
    let dbs = rollcall_migrate::demo::prepare(dir, &envs)
        .await
        .expect("demo databases");
    dbs[1].url.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_changes_reach_the_poller_within_ten_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let url = seed(dir.path()).await;
    let (tx, mut rx) = mpsc::channel::<MigrationItem>(64);
    let task = spawn(
        Target {
            env: 1,
            url: Ok(url.clone()),
            migrations: dir.path().join("migrations"),
            refresh: Arc::new(Notify::new()),
        },
        tx,
        rollcall::domain::clock::wall(),
    );
    // The demo seeds staging dirty at 4.
    until_status(
        &mut rx,
        Recorded {
            version: 4,
            dirty: true,
        },
    )
    .await;

    // Forced clean at 3 by another client (golang-migrate's own statements).
    let path = url.sqlite_path().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    sqlx::query("DELETE FROM schema_migrations")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, dirty) VALUES (3, false)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let took = until_status(
        &mut rx,
        Recorded {
            version: 3,
            dirty: false,
        },
    )
    .await;
    assert!(took <= INTERVAL + Duration::from_secs(1), "{took:?}");

    // The databases seeded again in place: the file is removed and made anew.
    seed(dir.path()).await;
    let took = until_status(
        &mut rx,
        Recorded {
            version: 4,
            dirty: true,
        },
    )
    .await;
    assert!(took <= INTERVAL + Duration::from_secs(1), "{took:?}");
    task.abort();
}
