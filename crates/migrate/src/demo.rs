//! The demo's migration databases: the shipped `migrations/` folder (built into the
//! binary) written to a directory, and one SQLite database per environment seeded at
//! a different version — the first environment up to date, the second left dirty
//! (a step that failed), the rest behind with the unsafe migration pending.

use std::path::{Path, PathBuf};

use super::ops::{self, ExecError, PlanError, Request};
use super::source::Source;
use super::store::{Db, DbError, Recorded};
use super::url::{DbUrl, UnsupportedUrl};

/// The files of the repository's `migrations/` folder.
pub const FILES: &[(&str, &str)] = &[
    (
        "000001_create_entity_catalog.up.sql",
        include_str!("../../../migrations/000001_create_entity_catalog.up.sql"),
    ),
    (
        "000001_create_entity_catalog.down.sql",
        include_str!("../../../migrations/000001_create_entity_catalog.down.sql"),
    ),
    (
        "000002_add_entity_catalog_index.up.sql",
        include_str!("../../../migrations/000002_add_entity_catalog_index.up.sql"),
    ),
    (
        "000002_add_entity_catalog_index.down.sql",
        include_str!("../../../migrations/000002_add_entity_catalog_index.down.sql"),
    ),
    (
        "000003_add_new_field.up.sql",
        include_str!("../../../migrations/000003_add_new_field.up.sql"),
    ),
    (
        "000003_add_new_field.down.sql",
        include_str!("../../../migrations/000003_add_new_field.down.sql"),
    ),
    (
        "000004_create_entity_relations.up.sql",
        include_str!("../../../migrations/000004_create_entity_relations.up.sql"),
    ),
    (
        "000004_create_entity_relations.down.sql",
        include_str!("../../../migrations/000004_create_entity_relations.down.sql"),
    ),
    (
        "000005_drop_legacy_ref.up.sql",
        include_str!("../../../migrations/000005_drop_legacy_ref.up.sql"),
    ),
    (
        "000005_drop_legacy_ref.down.sql",
        include_str!("../../../migrations/000005_drop_legacy_ref.down.sql"),
    ),
];

/// Where each environment's demo database ended up.
#[derive(Debug, Clone)]
pub struct DemoDb {
    pub env: String,
    pub url: DbUrl,
    pub migrations: PathBuf,
}

/// Why the demo databases could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot create {}: {source}", .dir.display())]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {name}: {source}")]
    Write {
        name: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Url(#[from] UnsupportedUrl),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// How the n-th environment is seeded: (clean version, then a dirty target if any).
fn seed_for(index: usize, latest: u64) -> (u64, Option<u64>) {
    match index {
        0 => (latest, None),
        1 => (3, Some(4)),
        _ => (2, None),
    }
}

/// Writes the migrations and fresh databases under `dir` (replacing old ones).
pub async fn prepare(dir: &Path, envs: &[String]) -> Result<Vec<DemoDb>, DemoError> {
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|source| DemoError::CreateDir {
        dir: migrations.clone(),
        source,
    })?;
    for (name, text) in FILES {
        std::fs::write(migrations.join(name), text)
            .map_err(|source| DemoError::Write { name, source })?;
    }
    let source = Source::read(&migrations);
    let latest = source.latest().unwrap_or(0);
    let mut out = Vec::new();
    for (i, env) in envs.iter().enumerate() {
        let file = dir.join(format!("{env}.db"));
        let _ = std::fs::remove_file(&file);
        let url = DbUrl::parse(&format!("sqlite://{}", file.display()))?;
        let (clean, dirty) = seed_for(i, latest);
        let mut db = Db::connect(&url, true).await?;
        db.ensure_table().await?;
        let plan = ops::plan(&source, Recorded::NIL, Request::Goto { version: clean })?;
        ops::execute(&mut db, &plan, None, &mut |_| {}).await?;
        if let Some(v) = dirty {
            // As if `migrate up` had died in step v: the row says (v, dirty).
            db.set_version(v as i64, true).await?;
        }
        db.close().await;
        out.push(DemoDb {
            env: env.clone(),
            url,
            migrations: migrations.clone(),
        });
    }
    Ok(out)
}
